/**
 * The engine contract. An engine turns a (variant, spec, data) into a prepared pipeline: the variant's
 * plan (src/core/variants) with how each step runs attached by the engine's executors. The profiler
 * (engine-agnostic) times them. Values flowing between steps are opaque to the profiler. Worker side.
 */
import type { LayerData } from '../core/data';
import type { Probe } from '../core/model';
import type { TimingSource, VariantName } from '../core/run';
import type { LayerSpec } from '../core/spec';
import type { ExecutorTraits, PlannedStep, VariantPlan } from '../core/variants';

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
  dispose(): void;
}

export interface EngineCapabilities {
  complexFft: boolean;
  complexEinsum: boolean;
  complexTranspose: boolean;
  asyncKernels: boolean;
}

/** What an engine that runs the measurement loop itself returns for one variant (raw samples, ms). */
export interface RemoteMeasurement {
  /** The implementation label of each step id. */
  implementations: Record<string, string>;
  /** Samples of each one-off step, in the plan's order. */
  oneOff: number[][];
  /** Samples of each per-call step, in the plan's order. */
  steps: number[][];
  e2e: number[];
  layer: number[] | null;
  reps: number;
  /** Warm-up runs the engine did (more than asked while the pipeline was still getting faster). */
  warmup?: number;
  /** The first call end to end (one-off work: autotuning, plan creation, lazy initialisation). */
  firstMs?: number;
  output: Float32Array;
  peakMemoryBytes?: number;
  /** The ops and GPU kernels each step ran (one profiled pass), by step id. */
  kernels?: Record<string, Array<{ name: string; device: 'cpu' | 'cuda'; ms: number }>>;
}

/**
 * An engine in another process that runs the whole profile loop there (timing across a pipe would
 * measure the pipe): the same plans, the same loop rules, raw samples back; checks and the run are
 * assembled by the profiler like any other engine's.
 */
export interface RemoteLoop {
  readonly traits: ExecutorTraits;
  load(spec: LayerSpec, data: LayerData): Promise<void>;
  measure(
    plan: VariantPlan,
    opts: { warmup: number; reps: number; budgetMs: number },
    hooks: { onProgress: (p: RemoteProgress) => void; isCancelled: () => boolean },
  ): Promise<RemoteMeasurement>;
  /** The variant's output once, untimed (the reference for the spectral checks). */
  output(plan: VariantPlan): Promise<Float32Array>;
}

export interface RemoteProgress {
  phase: 'one-off' | 'warm-up' | 'per-step' | 'end-to-end' | 'layer-only';
  step?: string;
  stepIndex: number;
  stepCount: number;
  rep?: number;
  reps?: number;
}

export interface Engine {
  readonly name: string;
  readonly backend: string;
  readonly device: string;
  readonly timing: TimingSource;
  readonly timingNote: string;
  readonly notes: string[];
  readonly capabilities: EngineCapabilities;
  /** The framework the numbers come from, when it is not the engine itself (torch: version, device, threads). */
  readonly framework?: { name: string; version: string; device: string; threads?: number };
  /** Set when the engine runs the measurement loop itself, in its own process (torch). */
  readonly remote?: RemoteLoop;
  /** Hard limit of the engine's memory (the 4 GiB WebAssembly heap), if it has one. */
  readonly memoryLimitBytes?: number;
  /** Makes this engine the active one (engines may share global state, e.g. tfjs's backend). */
  activate?(): Promise<void>;
  prepare(variant: VariantName, spec: LayerSpec, data: LayerData): PreparedVariant;
  /**
   * Why this engine cannot run `variant` here (e.g. the CUDA engine without cuDNN and the spatial variants),
   * or undefined. The profiler skips such a variant with the reason in the run's notes, and checks the spectral
   * variants against the host's naive convolution instead.
   */
  cannotRun?(variant: VariantName): string | undefined;
  /** Blocks until the value's producing work has finished on the device. */
  sync(value: unknown): void;
  /**
   * Times `launch` on the device itself (CUDA events recorded before and after it on the stream) and
   * returns once that work has finished. Engines without it are timed by wall clock between syncs.
   */
  measure?<T>(launch: () => T): { value: T; ms: number };
  read(value: unknown): Promise<Float32Array>;
  dispose(value: unknown): void;
  /**
   * Measures the rates the cost model is calibrated with (src/core/model.ts). `tick` is called before
   * each measurement (progress); when it throws (a cancel), the probe stops.
   */
  probe?(tick?: (what: string, index: number, count: number) => Promise<void>): Promise<Probe>;
  /** Live tensors/bytes, for leak checks. */
  memory(): { tensors: number; bytes: number };
  /** Native resources still held (plans, prepared convolutions, buffers), recorded in the run after it. */
  resources?(): { plans: number; convs: number; buffers: number };
  shutdown(): void;
}

/** The engine cannot run here (a missing package, library, driver or GPU); the message says what is missing. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
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
