/**
 * A Python engine: the variants' plans run by a framework (torch today) in the user's own Python
 * (python/fconv_worker.py with the framework's executor module), on its CPU or CUDA device. The measuring
 * loop runs in Python under the run's loop policy; this side sends the plan and the data, relays progress and
 * cancel, and hands the raw samples to the profiler, which checks and assembles the run as for every engine.
 * What differs between frameworks is their PythonFramework entry (./framework.ts). Worker side.
 */
import type { Compiled } from '../../core/compiled';
import type { FromPython } from '../../protocol/python-protocol';
import type { LayerData } from '../../core/data';
import type { LoopPolicy } from '../../core/loop-policy';
import type { Probe } from '../../core/model';
import type { TimingSource } from '../../core/run';
import { type LayerSpec, geometry, isFno, keptModes } from '../../core/spec';
import type { VariantPlan } from '../../core/variants';
import type {
  EngineCapabilities,
  EngineOptions,
  LoopHooks,
  MeasuringLoop,
  RemoteEngine,
  Samples,
  TrainSamples,
} from '../engine';
import { type Candidate, type Tried, discover, pickInterpreter } from './discovery';
import type { PythonFramework } from './framework';
import { PythonProcess, decodeFloats, encodeFloats } from './process';

/** The hang limit of the profiled pass (python/fconv_*.py kernels): its first session's start-up is slow. */
const KERNELS_HANG_MS = 60_000;

/** A GPU's warm-up lasts at least this long: its clock ramps up over the first ~100 ms of work. */
export const GPU_WARMUP_MIN_MS = 200;

/** A request's cancel and its progress messages, relayed from the Python loop to the profiler's hooks. */
function relay(hooks: LoopHooks): { isCancelled: () => boolean; onMessage: (m: FromPython) => void } {
  return {
    isCancelled: hooks.isCancelled,
    onMessage: (msg) => {
      if (msg.type === 'progress') {
        const { type: _t, id: _i, ...p } = msg;
        hooks.onProgress(p);
      }
    },
  };
}

export class PythonEngine implements RemoteEngine {
  readonly name: string;
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
    private readonly fw: PythonFramework,
    private readonly py: PythonProcess,
    readonly backend: 'cpu' | 'cuda',
    readonly device: string,
    readonly notes: string[],
    readonly framework: { name: string; version: string; device: string; threads?: number },
    private readonly deviceArg: string,
    private readonly threads: number | undefined,
    allocator?: string | null,
    private readonly options?: Record<string, string>,
  ) {
    this.name = fw.id;
    this.timing = backend === 'cuda' ? 'gpu-events' : 'wall-clock-sync';
    this.timingNote = fw.timingNote(backend, allocator ?? null, options);
    const traits = fw.traits(backend);
    this.remote = {
      traits,
      load: (spec, data) => this.load(spec, data),
      measure: (plan, policy, hooks, o) => this.measureVariant(plan, policy, hooks, o?.stepShare),
      output: (plan) => this.output(plan),
      kernels: (plan) => this.kernels(plan),
      endToEnd: (plan, reps, hooks, stepReps) => this.endToEnd(plan, reps, hooks, stepReps),
      ...(fw.train ? { measureTrain: (plan, policy, hooks) => this.measureTrain(plan, policy, hooks) } : {}),
      ...(fw.compile ? { compiled: (plan, o, hooks) => this.compiled(plan, o, hooks) } : {}),
    };
  }

  /** Finds an interpreter with the framework, starts the worker in it, picks the device. */
  static async create(fw: PythonFramework, o: EngineOptions): Promise<PythonEngine> {
    const { usable, device, notes } = await pickInterpreter(o.python, o.device, fw, {
      with: (p) => `engine ${fw.id} is not available with ${p}`,
      none: `engine ${fw.id} is not available here`,
    });
    const hello = usable.hello;
    const py = new PythonProcess(usable.path, fw);
    const started = await py.hello;
    const backend = device.startsWith('cuda') ? 'cuda' : 'cpu';
    const threads = backend === 'cpu' ? (o.threads ?? hello.threads ?? undefined) : undefined;
    notes.push(`using ${fw.id} ${hello.version} in ${usable.path} (${usable.from}) on ${device}`);
    return new PythonEngine(
      fw,
      py,
      backend,
      fw.deviceName(hello, device, o.threads, o.options),
      notes,
      { name: fw.id, version: hello.version!, device, threads },
      device,
      o.threads,
      started.allocator,
      o.options,
    );
  }

  /** Every interpreter `fconv devices` can find, tried in full. */
  static interpreters(fw: PythonFramework, asked: Candidate[]): Promise<Tried[]> {
    return discover(asked, fw, { all: true });
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
        device: this.deviceArg,
        threads: this.threads ?? null,
        ...(this.options ? { options: this.options } : {}),
      },
      'loaded',
    );
    this.loaded = key;
    if (this.framework.threads !== undefined) this.framework.threads = loaded.threads;
  }

  /** The run's policy, with a time floor on the warm-up on a GPU (GPU_WARMUP_MIN_MS). */
  private devicePolicy(policy: LoopPolicy): LoopPolicy {
    return this.backend === 'cuda'
      ? { ...policy, warmupMinMs: Math.max(policy.warmupMinMs ?? 0, GPU_WARMUP_MIN_MS) }
      : policy;
  }

  private planMessage(plan: VariantPlan) {
    return { oneOff: plan.oneOff.map((s) => s.id), steps: plan.steps.map((s) => ({ id: s.id, inLayer: s.inLayer })) };
  }

  private async measureVariant(
    plan: VariantPlan,
    policy: LoopPolicy,
    hooks: LoopHooks,
    stepShare?: number,
  ): Promise<Samples> {
    if (!this.loaded) throw new Error('internal: load the layer before measuring');
    const m = await this.py.request(
      {
        type: 'measure',
        variant: plan.name,
        plan: this.planMessage(plan),
        kind: plan.kind,
        policy: this.devicePolicy(policy),
        // The profiled pass comes after every variant is timed (this.kernels): see MeasuringLoop.kernels.
        kernels: 'later',
        ...(stepShare !== undefined ? { stepShare } : {}),
      },
      'measured',
      relay(hooks),
    );
    // What the kernels each step ran tell about it (on a GPU, the cuDNN algorithm a convolution ran).
    const implementations = this.fw.annotate
      ? this.fw.annotate({ ...m.implementations }, m.kernels ?? {}, this.backend)
      : { ...m.implementations };
    return {
      implementations,
      oneOff: m.oneOff,
      steps: m.steps,
      e2e: m.e2e,
      layer: m.layer,
      reps: m.reps,
      ...(m.stepReps !== undefined ? { stepReps: m.stepReps } : {}),
      warmup: m.warmup ?? policy.warmup,
      ...(m.firstMs !== undefined ? { firstMs: m.firstMs } : {}),
      output: decodeFloats(m.output),
      ...(m.kernels ? { kernels: m.kernels } : {}),
      ...(m.peakMemoryBytes !== undefined ? { peakMemoryBytes: m.peakMemoryBytes } : {}),
      ...(m.oneOffPeakBytes !== undefined ? { oneOffPeakBytes: m.oneOffPeakBytes } : {}),
      ...(m.minorFaultsPerCall !== undefined ? { minorFaultsPerCall: m.minorFaultsPerCall } : {}),
    };
  }

  /** The variant's training step, measured in Python under the same loop policy (python/fconv_<fw>_train.py). */
  private async measureTrain(plan: VariantPlan, policy: LoopPolicy, hooks: LoopHooks): Promise<TrainSamples> {
    if (!this.loaded) throw new Error('internal: load the layer before measuring');
    const m = await this.py.request(
      {
        type: 'measure-train',
        variant: plan.name,
        plan: this.planMessage(plan),
        kind: plan.kind,
        policy: this.devicePolicy(policy),
      },
      'measured-train',
      relay(hooks),
    );
    return {
      implementations: m.implementations,
      stepIds: m.stepIds,
      total: m.total,
      backward: m.backward,
      steps: m.steps,
      reps: m.reps,
      warmup: m.warmup,
      firstMs: m.firstMs,
      gradients: Object.fromEntries(Object.entries(m.gradients).map(([k, v]) => [k, decodeFloats(v)])),
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

  /** The variant's training step on torch.utils.benchmark's clock (bench: the training step's timing checked). */
  async crosscheckTrain(plan: VariantPlan, seconds = 1): Promise<number> {
    const m = await this.py.request(
      { type: 'crosscheck-train', variant: plan.name, plan: this.planMessage(plan), seconds },
      'crosscheck',
    );
    return m.medianMs;
  }

  /**
   * torch.compile of the variant as written beside the same function run eagerly, on the layer loaded last
   * (`fconv profile --compile`): compile and first call apart, then both interleaved; checked against eager.
   */
  private async compiled(
    plan: VariantPlan,
    o: { train: boolean; warmup: number; reps: number },
    hooks: LoopHooks,
  ): Promise<Compiled> {
    const m = await this.py.request(
      { type: 'compiled', variant: plan.name, plan: this.planMessage(plan), ...o },
      'compiled',
      {
        // Dynamo and Inductor compile in this process (and its compile workers): seconds with the GIL mostly held.
        hangMs: Math.max(this.py.hangMs, KERNELS_HANG_MS),
        ...relay(hooks),
      },
    );
    return m.compiled;
  }

  /** The variant's end to end once more (the profiler's reverse-order pass). */
  private async endToEnd(
    plan: VariantPlan,
    reps: number,
    hooks: LoopHooks,
    stepReps = 0,
  ): Promise<{ e2e: number[]; steps?: number[][] }> {
    const m = await this.py.request(
      { type: 'end-to-end', variant: plan.name, plan: this.planMessage(plan), reps, warmup: 2, stepReps },
      'end-to-end',
      relay(hooks),
    );
    return { e2e: m.e2e, ...(m.steps ? { steps: m.steps } : {}) };
  }

  /** The ops and kernels of each step of the variant: one profiled pass, once every variant is timed. */
  private async kernels(plan: VariantPlan): Promise<NonNullable<Samples['kernels']>> {
    const m = await this.py.request(
      { type: 'kernels', variant: plan.name, plan: this.planMessage(plan) },
      'kernels',
      // The first profiler session starts CUPTI / Kineto, which can hold the GIL (and the heartbeat) for seconds.
      { hangMs: Math.max(this.py.hangMs, KERNELS_HANG_MS) },
    );
    return m.kernels;
  }

  private async output(plan: VariantPlan): Promise<Float32Array> {
    const m = await this.py.request({ type: 'output', variant: plan.name, plan: this.planMessage(plan) }, 'output');
    return decodeFloats(m.output);
  }

  /** This machine's rates on torch for the cost model, with progress; a throwing tick cancels. */
  async probe(tick?: (what: string, index: number, count: number) => Promise<void>): Promise<Probe> {
    let stop = false;
    const r = await this.py.request({ type: 'probe', device: this.deviceArg }, 'probe', {
      isCancelled: () => stop,
      onMessage: (m) => {
        if (m.type === 'probe-progress' && tick) tick(m.what, m.index, m.count).catch(() => (stop = true));
      },
    });
    return {
      ...r.probe,
      backend: `${this.fw.id}-${this.backend}`,
      device: this.device,
      measuredAt: new Date().toISOString(),
    };
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
