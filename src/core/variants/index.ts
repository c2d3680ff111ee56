/**
 * One plan per variant, whatever engine runs it: title, reference, and every step with its shapes,
 * FLOPs, bytes and kind. Engines attach only how each step runs (src/engines/executor.ts). The cost
 * model and `fconv predict` price these plans. Host-free.
 */
import type { VariantName } from '../run';
import { type LayerSpec, SpecError, isFno } from '../spec';
import { planFno, planOptimizedFno } from './fno';
import { planOptimized } from './optimized';
import { planSeed } from './seed';
import { planSpatial, planSpatialEquivalent } from './spatial';
import type { ExecutorTraits, PlannedStep, VariantPlan } from './step';

export * from './step';
export { planFno, planOptimized, planOptimizedFno, planSeed, planSpatial, planSpatialEquivalent };

export function planVariant(name: VariantName, spec: LayerSpec, traits: ExecutorTraits): VariantPlan {
  if (isFno(spec)) {
    if (name === 'fno') return planFno(spec, traits);
    if (name === 'optimized') return planOptimizedFno(spec, traits);
    if (name === 'spatial-equivalent') return planSpatialEquivalent(spec, traits);
    throw new SpecError(`an FNO layer has no ${name} variant (its variants: spatial-equivalent, fno, optimized)`);
  }
  switch (name) {
    case 'fno':
      throw new SpecError(
        "the fno variant needs an FNO layer (--layer fno --modes …); the seed's layer has spatial, spatial-equivalent, seed, optimized",
      );
    case 'spatial':
      return planSpatial(spec, traits);
    case 'spatial-equivalent':
      return planSpatialEquivalent(spec, traits);
    case 'seed':
      return planSeed(spec, traits);
    case 'optimized':
      return planOptimized(spec, traits);
  }
}

/** One-off steps first, then the per-call steps: the order a profile records them in. */
export function allSteps(plan: VariantPlan): PlannedStep[] {
  return [...plan.oneOff, ...plan.steps];
}
