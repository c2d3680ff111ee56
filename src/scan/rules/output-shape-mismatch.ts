import { cite } from '../../core/citations';
import { TRANSPOSE, elements, permutation } from '../values';
import { type Emit, type Rule, type RuleContext, line, short } from './common';

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
    if (norm(dLast.text) !== norm(kLast.text) && /^[A-Za-z_]\w*$/.test(attr) && dLast.text.includes(attr)) {
      sentences.push(
        `compute_output_shape declares ${dLast.text} output channels, but the layer has ${kLast.text} kernels: the rfft2d over the kernel's last two axes halved the output-channel axis (see rfft-axes), and the declared shape encodes that; a Conv2D replacement returns ${kLast.text} channels.`,
      );
      evidence.push(
        `declared last axis: ${dLast.text} (line ${line(dLast)})`,
        `kernel's last axis: ${kLast.text} (line ${line(kLast)})`,
      );
    }
    // A transpose of the kernel spectrum that swaps the spatial axes: the einsum then pairs the
    // kernel's W axis with the input's H axis, which only type-checks for square images.
    for (const c of ctx.model.callsIn.get(cls) ?? []) {
      if (!TRANSPOSE.has(c.name)) continue;
      const permArg = c.kwargs.get('perm') ?? c.args[1];
      const perm = permArg ? permutation([permArg]) : undefined;
      if (!perm || perm.length !== layer.kernelShape.length) continue;
      const permuted = perm.map((p) => layer.kernelShape![p]!.text);
      const h = permuted.findIndex((t) => /input_shape\s*\[\s*1\s*\]/.test(t));
      const w = permuted.findIndex((t) => /input_shape\s*\[\s*2\s*\]/.test(t));
      if (h >= 0 && w >= 0 && w < h) {
        sentences.push(
          `${short(c.node, 50)} (line ${line(c.node)}) puts the kernel's W axis before its H axis, so the product pairs kernel width with image height: the declared (${declared
            .slice(1, 3)
            .map((d) => d.text)
            .join(', ')}) holds only when height == width.`,
        );
        evidence.push(
          `perm [${perm.join(', ')}] of (${layer.kernelShape.map((e) => e.text).join(', ')}) → (${permuted.join(', ')})`,
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
