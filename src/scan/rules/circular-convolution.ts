import { cite } from '../../core/citations';
import { type CallInfo } from '../source-model';
import { FORWARD_FFT } from '../values';
import {
  type Emit,
  type Rule,
  type RuleContext,
  convText,
  layerOf,
  line,
  paddedTransform,
  products,
  short,
} from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['circular']);

/** A spatial kernel or weight being transformed: its product with a spectrum is a convolution. */
const KERNEL_NAME = /\b(kernel|weight|weights|filters?|w|k_spatial)\b|\.(kernel|weight)\b/i;
function circular(ctx: RuleContext, emit: Emit): void {
  const seen = new Set<unknown>();
  for (const p of products(ctx)) {
    const key = p.fn ?? p.node.id;
    if (seen.has(key)) continue;
    const sources = p.operands
      .map((o) => ctx.values.spectrumSource(o, p.fn, p.cls))
      .filter((s): s is CallInfo => !!s && 'callee' in s && FORWARD_FFT.has(s.name));
    const unpadded = sources.find((s) => !paddedTransform(ctx, s));
    // A transform padded to the size of the unpadded one's input (s=x.shape[-2:]) is still circular.
    const xName = unpadded ? (unpadded.args[0] ?? unpadded.kwargs.get('input'))?.text : undefined;
    const ownSize = (s: CallInfo) => {
      const size = (s.kwargs.get('s') ?? s.kwargs.get('fft_length') ?? s.kwargs.get('n'))?.text ?? '';
      return !!xName && /^\w+$/.test(xName) && new RegExp(`\\b${xName}\\.(shape|size)\\b`).test(size);
    };
    if (!unpadded || sources.some((s) => paddedTransform(ctx, s) && !ownSize(s))) continue;
    seen.add(key);
    const layer = layerOf(ctx, p.node);
    // An FNO layer is periodic by design: its product of unpadded spectra is what the author meant.
    if (layer?.site.kind === 'fno') continue;
    // A spectral multiplier (a derivative (1j·k)**n, a filter or mask built from a frequency grid) on a
    // periodic domain is what the author meant too; so is any product that is not meant as a convolution.
    if (p.operands.some((o) => ctx.values.isMultiplier(o, p.fn))) continue;
    const kernelSpectrum = sources.some((s) => KERNEL_NAME.test((s.args[0] ?? s.kwargs.get('input'))?.text ?? ''));
    const named = [layer?.site.name, p.fn?.name].some((n) => n && /conv/i.test(n));
    if (!named && !ctx.convs.length && !kernelSpectrum) continue;
    const compared: string[] = [];
    if (ctx.convs.length)
      compared.push(
        `This file also uses ${convText(ctx.convs[0]!)}: the two layers compute different functions near the borders.`,
      );
    else if (layer && /conv/i.test(layer.site.name))
      compared.push(`${layer.site.name} is named as a convolution layer, but it is not the function Conv2D computes.`);
    const truncated = /\[[^\]]*:\s*self\.modes|\[[^\]]*:\s*modes/.test(p.operands.map((o) => o.text).join(' '));
    emit({
      node: p.node,
      message:
        `${short(p.node, 50)} multiplies spectra taken without padding (${short(unpadded.node, 40)}, line ${line(unpadded.node)}): that is a circular convolution — values wrap around the image borders — not the linear convolution Conv2D computes (${SOURCE}). ${compared.join(' ')}${truncated ? ' If periodic boundaries are what the model wants (a Fourier Neural Operator), this is by design.' : ''}`.trim(),
      evidence: [
        `${short(unpadded.node)} at line ${line(unpadded.node)}: no fft_length / s, input not padded`,
        `product at line ${line(p.node)}`,
        ...(ctx.convs.length ? [`Conv2D at line ${line(ctx.convs[0]!.call.node)}`] : []),
      ],
      suggestion:
        'For the linear convolution, zero-pad image and kernel to n + k − 1 in each spatial axis (fft_length=[H + k − 1, W + k − 1] / s=(…)), multiply, inverse-transform and crop the window Conv2D returns.',
      fixes: [],
    });
  }
}

export const rule: Rule = {
  id: 'circular-convolution',
  severity: 'warning',
  title: 'product of unpadded spectra is a circular convolution',
  source: SOURCE,
  check: (ctx, emit) => circular(ctx, emit),
};
