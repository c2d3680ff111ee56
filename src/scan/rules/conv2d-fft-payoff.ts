import { cite } from '../../core/citations';
import { fmtRatio } from '../../core/format';
import { breakEven } from '../../core/model';
import { predict } from '../../core/predict';
import { type LayerSpec } from '../../core/spec';
import { type ConvInfo } from '../layers';
import { type Emit, type Rule, type RuleContext, fullSpec, short } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['breakEven', 'rulesOfThumb'], 'mathieu');

function thumb(k: number, cin?: number, cout?: number, n?: number): string[] {
  const out: string[] = [];
  if (cin !== undefined && cin < 16) out.push(`fewer than ~16 input channels (${cin}): spatial wins almost always`);
  if (k <= 3) out.push(`k = ${k}: Winograd / implicit GEMM; FFT rarely wins`);
  else if (k <= 9 && cin !== undefined && cout !== undefined && cin >= 64 && cout >= 64)
    out.push(`${k}×${k} with ${cin}→${cout} channels: worth trying FFT / FFT_TILING (n ≤ 64, batch ≥ 32)`);
  if (n !== undefined && k >= n / 2) out.push(`k = ${k} ≥ n/2 = ${n / 2}: image-sized kernel, FFT territory`);
  return out;
}

/** Only where the code states the input size and the channels: elsewhere the finding would be noise. */
function convPayoff(
  ctx: RuleContext,
  emit: Emit,
  sites: Map<ConvInfo, { spec: Partial<LayerSpec>; id: string }>,
): void {
  for (const conv of ctx.convs) {
    const k = conv.kernel;
    const site = sites.get(conv)!;
    const spec = k && fullSpec(site.spec);
    if (!k || !spec) continue;
    const be = breakEven({
      n: Math.max(spec.height, spec.width) + (spec.padding === 'same' ? Math.ceil((Math.max(k.kh, k.kw) - 1) / 2) : 0),
      nOut: Math.max(spec.height, spec.width),
      k: Math.max(k.kh, k.kw),
      f: spec.inChannels,
      fOut: spec.outChannels,
      S: spec.batch,
    });
    const ratio = be.thresholdHalf / be.lhs;
    const parts = [
      `Mathieu et al. for ${spec.batch} × ${spec.height}×${spec.width}, ${spec.inChannels}→${spec.outChannels}: k²(n′/n)² = ${be.lhs.toFixed(1)} vs break-even ${be.thresholdHalf.toFixed(1)} — ${be.fftPays ? `FFT does ~${fmtRatio(1 / ratio)} less arithmetic` : `FFT does ~${fmtRatio(ratio)} more arithmetic; spatial wins`}.`,
    ];
    const evidence = [
      `k = ${Math.max(k.kh, k.kw)}, n = ${Math.max(spec.height, spec.width)}, f = ${spec.inChannels}, f′ = ${spec.outChannels}, S = ${spec.batch} (${Object.values(site.spec).length} fields read from the code)`,
    ];
    if (ctx.device) {
      try {
        const p = predict({ ...spec, kernelH: k.kh, kernelW: k.kw }, ctx.device);
        parts.push(
          `Cost model on ${p.device}: spatial ${p.spatialMs.toFixed(3)} ms vs FFT ${p.spectralMs.toFixed(3)} ms per call (${p.winner} ${fmtRatio(p.factor)} faster).`,
        );
        evidence.push(`cost model (${p.deviceSource}): ${p.reasoning[0]}`);
      } catch {
        /* an unpriced device: the arithmetic above still stands */
      }
    }
    const rules = thumb(Math.max(k.kh, k.kw), spec.inChannels, spec.outChannels, spec.height);
    if (rules.length) parts.push(`Rules of thumb: ${rules.join('; ')}.`);
    emit({
      node: conv.call.callee,
      message: `${short(conv.call.node, 40)}: ${parts.join(' ')} (${SOURCE})`,
      evidence,
      suggestion: be.fftPays
        ? 'Profile this layer: FFT convolution may pay here; measure both on your engine.'
        : 'Keep the spatial convolution; profile this layer to see the measured gap.',
      fixes: [],
      layer: site.id,
    });
  }
}

export const rule: Rule = {
  id: 'conv2d-fft-payoff',
  severity: 'information',
  title: 'would FFT convolution pay for this Conv2D?',
  source: SOURCE,
  check: (ctx, emit, sites) => convPayoff(ctx, emit, sites),
};
