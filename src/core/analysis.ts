/**
 * The model's view of a run: each step placed on the device's roofline (intensity, attainable and
 * achieved FLOP/s or GB/s, % of bound) with its calibrated model time, model vs measured per variant,
 * and the break-even condition for the spec. Host-free; the host attaches it to the run.
 */
import { categoryOf } from './variants/step';
import { hintsFor } from './hints';
import { gainsOf } from './gains';
import type { Analysis, StepAnalysis, Sweep } from './insight-schema';
import { type DeviceProfile, bandwidthFor, costOf, estimateStep, ratesFor, ridge, specBreakEven } from './model';
import type { Run } from './run';

export function analyze(run: Run, device: DeviceProfile): Analysis {
  const rates = ratesFor(device);
  const steps: StepAnalysis[] = [];
  const variants: Analysis['variants'] = [];
  for (const v of run.variants) {
    let model = 0;
    // The training step's backward steps are roofline points too (pass 'backward'); the model's total is the forward's.
    for (const s of [...v.steps, ...(v.train?.steps ?? [])]) {
      const cost = costOf(s, run.spec);
      const e = estimateStep(cost, rates);
      if (!s.oneOff && s.pass !== 'backward') model += e.ms;
      const sec = s.median / 1000;
      const achievedGflops = sec > 0 ? s.flops / sec / 1e9 : 0;
      const achievedGBs = sec > 0 ? s.bytes / sec / 1e9 : 0;
      const moving = e.attainableGflops === 0;
      const boundBw = bandwidthFor(cost, rates);
      steps.push({
        variant: v.name,
        stepId: s.id,
        name: s.name,
        kind: cost.kind,
        category: categoryOf(s),
        ...(s.pass === 'backward' ? { pass: s.pass } : {}),
        inLayer: s.inLayer,
        oneOff: s.oneOff,
        flops: s.flops,
        bytes: s.bytes,
        intensity: e.intensity,
        medianMs: s.median,
        modelMs: e.ms,
        bound: e.bound,
        attainableGflops: e.attainableGflops,
        achievedGflops,
        achievedGBs,
        pctOfBound: moving
          ? (100 * achievedGBs) / boundBw
          : e.attainableGflops > 0
            ? (100 * achievedGflops) / e.attainableGflops
            : 0,
      });
    }
    variants.push({ variant: v.name, measuredMs: v.totalMs.median, modelMs: model });
  }
  return { device, ridge: ridge(device), steps, variants, breakEven: specBreakEven(run.spec), gains: gainsOf(run) };
}

/** The run with the model's analysis and the hints attached (a sweep, when given, feeds the crossover hint). */
export function withInsights<R extends Run>(run: R, device: DeviceProfile, sweep?: Sweep): R {
  const analysis = analyze(run, device);
  const next = { ...run, analysis, ...(sweep ? { sweep } : {}) };
  return { ...next, hints: hintsFor(next, { analysis, device, sweep }) };
}
