/**
 * One plan per variant, whatever engine runs it: title, reference, and every step with its shapes,
 * FLOPs, bytes and kind. Engines attach only how each step runs (src/engines/executor.ts). The cost
 * model and `fconv predict` price these plans. Host-free.
 */
import { type LayerSpec, SpecError, isFno } from '../spec';
import { planFno, planOptimizedFno } from './fno';
import { planOptimized } from './optimized';
import { planSeed } from './seed';
import { planSpatial, planSpatialEquivalent } from './spatial';
import type { ExecutorTraits, PlannedStep, VariantPlan } from './step';
import { VARIANT_NAMES, VARIANT_TABLE, type VariantName, variantsOf } from './table';

export * from './step';
export * from './table';
export { planFno, planOptimized, planOptimizedFno, planSeed, planSpatial, planSpatialEquivalent };

export function planVariant(name: VariantName, spec: LayerSpec, traits: ExecutorTraits): VariantPlan {
  const entry = VARIANT_TABLE.find((v) => v.name === name);
  if (!entry) throw new SpecError(`unknown variant ${String(name)} (the variants: ${VARIANT_NAMES.join(', ')})`);
  const layer = spec.layer ?? 'seed';
  if (!(entry.layers as readonly string[]).includes(layer))
    throw new SpecError(
      isFno(spec)
        ? `an FNO layer has no ${name} variant (its variants: ${variantsOf('fno').join(', ')})`
        : `the ${name} variant needs an FNO layer (--layer fno --modes …); the question's layer has ${variantsOf('seed').join(', ')}`,
    );
  return entry.plan(spec, traits);
}

/** One-off steps first, then the per-call steps: the order a profile records them in. */
export function allSteps(plan: VariantPlan): PlannedStep[] {
  return [...plan.oneOff, ...plan.steps];
}
