/**
 * The variant registry: every formulation the profiler runs, with what it is (spatial or spectral), which
 * layer kinds have it, which it runs by default, where it goes in a run (the reference first), how it is
 * shown, and its plan. Engines attach executors per step id (tfjs/cuda: src/engines/<engine>/variants,
 * Python: the framework's executor module); `bindPlan` refuses a step without one. Host-free.
 */
import type { LayerKind, LayerSpec } from '../spec';
import { planFno, planOptimizedFno } from './fno';
import { equivalentBytes, fnoBytes, spatialBytes, spectralBytes } from './memory';
import { planOptimized } from './optimized';
import { planSeed } from './seed';
import { planSpatial, planSpatialEquivalent } from './spatial';
import type { ExecutorTraits, VariantPlan } from './step';

export interface VariantEntry {
  readonly name: string;
  readonly kind: 'spatial' | 'spectral';
  /** The layer kinds that have this variant. */
  readonly layers: readonly LayerKind[];
  /** The layer kinds it runs for when no variants are asked for. */
  readonly byDefault: readonly LayerKind[];
  /** How reports show it: `seed` and `fno` are "as written" (the glossary explains each label). */
  readonly label: string;
  /**
   * How its output is checked: `conv2d` against the naive direct convolution with the small spatial kernel,
   * `equivalent` against the naive convolution with the layer's own (equivalent) kernel, `spectral` against
   * spatial-equivalent's output when it ran, else the naive circular convolution with the equivalent kernel.
   */
  readonly check: 'conv2d' | 'equivalent' | 'spectral';
  /** Its peak memory (pessimistic), for the budget check before anything is allocated. */
  readonly peakBytes: (spec: LayerSpec) => number;
  readonly plan: (spec: LayerSpec, traits: ExecutorTraits) => VariantPlan;
}

/** In run order: the spatial reference first, the spectral variants after it. */
export const VARIANT_TABLE = [
  {
    name: 'spatial',
    kind: 'spatial',
    layers: ['seed'],
    byDefault: ['seed'],
    label: 'spatial',
    check: 'conv2d',
    peakBytes: spatialBytes,
    plan: planSpatial,
  },
  {
    name: 'spatial-equivalent',
    kind: 'spatial',
    layers: ['seed', 'fno'],
    byDefault: ['seed'],
    label: 'spatial-equivalent',
    check: 'equivalent',
    peakBytes: equivalentBytes,
    plan: planSpatialEquivalent,
  },
  {
    name: 'seed',
    kind: 'spectral',
    layers: ['seed'],
    byDefault: ['seed'],
    label: 'as written',
    check: 'spectral',
    peakBytes: spectralBytes,
    plan: planSeed,
  },
  {
    name: 'fno',
    kind: 'spectral',
    layers: ['fno'],
    byDefault: ['fno'],
    label: 'as written',
    check: 'spectral',
    peakBytes: fnoBytes,
    plan: planFno,
  },
  {
    name: 'optimized',
    kind: 'spectral',
    layers: ['seed', 'fno'],
    byDefault: ['seed', 'fno'],
    label: 'optimized',
    check: 'spectral',
    peakBytes: spectralBytes,
    plan: (spec, traits) => (spec.layer === 'fno' ? planOptimizedFno(spec, traits) : planOptimized(spec, traits)),
  },
] as const satisfies readonly VariantEntry[];

export type VariantName = (typeof VARIANT_TABLE)[number]['name'];
export const VARIANT_NAMES = VARIANT_TABLE.map((v) => v.name) as [VariantName, ...VariantName[]];

export function variantEntry(name: string): VariantEntry | undefined {
  return VARIANT_TABLE.find((v) => v.name === name);
}

/** A plan's name as a variant of the table (a plan only ever carries one; anything else is a bug). */
export function asVariantName(name: string): VariantName {
  if (!variantEntry(name)) throw new Error(`internal: no variant ${name} in the variant table`);
  return name as VariantName;
}

/** Where a variant goes in a run: the table's order; an unknown name last. */
export function variantRank(name: string): number {
  const i = VARIANT_TABLE.findIndex((v) => v.name === name);
  return i < 0 ? VARIANT_TABLE.length : i;
}

/** The variants a layer kind has: the seed's layer has no `fno`, an FNO layer no `seed` and no 3×3 `spatial`. */
export function variantsOf(layer: LayerKind | undefined): readonly VariantName[] {
  return VARIANT_TABLE.filter((v) => (v.layers as readonly LayerKind[]).includes(layer ?? 'seed')).map((v) => v.name);
}

/**
 * What `fconv profile` runs when no --variants are given. An FNO layer's spatial-equivalent is a
 * convolution with an image-sized kernel (hundreds of GFLOP at 64×64): measured on request only, the
 * spectral variants are checked against the naive direct convolution meanwhile.
 */
export function defaultVariants(layer: LayerKind | undefined): VariantName[] {
  return VARIANT_TABLE.filter((v) => (v.byDefault as readonly LayerKind[]).includes(layer ?? 'seed')).map(
    (v) => v.name,
  );
}

/**
 * The variants of a configured list (the extension's `variants` setting) that a spec's layer has; a list chosen for
 * another layer kind (none of this kind's own variants in it) gives this layer its defaults. An
 * FNO layer's spatial-equivalent runs only when its image-sized convolution is cheap (≤ 5 GFLOP), else
 * its spectral variants are checked against the naive convolution; a list with none left gives the layer's
 * default variants.
 */
export function variantsForSpec(
  spec: { layer?: LayerKind; batch: number; height: number; width: number; inChannels: number; outChannels: number },
  chosen: readonly VariantName[],
): VariantName[] {
  const have = variantsOf(spec.layer);
  // A list that names none of this layer kind's own variants (the extension's setting lists the question's
  // layer's) was not chosen for it: the layer gets its full default set, not the few names the kinds share.
  const own = have.filter((v) => !variantsOf('seed').includes(v));
  let out =
    own.length && !chosen.some((v) => own.includes(v))
      ? defaultVariants(spec.layer)
      : chosen.filter((v) => have.includes(v));
  if (spec.layer === 'fno') {
    const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
    if (2 * B * H * W * Ci * Co * H * W > 5e9) out = out.filter((v) => v !== 'spatial-equivalent');
  }
  return out.some((v) => v !== 'spatial-equivalent') ? out : defaultVariants(spec.layer);
}
