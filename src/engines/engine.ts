/**
 * The engine contract. An engine turns a (variant, spec, data) into a prepared pipeline of steps;
 * the profiler (engine-agnostic) times them. Values flowing between steps are opaque to the profiler.
 */
import type { LayerData } from '../core/data';
import type { Probe } from '../core/model';
import type { TimingSource, VariantName } from '../core/run';
import type { LayerSpec } from '../core/spec';

export type Env = Map<string, unknown>;

export interface StepDef {
  id: string;
  name: string;
  implementation: string;
  inLayer: boolean;
  oneOff?: boolean;
  /** Host work (e.g. creating cuFFT plans): timed by wall clock even on an engine that times on the device. */
  hostTimed?: boolean;
  /** Env keys read and the one written. */
  reads: string[];
  writes: string;
  inputShapes: number[][];
  outputShape: number[];
  flops: number;
  bytes: number;
  run(env: Env): unknown;
}

export interface PreparedVariant {
  name: VariantName;
  title: string;
  description: string;
  kind: 'spatial' | 'spectral';
  reference: string;
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

export interface Engine {
  readonly name: string;
  readonly backend: string;
  readonly device: string;
  readonly timing: TimingSource;
  readonly timingNote: string;
  readonly notes: string[];
  readonly capabilities: EngineCapabilities;
  /** Hard limit of the engine's memory (the 4 GiB WebAssembly heap), if it has one. */
  readonly memoryLimitBytes?: number;
  /** Makes this engine the active one (engines may share global state, e.g. tfjs's backend). */
  activate?(): Promise<void>;
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
  /** Measures the rates the cost model is calibrated with (src/core/model.ts). */
  probe?(): Probe;
  /** Live tensors/bytes, for leak checks. */
  memory(): { tensors: number; bytes: number };
  shutdown(): void;
}

/** A capability the backend lacks: a named error, never a silent wrong answer. */
export class CapabilityError extends Error {
  override name = 'CapabilityError';
}
