/**
 * Schemas of what the model adds to a run: the per-step roofline analysis, the hints, and the
 * kernel-size sweep. Optional parts of the run (schema v1 stays readable without them). Host-free.
 */
import { z } from 'zod';
import { STEP_KINDS, deviceProfileSchema } from './model';
import { PASSES, STEP_CATEGORIES } from './variants/step';

export const stepAnalysisSchema = z.object({
  variant: z.string(),
  stepId: z.string(),
  name: z.string(),
  kind: z.enum(STEP_KINDS),
  /** What the step computes (absent in analyses saved before it was recorded). */
  category: z.enum(STEP_CATEGORIES).optional(),
  /** Absent: forward. */
  pass: z.enum(PASSES).optional(),
  inLayer: z.boolean(),
  oneOff: z.boolean(),
  flops: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  /** FLOP per byte moved. */
  intensity: z.number().nonnegative(),
  medianMs: z.number().nonnegative(),
  /** The calibrated model's time for this step. */
  modelMs: z.number().nonnegative(),
  bound: z.enum(['compute', 'memory', 'overhead']),
  /** Roofline bound for this step's kind and intensity, GFLOP/s (0 for pure data movement). */
  attainableGflops: z.number().nonnegative(),
  achievedGflops: z.number().nonnegative(),
  achievedGBs: z.number().nonnegative(),
  /** Achieved / attainable (FLOP/s, or GB/s for data movement), in %. */
  pctOfBound: z.number().nonnegative(),
});

export const breakEvenSchema = z.object({
  lhs: z.number(),
  threshold: z.number(),
  thresholdHalf: z.number(),
  fftPays: z.boolean(),
  terms: z.object({ inputs: z.number(), outputs: z.number(), batch: z.number() }),
});

const gainPartSchema = z.object({
  category: z.enum(STEP_CATEGORIES),
  /** Absent in runs saved before passes existed: forward. */
  pass: z.enum(PASSES).optional(),
  fromMs: z.number().nonnegative(),
  toMs: z.number().nonnegative(),
  deltaMs: z.number(),
});

/** Where the time between two variants goes, by step category (src/core/gains.ts). */
export const gainSchema = z.object({
  from: z.string(),
  to: z.string(),
  /** What the comparison sums: the forward pass, or the training step (forward + backward parts). */
  pass: z.enum(['forward', 'train']).optional(),
  fromMs: z.number().nonnegative(),
  toMs: z.number().nonnegative(),
  deltaMs: z.number(),
  layerFromMs: z.number().nonnegative(),
  layerToMs: z.number().nonnegative(),
  layerDeltaMs: z.number(),
  endToEndFromMs: z.number().nonnegative(),
  endToEndToMs: z.number().nonnegative(),
  parts: z.array(gainPartSchema),
});

export const analysisSchema = z.object({
  device: deviceProfileSchema,
  /** FLOP/byte above which a step can reach the FP32 peak. */
  ridge: z.number().positive(),
  steps: z.array(stepAnalysisSchema),
  variants: z.array(
    z.object({ variant: z.string(), measuredMs: z.number().nonnegative(), modelMs: z.number().nonnegative() }),
  ),
  breakEven: breakEvenSchema,
  /** Where the time between the variants the verdict compares goes, by step category. */
  gains: z.array(gainSchema).optional(),
});

export const hintSchema = z.object({
  id: z.string(),
  severity: z.enum(['warning', 'suggestion', 'info']),
  title: z.string(),
  /** The numbers of this run it rests on. */
  evidence: z.string(),
  /** What to change. */
  suggestion: z.string(),
  expectedGain: z.object({
    /** Time saved per call, when it can be put in milliseconds. */
    ms: z.number().nonnegative().nullable(),
    /** Speed-up factor of the layer, when it can be given. */
    factor: z.number().positive().nullable(),
    basis: z.enum(['measured', 'model', 'none']),
    text: z.string(),
  }),
  /** The fact or paper it rests on. */
  source: z.string(),
});

export const sweepCellSchema = z.object({
  kernel: z.number().int().positive(),
  inChannels: z.number().int().positive(),
  outChannels: z.number().int().positive(),
  spatialMs: z.number().nonnegative().nullable(),
  spectralMs: z.number().nonnegative().nullable(),
  predictedSpatialMs: z.number().nonnegative(),
  predictedSpectralMs: z.number().nonnegative(),
  predictedWinner: z.enum(['spatial', 'spectral']),
  measuredWinner: z.enum(['spatial', 'spectral']).nullable(),
  /** A cell the run did not reach (cancelled) or could not run. */
  note: z.string().optional(),
});

export const crossoverSchema = z.object({
  inChannels: z.number().int().positive(),
  outChannels: z.number().int().positive(),
  /** Smallest swept kernel from which the spectral layer stays faster; null if it never is. */
  measured: z.number().int().positive().nullable(),
  predicted: z.number().int().positive().nullable(),
});

export const sweepSchema = z.object({
  status: z.enum(['ok', 'cancelled', 'failed']),
  failure: z.string().optional(),
  createdAt: z.string(),
  engine: z.string(),
  backend: z.string(),
  device: z.string(),
  /** Batch, image, padding and layout of every cell (kernel and channels vary). */
  base: z.object({
    batch: z.number().int().positive(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    padding: z.string(),
    layout: z.string(),
  }),
  kernels: z.array(z.number().int().positive()),
  channels: z.array(z.object({ inChannels: z.number().int().positive(), outChannels: z.number().int().positive() })),
  /** What each cell timed: the forward pass (absent in older sweeps) or the training step. */
  pass: z.enum(['forward', 'train']).optional(),
  settings: z.object({ warmup: z.number().int().nonnegative(), reps: z.number().int().positive() }),
  cells: z.array(sweepCellSchema),
  crossover: crossoverSchema.nullable(),
  crossovers: z.array(crossoverSchema),
  wallMs: z.number().nonnegative(),
});

/** One cell of an FNO modes sweep: the layer as written against the optimized formulation. */
export const fnoSweepCellSchema = z.object({
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  modes: z.number().int().positive(),
  fnoMs: z.number().nonnegative().nullable(),
  optimizedMs: z.number().nonnegative().nullable(),
  predictedFnoMs: z.number().nonnegative(),
  predictedOptimizedMs: z.number().nonnegative(),
  predictedWinner: z.enum(['fno', 'optimized']),
  measuredWinner: z.enum(['fno', 'optimized']).nullable(),
  note: z.string().optional(),
});

export const fnoCrossoverSchema = z.object({
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  /** Smallest swept modes from which the layer as written stays faster; null if optimized wins throughout. */
  measured: z.number().int().positive().nullable(),
  predicted: z.number().int().positive().nullable(),
});

/** A sweep over modes (and grid sizes) of an FNO layer: where the formulations cross over. */
export const fnoSweepSchema = z.object({
  status: z.enum(['ok', 'cancelled', 'failed']),
  failure: z.string().optional(),
  createdAt: z.string(),
  engine: z.string(),
  backend: z.string(),
  device: z.string(),
  base: z.object({
    batch: z.number().int().positive(),
    inChannels: z.number().int().positive(),
    outChannels: z.number().int().positive(),
    modesConvention: z.enum(['corners', 'centered']),
  }),
  grids: z.array(z.object({ height: z.number().int().positive(), width: z.number().int().positive() })),
  modes: z.array(z.number().int().positive()),
  /** What each cell timed: the forward pass (absent in older sweeps) or the training step. */
  pass: z.enum(['forward', 'train']).optional(),
  settings: z.object({ warmup: z.number().int().nonnegative(), reps: z.number().int().positive() }),
  cells: z.array(fnoSweepCellSchema),
  crossovers: z.array(fnoCrossoverSchema),
  wallMs: z.number().nonnegative(),
});
export type FnoSweep = z.infer<typeof fnoSweepSchema>;
export type FnoSweepCell = z.infer<typeof fnoSweepCellSchema>;
export type FnoCrossover = z.infer<typeof fnoCrossoverSchema>;

export type StepAnalysis = z.infer<typeof stepAnalysisSchema>;
export type Analysis = z.infer<typeof analysisSchema>;
export type Hint = z.infer<typeof hintSchema>;
export type SweepCell = z.infer<typeof sweepCellSchema>;
export type Sweep = z.infer<typeof sweepSchema>;
export type Crossover = z.infer<typeof crossoverSchema>;
