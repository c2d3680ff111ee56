/**
 * The profile run: the one document every part of the product passes around (worker → CLI / panel →
 * report.json → webview). Versioned zod schema; types are inferred from it. Host-free.
 */
import { z } from 'zod';
import { compiledSchema } from './compiled';
import { VARIANT_NAMES } from './variants/table';
import { loopPolicySchema } from './loop-policy';
import { analysisSchema, fnoSweepSchema, hintSchema, sweepSchema } from './insight-schema';
import { STEP_KINDS } from './model';
import { LAYER_KINDS, type LayerKind, MODES_CONVENTIONS, type ModesConvention } from './spec';
import { PASSES, STEP_CATEGORIES } from './variants/step';

export const SCHEMA_VERSION = 1;

export const TIMING_SOURCES = ['gpu-events', 'kernel-timer', 'wall-clock-sync', 'launch-only'] as const;
export type TimingSource = (typeof TIMING_SOURCES)[number];
export const TIMING_LABELS: Record<TimingSource, string> = {
  'gpu-events': 'GPU events',
  'kernel-timer': 'backend kernel timer',
  'wall-clock-sync': 'wall-clock between syncs',
  'launch-only': 'launch-only (not run time)',
};

/** Warm-up runs and timed repetitions per variant when nothing else is asked (CLI flags, VS Code settings). */
export const DEFAULT_WARMUP = 3;
export const DEFAULT_REPS = 10;

/** What a run times: the forward pass, the training step (forward + backward), or both (the default). */
export const RUN_PASSES = ['forward', 'train', 'both'] as const;
export type RunPass = (typeof RUN_PASSES)[number];
export const DEFAULT_PASS: RunPass = 'both';

export { VARIANT_NAMES, type VariantName, defaultVariants, variantsForSpec, variantsOf } from './variants/table';

const dim = z.number().int().positive();

export const layerSpecSchema = z.object({
  batch: dim,
  height: dim,
  width: dim,
  inChannels: dim,
  outChannels: dim,
  kernelH: dim,
  kernelW: dim,
  spatialKernel: dim,
  padding: z.enum(['circular', 'same', 'valid', 'linear']),
  layout: z.enum(['NHWC', 'NCHW']),
  dtype: z.literal('float32'),
  layer: z.enum(LAYER_KINDS as [LayerKind, ...LayerKind[]]).optional(),
  modes: z.tuple([dim, dim]).optional(),
  modesConvention: z.enum(MODES_CONVENTIONS as [ModesConvention, ...ModesConvention[]]).optional(),
});

const stat = z.object({
  median: z.number(),
  p10: z.number(),
  p90: z.number(),
  min: z.number(),
  max: z.number(),
  samples: z.array(z.number()),
});

export const stepResultSchema = z.object({
  id: z.string(),
  name: z.string(),
  implementation: z.string(),
  /** Part of the layer's call() (vs data preparation outside it, or the inverse transform for the check). */
  inLayer: z.boolean(),
  /** Done once and cached (kernel spectrum): not part of either total. */
  oneOff: z.boolean(),
  inputShapes: z.array(z.array(z.number().int().nonnegative())),
  outputShape: z.array(z.number().int().nonnegative()),
  flops: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  /** How the cost model prices the step (from the variant's plan; absent in runs saved before it was recorded). */
  kind: z.enum(STEP_KINDS).optional(),
  /** The framework ops and GPU kernels the step ran, from one profiled pass (torch.profiler), heaviest first. */
  kernels: z
    .array(z.object({ name: z.string(), device: z.enum(['cpu', 'cuda']), ms: z.number().nonnegative() }))
    .optional(),
  /** What the step computes: transform, product, layout change, … (from the plan; absent in older runs). */
  category: z.enum(STEP_CATEGORIES).optional(),
  /** Absent: forward (every run before the training pass). */
  pass: z.enum(PASSES).optional(),
  /** Bytes the step's own layout changes move (a framework op's internal permute copies), from the plan. */
  layoutBytes: z.number().nonnegative().optional(),
  /** A product of complex tensors (priced at the complex GEMM rate where the probe measured one). */
  complex: z.boolean().optional(),
  timing: z.enum(TIMING_SOURCES),
  warmup: z.number().int().nonnegative(),
  reps: z.number().int().nonnegative(),
  ...stat.shape,
});

export const variantResultSchema = z.object({
  name: z.enum(VARIANT_NAMES),
  title: z.string(),
  description: z.string(),
  kind: z.enum(['spatial', 'spectral']),
  /** What the output was compared with. */
  reference: z.string(),
  steps: z.array(stepResultSchema),
  /** End to end (spatial in, spatial out), measured without per-step syncs. */
  totalMs: stat.extend({ timing: z.enum(TIMING_SOURCES), reps: z.number().int().nonnegative() }),
  /** Spectral variants: the layer's call() only (what the seed timed). */
  layerMs: stat.extend({ timing: z.enum(TIMING_SOURCES), reps: z.number().int().nonnegative() }).optional(),
  /** Sum of the medians of the per-call steps (one-off steps excluded). */
  stepSumMs: z.number(),
  maxAbsError: z.number(),
  refScale: z.number(),
  tolerance: z.number(),
  correct: z.boolean(),
  checkedPoints: z.number().int().nonnegative(),
  outputShape: z.array(z.number().int().nonnegative()),
  /**
   * Peak device memory of the timed runs above what was allocated when they began (torch on CUDA:
   * torch.cuda.max_memory_allocated after a synced reset, less memory_allocated then): the variant's working memory.
   */
  peakMemoryBytes: z.number().int().nonnegative().optional(),
  /** The same for the one-off steps and the warm-up: kernel spectra, FFT plans, cuDNN's autotuning workspaces. */
  oneOffPeakBytes: z.number().int().nonnegative().optional(),
  /** End to end on the engine's independent clock (torch.utils.benchmark blocked_autorange): --crosscheck. */
  crosscheckMs: z.number().nonnegative().finite().optional(),
  /** torch.compile of this variant as written beside it run eagerly (`fconv profile --compile`, torch ≥ 2). */
  compiled: compiledSchema.optional(),
  /**
   * Minor page faults per end-to-end call in the timed runs (getrusage of the engine's process): memory the OS
   * mapped in again because the allocator had handed it back. Near 0 when freed memory is kept.
   */
  minorFaultsPerCall: z.number().nonnegative().finite().optional(),
  /**
   * The variant's first call end to end, synced (engines that report it): the one-off work the warm-up absorbs —
   * cuDNN autotuning under cudnn.benchmark, cuFFT plan creation, lazy CUDA / oneDNN initialisation.
   */
  firstCallMs: z.number().nonnegative().optional(),
  /**
   * The training step (`--pass train|both`): forward + backward of a scalar loss (the output weighted by fixed
   * weights, `lossWeights`) with respect to the input and every parameter, gradients materialised, timed as a whole
   * and its backward alone; each forward step's backward is a step of `train.steps` with pass 'backward'. Absent
   * when only the forward pass ran.
   */
  train: z
    .object({
      totalMs: stat.extend({ timing: z.enum(TIMING_SOURCES), reps: z.number().int().nonnegative() }),
      backwardMs: stat.extend({ timing: z.enum(TIMING_SOURCES), reps: z.number().int().nonnegative() }),
      /** Each forward step's backward (its VJP), pass 'backward', ids `<forward id>.backward`. */
      steps: z.array(stepResultSchema),
      /** Sum of the medians of the per-step backward. */
      backwardStepSumMs: z.number().nonnegative(),
      /** What the training pass does differently from the forward one (the kernel spectrum made per step). */
      notes: z.array(z.string()),
      /** The gradients checked against the reference's (same function → same gradient). */
      gradients: z.array(
        z.object({
          /** input, kernel, spatialKernel or modeWeights. */
          name: z.string(),
          reference: z.string(),
          maxAbsError: z.number(),
          refScale: z.number(),
          tolerance: z.number(),
          correct: z.boolean(),
        }),
      ),
      firstCallMs: z.number().nonnegative().optional(),
      peakMemoryBytes: z.number().int().nonnegative().optional(),
    })
    .optional(),
  /**
   * cuDNN's algorithm table for this variant's convolution (cudnnFindConvolutionForwardAlgorithm), when an engine has
   * one.
   */
  algorithms: z
    .array(
      z.object({
        algo: z.string(),
        status: z.string(),
        ms: z.number(),
        workspace: z.number().nonnegative(),
        math: z.string(),
      }),
    )
    .optional(),
});

export const runSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.string(), version: z.string() }),
  createdAt: z.string(),
  status: z.enum(['ok', 'cancelled', 'failed']),
  failure: z.string().optional(),
  engine: z.string(),
  backend: z.string(),
  device: z.string(),
  /** The framework that ran the layer, when the engine is one's bridge (torch: version, device, CPU threads). */
  framework: z
    .object({
      name: z.string(),
      version: z.string(),
      device: z.string(),
      threads: z.number().int().positive().optional(),
    })
    .optional(),
  /** How the engine was chosen and why others were skipped. */
  engineNotes: z.array(z.string()),
  spec: layerSpecSchema,
  geometry: z.object({
    fftH: z.number().int(),
    fftW: z.number().int(),
    freqW: z.number().int(),
    outH: z.number().int(),
    outW: z.number().int(),
    cropTop: z.number().int(),
    cropLeft: z.number().int(),
    spatialPadding: z.enum(['circular', 'same', 'valid']),
    describes: z.string(),
  }),
  settings: z.object({
    warmup: z.number().int().nonnegative(),
    reps: z.number().int().positive(),
    seed: z.number().int(),
    /** The measuring loop's policy the run was measured under (src/core/loop-policy.ts); absent in older runs. */
    loop: loopPolicySchema.optional(),
    /** Which passes were asked for (absent: forward only, as every run before passes existed). */
    pass: z.enum(RUN_PASSES).optional(),
  }),
  timingNote: z.string(),
  variants: z.array(variantResultSchema),
  wallMs: z.number().nonnegative(),
  /**
   * What the engine still holds once the run has released its variants (the native CUDA engine: cuFFT plans,
   * prepared cuDNN convolutions, device buffers). A long-lived worker must come back to zero after every run.
   */
  resources: z
    .object({
      plans: z.number().int().nonnegative(),
      convs: z.number().int().nonnegative(),
      buffers: z.number().int().nonnegative(),
    })
    .optional(),
  /** The cost model's view of this run: device, roofline per step, model times (added by the host). */
  analysis: analysisSchema.optional(),
  /** What to change, ranked by expected gain, each backed by this run's numbers. */
  hints: z.array(hintSchema).optional(),
  /** Kernel-size sweep of spatial-equivalent vs optimized on the same base layer, when one was run. */
  sweep: sweepSchema.optional(),
  /** FNO layers: the modes sweep of fno vs optimized, when one was run. */
  fnoSweep: fnoSweepSchema.optional(),
});

export type Stat = z.infer<typeof stat>;
export type StepResult = z.infer<typeof stepResultSchema>;
export type VariantResult = z.infer<typeof variantResultSchema>;
export type Run = z.infer<typeof runSchema>;

/** Parses an unknown document as a run; throws a readable error naming the first bad field. */
export function parseRun(doc: unknown): Run {
  const r = runSchema.safeParse(doc);
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new Error(`not a valid profile run: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return r.data;
}

/** The run schema as JSON Schema (draft 2020-12), for tools outside this codebase. */
export function runJsonSchema(): Record<string, unknown> {
  return {
    $id: `run-v${SCHEMA_VERSION}.schema.json`,
    title: `Fourier Conv Profiler run, schema version ${SCHEMA_VERSION}`,
    ...(z.toJSONSchema(runSchema) as Record<string, unknown>),
  };
}
