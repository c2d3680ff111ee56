/**
 * One spec on several engines, side by side: each engine's times and verdicts, and where the verdicts
 * disagree — the question "is FFT convolution worth it for my layer?" has an answer per engine, and the
 * embedded engine's is not the PyTorch user's. Host-free.
 */
import { z } from 'zod';
import { engineLabel, fmtMs, fmtRatio } from './format';
import { type Run, runSchema } from './run';
import { describeSpec } from './spec';
import { VARIANT_NAMES, type VariantName } from './variants/table';

/** The comparisons a verdict makes, each with its winner on one engine. */
const QUESTIONS = [
  {
    id: 'spectral-vs-spatial',
    label: 'same function, spectral (optimized) vs spatial (spatial-equivalent)',
    a: 'optimized',
    b: 'spatial-equivalent',
  },
  {
    id: 'formulation',
    label: 'same function, better formulation (optimized vs the recipe)',
    a: 'optimized',
    b: 'seed',
  },
  {
    id: 'recipe-vs-conv2d',
    label: "the question's comparison: the recipe vs the small Conv2D",
    a: 'seed',
    b: 'spatial',
  },
  {
    id: 'fno-formulation',
    label: 'FNO layer: the optimized formulation vs the layer as written',
    a: 'optimized',
    b: 'fno',
  },
] as const;

export const engineVerdictSchema = z.object({
  question: z.string(),
  label: z.string(),
  /** Per engine: which side wins and by how much (null when a side did not run correctly). */
  answers: z.array(z.object({ engine: z.string(), winner: z.string().nullable(), factor: z.number().nullable() })),
  /** The engines do not agree on the winner. */
  disagree: z.boolean(),
});

export const enginesCompareSchema = z.object({
  schemaVersion: z.literal(1),
  spec: runSchema.shape.spec,
  runs: z.array(runSchema),
  verdicts: z.array(engineVerdictSchema),
});
export type EnginesCompare = z.infer<typeof enginesCompareSchema>;

/** The variants measured on any of the engines, in the table's order. */
export function measuredVariants(runs: readonly Run[]): VariantName[] {
  return VARIANT_NAMES.filter((n) => runs.some((r) => r.variants.some((v) => v.name === n)));
}

function median(run: Run, name: string): number | undefined {
  const v = run.variants.find((x) => x.name === name);
  return v && v.correct ? v.totalMs.median : undefined;
}

export function compareEngines(runs: Run[]): EnginesCompare {
  // The questions these runs can answer: both sides measured on some engine (an FNO layer has no seed or
  // spatial variant, and runs spatial-equivalent only on request; the seed's layer has no fno).
  const ran = (name: string) => runs.some((r) => r.variants.some((v) => v.name === name));
  const verdicts = QUESTIONS.filter((q) => ran(q.a) && ran(q.b)).map((q) => {
    const answers = runs.map((r) => {
      const a = median(r, q.a),
        b = median(r, q.b);
      if (a === undefined || b === undefined) return { engine: engineLabel(r), winner: null, factor: null };
      return { engine: engineLabel(r), winner: a < b ? q.a : q.b, factor: a < b ? b / a : a / b };
    });
    const winners = new Set(answers.map((x) => x.winner).filter((w) => w !== null));
    return { question: q.id, label: q.label, answers, disagree: winners.size > 1 };
  });
  return { schemaVersion: 1, spec: runs[0]!.spec, runs, verdicts };
}

/** The comparison as text: end-to-end medians per variant and engine, then each verdict per engine. */
export function formatEnginesCompare(c: EnginesCompare): string {
  const names = c.runs.map((r) => engineLabel(r, true));
  const w = Math.max(12, ...names.map((n) => n.length));
  const out = [`fconv profile on ${c.runs.length} engines — ${describeSpec(c.spec)}`, ''];
  out.push(`  ${'variant (end to end)'.padEnd(22)}${names.map((n) => n.padStart(w + 2)).join('')}`);
  for (const name of measuredVariants(c.runs)) {
    const cells = c.runs.map((r) => {
      const v = r.variants.find((x) => x.name === name);
      return (v ? `${fmtMs(v.totalMs.median)}${v.correct ? '' : ' ✗'}` : '—').padStart(w + 2);
    });
    out.push(`  ${name.padEnd(22)}${cells.join('')}`);
  }
  out.push('');
  for (const v of c.verdicts) {
    out.push(`${v.disagree ? 'DISAGREE' : 'agree   '}  ${v.label}:`);
    for (const a of v.answers)
      out.push(
        `            ${a.engine}: ${a.winner === null ? 'not measured' : `${a.winner} wins, ${fmtRatio(a.factor!)}`}`,
      );
  }
  if (c.verdicts.some((v) => v.disagree))
    out.push('', 'The engines disagree: trust the one your code runs on (its numbers are in its own report).');
  return out.join('\n');
}
