import { cite } from '../../core/citations';
import { TRANSPOSE, TRANSPOSE_METHODS } from '../values';
import { type Emit, PER_CALL, type Rule, type RuleContext, layerOf, line, short } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['einsum', 'complexBytes']);

function complexTranspose(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    if (!c.fn || !PER_CALL.has(c.fn.name)) continue;
    const isT = TRANSPOSE.has(c.name) || (!c.name && TRANSPOSE_METHODS.has(c.last) && !!c.receiver);
    if (!isT) continue;
    const input = c.name ? c.args[0] : c.receiver;
    const src = ctx.values.spectrumSource(input, c.fn, c.cls);
    if (!src) continue;
    const srcNode = 'callee' in src ? src.node : src;
    const layer = layerOf(ctx, c.node);
    emit({
      node: c.node,
      message: `${short(c.node, 50)} transposes a complex tensor (from ${short(srcNode, 40)}, line ${line(srcNode)}) on every ${c.fn.name}(): a full read and write of 8-byte elements with no arithmetic — memory-bound, and one more kernel launch (${SOURCE}).`,
      evidence: [`${short(c.node)} at line ${line(c.node)}`, `complex input from line ${line(srcNode)}`],
      suggestion:
        'Keep the spectra in the layout the product wants (frequency-major), transposing the real-valued weights once instead, or fold the permutation into the einsum subscripts.',
      fixes: [],
      layer: layer?.site.id,
    });
  }
}

export const rule: Rule = {
  id: 'complex-transpose',
  severity: 'information',
  title: 'transpose of a complex tensor in the per-call path',
  source: SOURCE,
  check: (ctx, emit) => complexTranspose(ctx, emit),
};
