import { cite } from '../../core/citations';
import { replace } from '../text';
import { type Fix } from '../types';
import { EINSUM, stringLiteral } from '../values';
import { type Emit, type Rule, type RuleContext, layerOf } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['einsum']);

/** `ijkl,jklo->ijko` → the pieces, when it is a plain two-operand spec. */
export function parseEinsum(spec: string): { a: string; b: string; out: string } | undefined {
  const m = /^\s*([a-zA-Z]+)\s*,\s*([a-zA-Z]+)\s*->\s*([a-zA-Z]*)\s*$/.exec(spec);
  if (!m) return undefined;
  const [a, b, out] = [m[1]!, m[2]!, m[3]!];
  for (const s of [a, b, out]) if (new Set(s).size !== s.length) return undefined;
  return { a, b, out };
}

/** Index expression that drops `c` from an operand and inserts None for the output axes it lacks. */
export function broadcastIndex(sub: string, out: string, c: string): string | undefined {
  const idx: string[] = [];
  let p = 0;
  for (const L of out) {
    while (p < sub.length && sub[p] === c) {
      idx.push('0');
      p++;
    }
    if (sub[p] === L) {
      idx.push(':');
      p++;
    } else if (sub.includes(L))
      return undefined; // a different axis order would need a transpose
    else idx.push('None');
  }
  while (p < sub.length && sub[p] === c) {
    idx.push('0');
    p++;
  }
  return p === sub.length ? idx.join(', ') : undefined;
}

const SIMPLE_OPERAND = new Set(['identifier', 'attribute', 'subscript', 'call']);

function einsumMixing(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    if (!EINSUM.has(c.name) || c.args.length !== 3) continue;
    const spec = stringLiteral(c.args[0]);
    const e = spec !== undefined ? parseEinsum(spec) : undefined;
    if (!e) continue;
    const [A, B] = [c.args[1]!, c.args[2]!];
    if (!ctx.values.isSpectrum(A, c.fn, c.cls) && !ctx.values.isSpectrum(B, c.fn, c.cls)) continue;
    const contracted = [...e.a].filter((L) => e.b.includes(L) && !e.out.includes(L));
    const batch = [...e.a].filter((L) => e.b.includes(L) && e.out.includes(L));
    if (!contracted.length || !batch.length) continue;
    const layer = layerOf(ctx, c.node);
    const s = layer?.site.spec ?? {};
    const cin = s.inChannels;
    const evidence = [
      `'${spec}': ${batch.join(', ')} appear in both operands and the output (batch axes), ${contracted.join(', ')} is summed`,
    ];
    let shapes = '';
    if (s.height && s.width && s.batch && cin && s.outChannels && batch.length === 2) {
      const nb = s.height * (Math.floor(s.width / 2) + 1);
      shapes = ` With this layer's shapes: ${nb} BatchMatMuls of (${s.batch}×${cin})·(${cin}×${s.outChannels}) complex matrices.`;
      evidence.push(`${s.height}×(${s.width}/2+1) = ${nb} frequency batches; K = ${cin}`);
    }
    const fixes: Fix[] = [];
    let suggestion =
      "Store the spectra frequency-major (frequencies as the leading batch axis, e.g. 'jkil,jklo->jkio' on (H, W/2+1, batch, in) and (H, W/2+1, in, out) tensors) so the batched matmul needs no transposes.";
    if (cin === 1) {
      suggestion =
        'With one input channel the contraction has K = 1: multiply with broadcasting instead (a pointwise product, no matmul, no transposes).';
      const ia = broadcastIndex(e.a, e.out, contracted[0]!);
      const ib = broadcastIndex(e.b, e.out, contracted[0]!);
      if (
        ctx.model.dialect === 'python' &&
        contracted.length === 1 &&
        ia &&
        ib &&
        SIMPLE_OPERAND.has(A.type) &&
        SIMPLE_OPERAND.has(B.type) &&
        !c.kwargs.size
      ) {
        fixes.push({
          title: 'Replace the K = 1 einsum by a broadcast multiply',
          edits: [replace(c.node, `${A.text}[${ia}] * ${B.text}[${ib}]`)],
        });
      }
    }
    emit({
      node: c.node,
      message: `einsum '${spec}' is not a pointwise product: ${batch.join(', ')} (frequency axes) are batch axes and ${contracted.join(', ')} is contracted, so it lowers to transposes + BatchMatMul over every frequency of tiny matrices plus an output transpose.${shapes}${cin === 1 ? ' With in-channels = 1 each matmul is a K = 1 outer product: pure memory traffic.' : ''} (${SOURCE})`,
      evidence,
      suggestion,
      fixes,
      layer: layer?.site.id,
    });
  }
}

export const rule: Rule = {
  id: 'einsum-channel-mixing',
  severity: 'information',
  title: 'einsum channel mixing lowers to transposes + tiny BatchMatMuls',
  source: SOURCE,
  check: (ctx, emit) => einsumMixing(ctx, emit),
};
