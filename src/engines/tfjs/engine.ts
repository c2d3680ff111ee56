/** The TensorFlow.js engine: one of the tfjs backends, the variants built on it, and its sync. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerData } from '../../core/data';
import type { TimingSource, VariantName } from '../../core/run';
import type { LayerSpec } from '../../core/spec';
import type { Autodiff, EngineCapabilities, LocalEngine, PreparedVariant } from '../engine';
import { tfjsAutodiff } from './autodiff';
import { registerWasmGradients } from './wasm-grads';
import {
  type BackendRequest,
  type DetectDeps,
  type Detected,
  cpuModel,
  defaultDetectDeps,
  detectBackend,
  gpuName,
} from './backends';
import { type ComplexKit, NativeComplex, PlanarComplex } from './complex';
import type { Probe } from '../../core/model';
import { type ProbeTick, runProbe } from './probe';
import { buildVariant, disposeCx, tensorsOf } from './variants';
import { tfjsTraits } from '../../core/variants';

export class TfjsEngine implements LocalEngine {
  readonly name = 'tfjs';
  readonly loop = 'local';
  readonly alive = true;
  readonly timing: TimingSource = 'wall-clock-sync';
  readonly capabilities: EngineCapabilities;
  readonly memoryLimitBytes?: number;
  private readonly kit: ComplexKit;
  readonly autodiff: Autodiff;
  /** Tuning knobs for experiments (bench); defaults are the measured choices. */
  gaussMinInChannels?: number;

  private constructor(
    readonly backend: string,
    readonly device: string,
    readonly notes: string[],
    readonly timingNote: string,
  ) {
    const isTf = backend === 'tensorflow';
    this.capabilities = {
      complexFft: backend !== 'wasm',
      complexEinsum: isTf,
      complexTranspose: isTf,
      asyncKernels: isTf,
    };
    this.autodiff = tfjsAutodiff(backend);
    // wasm32 addresses at most 4 GiB; tfjs's wasm heap grows up to that.
    if (backend === 'wasm') this.memoryLimitBytes = 4 * 2 ** 30;
    this.kit = this.capabilities.complexFft
      ? new NativeComplex(
          { complexEinsum: this.capabilities.complexEinsum, complexTranspose: this.capabilities.complexTranspose },
          backend,
        )
      : new PlanarComplex();
  }

  static async create(
    requested: BackendRequest = 'auto',
    deps: DetectDeps = defaultDetectDeps,
    inAuto = false,
  ): Promise<TfjsEngine> {
    const d: Detected = detectBackend(requested, deps, inAuto);
    if (d.backend === 'wasm') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(d.wasmDir!.endsWith('/') ? d.wasmDir! : `${d.wasmDir}/`);
      registerWasmGradients();
    } else if (d.backend === 'cpu') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-cpu');
    }
    const ok = await tf.setBackend(d.backend);
    if (!ok) throw new Error(`tfjs could not initialise the ${d.backend} backend`);
    await tf.ready();
    tf.enableProdMode();
    const cpu = cpuModel();
    // The C library's own version: 2.9.1 as tfjs-node downloads it, another when built against a TensorFlow wheel.
    const libVersion = (() => {
      try {
        const v = (tf.backend() as unknown as { binding?: { TF_Version?: unknown } }).binding?.TF_Version;
        return typeof v === 'string' && v ? ` ${v}` : '';
      } catch {
        return '';
      }
    })();
    const device =
      d.flavour === 'tensorflow-gpu'
        ? `GPU ${gpuName() ?? '(name unknown: no nvidia-smi)'} via libtensorflow${libVersion} (tfjs-node-gpu); host ${cpu}`
        : d.flavour === 'tensorflow'
          ? `CPU via libtensorflow${libVersion} (tfjs-node): ${cpu}`
          : d.backend === 'wasm'
            ? `CPU via WebAssembly SIMD + XNNPACK, 1 thread: ${cpu}`
            : `CPU via plain JavaScript kernels: ${cpu}`;
    const timingNote =
      d.flavour === 'tensorflow-gpu'
        ? 'wall-clock between explicit syncs (a 1-element read after each step waits for the GPU stream; tf.time on this backend would time only the launch)'
        : d.backend === 'tensorflow'
          ? 'wall-clock between explicit syncs (a 1-element read after each step)'
          : `wall-clock between syncs: ${d.backend} kernels run to completion on the calling thread before the op returns, so a step's time is its ops' run time`;
    return new TfjsEngine(d.backend, device, d.notes, timingNote);
  }

  /** tfjs has one global backend: a worker that served another engine before must switch back. */
  async activate(): Promise<void> {
    if (tf.getBackend() !== this.backend) {
      if (!(await tf.setBackend(this.backend)))
        throw new Error(`tfjs could not switch back to the ${this.backend} backend`);
    }
  }

  prepare(variant: VariantName, spec: LayerSpec, data: LayerData): PreparedVariant {
    if (tf.getBackend() !== this.backend)
      throw new Error(
        `internal: the ${this.backend} engine is not active (tfjs is on ${tf.getBackend()}); call activate() first`,
      );
    return buildVariant(variant, spec, data, {
      backend: this.backend,
      kit: this.kit,
      traits: tfjsTraits(this.backend, this.gaussMinInChannels),
    });
  }

  sync(value: unknown): void {
    if (!this.capabilities.asyncKernels) return;
    // Reading one element waits for the op that produced it (one stream, in order).
    for (const t of tensorsOf(value)) {
      const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
      one.dataSync();
      one.dispose();
    }
  }

  async read(value: unknown): Promise<Float32Array> {
    const t = tensorsOf(value)[0];
    if (!t) throw new Error('no tensor to read');
    const d = await t.data();
    return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
  }

  dispose(value: unknown): void {
    disposeCx(value);
  }

  probe(tick?: ProbeTick): Promise<Probe> {
    return runProbe(this.backend, this.device, this.kit, (v) => this.sync(v), tick);
  }

  memory(): { tensors: number; bytes: number } {
    const m = tf.memory();
    return { tensors: m.numTensors, bytes: m.numBytes };
  }

  shutdown(): void {
    (this.kit as { dispose?: () => void }).dispose?.();
  }
}
