/**
 * The tfjs engine's executors, one file per variant: each attaches how the planned steps run on tfjs
 * ops and what ran, to the variant's plan from src/core/variants. Worker side.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerData } from '../../../core/data';
import type { VariantName } from '../../../core/run';
import type { LayerSpec } from '../../../core/spec';
import { planVariant } from '../../../core/variants';
import type { PreparedVariant } from '../../engine';
import { bindPlan } from '../../executor';
import { type BuildContext, type Built, disposeEnv, persistentEnv } from './common';
import { fnoExecutors, optimizedFnoExecutors } from './fno';
import { optimizedExecutors } from './optimized';
import { seedExecutors } from './seed';
import { spatialExecutors } from './spatial';
import { spatialEquivalentExecutors } from './spatial-equivalent';

export { type BuildContext, disposeCx, tensorsOf } from './common';

/** How each variant's steps run on tfjs (one file per variant). */
const TFJS_EXECUTORS: Record<VariantName, (spec: LayerSpec, data: LayerData, ctx: BuildContext) => Built> = {
  spatial: spatialExecutors,
  'spatial-equivalent': spatialEquivalentExecutors,
  seed: seedExecutors,
  fno: fnoExecutors,
  optimized: (spec, data, ctx) =>
    spec.layer === 'fno' ? optimizedFnoExecutors(spec, data, ctx) : optimizedExecutors(spec, data, ctx),
};

export function buildVariant(name: VariantName, spec: LayerSpec, data: LayerData, ctx: BuildContext): PreparedVariant {
  const plan = planVariant(name, spec, ctx.traits);
  const built = TFJS_EXECUTORS[name](spec, data, ctx);
  const persistent = persistentEnv(built.persistent);
  const release = disposeEnv(persistent);
  const dispose = () => {
    release();
    if (built.constants) tf.dispose(built.constants);
  };
  // Every implementation label says which backend ran it.
  for (const x of Object.values(built.executors)) {
    if (!x.implementation.includes(` ${ctx.backend}`)) x.implementation += ` — on ${ctx.backend}`;
  }
  try {
    const trainable = built.params as PreparedVariant['trainable'];
    return bindPlan(plan, built.executors, { persistent, dispose, output: built.output, trainable });
  } catch (e) {
    dispose();
    throw e;
  }
}
