import { cite } from '../../core/citations';
import { type Emit, type Rule, type RuleContext, line, short } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['kernelCoverage']);

function tfjsComplex(ctx: RuleContext, emit: Emit): void {
  if (ctx.model.dialect !== 'js') return;
  for (const c of ctx.model.calls) {
    const isOp =
      c.name === 'tfjs.einsum' || c.name === 'tfjs.matMul' || (!c.name && c.last === 'matMul' && !!c.receiver);
    if (!isOp) continue;
    const operands =
      c.name === 'tfjs.einsum' ? c.args.slice(1) : [...(c.receiver ? [c.receiver] : []), ...c.args.slice(0, 2)];
    const src = operands.map((o) => ctx.values.spectrumSource(o, c.fn, c.cls)).find(Boolean);
    if (!src) continue;
    const srcNode = 'callee' in src ? src.node : src;
    emit({
      node: c.node,
      message: `${short(c.callee)} gets a complex64 tensor (from ${short(srcNode, 40)}, line ${line(srcNode)}): tfjs's cpu, wasm, webgl and webgpu backends do not support complex einsum / matMul ("… does not support complex64 tensors"); only tfjs-node runs it (${SOURCE}).`,
      evidence: [
        `${short(c.node)} at line ${line(c.node)}`,
        `complex operand from ${short(srcNode)} at line ${line(srcNode)}`,
      ],
      suggestion:
        "Split the product into real and imaginary parts with tf.real / tf.imag: (a + ib)(c + id) = (ac − bd) + i(ad + bc) as four real matMuls (three with Gauss's trick), then tf.complex the result.",
      fixes: [],
    });
  }
}

export const rule: Rule = {
  id: 'tfjs-complex-matmul',
  severity: 'warning',
  title: 'complex einsum/matMul is not supported by tfjs backends',
  source: SOURCE,
  check: (ctx, emit) => tfjsComplex(ctx, emit),
};
