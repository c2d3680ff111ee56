import { cite } from '../../core/citations';
import { EINSUM, stringLiteral } from '../values';
import { type Emit, type Rule, type RuleContext, line, short } from './common';
import { type Dim, shapeOf } from './shapes';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['rfftAxes']);

const fmt = (d: Dim) =>
  d.value === undefined ? d.text : d.text === String(d.value) ? d.text : `${d.text} = ${d.value}`;

/**
 * A two-operand einsum whose shared letters label axes of different sizes. After the rfft-axes fix the question's
 * kernel spectrum is (H, W/2+1, in, out) while `fft_x = x` is still the (batch, H, W, in) input: 'ijkl,jklo' then
 * pairs W = 28 with W/2+1 = 15, and the einsum fails when it runs. Caught here from the code, before any run.
 */
function einsumAxisSizes(ctx: RuleContext, emit: Emit): void {
  for (const layer of ctx.layers) {
    for (const c of ctx.model.callsIn.get(layer.cls ?? layer.fn!) ?? []) {
      if (!EINSUM.has(c.name) || c.args.length !== 3) continue;
      const subs = stringLiteral(c.args[0]);
      const m = subs && /^\s*(\w+)\s*,\s*(\w+)\s*->\s*(\w*)\s*$/.exec(subs);
      if (!m) continue;
      const [a, b] = [m[1]!, m[2]!];
      const sa = shapeOf(ctx, layer, c.args[1], c.fn);
      const sb = shapeOf(ctx, layer, c.args[2], c.fn);
      if (!sa || !sb || sa.length !== a.length || sb.length !== b.length) continue;
      const clashes: string[] = [];
      for (const [i, letter] of [...a].entries()) {
        const j = b.indexOf(letter);
        if (j < 0) continue;
        const [da, db] = [sa[i]!, sb[j]!];
        if (
          da.value !== undefined &&
          db.value !== undefined &&
          da.value !== db.value &&
          da.value !== 1 &&
          db.value !== 1
        )
          clashes.push(
            `${letter}: ${short(c.args[1]!, 30)}'s axis ${i} is ${fmt(da)}, ${short(c.args[2]!, 30)}'s axis ${j} is ${fmt(db)}`,
          );
      }
      if (!clashes.length) continue;
      const half = [...sa, ...sb].some((d) => d.text.endsWith('/2+1'));
      emit({
        node: c.node,
        message: `${short(c.callee)} '${subs.trim()}' (line ${line(c.node)}) pairs axes of different sizes — ${clashes.join('; ')}: it fails when it runs (or, where one is 1, broadcasts a product the layer does not mean)${half ? '. One operand is a half spectrum (rfft2d keeps W/2+1 columns) and the other is not' : ''} (${SOURCE})`,
        evidence: [
          `${short(c.args[1]!, 40)}: (${sa.map(fmt).join(', ')})`,
          `${short(c.args[2]!, 40)}: (${sb.map(fmt).join(', ')})`,
        ],
        suggestion: half
          ? 'Give both operands the same spectrum: transform the input over (H, W) as the kernel is (tf.transpose(tf.signal.rfft2d(tf.transpose(x, [0, 3, 1, 2])), [0, 2, 3, 1]) gives (batch, H, W/2+1, in)), or feed the layer such a spectrum; then the output is a spectrum too, for irfft2d over (H, W).'
          : 'Make the shared letters label the same axes: check the transposes between the transform and the einsum.',
        fixes: [],
        layer: layer.site.id,
      });
    }
  }
}

export const rule: Rule = {
  id: 'einsum-axis-sizes',
  severity: 'warning',
  title: 'einsum pairs axes of different sizes',
  source: SOURCE,
  check: (ctx, emit) => einsumAxisSizes(ctx, emit),
};
