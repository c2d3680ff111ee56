/**
 * The training step on tfjs (the local loop through tfjs's tape): every spectral variant's gradients equal
 * spatial-equivalent's on random shapes (all paddings, both layouts), spatial-equivalent's input gradient equals
 * the naive convolution's, the per-step backward covers every step, FNO mode-weight gradients are checked, the
 * wasm filter-gradient kernel equals tfjs cpu's, and nothing leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { flipKernel, makeLayerData, rng } from '../../src/core/data';
import { loopPolicy } from '../../src/core/loop-policy';
import { correlateAt, equivalentCorrelation, lossWeights, maxAbs, maxAbsDiff } from '../../src/core/reference';
import { parseRun } from '../../src/core/run';
import { PADDINGS, type LayerSpec, fnoSpec, geometry } from '../../src/core/spec';
import { allSteps, planVariant, tfjsTraits } from '../../src/core/variants';
import { localLoop } from '../../src/engines/loop/local';
import { profile } from '../../src/engines/profiler';
import { TfjsEngine } from '../../src/engines/tfjs/engine';
import { spec } from '../helpers';

const QUICK = { warmup: 0, reps: 1, seed: 1, adaptiveBudgetMs: 0, pass: 'both' as const };

function randomSpec(r: () => number, i: number): LayerSpec {
  const padding = PADDINGS[i % PADDINGS.length]!;
  const H = 2 + Math.floor(r() * 7),
    W = 2 + Math.floor(r() * 7);
  const bound = padding === 'circular' || padding === 'valid';
  return spec({
    batch: 1 + Math.floor(r() * 2),
    height: H,
    width: W,
    inChannels: [1, 2, 3][Math.floor(r() * 3)]!,
    outChannels: 1 + Math.floor(r() * 3),
    kernelH: 1 + Math.floor(r() * (bound ? H : H + 2)),
    kernelW: 1 + Math.floor(r() * (bound ? W : W + 2)),
    spatialKernel: [1, 3][Math.floor(r() * 2)]!,
    padding,
    layout: r() < 0.5 ? 'NHWC' : 'NCHW',
  });
}

test('the training step on tfjs/wasm: every spectral variant gradient equals spatial-equivalent, per-step backward for every step, all paddings and layouts', async () => {
  const engine = await TfjsEngine.create('wasm');
  const r = rng(61);
  for (let i = 0; i < 12; i++) {
    const s = randomSpec(r, i);
    const variants = ['spatial', 'spatial-equivalent', 'seed', 'optimized'] as const;
    // The complex kit caches DFT matrices per size: a forward run first, then the training run must add nothing.
    await profile(engine, s, { ...QUICK, pass: 'forward', variants: [...variants] });
    const before = engine.memory().tensors;
    const run = await profile(engine, s, { ...QUICK, variants: [...variants] });
    parseRun(JSON.parse(JSON.stringify(run)));
    assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
    assert.equal(engine.memory().tensors, before, `tensors leaked by ${JSON.stringify(s)}`);
    for (const v of run.variants) {
      const t = v.train!;
      assert.ok(t, `${v.name}: a training step (${run.engineNotes.join('; ')})`);
      assert.ok(t.totalMs.median > 0 && t.backwardMs.median > 0 && t.backwardMs.median <= t.totalMs.median);
      const plan = allSteps(planVariant(v.name, s, tfjsTraits('wasm')));
      assert.deepEqual(
        t.steps.map((x) => x.id),
        plan.map((x) => `${x.id}.backward`),
      );
      assert.ok(t.steps.every((x) => x.pass === 'backward' && x.median >= 0));
      if (v.name === 'seed' || v.name === 'optimized')
        assert.deepEqual(
          t.gradients.map((g) => [g.name, g.reference, g.correct]),
          [
            ['input', "spatial-equivalent's gradient", true],
            ['kernel', "spatial-equivalent's gradient", true],
          ],
          `${v.name} ${JSON.stringify(s)}: ${JSON.stringify(t.gradients)}`,
        );
      if (v.name === 'spatial') assert.deepEqual(t.gradients, []);
    }
  }
  engine.shutdown();
});

test("spatial-equivalent's input and kernel gradients on tfjs/wasm equal the naive convolution's (linear loss)", async () => {
  const engine = await TfjsEngine.create('wasm');
  const loop = localLoop(engine);
  for (const padding of PADDINGS) {
    for (const layout of ['NHWC', 'NCHW'] as const) {
      const s = spec({
        batch: 1,
        height: 5,
        width: 4,
        inChannels: 2,
        outChannels: 2,
        kernelH: 3,
        kernelW: 2,
        padding,
        layout,
      });
      const data = makeLayerData(s, 3);
      await loop.load(s, data);
      const t = await loop.measureTrain!(planVariant('spatial-equivalent', s, loop.traits), loopPolicy(0, 1, 0), {
        onProgress: () => {},
        isCancelled: () => false,
      });
      const corr = equivalentCorrelation(s);
      const g = geometry(s);
      const R = lossWeights(g.outH * g.outW * s.outChannels);
      const at = (i: number, j: number, o: number) =>
        layout === 'NHWC' ? (i * g.outW + j) * s.outChannels + o : (o * g.outH + i) * g.outW + j;
      /** The loss is sum(out ⊙ R), linear in x and in w: dL/dx_k = L(e_k, w), dL/dw_k = L(x, e_k). */
      const loss = (x: Float32Array, kernel: Float32Array) => {
        const w = flipKernel(kernel, s.kernelH, s.kernelW, s.inChannels, s.outChannels);
        let sum = 0;
        for (let i = 0; i < g.outH; i++)
          for (let j = 0; j < g.outW; j++)
            for (let o = 0; o < s.outChannels; o++) sum += R[at(i, j, o)]! * correlateAt(corr, x, w, 0, i, j, o);
        return sum;
      };
      const basis = (n: number, k: number) => {
        const e = new Float32Array(n);
        e[k] = 1;
        return e;
      };
      const dx = Float32Array.from(data.input, (_, k) => loss(basis(data.input.length, k), data.kernel));
      const dw = Float32Array.from(data.kernel, (_, k) => loss(data.input, basis(data.kernel.length, k)));
      const tol = (ref: Float32Array) => 1e-4 * Math.max(1, maxAbs(ref));
      assert.ok(maxAbsDiff(t.gradients.input!, dx) <= tol(dx), `${padding} ${layout} input`);
      assert.ok(maxAbsDiff(t.gradients.kernel!, dw) <= tol(dw), `${padding} ${layout} kernel`);
    }
  }
  engine.shutdown();
});

test("wasm's convolution gradients (the profiler's filter gradient, tfjs's data gradient) equal tfjs cpu's", async () => {
  const engine = await TfjsEngine.create('wasm');
  const r = rng(7);
  const cases: Array<{ x: number[]; k: number[]; pad: 'same' | 'valid' }> = [];
  for (let i = 0; i < 10; i++) {
    const H = 2 + Math.floor(r() * 7),
      W = 2 + Math.floor(r() * 7);
    const kh = 1 + Math.floor(r() * H),
      kw = 1 + Math.floor(r() * W);
    cases.push({
      x: [1 + Math.floor(r() * 3), H, W, 1 + Math.floor(r() * 3)],
      k: [kh, kw, 0, 1 + Math.floor(r() * 3)],
      pad: i % 2 ? 'same' : 'valid',
    });
  }
  const grads = async (backend: string) => {
    await tf.setBackend(backend);
    const out: Float32Array[] = [];
    for (const [i, c] of cases.entries()) {
      const shape = [c.k[0]!, c.k[1]!, c.x[3]!, c.k[3]!] as [number, number, number, number];
      const x = tf.randomNormal(c.x as [number, number, number, number], 0, 1, 'float32', i + 1) as tf.Tensor4D;
      const w = tf.randomNormal(shape, 0, 1, 'float32', i + 100) as tf.Tensor4D;
      const dy = tf.tidy(() => tf.randomNormal(tf.conv2d(x, w, 1, c.pad).shape as number[], 0, 1, 'float32', i + 200));
      const g = tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        {
          strides: 1,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: shape,
        },
      ) as tf.Tensor;
      const dx = tf.engine().runKernel(
        'Conv2DBackpropInput',
        { dy, filter: w },
        {
          strides: 1,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        },
      ) as tf.Tensor;
      out.push((await g.data()) as Float32Array, (await dx.data()) as Float32Array);
      tf.dispose([x, w, dy, g, dx]);
    }
    return out;
  };
  await import('@tensorflow/tfjs-backend-cpu');
  const wasm = await grads('wasm');
  const cpu = await grads('cpu');
  await engine.activate();
  assert.equal(wasm.length, 2 * cases.length);
  for (const [i, g] of wasm.entries())
    assert.ok(
      maxAbsDiff(g, cpu[i]!) <= 1e-4 * Math.max(1, maxAbs(cpu[i]!)),
      `${i % 2 ? 'data' : 'filter'} gradient, case ${JSON.stringify(cases[i >> 1])}`,
    );
  engine.shutdown();
});

test('FNO training step on tfjs/wasm: fno and optimized gradients (input, mode weights) equal the reference; out_ft zeros have no backward', async () => {
  const engine = await TfjsEngine.create('wasm');
  const r = rng(71);
  for (let i = 0; i < 6; i++) {
    const H = 3 + Math.floor(r() * 8),
      W = 3 + Math.floor(r() * 8);
    const centered = i % 2 === 1;
    const s = fnoSpec({
      batch: 1 + Math.floor(r() * 2),
      height: H,
      width: W,
      inChannels: [1, 2, 3][Math.floor(r() * 3)]!,
      outChannels: 1 + Math.floor(r() * 3),
      modes: centered ? [1 + Math.floor(r() * H), 1 + Math.floor(r() * W)] : [1 + Math.floor(H / 4), 1],
      modesConvention: centered ? 'centered' : 'corners',
    });
    const withEq = i % 3 === 0;
    const variants = withEq ? (['spatial-equivalent', 'fno', 'optimized'] as const) : (['fno', 'optimized'] as const);
    const run = await profile(engine, s, { ...QUICK, variants: [...variants], seed: i + 1 });
    assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
    const opt = run.variants.find((v) => v.name === 'optimized')!.train!;
    assert.deepEqual(
      opt.gradients.map((g) => [g.name, g.reference, g.correct]),
      [
        ['input', withEq ? "spatial-equivalent's gradient" : "fno's gradient", true],
        ['modeWeights', "fno's gradient", true],
      ],
      JSON.stringify(opt.gradients),
    );
    assert.ok(opt.gradients.every((g) => g.refScale > 0));
    const fno = run.variants.find((v) => v.name === 'fno')!.train!;
    assert.equal(fno.steps.find((x) => x.id === 'zeros-out-ft.backward')?.median, 0);
  }
  engine.shutdown();
});
