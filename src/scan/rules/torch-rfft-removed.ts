import { cite } from '../../core/citations';
import { replace } from '../text';
import { intValue } from '../values';
import { type Emit, type Rule, type RuleContext, line, short } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['torchFft']);

/** torch.rfft / torch.irfft (signal_ndim, normalized, onesided): removed in PyTorch 1.8. */
function torchRfftRemoved(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    const inverse = c.name === 'torch.irfft' || c.name === 'torch.ifft';
    if (!inverse && c.name !== 'torch.rfft' && c.name !== 'torch.fft') continue;
    const real = c.name === 'torch.rfft' || c.name === 'torch.irfft';
    const x = c.args[0] ?? c.kwargs.get('input');
    const nd = intValue(c.args[1] ?? c.kwargs.get('signal_ndim'));
    const normNode = c.kwargs.get('normalized') ?? c.args[2];
    const onesidedNode = c.kwargs.get('onesided') ?? c.args[3];
    const normalized = normNode?.text === 'True';
    const onesided = onesidedNode === undefined || onesidedNode.text === 'True';
    const sizes = c.kwargs.get('signal_sizes') ?? c.args[4];
    const norm = normalized ? ', norm="ortho"' : '';
    const fn = nd === 1 ? '' : nd === 2 ? '2' : nd === 3 ? 'n' : undefined;
    const dim = nd === 3 ? ', dim=(-3, -2, -1)' : '';
    const torch = 'torch';
    let replacement: string | undefined;
    const plain = normNode === undefined || /^(True|False)$/.test(normNode.text);
    if (x && fn !== undefined && plain && (onesidedNode === undefined || /^(True|False)$/.test(onesidedNode.text))) {
      if (!inverse && real && onesided)
        replacement = `${torch}.view_as_real(${torch}.fft.rfft${fn}(${x.text}${dim}${norm}))`;
      else if (!inverse && real) replacement = `${torch}.view_as_real(${torch}.fft.fft${fn}(${x.text}${dim}${norm}))`;
      else if (!inverse)
        replacement = `${torch}.view_as_real(${torch}.fft.fft${fn}(${torch}.view_as_complex(${x.text})${dim}${norm}))`;
      else if (real && onesided)
        replacement = `${torch}.fft.irfft${fn}(${torch}.view_as_complex(${x.text})${sizes ? `, s=${sizes.text}` : ''}${dim}${norm})`;
      else if (!real)
        replacement = `${torch}.view_as_real(${torch}.fft.ifft${fn}(${torch}.view_as_complex(${x.text})${dim}${norm}))`;
    }
    const newName = `torch.fft.${inverse ? (real ? 'irfft' : 'ifft') : real && onesided ? 'rfft' : 'fft'}${fn ?? '2'}`;
    emit({
      node: c.node,
      message: `${short(c.callee)} was removed in PyTorch 1.8: this line raises on any current PyTorch. Its replacement is ${newName}${normalized ? ' with norm="ortho" (normalized=True)' : ' (normalized=False is the default norm="backward")'}, which returns complex tensors instead of the real-pair [..., 2] layout — torch.view_as_real / view_as_complex convert between the two. (${SOURCE})`,
      evidence: [
        `${short(c.node)} at line ${line(c.node)}`,
        `signal_ndim ${nd ?? '?'}, normalized=${normalized ? 'True' : 'False'}, onesided=${onesided ? 'True' : 'False'}`,
      ],
      suggestion: replacement
        ? `Replace with ${replacement} — same values, same real-pair layout, so the code around it keeps working; later move the whole layer to complex tensors (torch.einsum on cfloat weights) and drop the [..., 2] pairs.`
        : `Rewrite with ${newName}; the argument form here could not be translated automatically.`,
      fixes: replacement
        ? [{ title: `Replace with ${newName} (same values and layout)`, edits: [replace(c.node, replacement)] }]
        : [],
    });
  }
}

export const rule: Rule = {
  id: 'torch-rfft-removed',
  severity: 'warning',
  title: 'torch.rfft / torch.irfft were removed in PyTorch 1.8',
  source: SOURCE,
  check: (ctx, emit) => torchRfftRemoved(ctx, emit),
};
