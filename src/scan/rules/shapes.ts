/**
 * The axes of a tensor in a Fourier layer, followed through the code symbolically: a Keras layer's input, a declared
 * weight, and what tf.transpose, rfft2d and fft2d make of them. Shared by the rules that reason about which axis
 * is which (einsum-axis-sizes, output-shape-mismatch). Host-free.
 */
import { type Node } from 'web-tree-sitter';
import { type FourierLayer, weightShape } from '../layers';
import { type FnInfo } from '../source-model';
import { TF_INNERMOST_2D, TRANSPOSE, permutation } from '../values';
import { PER_CALL, type RuleContext } from './common';

/** One axis of a tensor as the code builds it: what it is, and its size where the file states one. */
export interface Dim {
  text: string;
  value?: number;
}

/** A kernel axis as declared (`int(input_shape[1])`, `self.filters`): its name and the size the layer was read with. */
function declaredDim(n: Node, layer: FourierLayer): Dim {
  const t = n.text.replace(/\s+/g, '');
  const s = layer.site.spec;
  const idx = /input_shape\[(-?\d)\]/.exec(t)?.[1];
  if (idx === '1' || idx === '-3') return { text: 'H', value: s.height };
  if (idx === '2' || idx === '-2') return { text: 'W', value: s.width };
  if (idx === '3' || idx === '-1') return { text: 'in', value: s.inChannels };
  if (/^\d+$/.test(t)) return { text: t, value: Number(t) };
  return { text: t.replace(/^int\((.*)\)$/, '$1').replace(/^self\./, ''), value: s.outChannels };
}

/**
 * The axes of `n` where the code makes them plainly: a Keras layer's input (batch, H, W, C), a declared weight,
 * and what tf.transpose, rfft2d and fft2d make of those (rfft2d halves the innermost axis: n → n/2+1). Undefined
 * where it cannot tell.
 */
export function shapeOf(
  ctx: RuleContext,
  layer: FourierLayer,
  n: Node | undefined,
  fn: FnInfo | undefined,
  depth = 0,
): Dim[] | undefined {
  if (!n || depth > 8) return undefined;
  const o = ctx.values.origin(n, fn);
  if (!o) return undefined;
  const cls = layer.cls;
  if (o.type === 'identifier' && fn && PER_CALL.has(fn.name) && o.text === fn.params.filter((p) => p !== 'self')[0]) {
    if (cls?.framework !== 'keras' || /channels_first/.test(ctx.model.text)) return undefined;
    const s = layer.site.spec;
    return [
      { text: 'batch', value: s.batch },
      { text: 'H', value: s.height },
      { text: 'W', value: s.width },
      { text: 'in', value: s.inChannels },
    ];
  }
  if (/^self\.\w+$/.test(o.text) && cls) {
    const declared = weightShape(ctx.values, cls, o);
    return declared?.map((d) => declaredDim(d, layer));
  }
  const c = ctx.values.call(o);
  if (!c) return undefined;
  if (TRANSPOSE.has(c.name)) {
    const inner = shapeOf(ctx, layer, c.args[0], fn, depth + 1);
    const permNode = c.kwargs.get('perm') ?? c.args[1];
    const perm = permNode ? permutation([permNode]) : undefined;
    return inner && perm && perm.length === inner.length ? perm.map((p) => inner[p]!) : undefined;
  }
  if (TF_INNERMOST_2D.has(c.name)) {
    const inner = shapeOf(ctx, layer, c.args[0] ?? c.kwargs.get('input_tensor'), fn, depth + 1);
    if (!inner?.length || c.args.length > 1 || c.kwargs.has('fft_length')) return undefined;
    if (!/rfft/.test(c.name)) return inner;
    const last = inner[inner.length - 1]!;
    return [
      ...inner.slice(0, -1),
      { text: `${last.text}/2+1`, value: last.value === undefined ? undefined : Math.floor(last.value / 2) + 1 },
    ];
  }
  return undefined;
}
