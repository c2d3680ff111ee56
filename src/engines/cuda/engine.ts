/**
 * The native CUDA engine: the four variants on cuFFT, cuBLAS, cuDNN and the addon's kernels, every
 * step timed with CUDA events on one stream. Buffers are allocated while preparing and reused on every
 * call (no allocation in a timed region); weights are laid out on the host once. The steps are the
 * variants' plans (src/core/variants, CUDA_TRAITS); the executors in ./variants say how each runs.
 * Host side of the addon in native/; tested against a host implementation of the same interface
 * (test/engines/fake-cuda.ts). Worker side.
 */
import type { LayerData } from '../../core/data';
import type { TimingSource, VariantName } from '../../core/run';
import { type LayerSpec, isFno } from '../../core/spec';
import { CUDA_TRAITS, planVariant } from '../../core/variants';
import {
  type LocalEngine,
  type EngineCapabilities,
  EngineUnavailableError,
  OutOfMemoryError,
  type PreparedVariant,
} from '../engine';
import { type Executors, bindPlan } from '../executor';
import { type CudaAddon, type SearchDir, describeDiscovery, isCudaError, unavailableReason } from './discovery';
import { Builder, type Buf, isBuf } from './variants/builder';
import { fnoExecutors, optimizedFnoExecutors } from './variants/fno';
import { optimizedExecutors } from './variants/optimized';
import { seedExecutors } from './variants/seed';
import { spatialEquivalentExecutors, spatialExecutors } from './variants/spatial';

export { filterLayout } from './variants/spatial';

const F32 = 4;

/**
 * The addon with every CUDA out-of-memory failure turned into the engine contract's OutOfMemoryError, and a
 * sticky error (one that poisons the CUDA context: illegal address, launch failure) reported to `onSticky`.
 */
function withMemoryErrors(addon: CudaAddon, onSticky: (e: Error) => void = () => {}): CudaAddon {
  return new Proxy(addon, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        try {
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        } catch (e) {
          if (isCudaError(e) && e.sticky) onSticky(e);
          if (isCudaError(e) && e.outOfMemory) throw new OutOfMemoryError(e.message, { cause: e });
          throw e;
        }
      };
    },
  });
}

/** How each variant's steps run on the native engine (one file per variant in ./variants). */
const CUDA_EXECUTORS: Record<
  VariantName,
  (b: Builder, spec: LayerSpec) => { executors: Executors; algorithms?: PreparedVariant['algorithms'] }
> = {
  spatial: (b) => spatialExecutors(b),
  'spatial-equivalent': (b) => spatialEquivalentExecutors(b),
  seed: (b) => seedExecutors(b),
  fno: (b) => fnoExecutors(b),
  optimized: (b, spec) =>
    isFno(spec)
      ? optimizedFnoExecutors(b, CUDA_TRAITS.gaussMinInChannels)
      : optimizedExecutors(b, CUDA_TRAITS.gaussMinInChannels),
};

export class CudaEngine implements LocalEngine {
  readonly name = 'cuda';
  readonly loop = 'local';
  readonly backend = 'cuda';
  readonly timing: TimingSource = 'gpu-events';
  readonly timingNote =
    'CUDA events recorded around every step on the stream (cudaEventElapsedTime); warm-up runs build the cuFFT plans and cuDNN workspaces first';
  readonly capabilities: EngineCapabilities = {
    complexFft: true,
    complexEinsum: true,
    complexTranspose: true,
    asyncKernels: true,
  };
  private readonly events: [number, number];
  /**
   * Set after a sticky CUDA error: every later call in this process would fail too, so the engine worker
   * restarts (the next run gets a fresh process and context) instead of keeping this engine.
   */
  restartRequired: string | undefined;

  get alive(): boolean {
    return this.restartRequired === undefined;
  }

  private constructor(
    readonly addon: CudaAddon,
    readonly device: string,
    readonly notes: string[],
    readonly hasCudnn: boolean,
  ) {
    this.events = [addon.eventCreate(), addon.eventCreate()];
  }

  /** Finds the libraries and the GPU, opens the operations; EngineUnavailableError says what is missing. */
  static create(rawAddon: CudaAddon, dirs: SearchDir[]): CudaEngine {
    const made: { engine?: CudaEngine } = {};
    const addon = withMemoryErrors(rawAddon, (e) => {
      if (made.engine) made.engine.restartRequired ??= e.message;
    });
    const found = addon.discover(dirs.map((d) => d.dir));
    const notes = describeDiscovery(found, dirs);
    const reason = unavailableReason(found);
    if (reason) throw EngineUnavailableError.of('cuda', reason);
    const rt = addon.open(dirs.map((d) => d.dir));
    if (!rt.ok) throw EngineUnavailableError.of('cuda', rt.reason);
    const ops = addon.openOps(dirs.map((d) => d.dir));
    if (!ops.ok) {
      addon.close();
      throw EngineUnavailableError.of('cuda', ops.reason);
    }
    notes.push(...ops.notes);
    const gpu = found.driver.devices[0]!;
    let mem = '';
    try {
      const m = addon.memInfo();
      mem = `, ${(m.free / 2 ** 30).toFixed(1)} of ${(m.total / 2 ** 30).toFixed(1)} GiB free`;
    } catch {
      /* memory info is optional */
    }
    const engine = new CudaEngine(
      addon,
      `GPU ${gpu.name} (sm ${gpu.computeCapability}, ${gpu.smCount} SMs${mem}) via cuFFT/cuBLAS/cuDNN`,
      notes,
      ops.cudnn,
    );
    made.engine = engine;
    return engine;
  }

  cannotRun(variant: VariantName): string | undefined {
    if (this.hasCudnn || (variant !== 'spatial' && variant !== 'spatial-equivalent')) return undefined;
    return 'cuDNN is not usable here (see the notes); the spectral variants are checked against the naive convolution on the host';
  }

  measure<T>(launch: () => T): { value: T; ms: number } {
    const [a, b] = this.events;
    this.addon.eventRecord(a);
    const value = launch();
    this.addon.eventRecord(b);
    return { value, ms: this.addon.elapsed(a, b) };
  }

  sync(): void {
    this.addon.synchronize();
  }

  async read(value: unknown): Promise<Float32Array> {
    if (!isBuf(value)) throw new Error('no device buffer to read');
    this.addon.synchronize();
    return this.addon.download(value.buf, value.n);
  }

  /** Buffers belong to their prepared variant and are reused: freed by the variant's dispose. */
  dispose(): void {}

  resources(): { plans: number; convs: number; buffers: number } {
    return this.addon.stats();
  }

  memory(): { tensors: number; bytes: number } {
    return { tensors: this.addon.allocated(), bytes: 0 };
  }

  shutdown(): void {
    this.addon.close();
  }

  prepare(variant: VariantName, spec: LayerSpec, data: LayerData): PreparedVariant {
    const owned: number[] = [];
    const alloc = (n: number): Buf => {
      const b = { buf: this.addon.alloc(Math.max(1, n) * F32), n };
      owned.push(b.buf);
      return b;
    };
    const upload = (d: Float32Array): Buf => {
      const b = alloc(d.length);
      this.addon.upload(b.buf, d);
      return b;
    };
    let builder: Builder | undefined;
    const free = () => {
      // Plans and prepared convolutions first (they hold device work areas), then the buffers.
      builder?.release();
      for (const id of owned.splice(0)) {
        try {
          this.addon.free(id);
        } catch {
          /* freeing after a device error: freeAll in shutdown catches the rest */
        }
      }
    };
    try {
      const b = new Builder(this.addon, spec, data, alloc, upload, this.hasCudnn);
      builder = b;
      const plan = planVariant(variant, spec, CUDA_TRAITS);
      const built = CUDA_EXECUTORS[variant](b, spec);
      return bindPlan(plan, built.executors, { persistent: new Map(), dispose: free, algorithms: built.algorithms });
    } catch (e) {
      free();
      throw e;
    }
  }
}
