import { cite } from '../../core/citations';
import { TF_INNERMOST_2D, TRANSPOSE, elements } from '../values';
import { type Emit, type Rule, type RuleContext, line, short } from './common';
import { shapeOf } from './shapes';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['rfftAxes']);

function outputShape(ctx: RuleContext, emit: Emit): void {
  for (const layer of ctx.layers) {
    const cls = layer.cls;
    const cos = cls?.methods.get('compute_output_shape');
    if (!cls || !cos || !layer.kernelShape) continue;
    const ret = cos.node.descendantsOfType('return_statement')[0];
    const declared = elements(ret?.namedChildren[0]);
    if (!ret || !declared?.length) continue;
    const norm = (s: string) => s.replace(/\s+/g, '').replace(/^self\./, '');
    const kLast = layer.kernelShape[layer.kernelShape.length - 1]!;
    const dLast = declared[declared.length - 1]!;
    const sentences: string[] = [];
    const evidence: string[] = [];
    const attr = norm(kLast.text).replace(/^int\((.*)\)$/, '$1');
    // Is the kernel still transformed over its last two axes (W, out)? After the rfft-axes fix it is transformed
    // over (H, W) and keeps every output channel: the declared shape is then stale, for another reason.
    const ffts = (ctx.model.callsIn.get(cls) ?? []).filter((c) => TF_INNERMOST_2D.has(c.name));
    const halvesOut = ffts.some((c) => {
      const s = shapeOf(ctx, layer, c.node, c.fn);
      return s !== undefined && s[s.length - 1]!.text === `${attr}/2+1`;
    });
    if (norm(dLast.text) !== norm(kLast.text) && /^[A-Za-z_]\w*$/.test(attr) && dLast.text.includes(attr)) {
      sentences.push(
        halvesOut || !ffts.length
          ? `compute_output_shape declares ${dLast.text} output channels, but the layer has ${kLast.text} kernels: the rfft2d over the kernel's last two axes halved the output-channel axis (see rfft-axes), and the declared shape encodes that; a Conv2D replacement returns ${kLast.text} channels.`
          : `compute_output_shape declares ${dLast.text} output channels, but the kernel is now transformed over (H, W) and keeps all ${kLast.text} output channels: the declared shape still encodes the old halving — declare ${kLast.text}.`,
      );
      evidence.push(
        `declared last axis: ${dLast.text} (line ${line(dLast)})`,
        `kernel's last axis: ${kLast.text} (line ${line(kLast)})`,
      );
    }
    // A transpose of the kernel spectrum that swaps the spatial axes: the einsum then pairs the
    // kernel's W axis with the input's H axis, which only type-checks for square images. The axes are followed
    // through the code (transposes and transforms nested or not), not read off the perm alone.
    for (const c of ctx.model.callsIn.get(cls) ?? []) {
      if (!TRANSPOSE.has(c.name)) continue;
      const axes = shapeOf(ctx, layer, c.node, c.fn);
      const from = shapeOf(ctx, layer, c.args[0], c.fn);
      // The kernel's axes only (the input's have a batch axis).
      if (!axes || !from || axes.length !== layer.kernelShape.length || from.some((d) => d.text === 'batch')) continue;
      const permuted = axes.map((d) => d.text);
      const h = permuted.indexOf('H');
      const w = permuted.findIndex((t) => t === 'W' || t === 'W/2+1');
      const perm = axes.map((d) => from.indexOf(d));
      if (h >= 0 && w >= 0 && w < h) {
        sentences.push(
          `${short(c.node, 50)} (line ${line(c.node)}) puts the kernel's W axis before its H axis, so the product pairs kernel width with image height: the declared (${declared
            .slice(1, 3)
            .map((d) => d.text)
            .join(', ')}) holds only when height == width.`,
        );
        evidence.push(
          `perm [${perm.join(', ')}] of (${from.map((d) => d.text).join(', ')}) → (${permuted.join(', ')})`,
        );
        break;
      }
    }
    if (!sentences.length) continue;
    emit({
      node: ret,
      message: `${sentences.join(' ')} (${SOURCE})`,
      evidence,
      suggestion:
        'Transform the kernel over (H, W) (rfft-axes), keep the out-channel axis whole, and declare (batch, H, W, filters) — or whatever the layer really returns.',
      fixes: [],
      layer: layer.site.id,
    });
  }
}

export const rule: Rule = {
  id: 'output-shape-mismatch',
  severity: 'warning',
  title: "declared output shape differs from the layer's",
  source: SOURCE,
  check: (ctx, emit) => outputShape(ctx, emit),
};
