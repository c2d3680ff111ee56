/**
 * Messages from a Python engine's worker (python/fconv_worker.py with a framework's executor module),
 * one JSON object per line on its stdout, protocol version 1. Every line is parsed with these schemas;
 * anything else is rejected and logged, never acted on.
 */
import { z } from 'zod';
import { LAYER_PHASES, layerMeasuredSchema } from '../core/layer-profile';
import { optimizeMeasuredSchema } from '../core/optimize';
import { compiledSchema } from '../core/compiled';
import { probeSchema } from '../core/model';
import { LOOP_PHASES, loopProgressShape } from '../core/phases';

/** By step id: the ops (CPU) and kernels (CUDA) it ran in one profiled pass, heaviest first. */
const kernelsSchema = z.record(
  z.string(),
  z.array(z.object({ name: z.string(), device: z.enum(['cpu', 'cuda']), ms: z.number().nonnegative() })),
);

export const PYTHON_PROTOCOL = 1;

const id = z.string().min(1).max(100);
const samples = z.array(z.number().nonnegative().finite());

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.number().int(),
  python: z.string(),
  executable: z.string(),
  /** The framework the worker loaded (torch), its version, or why it does not import. */
  framework: z.string(),
  version: z.string().nullable(),
  importError: z.string().nullable(),
  hasFft: z.boolean().optional(),
  cuda: z.boolean(),
  cudaVersion: z.string().nullable(),
  cudnn: z.number().int().nullable(),
  gpus: z.array(z.string()),
  threads: z.number().int().nullable(),
  cudaError: z.string().optional(),
  /** How the process's allocator was set up (glibc: freed memory kept), or null when left as it was. */
  allocator: z.string().nullable().optional(),
});
export type Hello = z.infer<typeof helloSchema>;

export const userWhereSchema = z.object({
  file: z.string(),
  line: z.number().int().positive(),
  frames: z
    .array(z.object({ file: z.string(), line: z.number().int(), name: z.string(), text: z.string() }))
    .max(16)
    .optional(),
});
export type UserWhere = z.infer<typeof userWhereSchema>;

export const fromPythonSchema = z.discriminatedUnion('type', [
  helloSchema,
  /** Every half second from the worker's own thread: silence means a hung process. */
  z.object({ type: z.literal('heartbeat') }),
  z.object({
    type: z.literal('loaded'),
    id,
    device: z.string(),
    backend: z.enum(['cpu', 'cuda']),
    threads: z.number().int(),
  }),
  z.object({
    type: z.literal('progress'),
    id,
    phase: z.enum(LOOP_PHASES),
    ...loopProgressShape,
  }),
  z.object({
    type: z.literal('measured'),
    id,
    kernels: kernelsSchema.optional(),
    implementations: z.record(z.string(), z.string()),
    oneOff: z.array(samples),
    steps: z.array(samples),
    e2e: samples,
    layer: samples.nullable(),
    reps: z.number().int().positive(),
    /** Per-step repetitions in this pass, when the request gave the rest to the second pass (stepShare). */
    stepReps: z.number().int().positive().optional(),
    /** Warm-up runs done: the ones asked for, more while the pipeline was still getting faster. */
    warmup: z.number().int().nonnegative().optional(),
    /** The first call end to end (synced): one-off work the warm-up absorbed. */
    firstMs: z.number().nonnegative().finite().optional(),
    output: z.string(),
    outputShape: z.array(z.number().int().nonnegative()),
    /** Peak device memory of the timed runs above what was allocated when they began (CUDA). */
    peakMemoryBytes: z.number().int().nonnegative().optional(),
    /** Peak device memory of the one-off steps and the warm-up (plans, autotuning workspaces), above its start. */
    oneOffPeakBytes: z.number().int().nonnegative().optional(),
    /** Minor page faults per end-to-end call (getrusage), in the timed runs. */
    minorFaultsPerCall: z.number().nonnegative().finite().optional(),
  }),
  /** The training step of a variant (python/fconv_torch_train.py). */
  z.object({
    type: z.literal('measured-train'),
    id,
    implementations: z.record(z.string(), z.string()),
    /** The forward steps whose backward was timed, in the call's order (one-off steps included: made per step). */
    stepIds: z.array(z.string()),
    total: samples,
    backward: samples,
    steps: z.array(samples),
    reps: z.number().int().positive(),
    warmup: z.number().int().nonnegative(),
    firstMs: z.number().nonnegative().finite(),
    /** Base64 float32 gradients by parameter (complex ones as (real, imag) pairs). */
    gradients: z.record(z.string(), z.string()),
    peakMemoryBytes: z.number().int().nonnegative().optional(),
    oneOffPeakBytes: z.number().int().nonnegative().optional(),
  }),
  z.object({
    type: z.literal('crosscheck'),
    id,
    medianMs: z.number().nonnegative(),
    runs: z.number().int().positive(),
  }),
  z.object({ type: z.literal('output'), id, output: z.string(), outputShape: z.array(z.number().int().nonnegative()) }),
  /** torch.compile of a variant as written beside it run eagerly (python/fconv_torch_compiled.py). */
  z.object({ type: z.literal('compiled'), id, compiled: compiledSchema }),
  /** A variant's end to end once more (the second, reverse-order pass the host merges with the first). */
  z.object({ type: z.literal('end-to-end'), id, e2e: samples, steps: z.array(samples).optional() }),
  /** The ops and kernels each step of a variant ran (one profiled pass, asked for after every variant is timed). */
  z.object({ type: z.literal('kernels'), id, kernels: kernelsSchema }),
  z.object({
    type: z.literal('probe-progress'),
    id,
    what: z.string().max(200),
    index: z.number().int().nonnegative(),
    count: z.number().int().positive(),
  }),
  z.object({
    type: z.literal('probe'),
    id,
    probe: probeSchema.omit({ backend: true, device: true, measuredAt: true }),
  }),
  /** "Profile this layer": which pass of the user's layer is running. */
  z.object({
    type: z.literal('layer-progress'),
    id,
    phase: z.enum(LAYER_PHASES),
    index: z.number().int().nonnegative(),
    count: z.number().int().nonnegative(),
  }),
  layerMeasuredSchema.extend({ type: z.literal('layer-profiled'), id }),
  optimizeMeasuredSchema.extend({ type: z.literal('layer-optimized'), id }),
  z.object({
    type: z.literal('error'),
    id: id.nullable(),
    kind: z.enum([
      'protocol',
      'usage',
      'engine',
      'memory',
      'budget',
      'cancelled',
      'internal',
      'user-code',
      'user-import',
    ]),
    message: z.string(),
    /** An error in the user's code: where, and the frames of their traceback. */
    where: userWhereSchema.optional(),
  }),
]);
export type FromPython = z.infer<typeof fromPythonSchema>;
