/**
 * Where the time between two variants goes: for each comparison the verdict makes (optimized vs the
 * layer as written — the question's or an FNO's — and vs spatial-equivalent), a step-matched breakdown
 * by category of the per-call step medians, the parts summing to the difference. Host-free.
 */
import { variantLabel } from './glossary';
import { fmtMs } from './units';
import type { Run, VariantName, VariantResult } from './run';
import { PASSES, type Pass, STEP_CATEGORIES, type StepCategory, categoryOf, passOf } from './variants/step';

export interface GainPart {
  category: StepCategory;
  /** Categories are per pass: the backward pass's product is a part of its own. */
  pass: Pass;
  fromMs: number;
  toMs: number;
  /** fromMs − toMs: positive is time saved. */
  deltaMs: number;
}

export interface Gain {
  from: VariantName;
  to: VariantName;
  /** The forward pass, or the training step (its forward parts and its backward parts). */
  pass: 'forward' | 'train';
  /** Sums of the per-call step medians (one-off steps excluded). */
  fromMs: number;
  toMs: number;
  /** fromMs − toMs = Σ parts[].deltaMs. */
  deltaMs: number;
  /** The same over the steps inside the layer only: the formulation's own gain. */
  layerFromMs: number;
  layerToMs: number;
  layerDeltaMs: number;
  /** End-to-end medians (measured without per-step syncs), for reference. */
  endToEndFromMs: number;
  endToEndToMs: number;
  parts: GainPart[];
}

const COMPARISONS: Array<[VariantName, VariantName]> = [
  ['seed', 'optimized'],
  ['fno', 'optimized'],
  ['spatial-equivalent', 'optimized'],
];

const perCall = (v: VariantResult) => v.steps.filter((s) => !s.oneOff);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function gainBetween(from: VariantResult, to: VariantResult): Gain {
  const byCat = (v: VariantResult, c: StepCategory, pass: Pass) =>
    sum(
      perCall(v)
        .filter((s) => categoryOf(s) === c && passOf(s) === pass)
        .map((s) => s.median),
    );
  const parts = PASSES.flatMap((pass) =>
    STEP_CATEGORIES.filter((c) => c !== 'setup').map((category) => {
      const fromMs = byCat(from, category, pass),
        toMs = byCat(to, category, pass);
      return { category, pass, fromMs, toMs, deltaMs: fromMs - toMs };
    }),
  ).filter((p) => p.fromMs > 0 || p.toMs > 0);
  const fromMs = sum(parts.map((p) => p.fromMs)),
    toMs = sum(parts.map((p) => p.toMs));
  const layer = (v: VariantResult) =>
    sum(
      perCall(v)
        .filter((s) => s.inLayer)
        .map((s) => s.median),
    );
  return {
    from: from.name,
    to: to.name,
    pass: 'forward',
    fromMs,
    toMs,
    deltaMs: fromMs - toMs,
    layerFromMs: layer(from),
    layerToMs: layer(to),
    layerDeltaMs: layer(from) - layer(to),
    endToEndFromMs: from.totalMs.median,
    endToEndToMs: to.totalMs.median,
    parts,
  };
}

/**
 * A variant's training step as the gain breakdown reads it: every forward step (one-off ones too — they run on
 * every training step) and each step's backward, its end to end the training step's.
 */
function trainingView(v: VariantResult): VariantResult {
  const t = v.train!;
  return {
    ...v,
    steps: [...v.steps.map((s) => ({ ...s, oneOff: false })), ...t.steps],
    totalMs: t.totalMs,
  };
}

/**
 * The comparisons of a run whose two variants both completed correctly: the forward pass's, then — when both
 * were trained with correct gradients — the training step's (per pass: its forward and its backward parts).
 */
export function gainsOf(run: Pick<Run, 'variants'>): Gain[] {
  const ok = (n: VariantName) => run.variants.find((v) => v.name === n && v.correct);
  const trained = (v: VariantResult | undefined) =>
    v?.train && v.train.gradients.every((g) => g.correct) ? v : undefined;
  const out: Gain[] = [];
  for (const [a, b] of COMPARISONS) {
    const from = ok(a),
      to = ok(b);
    if (from && to) out.push(gainBetween(from, to));
  }
  for (const [a, b] of COMPARISONS) {
    const from = trained(ok(a)),
      to = trained(ok(b));
    if (from && to) out.push({ ...gainBetween(trainingView(from), trainingView(to)), pass: 'train' });
  }
  return out;
}

export const CATEGORY_LABEL: Record<StepCategory, string> = {
  'forward-transform': 'forward transform',
  'kernel-transform': 'kernel transform',
  product: 'channel mixing / product',
  'inverse-transform': 'inverse transform',
  layout: 'layout changes',
  padding: 'padding',
  convolution: 'convolution',
  setup: 'setup',
};

/** A part's label: its category, and "(backward)" for the backward pass's. */
export function partLabel(p: Pick<GainPart, 'category' | 'pass'>): string {
  return p.pass === 'backward' ? `${CATEGORY_LABEL[p.category]} (backward)` : CATEGORY_LABEL[p.category];
}

/** "of 14.1 ms: product 9.0, inverse transform 2.7, …" — biggest changes first; negative is time added. */
export function gainLine(g: Gain): string {
  const parts = [...g.parts]
    .filter((p) => Math.abs(p.deltaMs) >= 0.0005)
    .sort((a, b) => Math.abs(b.deltaMs) - Math.abs(a.deltaMs))
    .map((p) => `${partLabel(p)} ${p.deltaMs >= 0 ? '' : '+'}${fmtMs(Math.abs(p.deltaMs))}`);
  // Against a spatial convolution the "layer" of each side is a different thing: no inside-the-layer ratio.
  const layer =
    g.from === 'spatial-equivalent'
      ? ''
      : `; inside the layer ${fmtMs(g.layerFromMs)} → ${fmtMs(g.layerToMs)}${g.layerToMs > 0 ? ` (${(g.layerFromMs / g.layerToMs).toFixed(1)}x)` : ''}`;
  const what = g.pass === 'train' ? 'per training step' : 'per call';
  return `${g.pass === 'train' ? 'training step, ' : ''}${variantLabel(g.from)} → ${variantLabel(g.to)}: ${g.deltaMs >= 0 ? 'saves' : 'adds'} ${fmtMs(Math.abs(g.deltaMs))} ${what} (step medians) — ${parts.join(', ')}${layer}`;
}
