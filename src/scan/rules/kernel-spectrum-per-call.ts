import { cite } from '../../core/citations';
import { fft2dFlops, halfSpectrumBytes } from '../../core/cost';
import { formatBytes } from '../../core/memory';
import { weightShape } from '../layers';
import { FORWARD_FFT } from '../values';
import { type Emit, PER_CALL, type Rule, type RuleContext, fmtFlops, layerOf, line, short } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['kernelPerCall'], 'mathieu');

function kernelPerCall(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    if (!FORWARD_FFT.has(c.name) || !c.fn || !PER_CALL.has(c.fn.name) || !c.cls) continue;
    const arg = c.args[0] ?? c.kwargs.get('input');
    const o = ctx.values.origin(arg, c.fn);
    const oc = o && ctx.values.call(o);
    // The weight itself, or a padded / transposed view of it.
    const base = oc ? (oc.receiver ?? oc.args[0]) : o;
    if (!base || !/^(self|this)\.\w+$/.test(base.text)) continue;
    if (!/kernel|weight|filter|^(self|this)\.w\d*$/i.test(base.text) && !weightShape(ctx.values, c.cls, base)) continue;
    const layer = layerOf(ctx, c.node);
    const s = layer?.site.spec;
    const evidence = [`${short(c.node)} at line ${line(c.node)}, inside ${c.fn.name}()`];
    let cost = '';
    if (s?.kernelH && s.kernelW && s.inChannels && s.outChannels) {
      const maps = s.inChannels * s.outChannels;
      const flops = fft2dFlops(maps, s.kernelH, s.kernelW);
      const bytes = halfSpectrumBytes(maps, s.kernelH, s.kernelW);
      cost = ` Here that is ${s.inChannels}·${s.outChannels} transforms of ${s.kernelH}×${s.kernelW}: ≈ ${fmtFlops(flops)} and ${formatBytes(bytes)} of complex output on every call.`;
      evidence.push(
        `kernel ${s.inChannels}×${s.kernelH}×${s.kernelW}×${s.outChannels}: ≈ ${fmtFlops(flops)} per call (5·N·log2 N / 2 per real transform)`,
      );
    }
    emit({
      node: c.node,
      message: `The kernel spectrum ${short(c.node, 40)} is recomputed on every ${c.fn.name}().${cost} Mathieu et al. transform each kernel once per training iteration and reuse it; at inference it can be cached (${SOURCE}).`,
      evidence,
      suggestion:
        'At inference, compute the spectrum once (after the weights are loaded) and reuse it; in training, compute it once per step and share it across the batch (or parameterise the kernel in the frequency domain).',
      fixes: [],
      layer: layer?.site.id,
    });
  }
}

export const rule: Rule = {
  id: 'kernel-spectrum-per-call',
  severity: 'information',
  title: 'kernel spectrum recomputed on every call',
  source: SOURCE,
  check: (ctx, emit) => kernelPerCall(ctx, emit),
};
