import { cite } from '../../core/citations';
import { formatBytes } from '../../core/memory';
import { describeModes, fnoSpec, keptModes, specProblems } from '../../core/spec';
import { type Emit, type Rule, type RuleContext, line, short } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['fnoTransforms', 'fnoEinsum', 'fnoZeroBuffer', 'fnoModes'], 'fno');

/** Information on each FNO layer: what it keeps, where a call's time goes, what the profiler can show. */
function fnoLayer(ctx: RuleContext, emit: Emit): void {
  for (const l of ctx.layers) {
    if (l.site.kind !== 'fno') continue;
    const s = l.site.spec;
    const nameNode = l.cls?.nameNode ?? l.fn?.node.childForFieldName('name') ?? l.ffts[0]!.node;
    const body = ctx.model.text.slice(l.start, l.end);
    // Channel-mixing calls per forward: einsums and the helpers FNO code wraps them in.
    const fwd = l.cls?.methods.get('forward');
    const fwdText = fwd ? ctx.model.text.slice(fwd.node.startIndex, fwd.node.endIndex) : body;
    const einsums = (fwdText.match(/\b(einsum|compl_mul\w*|contract\w*|mix)\s*\(/g) ?? []).length;
    const zeros = /\bout_\w*\s*=\s*torch\.zeros\b|zeros\s*\([^\n]*(cfloat|complex)/.test(body);
    const evidence: string[] = [
      `transform: ${l.ffts.map((c) => `${short(c.callee, 30)} (line ${line(c.node)})`).join(', ')}`,
    ];
    let numbers = '';
    if (s.modes && s.height && s.width && s.batch && s.inChannels && s.outChannels && l.site.dims === 2) {
      const spec = fnoSpec({
        batch: s.batch,
        height: s.height,
        width: s.width,
        inChannels: s.inChannels,
        outChannels: s.outChannels,
        modes: s.modes,
        modesConvention: s.modesConvention,
      });
      if (!specProblems(spec).length) {
        const k = keptModes(spec);
        const V = Math.floor(s.width / 2) + 1;
        const mix = 8 * k.count * s.batch * s.inChannels * s.outChannels;
        const fft = 2.5 * s.height * s.width * Math.log2(s.height * s.width) * s.batch * (s.inChannels + s.outChannels);
        const outFt = s.batch * s.outChannels * s.height * V * 8;
        numbers = ` Per call at batch ${s.batch}, ${s.height}×${s.width}: ${k.rows}×${k.cols} of ${s.height}×${V} modes kept (${((100 * k.count) / (s.height * V)).toFixed(0)} %); channel mixing ${(mix / 1e6).toFixed(1)} MFLOP, full transforms ${(fft / 1e6).toFixed(1)} MFLOP${zeros ? `, a zero-filled out_ft of ${formatBytes(outFt)}` : ''}.`;
        evidence.push(`${describeModes(spec)}; channel mixing 8·modes·B·in·out = ${(mix / 1e6).toFixed(1)} MFLOP`);
      }
    } else if (s.modes)
      evidence.push(
        `modes ${s.modes[0]}×${s.modes[1]} (${s.modesConvention ?? 'corners'}); the grid is not stated in this file`,
      );
    if (einsums)
      evidence.push(`${einsums} channel-mixing call${einsums === 1 ? '' : 's'} (einsum / helper) per forward`);
    if (zeros) evidence.push('a zero-filled out_ft allocated on every call');
    for (const n of l.site.notes ?? []) evidence.push(n);
    const convention =
      s.modesConvention === 'centered'
        ? "modes are neuraloperator's n_modes (total per axis, centred; the last axis keeps n // 2 + 1)"
        : 'modes are per corner as in the original FNO code (2·modes1 rows × modes2 columns kept)';
    emit({
      node: nameNode,
      message: `${l.site.name} is a ${l.site.dims}-D FNO spectral convolution: periodic by design (no padding needed), transform over the last ${l.site.dims === 1 ? 'axis' : `${l.site.dims} axes`} of channels-first data; ${convention}.${numbers} ${einsums > 1 ? `Its ${einsums} einsums over corner blocks lower to permutes + batched GEMMs each; one GEMM over all kept modes with weights cached mode-major does the same work. ` : ''}${l.site.dims === 2 ? 'Profile this layer to measure it as written against the optimized formulation (partial transforms, one GEMM, no full-size out_ft).' : 'fconv profiles 2-D FNO layers only.'} (${SOURCE})`,
      evidence,
      suggestion:
        l.site.dims === 2
          ? 'Profile this layer (fconv profile --layer fno --modes …) and read the hints: partial transforms, one batched GEMM for both corners, no zero-filled out_ft.'
          : 'The same advice holds per axis: transform only the kept modes, mix channels with one GEMM over all kept modes.',
      fixes: [],
      layer: l.site.id,
    });
  }
}

export const rule: Rule = {
  id: 'fno-layer',
  severity: 'information',
  title: 'FNO spectral convolution: where its time goes',
  source: SOURCE,
  check: (ctx, emit) => fnoLayer(ctx, emit),
};
