/**
 * Messages between a host (the CLI or the extension) and the engine worker process. Every message in
 * either direction is parsed with these schemas; anything else is rejected, never acted on.
 */
import { z } from 'zod';
import { LAYER_PHASES, layerMeasuredSchema, layerRequestSchema } from '../core/layer-profile';
import { optimizeMeasuredSchema, optimizeRequestSchema } from '../core/optimize';
import { probeSchema } from '../core/model';
import { userWhereSchema } from './python-protocol';
import { RUN_PASSES, VARIANT_NAMES, layerSpecSchema, runSchema, variantResultSchema } from '../core/run';

import { ENGINE_REQUESTS, type EngineRequest } from '../core/engine-table';
import { PHASES, loopProgressShape } from '../core/phases';

export { ENGINE_REQUESTS, type EngineRequest };

/** The bounds the worker accepts; every front end checks them before sending a run. */
export const RUN_LIMITS = {
  warmup: { min: 0, max: 1000 },
  reps: { min: 1, max: 10000 },
  seed: { min: 0, max: 2 ** 31 - 1 },
  threads: { min: 1, max: 1024 },
} as const;

const torchChoice = {
  /** The PyTorch engine: interpreters asked for, in order (--python, the setting, VS Code's Python extension). */
  python: z
    .array(z.object({ path: z.string().min(1).max(4096), from: z.string().max(100) }))
    .max(8)
    .optional(),
  /** The PyTorch engine's device: cpu, cuda or cuda:N (default: cuda when torch sees a GPU). */
  torchDevice: z
    .string()
    .regex(/^(cpu|cuda(:\d+)?)$/)
    .optional(),
  /** The TensorFlow engine's steps: tf.function (as model.fit runs a layer; the default) or eager. */
  tfMode: z.enum(['function', 'eager']).optional(),
  /** torch.set_num_threads for the PyTorch engine on a CPU. */
  threads: z.number().int().min(RUN_LIMITS.threads.min).max(RUN_LIMITS.threads.max).optional(),
};

/** Which engine, and for the PyTorch one which interpreter, device and threads. */
export const engineChoiceSchema = z.object({ engine: z.enum(ENGINE_REQUESTS), ...torchChoice });
export type EngineChoice = z.infer<typeof engineChoiceSchema>;

export const runOptionsSchema = z.object({
  engine: z.enum(ENGINE_REQUESTS),
  variants: z.array(z.enum(VARIANT_NAMES)).min(1),
  warmup: z.number().int().min(RUN_LIMITS.warmup.min).max(RUN_LIMITS.warmup.max),
  reps: z.number().int().min(RUN_LIMITS.reps.min).max(RUN_LIMITS.reps.max),
  seed: z.number().int().min(RUN_LIMITS.seed.min).max(RUN_LIMITS.seed.max),
  /** forward, train or both (absent: forward, as before passes existed). */
  pass: z.enum(RUN_PASSES).optional(),
  ...torchChoice,
  maxMemoryBytes: z.number().positive(),
  /** After the run, each variant end to end on the engine's independent clock (torch.utils.benchmark), if any. */
  crosscheck: z.boolean().optional(),
  /** After the run, torch.compile of the variant as written beside it run eagerly (torch ≥ 2): --compile. */
  compile: z.boolean().optional(),
});
export type RunOptions = z.infer<typeof runOptionsSchema>;

const id = z.string().min(1).max(100);

/** A run on the user's layer in a Python process of its own: the interpreter, device, threads and its limits. */
const layerProcessFields = {
  python: torchChoice.python,
  torchDevice: torchChoice.torchDevice,
  threads: torchChoice.threads,
  maxMemoryBytes: z.number().positive(),
  timeLimitMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000),
};

/** host → worker */
export const toWorkerSchema = z.discriminatedUnion('type', [
  /** Start a profile. One at a time per worker. */
  z.object({ type: z.literal('run'), id, spec: layerSpecSchema, options: runOptionsSchema }),
  /**
   * Stop the run or probe `id` at the next step boundary: a run answers with a `result` whose status is
   * 'cancelled', a probe with an `error` of kind 'cancelled'.
   */
  z.object({ type: z.literal('cancel'), id }),
  /** Measure the machine's rates on an engine (about a second); answered by `probe`. */
  z.object({ type: z.literal('probe'), id, ...engineChoiceSchema.shape }),
  /** Which engine, backend and device a choice resolves to (the engine is started and kept); answered by `engine`. */
  z.object({ type: z.literal('engine-info'), id, ...engineChoiceSchema.shape }),
  /**
   * Profile the user's own PyTorch class (their code, in a Python process of its own, with a time limit
   * and the memory budget); answered by `layer-profiled`. Only sent from a trusted workspace, after consent.
   */
  z.object({
    type: z.literal('layer-profile'),
    id,
    request: layerRequestSchema,
    ...layerProcessFields,
  }),
  /**
   * "Make it fast": prove and time the rewrites of the user's own PyTorch class against it (a Python process of its
   * own, as layer-profile); answered by `layer-optimized`. Only sent from a trusted workspace, after consent.
   */
  z.object({
    type: z.literal('layer-optimize'),
    id,
    request: optimizeRequestSchema,
    ...layerProcessFields,
  }),
  /** Report the GPUs and CUDA libraries this machine has (folders to search first); answered by `devices`. */
  z.object({
    type: z.literal('devices'),
    id,
    cudaLibDirs: z.array(z.string().max(4096)).max(64),
    python: torchChoice.python,
  }),
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;

export { PHASES } from '../core/phases';

export const progressSchema = z.object({
  variant: z.enum(VARIANT_NAMES),
  variantIndex: z.number().int().nonnegative(),
  variantCount: z.number().int().nonnegative(),
  phase: z.enum(PHASES),
  ...loopProgressShape,
});
export type ProgressMsg = z.infer<typeof progressSchema>;

export const engineInfoSchema = z.object({
  engine: z.string(),
  backend: z.string(),
  device: z.string(),
  notes: z.array(z.string()),
  timingNote: z.string(),
});
export type EngineInfo = z.infer<typeof engineInfoSchema>;

/** What `fconv devices` shows: the CUDA engine's libraries and GPUs as the worker finds them. */
export const devicesReportSchema = z.object({
  cuda: z.object({
    available: z.boolean(),
    reason: z.string().nullable(),
    searchDirs: z.array(z.object({ dir: z.string(), from: z.string() })),
    /** The addon's discovery (libraries found where, driver, GPUs); null when the addon could not load. */
    discovery: z.record(z.string(), z.unknown()).nullable(),
    /** The discovery in words, one line each. */
    lines: z.array(z.string()),
  }),
  nvidiaSmi: z.string().nullable(),
  /** Every Python interpreter tried for the PyTorch engine, in search order. */
  python: z
    .array(
      z.object({
        path: z.string(),
        from: z.string(),
        python: z.string().nullable(),
        torch: z.string().nullable(),
        cuda: z.boolean(),
        cudaVersion: z.string().nullable(),
        gpus: z.array(z.string()),
        cudnn: z.number().int().nullable(),
        problem: z.string().nullable(),
      }),
    )
    .optional(),
  /** Every Python tried for the TensorFlow engine: its TensorFlow version and GPUs, or why not. */
  tensorflow: z
    .array(
      z.object({
        path: z.string(),
        from: z.string(),
        python: z.string().nullable(),
        tensorflow: z.string().nullable(),
        gpus: z.array(z.string()),
        problem: z.string().nullable(),
      }),
    )
    .optional(),
});
export type DevicesReport = z.infer<typeof devicesReportSchema>;

/** worker → host */
export const fromWorkerSchema = z.discriminatedUnion('type', [
  /** The worker is up and listening. */
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  /**
   * A Python process the worker started (its own process group) or that ended: the host ends those groups when it
   * stops the worker at once (a second Ctrl-C) or exits, even when user code holds the GIL and cannot read its stdin.
   */
  z.object({ type: z.literal('python-pid'), pid: z.number().int().positive(), alive: z.boolean() }),
  /** A line worth saying while a request waits (e.g. interpreter discovery waiting on a slow candidate). */
  z.object({ type: z.literal('note'), text: z.string().max(1000) }),
  /** Which engine and backend serve run `id`, and why. */
  z.object({ type: z.literal('engine'), id, info: engineInfoSchema }),
  /** Step i of n of run `id`. */
  z.object({ type: z.literal('progress'), id, progress: progressSchema }),
  /** One variant of run `id` is complete (kept if the run is later cancelled or crashes). */
  z.object({ type: z.literal('variant'), id, variant: variantResultSchema }),
  /** The probe `id` is about to measure `what` (measurement index + 1 of count). */
  z.object({
    type: z.literal('probe-progress'),
    id,
    what: z.string().max(200),
    index: z.number().int().nonnegative(),
    count: z.number().int().positive(),
  }),
  /** The probe `id` asked for, with the engine that ran it. */
  z.object({ type: z.literal('probe'), id, probe: probeSchema, info: engineInfoSchema }),
  /** Which pass of the user's layer is running. */
  z.object({
    type: z.literal('layer-progress'),
    id,
    phase: z.enum(['start', ...LAYER_PHASES]),
    index: z.number().int().nonnegative(),
    count: z.number().int().nonnegative(),
  }),
  /** The rewrites of the user's layer, proven and timed; with the interpreter that ran them. */
  z.object({
    type: z.literal('layer-optimized'),
    id,
    measured: optimizeMeasuredSchema,
    python: z.object({ path: z.string(), version: z.string(), from: z.string() }),
    notes: z.array(z.string()),
  }),
  /** The user's layer, measured; with the interpreter that ran it. */
  z.object({
    type: z.literal('layer-profiled'),
    id,
    measured: layerMeasuredSchema,
    python: z.object({ path: z.string(), version: z.string(), from: z.string() }),
    notes: z.array(z.string()),
  }),
  /** The devices report `id` asked for. */
  z.object({ type: z.literal('devices'), id, devices: devicesReportSchema }),
  /** Run `id` finished (ok, failed check, or cancelled). */
  z.object({ type: z.literal('result'), id, run: runSchema }),
  /** Run `id` could not run; `kind` says why. id is null for a message the worker could not parse. */
  z.object({
    type: z.literal('error'),
    id: id.nullable(),
    error: z.object({
      kind: z.enum([
        'usage',
        'engine',
        'memory',
        'protocol',
        'busy',
        'cancelled',
        'internal',
        'user-code',
        'user-import',
        'time-limit',
      ]),
      name: z.string(),
      message: z.string(),
      /** An error in the user's code: their file:line and traceback frames. */
      where: userWhereSchema.optional(),
    }),
  }),
]);
export type FromWorker = z.infer<typeof fromWorkerSchema>;

export function describeZodError(e: z.ZodError): string {
  const first = e.issues[0];
  return first ? `${first.path.join('.') || '(message)'}: ${first.message}` : 'invalid message';
}
