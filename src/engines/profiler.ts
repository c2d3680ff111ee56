/**
 * The engine-agnostic profile: for each variant, its plan measured by the engine's loop (the local one in
 * this process, or the engine's own in its process — the same plans and loop policy, raw samples back),
 * then checked (src/engines/checks.ts) and assembled into the run. Spatial-equivalent's output is the
 * spectral variants' reference, so it runs first (or is computed once, untimed, when not asked for).
 */
import { makeLayerData } from '../core/data';
import { type LoopPolicy, loopPolicy } from '../core/loop-policy';
import {
  type Run,
  type RunPass,
  SCHEMA_VERSION,
  type StepResult,
  type TimingSource,
  type VariantName,
  type VariantResult,
} from '../core/run';
import { summarize } from '../core/stats';
import { type LayerSpec, geometry, isFno, validateSpec } from '../core/spec';
import {
  type PlannedStep,
  type VariantPlan,
  asVariantName,
  backwardStep,
  allSteps,
  planVariant,
  variantEntry,
  variantRank,
} from '../core/variants';
import type { PHASES } from '../protocol/worker-protocol';
import { checkOutput, checkedReference } from './checks';
import {
  CancelledError,
  NoGradientError,
  type Engine,
  EngineUnavailableError,
  type MeasuringLoop,
  type Samples,
  type TrainSamples,
} from './engine';
import { maxAbs, maxAbsDiff, tolerance } from '../core/reference';
import { localLoop } from './loop/local';

export interface ProfileOptions {
  variants: VariantName[];
  /** The passes to time (default forward only, as before passes existed); train/both add the training step. */
  pass?: RunPass;
  warmup: number;
  reps: number;
  seed: number;
  /** Extra repetitions for fast pipelines, up to this many ms of timing per phase. */
  adaptiveBudgetMs: number;
  /** torch.compile of each variant as written beside it run eagerly (`--compile`), on engines that have it. */
  compile?: boolean;
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

/** The loop that measures `engine`: its own (a Python engine's) or the local one. */
export function loopOf(engine: Engine, now?: () => number): MeasuringLoop {
  return engine.loop === 'remote' ? engine.remote : localLoop(engine, now);
}

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
  const policy = loopPolicy(opts.warmup, opts.reps, opts.adaptiveBudgetMs);
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
    geometry: geometry(spec),
    settings: {
      warmup: opts.warmup,
      reps: opts.reps,
      seed: opts.seed,
      loop: policy,
      ...(opts.pass ? { pass: opts.pass } : {}),
    },
    timingNote: engine.timingNote,
    variants,
    wallMs: 0,
  };
  const loop = loopOf(engine, now);
  // Variants the engine cannot run here are skipped, said in the run's notes.
  const skipped = opts.variants.map((v) => [v, engine.cannotRun?.(v)] as const).filter(([, why]) => !!why);
  for (const [v, why] of skipped) run.engineNotes = [...run.engineNotes, `${v} not run: ${why}`];
  const order = opts.variants
    .filter((v) => !skipped.some(([s]) => s === v))
    .sort((a, b) => variantRank(a) - variantRank(b));
  if (!order.length && skipped.length)
    throw new EngineUnavailableError(
      `engine ${engine.name} cannot run ${skipped.map(([v, why]) => `${v} (${why})`).join(', ')}`,
    );
  let reference: Float32Array | undefined;
  const trainAsked = opts.pass === 'train' || opts.pass === 'both';
  // The Python engines time every variant twice, the second pass in reverse order (see below).
  const secondPass = !!loop.endToEnd && order.length > 1;
  if (trainAsked && opts.pass === 'train')
    run.engineNotes = [
      ...run.engineNotes,
      '--pass train: the forward pass is measured too (its figures sit beside the training step)',
    ];
  if (trainAsked && !loop.measureTrain)
    run.engineNotes = [
      ...run.engineNotes,
      `training step not measured on the ${engine.name} engine (${engine.backend}): it has no reverse pass here — use the torch engine${engine.backend === 'cuda' ? ' on CUDA (--engine torch --torch-device cuda)' : ' (--engine torch) or tfjs (--engine wasm)'}; the numbers here are the forward pass`,
    ];
  if (trainAsked && engine.loop === 'local' && engine.autodiff) {
    const ad = engine.autodiff;
    const convs = order.some((v) => allSteps(planVariant(v, spec, loop.traits)).some((s) => s.kind === 'conv'));
    run.engineNotes = [
      ...run.engineNotes,
      `training step: ${ad.label}`,
      ...(ad.convNote && convs ? [`training step: ${ad.convNote}`] : []),
    ];
  }
  /** Gradients of the variant the others' are checked against (spatial-equivalent; an FNO layer's fno). */
  const gradReference: GradientReference = {};
  const spectral = order.some((v) => planVariant(v, spec, loop.traits).kind === 'spectral');
  // An FNO layer's spatial-equivalent convolves with an image-sized kernel (hundreds of GFLOP): unless it
  // was asked for, its spectral variants are checked against the naive direct convolution on sampled outputs.
  const needsReference = spectral && !isFno(spec);
  try {
    await loop.load(spec, data);
    if (needsReference && !order.includes('spatial-equivalent') && !engine.cannotRun?.('spatial-equivalent')) {
      hooks.onProgress?.({
        variant: 'spatial-equivalent',
        variantIndex: 0,
        variantCount: order.length,
        phase: 'check',
        stepIndex: 0,
        stepCount: 1,
      });
      reference = checkedReference(await loop.output(planVariant('spatial-equivalent', spec, loop.traits)), spec, data);
    }
    for (const [vi, name] of order.entries()) {
      const base = { variant: name, variantIndex: vi, variantCount: order.length };
      hooks.onProgress?.({ ...base, phase: 'prepare', stepIndex: 0, stepCount: 0 });
      await yieldNow();
      if (hooks.isCancelled?.()) throw new CancelledError();
      const plan = planVariant(name, spec, loop.traits);
      const samples = await loop.measure(
        plan,
        policy,
        {
          onProgress: (p) => hooks.onProgress?.({ ...base, ...p }),
          isCancelled: () => hooks.isCancelled?.() ?? false,
        },
        // Half the per-step repetitions here, the rest in the reverse-order pass below.
        secondPass ? { stepShare: 0.5 } : {},
      );
      hooks.onProgress?.({ ...base, phase: 'check', stepIndex: 0, stepCount: 1 });
      const vr = assemble(engine, plan, samples, policy);
      Object.assign(vr, checkOutput(name, spec, data, samples.output, reference));
      // The spectral variants after it are checked against the same function computed spatially.
      if (variantEntry(name)?.check === 'equivalent') reference = samples.output;
      if (trainAsked && loop.measureTrain) {
        let t: TrainSamples;
        try {
          t = await loop.measureTrain(plan, policy, {
            onProgress: (p) => hooks.onProgress?.({ ...base, ...p }),
            isCancelled: () => hooks.isCancelled?.() ?? false,
          });
        } catch (e) {
          // A cancel during the training step keeps the variant's forward pass, measured and checked.
          if (e instanceof CancelledError) {
            variants.push(vr);
            hooks.onVariant?.(vr);
          }
          // An op without a gradient here: this variant's training step is skipped, the rest measured.
          if (!(e instanceof NoGradientError)) throw e;
          run.engineNotes = [...run.engineNotes, `${name}: training step not measured — ${e.message}`];
          variants.push(vr);
          hooks.onVariant?.(vr);
          continue;
        }
        // The small Conv2D is another function: its gradients have no reference here.
        const conv2d = variantEntry(name)?.check === 'conv2d';
        vr.train = assembleTrain(engine, plan, t, conv2d ? {} : gradReference);
        if (conv2d)
          vr.train.notes = [
            'a different function (the small Conv2D): its gradients are not compared',
            ...vr.train.notes.filter((n) => !n.startsWith('no reference gradient')),
          ];
        // Each gradient's reference: spatial-equivalent's; an FNO layer's fno for what spatial-equivalent lacks
        // (its mode weights, on engines whose spatial-equivalent does not train them) or when it did not run.
        if (name === 'spatial-equivalent' || (isFno(spec) && name === 'fno'))
          for (const [g, values] of Object.entries(t.gradients)) gradReference[g] ??= { variant: name, values };
      }
      variants.push(vr);
      hooks.onVariant?.(vr);
    }
    // End to end once more (before the kernel pass below: it is timing, and a profiler session would leave CUPTI
    // attached on a GPU), the variants in reverse order, merged with the first pass: a variant timed early and one
    // timed late see the same drift (a busy shared machine, a clock change), so their comparison does not flip with it.
    if (secondPass && variants.length > 1) {
      for (const [i, vr] of [...variants].reverse().entries()) {
        if (hooks.isCancelled?.()) throw new CancelledError();
        const base = { variant: vr.name, variantIndex: i, variantCount: variants.length };
        const timed = vr.steps.filter((st) => !st.oneOff);
        const stepReps = Math.max(0, vr.totalMs.reps - (timed[0]?.reps ?? vr.totalMs.reps));
        const more = await loop.endToEnd!(
          planVariant(vr.name, spec, loop.traits),
          vr.totalMs.reps,
          {
            onProgress: (p) => hooks.onProgress?.({ ...base, ...p }),
            isCancelled: () => hooks.isCancelled?.() ?? false,
          },
          stepReps,
        );
        const all = [...vr.totalMs.samples, ...more.e2e];
        vr.totalMs = { ...summarize(all), timing: vr.totalMs.timing, reps: all.length };
        if (more.steps?.length === timed.length)
          timed.forEach((st, k) => {
            const merged = [...st.samples, ...more.steps![k]!];
            Object.assign(st, summarize(merged), { reps: merged.length });
          });
        vr.stepSumMs = timed.reduce((a, st) => a + st.median, 0);
      }
      run.engineNotes = [
        ...run.engineNotes,
        "end to end and per step: each variant timed in two passes — in the run's order, then in reverse once every variant was timed (half the per-step repetitions in each) — and the two merged, so that drift over the run hits every variant alike",
      ];
    }
    if (opts.compile) await compiledRows(engine, loop, spec, variants, opts, hooks, run);
    // The ops and kernels of each step, in a profiled pass per variant now that every variant is timed.
    if (loop.kernels) {
      for (const [vi, vr] of variants.entries()) {
        if (hooks.isCancelled?.()) throw new CancelledError();
        hooks.onProgress?.({
          variant: vr.name,
          variantIndex: vi,
          variantCount: variants.length,
          phase: 'kernels',
          stepIndex: 0,
          stepCount: 1,
        });
        const k = await loop.kernels(planVariant(vr.name, spec, loop.traits));
        for (const st of vr.steps) if (k[st.id]?.length) st.kernels = k[st.id];
      }
    }
    const bad = variants.filter((v) => !v.correct || v.train?.gradients.some((g) => !g.correct));
    if (bad.length) {
      run.status = 'failed';
      run.failure = bad
        .map((v) =>
          !v.correct
            ? `${v.name} does not compute the same function as its reference: max |error| ${v.maxAbsError.toExponential(2)} > ${v.tolerance.toExponential(2)}`
            : `${v.name}'s gradients differ from its reference's: ${v
                .train!.gradients.filter((g) => !g.correct)
                .map((g) => `${g.name} max |error| ${g.maxAbsError.toExponential(2)} > ${g.tolerance.toExponential(2)}`)
                .join(', ')}`,
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

/** A variant's raw samples as its result: step results, totals, layer-only time (the check comes after). */
/**
 * `--compile`: torch.compile of each variant as written (the question's layer, an FNO layer as its code writes it)
 * beside the same function run eagerly — after all timing, before the kernel pass (a GPU profiler session would leave
 * CUPTI attached). A compile that fails is the row's reason, not the run's; an engine without it says so in the notes.
 */
async function compiledRows(
  engine: Engine,
  loop: MeasuringLoop,
  spec: LayerSpec,
  variants: VariantResult[],
  opts: ProfileOptions,
  hooks: ProfileHooks,
  run: Run,
): Promise<void> {
  if (!loop.compiled) {
    run.engineNotes = [
      ...run.engineNotes,
      `--compile: torch.compile is PyTorch's; the ${engine.name} engine has no compiled row (profile on --engine torch)`,
    ];
    return;
  }
  for (const [vi, vr] of variants.entries()) {
    if (variantEntry(vr.name)?.label !== 'as written') continue;
    if (hooks.isCancelled?.()) throw new CancelledError();
    const base = { variant: vr.name, variantIndex: vi, variantCount: variants.length };
    try {
      vr.compiled = await loop.compiled(
        planVariant(vr.name, spec, loop.traits),
        { train: opts.pass === 'train' || opts.pass === 'both', warmup: opts.warmup, reps: opts.reps },
        {
          onProgress: (p) => hooks.onProgress?.({ ...base, ...p }),
          isCancelled: () => hooks.isCancelled?.() ?? false,
        },
      );
    } catch (e) {
      if (e instanceof CancelledError || !(e instanceof Error) || engine.alive === false) throw e;
      vr.compiled = { failed: e.message.split('\n')[0]! };
    }
  }
}

export function assemble(engine: Engine, plan: VariantPlan, m: Samples, policy: LoopPolicy): VariantResult {
  const label = (id: string) => {
    const l = m.implementations[id];
    if (l === undefined) throw new Error(`internal: the ${engine.name} engine did not say how step ${id} ran`);
    return l;
  };
  if (m.steps.length !== plan.steps.length || m.oneOff.length !== plan.oneOff.length)
    throw new Error(
      `internal: the ${engine.name} engine returned samples for other steps than the ${plan.name} plan's`,
    );
  const timing = engine.timing;
  const steps = [
    ...plan.oneOff.map((s, i) =>
      stepResult({ ...s, implementation: label(s.id) }, m.oneOff[i]!, timing, 1, m.oneOff[i]!.length),
    ),
    ...plan.steps.map((s, i) =>
      stepResult(
        { ...s, implementation: label(s.id) },
        m.steps[i]!,
        timing,
        m.warmup ?? policy.warmup,
        m.stepReps ?? m.reps,
      ),
    ),
  ];
  for (const st of steps) {
    const k = m.kernels?.[st.id];
    if (k?.length) st.kernels = k;
  }
  return {
    name: asVariantName(plan.name),
    title: plan.title,
    description: plan.description,
    kind: plan.kind,
    reference: plan.reference,
    steps,
    totalMs: { ...summarize(m.e2e), timing, reps: m.reps },
    ...(m.layer ? { layerMs: { ...summarize(m.layer), timing, reps: m.reps } } : {}),
    stepSumMs: steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0),
    maxAbsError: Number.MAX_VALUE,
    refScale: 0,
    tolerance: 0,
    correct: false,
    checkedPoints: 0,
    outputShape: plan.steps[plan.steps.length - 1]!.outputShape,
    ...(m.peakMemoryBytes !== undefined ? { peakMemoryBytes: m.peakMemoryBytes } : {}),
    ...(m.firstMs !== undefined ? { firstCallMs: m.firstMs } : {}),
    ...(m.minorFaultsPerCall !== undefined ? { minorFaultsPerCall: m.minorFaultsPerCall } : {}),
    ...(m.oneOffPeakBytes !== undefined ? { oneOffPeakBytes: m.oneOffPeakBytes } : {}),
    ...(m.algorithms ? { algorithms: m.algorithms } : {}),
  };
}

/**
 * A variant's training step from its samples: totals, each forward step's backward as a step of pass 'backward',
 * and its gradients checked against the reference variant's (same function → same gradient).
 */
/** The reference of each gradient name: the variant it came from and its values. */
export type GradientReference = Record<string, { variant: VariantName; values: Float32Array }>;

export function assembleTrain(
  engine: Engine,
  plan: VariantPlan,
  t: TrainSamples,
  ref: GradientReference,
): NonNullable<VariantResult['train']> {
  const timing = engine.timing;
  const planned = [...plan.oneOff, ...plan.steps];
  if (t.steps.length !== t.stepIds.length)
    throw new Error(`internal: the ${engine.name} engine returned backward samples for other steps than it named`);
  const steps = t.stepIds.map((id, i) => {
    const s = planned.find((x) => x.id === id);
    if (!s)
      throw new Error(`internal: the ${engine.name} engine timed the backward of ${id}, not a step of ${plan.name}`);
    return stepResult(
      {
        ...backwardStep(s),
        implementation: `the backward (vector-Jacobian product) of ${t.implementations[id] ?? s.name}`,
      },
      t.steps[i]!,
      timing,
      t.warmup,
      t.reps,
    );
  });
  const gradients = Object.entries(t.gradients)
    .filter(([name]) => !!ref[name])
    .map(([name, g]) => {
      const r = ref[name]!.values;
      const scale = maxAbs(r);
      const err = g.length === r.length ? maxAbsDiff(g, r) : Number.MAX_VALUE;
      const tol = tolerance(scale);
      return {
        name,
        reference: `${ref[name]!.variant}'s gradient`,
        maxAbsError: Number.isFinite(err) ? err : Number.MAX_VALUE,
        refScale: scale,
        tolerance: tol,
        correct: err <= tol,
      };
    });
  const notes: string[] = [];
  if (plan.oneOff.length)
    notes.push(
      `the one-off steps (${plan.oneOff.map((s) => s.name).join(', ')}) run on every training step: a kernel spectrum cannot be cached while the kernel trains`,
    );
  if (!gradients.length) notes.push('no reference gradient in this run: its gradients are the reference of the others');
  return {
    totalMs: { ...summarize(t.total), timing, reps: t.reps },
    backwardMs: { ...summarize(t.backward), timing, reps: t.reps },
    steps,
    backwardStepSumMs: steps.reduce((a, s) => a + s.median, 0),
    notes,
    gradients,
    ...(t.firstMs !== undefined ? { firstCallMs: t.firstMs } : {}),
    ...(t.peakMemoryBytes !== undefined ? { peakMemoryBytes: t.peakMemoryBytes } : {}),
  };
}

function stepResult(
  s: PlannedStep & { implementation: string },
  samples: number[],
  timing: TimingSource,
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
    ...(s.pass && s.pass !== 'forward' ? { pass: s.pass } : {}),
    timing: s.hostTimed ? 'wall-clock-sync' : timing,
    warmup,
    reps,
    ...summarize(samples),
  };
}
