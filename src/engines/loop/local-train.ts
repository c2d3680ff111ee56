/**
 * The local loop's training step (tfjs): forward + backward of the loss sum(out ⊙ R) — R the fixed weights of
 * src/core/reference.ts lossWeights, the loss the torch engine uses — with respect to the input and every
 * parameter, under the same loop policy as the forward pass. Timed by wall clock between syncs:
 *
 *   - the training step end to end: one VJP of the forward with upstream gradient R (the loss's gradient),
 *     from the call to its gradients synced;
 *   - the backward alone, in the same calls: from the forward's output (synced) to the gradients (synced);
 *   - each forward step's backward: its VJP with the upstream gradient it gets in the whole backward fixed
 *     (made once, untimed), from the step's recomputed output (synced) to its inputs' gradients (synced).
 *
 * Warm-up and repetitions: the policy's training rules (trainPolicy, trainRepetitions). One-off steps (the cached
 * kernel spectrum) run on every training step: a spectrum cannot be cached while
 * the kernel trains. Worker side.
 */
import { lossWeights } from '../../core/reference';
import { type LoopPolicy, trainPolicy, trainRepetitions, warmAgain } from '../../core/loop-policy';
import {
  type Autodiff,
  CancelledError,
  type LocalEngine,
  type LoopHooks,
  NoGradientError,
  type PreparedVariant,
  type TrainSamples,
} from '../engine';

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export async function measureTrainPrepared(
  engine: LocalEngine,
  ad: Autodiff,
  p: PreparedVariant,
  policy: LoopPolicy,
  hooks: LoopHooks,
  now: () => number,
): Promise<TrainSamples> {
  const trainable = p.trainable;
  if (!trainable) throw new NoGradientError(`the ${p.name} variant does not say what it trains on ${engine.name}`);
  const checkCancel = async () => {
    await yieldNow();
    if (hooks.isCancelled()) throw new CancelledError();
  };
  const chain = [...p.oneOff, ...p.steps];
  const n = chain.length;
  const names = Object.keys(trainable);
  const keys = names.flatMap((name) => trainable[name]!.keys);
  const params = keys.map((k) => {
    if (!p.persistent.has(k)) throw new Error(`internal: ${p.name} trains ${k}, which it does not hold`);
    return p.persistent.get(k);
  });
  const implementations: Record<string, string> = {};
  for (const s of chain) implementations[s.id] = s.implementation;
  /** The forward, every step from the persistent values (inside a VJP: its tape frees the intermediates). */
  const forward = () => {
    const env = new Map(p.persistent);
    for (const s of chain) env.set(s.writes, s.run(env));
    return env.get(p.output);
  };
  const owned: unknown[] = [];
  const disposeAll = (vs: Array<unknown | null>) => vs.forEach((v) => v != null && engine.dispose(v));
  try {
    // The loss's weights, shaped like the output of one untimed forward (not under a tape: freed here).
    const env0 = new Map(p.persistent);
    for (const s of chain) env0.set(s.writes, s.run(env0));
    const out0 = env0.get(p.output);
    const r = ad.constant(lossWeights(ad.size(out0)), out0);
    owned.push(r);
    for (const [k, v] of env0) if (!p.persistent.has(k)) engine.dispose(v);
    // One VJP of the forward with upstream gradient R per repetition: the clock reads at the start, once the
    // forward's output is synced (the backward starts) and once the gradients are — the training step and its
    // backward alone from the same calls. (R is the gradient of the loss sum(out ⊙ R): the loss's own product
    // and sum, two element-wise ops over the output, are not run.)
    const trainStep = () => {
      let tf = 0;
      const t0 = now();
      const g = ad.vjp(forward, params, r, (out) => {
        engine.sync(out);
        tf = now();
      });
      engine.sync(g);
      const t1 = now();
      return { g, ms: t1 - t0, backwardMs: t1 - tf };
    };
    const tp = trainPolicy(policy);
    const warm: number[] = [];
    while (warmAgain(tp, warm) || !warm.length) {
      hooks.onProgress({
        phase: 'warm-up',
        stepIndex: 0,
        stepCount: n,
        rep: warm.length,
        reps: Math.max(tp.warmup, warm.length + 1),
      });
      await checkCancel();
      const { g, ms } = trainStep();
      disposeAll(g);
      warm.push(ms);
    }
    const reps = trainRepetitions(policy, warm[warm.length - 1]!);
    const total: number[] = [];
    const backward: number[] = [];
    let grads: Array<unknown | null> = [];
    for (let i = 0; i < reps; i++) {
      hooks.onProgress({ phase: 'train', stepIndex: 0, stepCount: n, rep: i, reps });
      await checkCancel();
      disposeAll(grads);
      const { g, ms, backwardMs } = trainStep();
      grads = g;
      total.push(ms);
      backward.push(backwardMs);
    }
    owned.push(...grads);
    const steps = await perStepBackward(engine, ad, p, r, reps, hooks, checkCancel, now);
    const gradients: Record<string, Float32Array> = {};
    let at = 0;
    for (const name of names) {
      const spec = trainable[name]!;
      const gs = spec.keys.map((k, j) => grads[at + j] ?? ad.zerosLike(p.persistent.get(k)));
      at += spec.keys.length;
      const c = spec.canonical ? spec.canonical(gs) : gs[0];
      gradients[name] = await engine.read(c);
      if (!gs.includes(c)) engine.dispose(c);
      gs.forEach((g, j) => grads[at - spec.keys.length + j] == null && engine.dispose(g));
    }
    return {
      implementations,
      stepIds: chain.map((s) => s.id),
      total,
      backward,
      steps,
      reps,
      warmup: warm.length,
      firstMs: warm[0]!,
      gradients,
    };
  } finally {
    disposeAll(owned);
  }
}

/** Each step's backward: upstream gradients made once in reverse order, then every step's VJP timed per rep. */
async function perStepBackward(
  engine: LocalEngine,
  ad: Autodiff,
  p: PreparedVariant,
  r: unknown,
  reps: number,
  hooks: LoopHooks,
  checkCancel: () => Promise<void>,
  now: () => number,
): Promise<number[][]> {
  const chain = [...p.oneOff, ...p.steps];
  const env = new Map(p.persistent);
  const made: unknown[] = [];
  const upstream = new Map<string, unknown>();
  try {
    for (const s of chain) {
      const v = s.run(env);
      env.set(s.writes, v);
      made.push(v);
    }
    upstream.set(p.output, r);
    /** The steps with a backward: their output reaches the loss and they read something. */
    const live: boolean[] = chain.map(() => false);
    // The upstream gradients, each step's VJP in reverse order: timed like the repetitions below (every kernel is
    // warm by now), they are the first repetition.
    const per: number[][] = chain.map(() => []);
    for (let i = chain.length - 1; i >= 0; i--) {
      const s = chain[i]!;
      const g = upstream.get(s.writes);
      if (g === undefined || !s.reads.length) continue;
      hooks.onProgress({
        phase: 'per-step',
        step: `${s.name} (backward)`,
        stepIndex: i,
        stepCount: chain.length,
        rep: 0,
        reps,
      });
      await checkCancel();
      live[i] = true;
      let t0 = 0;
      const got = ad.vjp(
        () => s.run(env),
        s.reads.map((k) => env.get(k)),
        g,
        (out) => {
          engine.sync(out);
          t0 = now();
        },
      );
      engine.sync(got);
      per[i]!.push(now() - t0);
      got.forEach((gk, j) => {
        const k = s.reads[j]!;
        if (gk == null) return;
        if (p.persistent.has(k)) return engine.dispose(gk);
        const prev = upstream.get(k);
        if (prev === undefined) upstream.set(k, gk);
        else {
          upstream.set(k, ad.add(prev, gk));
          engine.dispose(prev);
          engine.dispose(gk);
        }
      });
    }
    for (const [i] of chain.entries()) if (!live[i]) per[i]!.push(0);
    for (let rep = 1; rep < reps; rep++) {
      for (const [i, s] of chain.entries()) {
        hooks.onProgress({
          phase: 'per-step',
          step: `${s.name} (backward)`,
          stepIndex: i,
          stepCount: chain.length,
          rep,
          reps,
        });
        await checkCancel();
        if (!live[i]) {
          per[i]!.push(0); // nothing that trains reaches it, or its output does not reach the loss: no backward
          continue;
        }
        let t0 = 0;
        const g = ad.vjp(
          () => s.run(env),
          s.reads.map((k) => env.get(k)),
          upstream.get(s.writes),
          (out) => {
            engine.sync(out);
            t0 = now();
          },
        );
        engine.sync(g);
        per[i]!.push(now() - t0);
        g.forEach((x) => x != null && engine.dispose(x));
      }
    }
    return per;
  } finally {
    made.forEach((v) => engine.dispose(v));
    for (const [k, v] of upstream) if (k !== p.output) engine.dispose(v);
  }
}
