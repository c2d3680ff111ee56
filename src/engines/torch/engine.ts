/**
 * The PyTorch engine: the variants' plans run by torch in the user's own Python (python/fconv_worker.py
 * with python/fconv_torch.py), on its CPU or CUDA device. The measurement loop runs in Python; this side
 * sends the plan and the data, relays progress and cancel, and hands the raw samples to the profiler,
 * which checks and assembles the run as for every engine. Worker side.
 */
import type { LayerData } from '../../core/data';
import type { Probe } from '../../core/model';
import type { TimingSource } from '../../core/run';
import { type LayerSpec, geometry, isFno, keptModes } from '../../core/spec';
import { type VariantPlan, torchTraits } from '../../core/variants';
import type { LoopPolicy } from '../../core/loop-policy';
import type { EngineCapabilities, EngineOptions, LoopHooks, MeasuringLoop, RemoteEngine, Samples } from '../engine';
import { type Candidate, type Tried, discover, pickInterpreter } from '../python/discovery';
import { TORCH } from '../python/framework';
import { PythonProcess, decodeFloats, encodeFloats } from '../python/process';

export type TorchOptions = EngineOptions;

/**
 * Which cuDNN forward algorithm family a convolution ran, from the names of the CUDA kernels torch.profiler saw
 * (PyTorch does not say which algorithm cudnn.benchmark picked): FFT, Winograd, implicit / precomputed GEMM,
 * GEMM or direct. Undefined when the names say nothing (or no CUDA kernel was seen).
 */
export function cudnnAlgorithmOf(
  kernels: Array<{ name: string; device: 'cpu' | 'cuda'; ms?: number }>,
): string | undefined {
  const names = kernels.filter((k) => k.device === 'cuda').map((k) => k.name.toLowerCase());
  if (!names.length) return undefined;
  const has = (re: RegExp) => names.some((n) => re.test(n));
  if (has(/fft_?tiling|fft2d_r2c_16x16|fft_tile/)) return 'FFT_TILING';
  if (has(/fft/)) return 'FFT';
  if (has(/winograd_nonfused|winograd.*nonfused/)) return 'WINOGRAD_NONFUSED';
  if (has(/winograd/)) return 'WINOGRAD';
  if (has(/precomp|implicit_gemm_precomp|implicit_convolve_sgemm_precomp/)) return 'IMPLICIT_PRECOMP_GEMM';
  if (has(/implicit_convolve|implicit_gemm|xmma_fprop_implicit_gemm|sm\d+_xmma_fprop|cutlass.*fprop|conv2d_fprop/))
    return 'IMPLICIT_GEMM';
  if (has(/im2col|sgemm|gemm/)) return 'GEMM';
  if (has(/direct/)) return 'DIRECT';
  return undefined;
}

export class TorchEngine implements RemoteEngine {
  readonly name = 'torch';
  readonly loop = 'remote';
  readonly capabilities: EngineCapabilities = {
    complexFft: true,
    complexEinsum: true,
    complexTranspose: true,
    asyncKernels: true,
  };
  readonly timing: TimingSource;
  readonly timingNote: string;
  readonly remote: MeasuringLoop;
  private loaded: string | undefined;

  private constructor(
    private readonly py: PythonProcess,
    readonly backend: 'cpu' | 'cuda',
    readonly device: string,
    readonly notes: string[],
    readonly framework: { name: string; version: string; device: string; threads?: number },
    private readonly torchDevice: string,
    private readonly threads: number | undefined,
    allocator?: string | null,
  ) {
    const cuda = backend === 'cuda';
    this.timing = cuda ? 'gpu-events' : 'wall-clock-sync';
    this.timingNote = cuda
      ? 'torch.cuda.Event pairs around every step, the end-to-end and the layer-only runs (synchronized before reading); cudnn.benchmark on, its autotuning and cuFFT plan creation happen in the warm-up runs'
      : `time.perf_counter around every step on the Python side (torch's CPU ops run to completion before they return), end to end and layer-only likewise; the loop runs in Python, so no time crosses the pipe${allocator ? `; ${allocator}, so a call's large outputs are not faulted in from the OS again on every call` : ''}`;
    const traits = torchTraits(backend);
    this.remote = {
      traits,
      load: (spec, data) => this.load(spec, data),
      measure: (plan, policy, hooks) => this.measureVariant(plan, policy, hooks),
      output: (plan) => this.output(plan),
    };
  }

  /** Finds an interpreter with torch ≥ 1.8, starts the worker in it, picks the device. */
  static async create(o: TorchOptions): Promise<TorchEngine> {
    const { usable, device, notes } = pickInterpreter(o.python, o.device, TORCH, {
      with: (p) => `engine torch is not available with ${p}`,
      none: 'engine torch is not available here',
    });
    const hello = usable.hello;
    const py = new PythonProcess(usable.path, TORCH);
    const started = await py.hello;
    const backend = device.startsWith('cuda') ? 'cuda' : 'cpu';
    const idx = device === 'cuda' ? 0 : Number(device.split(':')[1] ?? 0);
    const deviceName =
      backend === 'cuda'
        ? `GPU ${hello.gpus[idx] ?? device} via PyTorch ${hello.version} (CUDA ${hello.cudaVersion}, cuDNN ${hello.cudnn ?? 'none'})`
        : `CPU via PyTorch ${hello.version} (${o.threads ?? hello.threads ?? 1} thread${(o.threads ?? hello.threads) === 1 ? '' : 's'})`;
    notes.push(`using torch ${hello.version} in ${usable.path} (${usable.from}) on ${device}`);
    return new TorchEngine(
      py,
      backend,
      deviceName,
      notes,
      {
        name: 'torch',
        version: hello.version!,
        device,
        threads: backend === 'cpu' ? (o.threads ?? hello.threads ?? undefined) : undefined,
      },
      device,
      o.threads,
      started.allocator,
    );
  }

  /** Every interpreter `fconv devices` can find, tried in full. */
  static interpreters(asked: Candidate[]): Tried[] {
    return discover(asked, TORCH, { all: true });
  }

  private async load(spec: LayerSpec, data: LayerData): Promise<void> {
    const key = JSON.stringify(spec) + data.input.length;
    const loaded = await this.py.request(
      {
        type: 'load',
        spec: { ...spec, geometry: geometry(spec), ...(isFno(spec) ? { kept: keptModes(spec) } : {}) },
        // An FNO layer's equivalent kernel is image-sized: the worker makes it from the weights when
        // spatial-equivalent asks for it, rather than receiving H·W·in·out floats it may never use.
        data: {
          input: encodeFloats(data.input),
          ...(data.modeWeights
            ? { modeWeights: encodeFloats(data.modeWeights) }
            : { kernel: encodeFloats(data.kernel) }),
          spatialKernel: encodeFloats(data.spatialKernel),
        },
        device: this.torchDevice,
        threads: this.threads ?? null,
      },
      'loaded',
    );
    this.loaded = key;
    if (this.framework.threads !== undefined) this.framework.threads = loaded.threads;
  }

  private planMessage(plan: VariantPlan) {
    return { oneOff: plan.oneOff.map((s) => s.id), steps: plan.steps.map((s) => ({ id: s.id, inLayer: s.inLayer })) };
  }

  private async measureVariant(plan: VariantPlan, policy: LoopPolicy, hooks: LoopHooks): Promise<Samples> {
    if (!this.loaded) throw new Error('internal: load the layer before measuring');
    const m = await this.py.request(
      {
        type: 'measure',
        variant: plan.name,
        plan: this.planMessage(plan),
        kind: plan.kind,
        policy,
      },
      'measured',
      {
        isCancelled: hooks.isCancelled,
        onMessage: (msg) => {
          if (msg.type === 'progress') {
            const { type: _t, id: _i, ...p } = msg;
            hooks.onProgress(p);
          }
        },
      },
    );
    // On a GPU, the cuDNN algorithm the convolution ran, as its kernel names tell (cudnn.benchmark picked it).
    const implementations = { ...m.implementations };
    if (this.backend === 'cuda')
      for (const [id, ks] of Object.entries(m.kernels ?? {})) {
        const algo = /conv/.test(id) ? cudnnAlgorithmOf(ks) : undefined;
        if (algo && implementations[id])
          implementations[id] += `; cuDNN ran ${algo} (from its kernels: ${ks
            .filter((k) => k.device === 'cuda')
            .slice(0, 2)
            .map((k) => k.name.slice(0, 60))
            .join(', ')})`;
      }
    return {
      implementations,
      oneOff: m.oneOff,
      steps: m.steps,
      e2e: m.e2e,
      layer: m.layer,
      reps: m.reps,
      warmup: m.warmup ?? policy.warmup,
      ...(m.firstMs !== undefined ? { firstMs: m.firstMs } : {}),
      output: decodeFloats(m.output),
      ...(m.kernels ? { kernels: m.kernels } : {}),
      ...(m.peakMemoryBytes !== undefined ? { peakMemoryBytes: m.peakMemoryBytes } : {}),
    };
  }

  /**
   * The variant's end to end on an independent clock (torch.utils.benchmark, blocked_autorange) in the
   * same Python process, on the layer loaded last: what `npm run bench` checks the profile against.
   */
  async crosscheck(plan: VariantPlan, seconds = 1): Promise<number> {
    const m = await this.py.request(
      { type: 'crosscheck', variant: plan.name, plan: this.planMessage(plan), seconds },
      'crosscheck',
    );
    return m.medianMs;
  }

  private async output(plan: VariantPlan): Promise<Float32Array> {
    const m = await this.py.request({ type: 'output', variant: plan.name, plan: this.planMessage(plan) }, 'output');
    return decodeFloats(m.output);
  }

  /** This machine's rates on torch for the cost model, with progress; a throwing tick cancels. */
  async probe(tick?: (what: string, index: number, count: number) => Promise<void>): Promise<Probe> {
    let stop = false;
    const r = await this.py.request({ type: 'probe', device: this.torchDevice }, 'probe', {
      isCancelled: () => stop,
      onMessage: (m) => {
        if (m.type === 'probe-progress' && tick) tick(m.what, m.index, m.count).catch(() => (stop = true));
      },
    });
    return { ...r.probe, backend: `torch-${this.backend}`, device: this.device, measuredAt: new Date().toISOString() };
  }

  get pythonPid(): number | undefined {
    return this.py.pid;
  }

  get alive(): boolean {
    return this.py.alive;
  }

  shutdown(): void {
    this.py.close();
  }
}
