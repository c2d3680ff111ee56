/**
 * The local measuring loop: a variant prepared by a local engine (tfjs, the native CUDA engine) timed in the
 * worker process, under the loop policy (src/core/loop-policy.ts) that the Python loop obeys too. Per
 * variant: one-off steps (timed, cached), warm-up until stable, per-step timing with a sync after every step,
 * the end-to-end time without per-step syncs, and the layer-only time for spectral variants. Returns raw
 * samples; the profiler checks and assembles them.
 */
import type { LayerData } from '../../core/data';
import type { LayerSpec } from '../../core/spec';
import { type VariantPlan, asVariantName, pipelineOf, traitsFor } from '../../core/variants';
import { type LoopPolicy, repetitions, warmAgain } from '../../core/loop-policy';
import {
  CancelledError,
  type Env,
  type LocalEngine,
  type LoopHooks,
  type MeasuringLoop,
  type PreparedVariant,
  type Samples,
  type StepDef,
} from '../engine';
import { measureTrainPrepared } from './local-train';

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/** The local loop over `engine`; `now` is the clock (injected by tests). */
export function localLoop(engine: LocalEngine, now: () => number = () => performance.now()): MeasuringLoop {
  let layer: { spec: LayerSpec; data: LayerData } | undefined;
  const prepare = (plan: VariantPlan): PreparedVariant => {
    if (!layer) throw new Error('internal: load the layer before measuring');
    return engine.prepare(asVariantName(plan.name), layer.spec, layer.data);
  };
  return {
    traits: traitsFor(pipelineOf({ engine: engine.name, backend: engine.backend })),
    load: async (spec, data) => {
      layer = { spec, data };
    },
    measure: async (plan, policy, hooks) => {
      const p = prepare(plan);
      try {
        return await measurePrepared(engine, p, policy, hooks, now);
      } finally {
        p.dispose();
      }
    },
    ...(engine.autodiff
      ? {
          measureTrain: async (plan: VariantPlan, policy: LoopPolicy, hooks: LoopHooks) => {
            const p = prepare(plan);
            try {
              return await measureTrainPrepared(engine, engine.autodiff!, p, policy, hooks, now);
            } finally {
              p.dispose();
            }
          },
        }
      : {}),
    output: async (plan) => {
      const p = prepare(plan);
      try {
        const env = new Map(p.persistent);
        for (const s of [...p.oneOff, ...p.steps]) env.set(s.writes, s.run(env));
        const out = await engine.read(env.get(p.output));
        for (const [k, v] of env) if (!p.persistent.has(k)) engine.dispose(v);
        return out;
      } finally {
        p.dispose();
      }
    },
  };
}

/** Env keys whose last reader is step i (and that are not persistent): dispose after step i. */
function deathPlan(steps: StepDef[], persistent: Env, output: string): string[][] {
  const last = new Map<string, number>();
  steps.forEach((s, i) => s.reads.forEach((r) => last.set(r, i)));
  const plan: string[][] = steps.map(() => []);
  for (const [k, i] of last) if (!persistent.has(k) && k !== output) plan[i]!.push(k);
  return plan;
}

async function measurePrepared(
  engine: LocalEngine,
  p: PreparedVariant,
  policy: LoopPolicy,
  hooks: LoopHooks,
  now: () => number,
): Promise<Samples> {
  const progress = hooks.onProgress;
  const checkCancel = async () => {
    await yieldNow();
    if (hooks.isCancelled()) throw new CancelledError();
  };
  const persistent: Env = new Map(p.persistent);
  /** The engine's own device timing when it has one (GPU events), else wall clock between syncs. */
  const timed = <T>(launch: () => T, host = false): { value: T; ms: number } => {
    if (engine.measure && !host) return engine.measure(launch);
    const ta = now();
    const value = launch();
    engine.sync(value);
    return { value, ms: now() - ta };
  };
  const implementations: Record<string, string> = {};
  for (const s of [...p.oneOff, ...p.steps]) implementations[s.id] = s.implementation;
  try {
    // One-off steps (the cached kernel spectrum, FFT plans): time them, keep the last output.
    const oneOff: number[][] = [];
    for (const [i, s] of p.oneOff.entries()) {
      const samples: number[] = [];
      const n = Math.max(1, Math.min(policy.reps, 5));
      let kept: unknown;
      for (let r = 0; r < 1 + n; r++) {
        progress({ phase: 'one-off', step: s.name, stepIndex: i, stepCount: p.oneOff.length, rep: r, reps: 1 + n });
        await checkCancel();
        const { value: out, ms } = timed(() => s.run(persistent), !!s.hostTimed);
        if (r > 0) samples.push(ms);
        if (kept !== undefined) engine.dispose(kept);
        kept = out;
      }
      persistent.set(s.writes, kept);
      oneOff.push(samples);
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
    const runOnce = async (perStep: number[] | undefined, keep: boolean, onStep?: (i: number) => void) => {
      const env: Env = new Map(persistent);
      for (let i = 0; i < p.steps.length; i++) {
        const s = p.steps[i]!;
        onStep?.(i);
        if (perStep) {
          const { value, ms } = timed(() => s.run(env));
          perStep[i] = ms;
          env.set(s.writes, value);
        } else env.set(s.writes, s.run(env));
        for (const k of deaths[i]!) {
          engine.dispose(env.get(k));
          env.delete(k);
        }
        await checkCancel();
      }
      const out = env.get(p.output);
      engine.sync(out);
      if (keep) return out;
      engine.dispose(out);
      return undefined;
    };
    // Warm-up: first calls build caches and plans and JIT the kernels; then until stable (the policy).
    const warm: number[] = [];
    while (warmAgain(policy, warm)) {
      progress({
        phase: 'warm-up',
        stepIndex: 0,
        stepCount: p.steps.length,
        rep: warm.length,
        reps: Math.max(policy.warmup, warm.length + 1),
      });
      const ta = now();
      await runOnce(undefined, false);
      warm.push(now() - ta);
    }
    let warmMs = warm[warm.length - 1];
    if (warmMs === undefined) {
      const ta = now();
      await runOnce(undefined, false);
      warmMs = now() - ta;
    }
    const reps = repetitions(policy, warmMs);
    // Per-step timing: explicit sync at every step boundary.
    const per: number[][] = p.steps.map(() => []);
    let output: unknown;
    for (let r = 0; r < reps; r++) {
      const times: number[] = [];
      const last = r === reps - 1;
      const out = await runOnce(times, last, (i) =>
        progress({ phase: 'per-step', step: p.steps[i]!.name, stepIndex: i, stepCount: p.steps.length, rep: r, reps }),
      );
      if (last) output = out;
      times.forEach((t, i) => per[i]!.push(t));
    }
    const outData = await engine.read(output);
    engine.dispose(output);
    // End to end, no per-step syncs: the number to compare with Conv2D.
    const e2e: number[] = [];
    const faults0 = minorFaults();
    for (let r = 0; r < reps; r++) {
      progress({ phase: 'end-to-end', stepIndex: 0, stepCount: p.steps.length, rep: r, reps });
      await checkCancel();
      const { value: out, ms } = timed(passNoSync);
      engine.dispose(out);
      e2e.push(ms);
    }
    const faults1 = minorFaults();
    // Layer only (spectral variants whose layer is a part of the pipeline, as the seed's): from the input
    // spectrum to the output spectrum. An FNO layer is the whole pipeline: its end to end is its layer time.
    let layerSamples: number[] | null = null;
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
    return {
      implementations,
      oneOff,
      steps: per,
      e2e,
      layer: layerSamples,
      reps,
      warmup: warm.length,
      ...(warm.length ? { firstMs: warm[0]! } : {}),
      output: outData,
      ...(p.algorithms ? { algorithms: p.algorithms } : {}),
      ...(faults0 !== undefined && faults1 !== undefined && reps
        ? { minorFaultsPerCall: (faults1 - faults0) / reps }
        : {}),
    };
  } finally {
    for (const [k, v] of persistent) if (!p.persistent.has(k)) engine.dispose(v);
  }
}

/** Minor page faults of this (worker) process so far, where Node can tell (process.resourceUsage). */
function minorFaults(): number | undefined {
  try {
    return process.resourceUsage().minorPageFault;
  } catch {
    return undefined;
  }
}
