/**
 * The measuring loop's policy, defined once: how long to warm up, how many repetitions, when to stop adding
 * them. Sent with every measure request — to the local loop (src/engines/loop/local.ts) and to the Python
 * one (python/fconv_loop.py), which obey the same rules — and recorded in the run (`settings.loop`).
 *
 * Warm-up: at least `warmup` runs; then more while the pipeline is still getting faster (oneDNN, cuDNN and
 * XNNPACK pick and cache kernels over the first calls; a 28×28 convolution kept speeding up past 3 runs) —
 * while a run is more than `stableWithin` faster than the one before it, up to `warmupMax` runs and
 * `warmupMaxMs` of warm-up. Repetitions: at least `reps`; more for fast pipelines, as many as fit
 * `budgetMs` at the last warm-up run's speed, up to `repsMax`. Each timed call's output stays alive until the
 * next call has run (as a layer's output does in a model), and the last one is read for the check.
 */
import { z } from 'zod';

export const loopPolicySchema = z.object({
  warmup: z.number().int().min(0).max(1000),
  warmupMax: z.number().int().min(0).max(4000),
  /** Relative: 0.05 = stop warming once a run is no more than 5 % faster than the one before. */
  stableWithin: z.number().min(0).max(1),
  warmupMaxMs: z.number().min(0).max(600_000),
  reps: z.number().int().min(1).max(10_000),
  repsMax: z.number().int().min(1).max(50_000),
  budgetMs: z.number().min(0).max(60_000),
  /** The training step's time per phase beyond which it gets fewer repetitions (trainRepetitions). */
  trainBudgetMs: z.number().min(0).max(600_000).optional(),
  /**
   * Warm up for at least this long, whatever the run count (a GPU: its clock ramps up over the first ~100 ms of
   * work, and a fast kernel's first dozen calls are far shorter than that). At most MIN_WARMUP_RUNS runs.
   */
  warmupMinMs: z.number().min(0).max(10_000).optional(),
});

/** The most warm-up runs the time floor (warmupMinMs) adds. */
export const MIN_WARMUP_RUNS = 100_000;
export type LoopPolicy = z.infer<typeof loopPolicySchema>;

/** The policy for a run's settings: warm-up and repetitions asked for, the adaptive budget per phase. */
export function loopPolicy(warmup: number, reps: number, budgetMs: number): LoopPolicy {
  return {
    warmup,
    warmupMax: warmup > 0 ? Math.max(4 * warmup, warmup + 3) : 0,
    stableWithin: 0.05,
    warmupMaxMs: 2000,
    reps,
    repsMax: 5 * reps,
    budgetMs,
  };
}

/** Whether the loop warms up once more, given the warm-up runs' times so far (ms). */
export function warmAgain(p: LoopPolicy, times: number[]): boolean {
  const n = times.length;
  if (n < p.warmup) return true;
  const spent = times.reduce((a, t) => a + t, 0);
  if (p.warmupMinMs && spent < p.warmupMinMs && n < MIN_WARMUP_RUNS) return true;
  if (n >= p.warmupMax || n < 2) return false;
  return times[n - 1]! < (1 - p.stableWithin) * times[n - 2]! && spent < p.warmupMaxMs;
}

/**
 * The training step's warm-up and repetitions. Warm-up: the policy's rule from one run (the forward pass of the
 * same variant has just warmed its kernels; the first training step allocates the backward's). Repetitions: the
 * forward's rule, but a step so slow that they would take more than `trainBudgetMs` (2 × budgetMs by default:
 * 500 ms; none when the budget is 0) gets ⌊trainBudgetMs / step⌋ of them, never fewer than 3 — a 450 ms
 * training step (a 28×28 convolution trained on wasm) is timed 3 times per phase, with its spread, instead of 10.
 */
export function trainPolicy(p: LoopPolicy): LoopPolicy {
  return { ...p, warmup: Math.min(p.warmup, 1), warmupMax: Math.min(p.warmupMax, 3) };
}

export function trainRepetitions(p: LoopPolicy, stepMs: number): number {
  // No adaptive budget (budgetMs 0: exactly `reps`, as asked): no cap either.
  const budget = p.trainBudgetMs ?? (p.budgetMs > 0 ? 2 * p.budgetMs : Infinity);
  const cap = Math.max(Math.min(3, p.reps), Math.floor(budget / Math.max(stepMs, 1e-3)));
  return Math.min(repetitions(p, stepMs), cap);
}

/** Repetitions of each timed phase, from the last warm-up run's time (ms). */
export function repetitions(p: LoopPolicy, warmMs: number): number {
  return Math.max(p.reps, Math.min(p.repsMax, Math.floor(p.budgetMs / Math.max(warmMs, 1e-3))));
}
