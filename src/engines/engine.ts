/**
 * The engine contract. A local engine turns a (variant, spec, data) into a prepared pipeline: the variant's
 * plan (src/core/variants) with how each step runs attached by the engine's executors, timed by the local
 * loop; a remote engine runs the same plans under the same loop policy in another process. The profiler
 * (engine-agnostic) checks and assembles what either returns. Values flowing between steps are opaque to
 * the profiler. Engines are made by the registry (src/engines/registry.ts). Worker side.
 */
import type { Compiled } from '../core/compiled';
import type { LayerData } from '../core/data';
import type { Probe } from '../core/model';
import type { TimingSource, VariantName } from '../core/run';
import type { LayerSpec } from '../core/spec';
import type { ExecutorTraits, PlannedStep, VariantPlan } from '../core/variants';
import type { LoopPolicy } from '../core/loop-policy';
import type { LoopPhase } from '../core/phases';

export type Env = Map<string, unknown>;

/** A planned step with how it runs on this engine. */
export interface StepDef extends PlannedStep {
  /** What ran, in words, with the backend ("R2C GEMM over W … — on wasm"). */
  implementation: string;
  /** Env keys read and the one written. */
  reads: string[];
  writes: string;
  run(env: Env): unknown;
}

export interface PreparedVariant extends Omit<VariantPlan, 'oneOff' | 'steps'> {
  oneOff: StepDef[];
  steps: StepDef[];
  /** cuDNN's algorithm table for the convolution, when the engine measured one while preparing. */
  algorithms?: Array<{ algo: string; status: string; ms: number; workspace: number; math: string }>;
  /** Persistent values (input, weights): never disposed by the profiler. */
  persistent: Env;
  output: string;
  /**
   * What the training step differentiates, by gradient name (input, kernel, spatialKernel, modeWeights): the
   * persistent keys that hold it, and how their gradients become the name's canonical layout (the layer's data:
   * input as given, kernel (kh, kw, in, out), mode weights as (re, im) pairs), the layout every engine reports.
   */
  trainable?: Record<string, { keys: string[]; canonical?: (grads: unknown[]) => unknown }>;
  dispose(): void;
}

export interface EngineCapabilities {
  complexFft: boolean;
  complexEinsum: boolean;
  complexTranspose: boolean;
  asyncKernels: boolean;
}

/**
 * What a measuring loop returns for one variant: raw samples (ms) and the last output. Both loops — the local
 * one (src/engines/loop/local.ts: tfjs, the native CUDA engine) and the one in the user's Python — return
 * this; the profiler (src/engines/profiler.ts) checks it and assembles the variant's result the same way.
 */
export interface Samples {
  /** The implementation label of each step id. */
  implementations: Record<string, string>;
  /** Samples of each one-off step, in the plan's order. */
  oneOff: number[][];
  /** Samples of each per-call step, in the plan's order. */
  steps: number[][];
  e2e: number[];
  layer: number[] | null;
  reps: number;
  /** Per-step repetitions, when fewer than `reps` (the rest in the second pass: MeasuringLoop.endToEnd). */
  stepReps?: number;
  /** Warm-up runs done (more than asked while the pipeline was still getting faster: the loop policy). */
  warmup: number;
  /** The first call end to end (one-off work: autotuning, plan creation, lazy initialisation). */
  firstMs?: number;
  output: Float32Array;
  /** Peak device memory of the timed runs, above what was allocated when they began. */
  peakMemoryBytes?: number;
  /** Peak device memory of the one-off steps and the warm-up (plans, autotuning workspaces), above its start. */
  oneOffPeakBytes?: number;
  /** Minor page faults per end-to-end call in the timed runs (memory the OS mapped in again), where measured. */
  minorFaultsPerCall?: number;
  /** The ops and GPU kernels each step ran (one profiled pass), by step id. */
  kernels?: Record<string, Array<{ name: string; device: 'cpu' | 'cuda'; ms: number }>>;
  /** cuDNN's algorithm table for the convolution, when the engine measured one while preparing. */
  algorithms?: PreparedVariant['algorithms'];
}

/** What a loop returns for a variant's training step (forward + backward of the sum of the output). */
export interface TrainSamples {
  implementations: Record<string, string>;
  /** The forward steps whose backward was timed, in the call's order (one-off steps run per step here). */
  stepIds: string[];
  /** The whole training step, and its backward alone. */
  total: number[];
  backward: number[];
  /** Each forward step's backward (its VJP with the upstream gradient of the whole backward fixed). */
  steps: number[][];
  reps: number;
  warmup: number;
  firstMs?: number;
  /** The gradients by parameter name (input, kernel, spatialKernel, modeWeights), float32 (complex as pairs). */
  gradients: Record<string, Float32Array>;
  peakMemoryBytes?: number;
}

/**
 * A measuring loop: the same plans, the same loop policy (src/core/loop-policy.ts), raw samples back.
 * The local loop runs in the worker process; a Python engine's runs in the user's Python (timing across a
 * pipe would measure the pipe).
 */
export interface MeasuringLoop {
  readonly traits: ExecutorTraits;
  load(spec: LayerSpec, data: LayerData): Promise<void>;
  /** `stepShare`: time this share of the per-step repetitions here, the rest in the second pass (endToEnd). */
  measure(plan: VariantPlan, policy: LoopPolicy, hooks: LoopHooks, o?: { stepShare?: number }): Promise<Samples>;
  /** The variant's output once, untimed (the reference for the spectral checks). */
  output(plan: VariantPlan): Promise<Float32Array>;
  /** The variant's training step, on loops that can time one (else the run says it was not measured). */
  measureTrain?(plan: VariantPlan, policy: LoopPolicy, hooks: LoopHooks): Promise<TrainSamples>;
  /**
   * The ops and kernels each step ran, in a profiled pass of its own, on loops that take it after every variant is
   * timed (the Python engines: a GPU profiler session leaves CUPTI attached, slowing what is timed after it).
   */
  kernels?(plan: VariantPlan): Promise<NonNullable<Samples['kernels']>>;
  /**
   * The variant's end to end once more, `reps` calls after a short warm-up, and `stepReps` calls timed step by step
   * (the per-step repetitions measure left): the profiler's second pass, the variants in reverse order, merged with
   * the first so that drift over the run hits every variant alike.
   */
  endToEnd?(
    plan: VariantPlan,
    reps: number,
    hooks: LoopHooks,
    stepReps?: number,
  ): Promise<{ e2e: number[]; steps?: number[][] }>;
  /**
   * torch.compile of the variant beside the same function run eagerly (`--compile`), on loops whose framework has it;
   * after all timing and before the kernel pass.
   */
  compiled?(
    plan: VariantPlan,
    o: { train: boolean; warmup: number; reps: number },
    hooks: LoopHooks,
  ): Promise<Compiled>;
}

export interface LoopHooks {
  onProgress: (p: LoopProgress) => void;
  isCancelled: () => boolean;
}

export interface LoopProgress {
  phase: LoopPhase;
  step?: string;
  stepIndex: number;
  stepCount: number;
  rep?: number;
  reps?: number;
}

/** What a run asks of an engine beyond its id (the Python engines' interpreter, device and threads). */
export interface EngineOptions {
  /** Interpreters asked for, in order (--python, the setting, VS Code's Python extension), with where from. */
  python: Array<{ path: string; from: string }>;
  /** The Python engine's device: cpu, cuda or cuda:N; by default its GPU when it sees one. */
  device?: string;
  /** Threads for CPU runs (torch.set_num_threads). */
  threads?: number;
  /** Framework options sent with the layer (the TensorFlow engine's mode: tf.function or eager). */
  options?: Record<string, string>;
}

/** What every engine declares, whichever loop measures it. */
interface EngineBase {
  readonly name: string;
  readonly backend: string;
  readonly device: string;
  readonly timing: TimingSource;
  readonly timingNote: string;
  readonly notes: string[];
  readonly capabilities: EngineCapabilities;
  /** The framework the numbers come from, when it is not the engine itself (torch: version, device, threads). */
  readonly framework?: { name: string; version: string; device: string; threads?: number };
  /** Hard limit of the engine's memory (the 4 GiB WebAssembly heap), if it has one. */
  readonly memoryLimitBytes?: number;
  /** False once the engine cannot serve another run (its Python process died): the worker makes a new one. */
  readonly alive: boolean;
  /**
   * Set after an error that poisons the process (a sticky CUDA error): the worker ends once its answer is out,
   * so the next run gets a fresh process and context.
   */
  readonly restartRequired?: string;
  /** Makes this engine the active one (engines may share global state, e.g. tfjs's backend). */
  activate?(): Promise<void>;
  /**
   * Why this engine cannot run `variant` here (e.g. the CUDA engine without cuDNN and the spatial variants),
   * or undefined. The profiler skips such a variant with the reason in the run's notes, and checks the spectral
   * variants against the host's naive convolution instead.
   */
  cannotRun?(variant: VariantName): string | undefined;
  /**
   * Measures the rates the cost model is calibrated with (src/core/model.ts). `tick` is called before
   * each measurement (progress); when it throws (a cancel), the probe stops.
   */
  probe?(tick?: (what: string, index: number, count: number) => Promise<void>): Promise<Probe>;
  /** Native resources still held (plans, prepared convolutions, buffers), recorded in the run after it. */
  resources?(): { plans: number; convs: number; buffers: number };
  shutdown(): void;
}

/**
 * Reverse-mode differentiation on a local engine (tfjs's tape), for the local loop's training step. Values are
 * the engine's step values (a tensor, a (re, im) pair).
 */
export interface Autodiff {
  /** How the backward runs, in words (the run's notes). */
  readonly label: string;
  /** How a convolution's backward runs, when the engine does something of its own there (the run's notes). */
  readonly convNote?: string;
  /**
   * The vector-Jacobian product of `f` at `inputs` with the upstream gradient `dy` (undefined: f's output is a
   * scalar, dy = 1): one gradient per input, shaped like it (null where the output does not depend on it).
   * `onForward` is called with the forward's output once it ran, before the backward starts (the loop syncs it
   * and starts its clock for the backward alone). Throws NoGradientError when an op on the path has no gradient
   * on this engine.
   */
  vjp(f: () => unknown, inputs: unknown[], dy: unknown, onForward?: (out: unknown) => void): Array<unknown | null>;
  /** A constant shaped like `like` holding `values` (the loss's fixed weights). */
  constant(values: Float32Array, like: unknown): unknown;
  /** sum(out ⊙ r): the training step's loss. */
  weightedSum(out: unknown, r: unknown): unknown;
  zerosLike(v: unknown): unknown;
  add(a: unknown, b: unknown): unknown;
  /** Number of elements of a value. */
  size(v: unknown): number;
}

/** An op on a variant's path has no gradient on this engine: that variant's training step is skipped, said why. */
export class NoGradientError extends Error {
  override name = 'NoGradientError';
}

/** An engine whose steps run in the worker process, timed by the local loop (tfjs, the native CUDA engine). */
export interface LocalEngine extends EngineBase {
  readonly loop: 'local';
  prepare(variant: VariantName, spec: LayerSpec, data: LayerData): PreparedVariant;
  /** Blocks until the value's producing work has finished on the device. */
  sync(value: unknown): void;
  /**
   * Times `launch` on the device itself (CUDA events recorded before and after it on the stream) and
   * returns once that work has finished. Engines without it are timed by wall clock between syncs.
   */
  measure?<T>(launch: () => T): { value: T; ms: number };
  read(value: unknown): Promise<Float32Array>;
  dispose(value: unknown): void;
  /** Reverse-mode differentiation, on engines that can time a training step (tfjs). */
  readonly autodiff?: Autodiff;
  /** Live tensors/bytes, for leak checks. */
  memory(): { tensors: number; bytes: number };
}

/** An engine that runs the whole loop in another process (the user's Python), on the same plans and policy. */
export interface RemoteEngine extends EngineBase {
  readonly loop: 'remote';
  readonly remote: MeasuringLoop;
}

export type Engine = LocalEngine | RemoteEngine;

/** The engine cannot run here (a missing package, library, driver or GPU); the message says what is missing. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
  /** Why, without the engine's name: what `auto` lists when it passes over the engine. */
  readonly reason: string;
  constructor(message: string, reason?: string) {
    super(message);
    this.reason = reason ?? message;
  }

  /** "engine ID is not available WHERE: REASON". */
  static of(engine: string, reason: string, where = 'here'): EngineUnavailableError {
    return new EngineUnavailableError(`engine ${engine} is not available ${where}: ${reason}`, reason);
  }
}

/** The device ran out of memory; reported as a memory error (like the budget check), never as a crash. */
export class OutOfMemoryError extends Error {
  override name = 'OutOfMemoryError';
}

export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('run cancelled');
  }
}

/** Failure of a correctness check: the spectral output does not match the spatial reference. */
export class MismatchError extends Error {
  override name = 'MismatchError';
}
