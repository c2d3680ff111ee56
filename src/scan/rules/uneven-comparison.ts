import { cite } from '../../core/citations';
import { fmtRatio } from '../../core/format';
import { type Emit, type Rule, type RuleContext, line, short } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['uneven']);

function unevenComparison(ctx: RuleContext, emit: Emit): void {
  const big = ctx.layers.filter(
    (l) => l.imageSized || (l.site.spec.kernelH && l.site.spec.height && l.site.spec.kernelH >= l.site.spec.height),
  );
  if (!big.length) return;
  const layer = big[0]!;
  for (const conv of ctx.convs) {
    const k = conv.kernel;
    if (!k) continue;
    // The Conv2D it replaces has as many filters (when both counts are known).
    if (conv.filters && layer.site.spec.outChannels && conv.filters !== layer.site.spec.outChannels) continue;
    const H = layer.site.spec.kernelH ?? layer.site.spec.height;
    const W = layer.site.spec.kernelW ?? layer.site.spec.width;
    if (H && W && k.kh * k.kw >= H * W) continue;
    const size = H && W ? `${H}×${W}` : 'image-sized';
    const ratio =
      H && W ? ` — ${fmtRatio((H * W) / (k.kh * k.kw))} more multiply-adds per output than ${k.kh}×${k.kw}` : '';
    emit({
      node: conv.call.callee,
      message: `${short(conv.call.node, 40)} is a ${k.kh}×${k.kw} convolution, but ${layer.site.name} (line ${layer.site.range.start.line + 1}) has ${size} kernels: they compute different functions${ratio}. The spatial equivalent of that layer is a ${size} convolution; compare like with like (${SOURCE}).`,
      evidence: [
        `${layer.site.name}: kernel shape (${layer.kernelShape?.map((e) => e.text).join(', ') ?? 'image-sized'})`,
        `${short(conv.call.node)} at line ${line(conv.call.node)}`,
      ],
      suggestion: `Profile both against the same function: the FFT layer vs a ${size} spatial convolution (and, separately, whether a ${k.kh}×${k.kw} kernel is enough for the model).`,
      fixes: [],
      layer: layer.site.id,
    });
  }
}

export const rule: Rule = {
  id: 'uneven-comparison',
  severity: 'information',
  title: 'image-sized kernels compared with a small Conv2D',
  source: SOURCE,
  check: (ctx, emit) => unevenComparison(ctx, emit),
};
