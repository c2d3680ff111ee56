/**
 * One plan per variant, whatever engine runs it: title, reference, and every step with its shapes,
 * FLOPs, bytes and kind. Engines attach only how each step runs (src/engines/executor.ts). The cost
 * model and `fconv predict` price these plans. Host-free.
 */
import type { VariantName } from '../run';
import type { LayerSpec } from '../spec';
import { planOptimized } from './optimized';
import { planSeed } from './seed';
import { planSpatial, planSpatialEquivalent } from './spatial';
import type { ExecutorTraits, PlannedStep, VariantPlan } from './step';

export * from './step';
export { planOptimized, planSeed, planSpatial, planSpatialEquivalent };

export function planVariant(name: VariantName, spec: LayerSpec, traits: ExecutorTraits): VariantPlan {
  switch (name) {
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
