/**
 * The engine-agnostic profile loop. Per variant: one-off steps (timed, cached), per-step timing with a
 * sync after every step, the end-to-end time without per-step syncs, the layer-only time for spectral
 * variants, and the correctness check against the spatial reference of the same function.
 */
import { type LayerData, flipKernel, makeLayerData } from '../core/data';
import {
  checkAgainstNaive,
  equivalentCorrelation,
  maxAbs,
  maxAbsDiff,
  spatialCorrelation,
  tolerance,
} from '../core/reference';
import { type Run, SCHEMA_VERSION, type StepResult, type VariantName, type VariantResult } from '../core/run';
import { summarize } from '../core/stats';
import { type LayerSpec, geometry, isFno, validateSpec } from '../core/spec';
import { PHASES } from '../protocol/worker-protocol';
import {
  CancelledError,
  type Engine,
  EngineUnavailableError,
  type Env,
  MismatchError,
  type PreparedVariant,
  type RemoteLoop,
  type StepDef,
} from './engine';
import { type PlannedStep, type VariantPlan, planVariant } from '../core/variants';

export interface ProfileOptions {
  variants: VariantName[];
  warmup: number;
  reps: number;
  seed: number;
  /** Extra repetitions for fast pipelines, up to this many ms of timing per phase. */
  adaptiveBudgetMs: number;
}

export interface Progress {
  variant: VariantName;
  variantIndex: number;
  variantCount: number;
  phase: (typeof PHASES)[number];
  step?: string;
  stepIndex: number;
  stepCount: number;
  rep?: number;
  reps?: number;
}

export interface ProfileHooks {
  onProgress?: (p: Progress) => void;
  onVariant?: (v: VariantResult) => void;
  isCancelled?: () => boolean;
  now?: () => number;
  tool?: { name: string; version: string };
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export async function profile(
  engine: Engine,
  spec: LayerSpec,
  opts: ProfileOptions,
  hooks: ProfileHooks = {},
): Promise<Run> {
  validateSpec(spec);
  await engine.activate?.();
  const now = hooks.now ?? (() => performance.now());
  const t0 = now();
  const data = makeLayerData(spec, opts.seed);
  const g = geometry(spec);
  const variants: VariantResult[] = [];
  const run: Run = {
    schemaVersion: SCHEMA_VERSION,
    tool: hooks.tool ?? { name: 'fourier-conv-profiler', version: '0.0.0' },
    createdAt: new Date().toISOString(),
    status: 'ok',
    engine: engine.name,
    backend: engine.backend,
    device: engine.device,
    ...(engine.framework ? { framework: { ...engine.framework } } : {}),
    engineNotes: engine.notes,
    spec,
    geometry: g,
    settings: { warmup: opts.warmup, reps: opts.reps, seed: opts.seed },
    timingNote: engine.timingNote,
    variants,
    wallMs: 0,
  };
  const checkCancel = async () => {
    await yieldNow();
    if (hooks.isCancelled?.()) throw new CancelledError();
  };
  // The spectral variants are checked against the spatial-equivalent output; compute it first. Variants the
  // engine cannot run here are skipped, said in the run's notes.
  const skipped = opts.variants.map((v) => [v, engine.cannotRun?.(v)] as const).filter(([, why]) => !!why);
  for (const [v, why] of skipped) run.engineNotes = [...run.engineNotes, `${v} not run: ${why}`];
  const order = [...opts.variants].filter((v) => !skipped.some(([s]) => s === v)).sort((a, b) => rank(a) - rank(b));
  if (!order.length && skipped.length)
    throw new EngineUnavailableError(
      `engine ${engine.name} cannot run ${skipped.map(([v, why]) => `${v} (${why})`).join(', ')}`,
    );
  let reference: Float32Array | undefined;
  const spectral = order.some((v) => v === 'seed' || v === 'fno' || v === 'optimized');
  // An FNO layer's spatial-equivalent convolves with an image-sized kernel (hundreds of GFLOP): unless it
  // was asked for, its spectral variants are checked against the naive direct convolution on sampled outputs.
  const needsReference = spectral && !isFno(spec);
  try {
    if (engine.remote) await engine.remote.load(spec, data);
    if (needsReference && !order.includes('spatial-equivalent') && !engine.cannotRun?.('spatial-equivalent')) {
      hooks.onProgress?.({
        variant: 'spatial-equivalent',
        variantIndex: 0,
        variantCount: order.length,
        phase: 'check',
        stepIndex: 0,
        stepCount: 1,
      });
      reference = await referenceOutput(engine, spec, data);
    }
    for (let vi = 0; vi < order.length; vi++) {
      const name = order[vi]!;
      const base = { variant: name, variantIndex: vi, variantCount: order.length };
      hooks.onProgress?.({ ...base, phase: 'prepare', stepIndex: 0, stepCount: 0 });
      await checkCancel();
      const prepared = engine.remote ? undefined : engine.prepare(name, spec, data);
      try {
        const onStep = (p: Omit<Progress, 'variant' | 'variantIndex' | 'variantCount'>) =>
          hooks.onProgress?.({ ...base, ...p });
        const result = prepared
          ? await measureVariant(engine, prepared, opts, now, checkCancel, onStep)
          : await measureRemote(
              engine,
              engine.remote!,
              planVariant(name, spec, engine.remote!.traits),
              opts,
              hooks,
              onStep,
            );
        hooks.onProgress?.({ ...base, phase: 'check', stepIndex: 0, stepCount: 1 });
        const out = result.output;
        const vr = result.result;
        if (name === 'spatial' || name === 'spatial-equivalent') {
          const corr = name === 'spatial' ? spatialCorrelation(spec) : equivalentCorrelation(spec);
          const w =
            name === 'spatial'
              ? data.spatialKernel
              : flipKernel(data.kernel, spec.kernelH, spec.kernelW, spec.inChannels, spec.outChannels);
          const e = checkAgainstNaive(corr, data.input, w, out);
          Object.assign(vr, {
            maxAbsError: e.maxAbsError,
            refScale: e.refScale,
            tolerance: tolerance(e.refScale),
            checkedPoints: e.points,
          });
          vr.reference = e.exhaustive
            ? 'naive direct convolution (every output)'
            : `naive direct convolution (${e.points} sampled outputs)`;
          if (name === 'spatial-equivalent') reference = out;
        } else if (!reference) {
          const e = checkAgainstNaive(
            equivalentCorrelation(spec),
            data.input,
            flipKernel(data.kernel, spec.kernelH, spec.kernelW, spec.inChannels, spec.outChannels),
            out,
          );
          Object.assign(vr, {
            maxAbsError: e.maxAbsError,
            refScale: e.refScale,
            tolerance: tolerance(e.refScale),
            checkedPoints: e.points,
          });
          vr.reference = e.exhaustive
            ? 'naive direct circular convolution with the equivalent kernel (every output)'
            : `naive direct circular convolution with the equivalent kernel (${e.points} sampled outputs)`;
        } else {
          vr.reference = 'spatial-equivalent output';
          const scale = maxAbs(reference!);
          const err = maxAbsDiff(out, reference!);
          Object.assign(vr, {
            maxAbsError: err,
            refScale: scale,
            tolerance: tolerance(scale),
            checkedPoints: out.length,
          });
        }
        vr.correct = vr.maxAbsError <= vr.tolerance;
        // JSON has no Infinity/NaN: a non-finite error (NaN in the output) is stored as the largest double.
        if (!Number.isFinite(vr.maxAbsError)) vr.maxAbsError = Number.MAX_VALUE;
        variants.push(vr);
        hooks.onVariant?.(vr);
      } finally {
        prepared?.dispose();
      }
    }
    const bad = variants.filter((v) => !v.correct);
    if (bad.length) {
      run.status = 'failed';
      run.failure = bad
        .map(
          (v) =>
            `${v.name} does not compute the same function as its reference: max |error| ${v.maxAbsError.toExponential(2)} > ${v.tolerance.toExponential(2)}`,
        )
        .join('; ');
    }
  } catch (e) {
    if (e instanceof CancelledError) run.status = 'cancelled';
    else throw e;
  }
  run.wallMs = now() - t0;
  if (engine.resources) {
    try {
      run.resources = engine.resources();
    } catch {
      /* after a device error: the run already says what failed */
    }
  }
  return run;
}

/**
 * A variant measured by an engine that runs the loop in its own process (torch): its raw samples, put
 * together as the local loop does — the same step results, totals and layer-only time.
 */
async function measureRemote(
  engine: Engine,
  remote: RemoteLoop,
  plan: VariantPlan,
  opts: ProfileOptions,
  hooks: ProfileHooks,
  progress: (p: Omit<Progress, 'variant' | 'variantIndex' | 'variantCount'>) => void,
): Promise<Measured> {
  const m = await remote.measure(
    plan,
    { warmup: opts.warmup, reps: opts.reps, budgetMs: opts.adaptiveBudgetMs },
    { onProgress: progress, isCancelled: () => hooks.isCancelled?.() ?? false },
  );
  const label = (id: string) => {
    const l = m.implementations[id];
    if (l === undefined) throw new Error(`internal: the ${engine.name} engine did not say how step ${id} ran`);
    return l;
  };
  if (m.steps.length !== plan.steps.length || m.oneOff.length !== plan.oneOff.length)
    throw new Error(
      `internal: the ${engine.name} engine returned samples for other steps than the ${plan.name} plan's`,
    );
  const steps = [
    ...plan.oneOff.map((s, i) =>
      stepResult({ ...s, implementation: label(s.id) }, m.oneOff[i]!, engine, 1, m.oneOff[i]!.length),
    ),
    ...plan.steps.map((s, i) =>
      stepResult({ ...s, implementation: label(s.id) }, m.steps[i]!, engine, m.warmup ?? opts.warmup, m.reps),
    ),
  ];
  for (const st of steps) {
    const k = m.kernels?.[st.id];
    if (k?.length) st.kernels = k;
  }
  const result: VariantResult = {
    name: plan.name,
    title: plan.title,
    description: plan.description,
    kind: plan.kind,
    reference: plan.reference,
    steps,
    totalMs: { ...summarize(m.e2e), timing: engine.timing, reps: m.reps },
    ...(m.layer ? { layerMs: { ...summarize(m.layer), timing: engine.timing, reps: m.reps } } : {}),
    stepSumMs: steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0),
    maxAbsError: Number.MAX_VALUE,
    refScale: 0,
    tolerance: 0,
    correct: false,
    checkedPoints: 0,
    outputShape: plan.steps[plan.steps.length - 1]!.outputShape,
    ...(m.peakMemoryBytes !== undefined ? { peakMemoryBytes: m.peakMemoryBytes } : {}),
    ...(m.firstMs !== undefined ? { firstCallMs: m.firstMs } : {}),
  };
  return { result, output: m.output };
}

function rank(v: VariantName): number {
  return ['spatial', 'spatial-equivalent', 'seed', 'fno', 'optimized'].indexOf(v);
}

async function referenceOutput(engine: Engine, spec: LayerSpec, data: LayerData): Promise<Float32Array> {
  if (engine.remote)
    return checkedReference(
      await engine.remote.output(planVariant('spatial-equivalent', spec, engine.remote.traits)),
      spec,
      data,
    );
  const p = engine.prepare('spatial-equivalent', spec, data);
  try {
    const env = new Map(p.persistent);
    for (const s of p.steps) env.set(s.writes, s.run(env));
    const out = await engine.read(env.get(p.output));
    for (const [k, v] of env) if (!p.persistent.has(k)) engine.dispose(v);
    return checkedReference(out, spec, data);
  } finally {
    p.dispose();
  }
}

/** The spatial-equivalent output, once checked against the naive convolution (else the run cannot be trusted). */
function checkedReference(out: Float32Array, spec: LayerSpec, data: LayerData): Float32Array {
  {
    const e = checkAgainstNaive(
      equivalentCorrelation(spec),
      data.input,
      flipKernel(data.kernel, spec.kernelH, spec.kernelW, spec.inChannels, spec.outChannels),
      out,
    );
    if (!(e.maxAbsError <= tolerance(e.refScale))) {
      throw new MismatchError(
        `the spatial reference itself disagrees with the naive convolution (max |error| ${e.maxAbsError})`,
      );
    }
    return out;
  }
}

/** Env keys whose last reader is step i (and that are not persistent): dispose after step i. */
function deathPlan(steps: StepDef[], persistent: Env, output: string): string[][] {
  const last = new Map<string, number>();
  steps.forEach((s, i) => s.reads.forEach((r) => last.set(r, i)));
  const plan: string[][] = steps.map(() => []);
  for (const [k, i] of last) if (!persistent.has(k) && k !== output) plan[i]!.push(k);
  return plan;
}

interface Measured {
  result: VariantResult;
  output: Float32Array;
}

async function measureVariant(
  engine: Engine,
  p: PreparedVariant,
  opts: ProfileOptions,
  now: () => number,
  checkCancel: () => Promise<void>,
  progress: (p: Omit<Progress, 'variant' | 'variantIndex' | 'variantCount'>) => void,
): Promise<Measured> {
  const persistent: Env = new Map(p.persistent);
  /** The engine's own device timing when it has one (GPU events), else wall clock between syncs. */
  const timed = <T>(launch: () => T, syncOf: (v: T) => unknown = (v) => v, host = false): { value: T; ms: number } => {
    if (engine.measure && !host) return engine.measure(launch);
    const ta = now();
    const value = launch();
    engine.sync(syncOf(value));
    return { value, ms: now() - ta };
  };
  // One-off steps (the cached kernel spectrum): time them, keep the last output.
  const oneOffResults: StepResult[] = [];
  for (const [i, s] of p.oneOff.entries()) {
    const samples: number[] = [];
    const n = Math.max(1, Math.min(opts.reps, 5));
    let kept: unknown;
    for (let r = 0; r < 1 + n; r++) {
      progress({ phase: 'one-off', step: s.name, stepIndex: i, stepCount: p.oneOff.length, rep: r, reps: 1 + n });
      await checkCancel();
      const { value: out, ms: dt } = timed(
        () => s.run(persistent),
        (v) => v,
        !!s.hostTimed,
      );
      if (r > 0) samples.push(dt);
      if (kept !== undefined) engine.dispose(kept);
      kept = out;
    }
    persistent.set(s.writes, kept);
    oneOffResults.push(stepResult(s, samples, engine, 1, n));
  }
  const deaths = deathPlan(p.steps, persistent, p.output);
  /** One pass with no per-step syncs and no cancel points, for the end-to-end time; disposes everything. */
  const passNoSync = (): unknown => {
    const env: Env = new Map(persistent);
    for (let i = 0; i < p.steps.length; i++) {
      const s = p.steps[i]!;
      env.set(s.writes, s.run(env));
      for (const k of deaths[i]!) {
        engine.dispose(env.get(k));
        env.delete(k);
      }
    }
    return env.get(p.output);
  };
  const runOnce = async (
    perStepTimes: number[] | undefined,
    keepOutput: boolean,
    cancelEachStep: boolean,
    onStep?: (i: number) => void,
  ): Promise<unknown> => {
    const env: Env = new Map(persistent);
    for (let i = 0; i < p.steps.length; i++) {
      const s = p.steps[i]!;
      onStep?.(i);
      if (perStepTimes) {
        const { value: v, ms } = timed(() => s.run(env));
        perStepTimes[i] = ms;
        env.set(s.writes, v);
      } else {
        env.set(s.writes, s.run(env));
      }
      for (const k of deaths[i]!) {
        engine.dispose(env.get(k));
        env.delete(k);
      }
      if (cancelEachStep) await checkCancel();
    }
    const out = env.get(p.output);
    engine.sync(out);
    if (!keepOutput) {
      engine.dispose(out);
      return undefined;
    }
    return out;
  };
  try {
    // Warm-up: first calls build caches, plans, and JIT the kernels.
    let warmMs = 0;
    for (let r = 0; r < opts.warmup; r++) {
      progress({ phase: 'warm-up', stepIndex: 0, stepCount: p.steps.length, rep: r, reps: opts.warmup });
      const ta = now();
      await runOnce(undefined, false, true);
      warmMs = now() - ta;
    }
    if (opts.warmup === 0) {
      const ta = now();
      await runOnce(undefined, false, true);
      warmMs = now() - ta;
    }
    const reps = Math.max(
      opts.reps,
      Math.min(5 * opts.reps, Math.floor(opts.adaptiveBudgetMs / Math.max(warmMs, 1e-3))),
    );
    // Per-step timing: explicit sync at every step boundary.
    const per: number[][] = p.steps.map(() => []);
    let output: unknown;
    for (let r = 0; r < reps; r++) {
      const times: number[] = [];
      const last = r === reps - 1;
      const out = await runOnce(times, last, true, (i) =>
        progress({ phase: 'per-step', step: p.steps[i]!.name, stepIndex: i, stepCount: p.steps.length, rep: r, reps }),
      );
      if (last) output = out;
      times.forEach((t, i) => per[i]!.push(t));
    }
    const outData = await engine.read(output);
    engine.dispose(output);
    // End to end, no per-step syncs: the number to compare with Conv2D.
    const e2e: number[] = [];
    for (let r = 0; r < reps; r++) {
      progress({ phase: 'end-to-end', stepIndex: 0, stepCount: p.steps.length, rep: r, reps });
      await checkCancel();
      const { value: out, ms } = timed(passNoSync);
      engine.dispose(out);
      e2e.push(ms);
    }
    // Layer only (spectral variants whose layer is a part of the pipeline, as the seed's): from the input
    // spectrum to the output spectrum. An FNO layer is the whole pipeline: its end to end is its layer time.
    let layerSamples: number[] | undefined;
    const layerIdx = p.steps.map((s, i) => (s.inLayer ? i : -1)).filter((i) => i >= 0);
    if (p.kind === 'spectral' && layerIdx.length && layerIdx.length < p.steps.length) {
      layerSamples = [];
      const first = layerIdx[0]!;
      const lastIdx = layerIdx[layerIdx.length - 1]!;
      for (let r = 0; r < reps; r++) {
        progress({ phase: 'layer-only', stepIndex: 0, stepCount: p.steps.length, rep: r, reps });
        await checkCancel();
        const env: Env = new Map(persistent);
        for (let i = 0; i < first; i++) env.set(p.steps[i]!.writes, p.steps[i]!.run(env));
        engine.sync(env.get(p.steps[first - 1]?.writes ?? ''));
        const { ms } = timed(() => {
          for (let i = first; i <= lastIdx; i++) env.set(p.steps[i]!.writes, p.steps[i]!.run(env));
          return env.get(p.steps[lastIdx]!.writes);
        });
        layerSamples.push(ms);
        for (const [k, v] of env) if (!persistent.has(k)) engine.dispose(v);
      }
    }
    const steps = [...oneOffResults, ...p.steps.map((s, i) => stepResult(s, per[i]!, engine, opts.warmup, reps))];
    const stepSumMs = steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0);
    const result: VariantResult = {
      name: p.name,
      title: p.title,
      description: p.description,
      kind: p.kind,
      reference: p.reference,
      steps,
      totalMs: { ...summarize(e2e), timing: engine.timing, reps },
      layerMs: layerSamples ? { ...summarize(layerSamples), timing: engine.timing, reps } : undefined,
      stepSumMs,
      maxAbsError: Number.MAX_VALUE,
      refScale: 0,
      tolerance: 0,
      correct: false,
      checkedPoints: 0,
      outputShape: p.steps[p.steps.length - 1]!.outputShape,
    };
    if (!result.layerMs) delete result.layerMs;
    if (p.algorithms) result.algorithms = p.algorithms;
    return { result, output: outData };
  } finally {
    for (const [k, v] of persistent) if (!p.persistent.has(k)) engine.dispose(v);
  }
}

function stepResult(
  s: PlannedStep & { implementation: string },
  samples: number[],
  engine: Engine,
  warmup: number,
  reps: number,
): StepResult {
  return {
    id: s.id,
    name: s.name,
    implementation: s.implementation,
    inLayer: s.inLayer,
    oneOff: !!s.oneOff,
    inputShapes: s.inputShapes,
    outputShape: s.outputShape,
    flops: s.flops,
    bytes: s.bytes,
    kind: s.kind,
    category: s.category,
    ...(s.layoutBytes ? { layoutBytes: s.layoutBytes } : {}),
    ...(s.complex ? { complex: true } : {}),
    timing: s.hostTimed ? 'wall-clock-sync' : engine.timing,
    warmup,
    reps,
    ...summarize(samples),
  };
}
