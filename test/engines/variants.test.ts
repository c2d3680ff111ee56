import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../../src/core/data';
import { parseRun } from '../../src/core/run';
import { PADDINGS, type LayerSpec } from '../../src/core/spec';
import { profile } from '../../src/engines/profiler';
import { TfjsEngine } from '../../src/engines/tfjs/engine';
import { allSteps, gaussMinInChannels, planVariant, tfjsTraits } from '../../src/core/variants';
import { spec } from '../helpers';

const QUICK = {
  variants: ['spatial', 'spatial-equivalent', 'seed', 'optimized'] as const,
  warmup: 0,
  reps: 1,
  seed: 1,
  adaptiveBudgetMs: 0,
};

function randomSpec(r: () => number, i: number): LayerSpec {
  const padding = PADDINGS[i % PADDINGS.length]!;
  const H = 2 + Math.floor(r() * 9),
    W = 2 + Math.floor(r() * 9);
  const bound = padding === 'circular' || padding === 'valid';
  // unbounded paddings also get kernels up to twice the image (the transform must still hold them)
  const kh = 1 + Math.floor(r() * (bound ? H : 2 * H + 3));
  const kw = 1 + Math.floor(r() * (bound ? W : 2 * W + 3));
  const inChannels = [1, 2, 3, gaussMinInChannels('cpu') + 1][Math.floor(r() * 4)]!;
  return spec({
    batch: 1 + Math.floor(r() * 3),
    height: H,
    width: W,
    inChannels,
    outChannels: 1 + Math.floor(r() * 4),
    kernelH: kh,
    kernelW: kw,
    spatialKernel: [1, 3, 5][Math.floor(r() * 3)]!,
    padding,
    layout: r() < 0.5 ? 'NHWC' : 'NCHW',
  });
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`every variant equals its spatial reference on random small shapes (${backend})`, async () => {
    const engine = await TfjsEngine.create(backend);
    assert.equal(engine.backend, backend);
    const r = rng(backend === 'wasm' ? 11 : 12);
    const cases = backend === 'wasm' ? 40 : 16;
    for (let i = 0; i < cases; i++) {
      const s = randomSpec(r, i);
      const run = await profile(engine, s, { ...QUICK, variants: [...QUICK.variants], seed: i + 1 });
      parseRun(JSON.parse(JSON.stringify(run)));
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      for (const v of run.variants) {
        assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError}`);
        assert.ok(v.checkedPoints > 0);
      }
      // The cost model's plan of each pipeline is the pipeline the engine ran: same steps, shapes, FLOPs, bytes, kinds.
      for (const v of run.variants) {
        const plan = planVariant(v.name, s, tfjsTraits(backend));
        assert.equal(v.title, plan.title);
        assert.ok(v.reference.startsWith(plan.reference), `${v.reference} vs ${plan.reference}`);
        const ran = v.steps.map((x) => ({
          id: x.id,
          name: x.name,
          category: x.category,
          inputShapes: x.inputShapes,
          outputShape: x.outputShape,
          flops: x.flops,
          bytes: x.bytes,
          kind: x.kind,
          oneOff: x.oneOff,
          inLayer: x.inLayer,
        }));
        const planned = allSteps(plan).map((x) => ({
          id: x.id,
          name: x.name,
          category: x.category,
          inputShapes: x.inputShapes,
          outputShape: x.outputShape,
          flops: x.flops,
          bytes: x.bytes,
          kind: x.kind,
          oneOff: x.oneOff,
          inLayer: x.inLayer,
        }));
        assert.deepEqual(ran, planned, `${v.name} plan for ${JSON.stringify(s)}`);
      }
    }
  });
}

test('a broken variant fails the run loudly instead of reporting its time', async () => {
  const engine = await TfjsEngine.create('wasm');
  const s = spec({
    batch: 1,
    height: 6,
    width: 6,
    inChannels: 1,
    outChannels: 2,
    kernelH: 3,
    kernelW: 3,
    padding: 'same',
  });
  const original = engine.prepare.bind(engine);
  engine.prepare = (name, sp, data) => {
    const p = original(name, sp, data);
    if (name === 'optimized') {
      const last = p.steps[p.steps.length - 1]!;
      const run = last.run;
      last.run = (env) => {
        const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
        return tf.tidy(() => tf.mul(run(env) as import('@tensorflow/tfjs-core').Tensor, 1.01));
      };
    }
    return p;
  };
  const run = await profile(engine, s, { ...QUICK, variants: ['optimized'] });
  assert.equal(run.status, 'failed');
  assert.match(run.failure!, /optimized does not compute the same function/);
  assert.equal(run.variants[0]!.correct, false);
});

test('profiling leaks no tensors: the live count is the same after a second run', async () => {
  const engine = await TfjsEngine.create('wasm');
  const s = spec({
    batch: 2,
    height: 7,
    width: 6,
    inChannels: 3,
    outChannels: 2,
    kernelH: 4,
    kernelW: 3,
    padding: 'linear',
  });
  await profile(engine, s, { ...QUICK, variants: [...QUICK.variants], reps: 2 });
  const before = engine.memory().tensors;
  await profile(engine, s, { ...QUICK, variants: [...QUICK.variants], reps: 2 });
  assert.equal(engine.memory().tensors, before);
});

test('steps carry shapes, FLOPs, bytes, the implementation that ran and the timing source', async () => {
  const engine = await TfjsEngine.create('wasm');
  const run = await profile(engine, spec({ batch: 2, height: 8, width: 8, outChannels: 4, kernelH: 8, kernelW: 8 }), {
    ...QUICK,
    variants: ['seed', 'optimized'],
    reps: 3,
  });
  const seed = run.variants.find((v) => v.name === 'seed')!;
  assert.deepEqual(
    seed.steps.map((s) => s.name),
    ['rfft2d(input)', 'rfft2d(kernel)', 'transpose', 'einsum', 'transpose', 'irfft2d'],
  );
  assert.deepEqual(
    seed.steps.map((s) => s.inLayer),
    [false, true, true, true, false, false],
  );
  // Outside the layer every spectral variant uses the same transforms: GEMMs against cached DFT matrices.
  for (const v of [seed, run.variants.find((x) => x.name === 'optimized')!])
    for (const st of v.steps.filter((x) => !x.inLayer && /transform/.test(x.category ?? '')))
      assert.match(st.implementation, /against cached DFT matrices/, `${v.name}/${st.id}`);
  assert.match(seed.steps[3]!.implementation, /batchMatMul/);
  const opt = run.variants.find((v) => v.name === 'optimized')!;
  const oneOff = opt.steps.filter((s) => s.oneOff);
  assert.deepEqual(
    oneOff.map((s) => s.name),
    ['rfft2d(kernel)'],
  );
  assert.ok(!opt.steps.some((s) => s.name === 'einsum'), 'optimized has no einsum');
  assert.match(opt.steps.find((s) => s.id === 'multiply')!.implementation, /broadcast multiply/);
  for (const v of run.variants) {
    assert.ok(v.layerMs && v.layerMs.median > 0);
    assert.ok(Math.abs(v.stepSumMs - v.steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0)) < 1e-9);
    for (const s of v.steps) {
      assert.equal(s.timing, 'wall-clock-sync');
      assert.equal(s.samples.length, s.oneOff ? Math.min(3, 5) : v.totalMs.reps);
      assert.ok(s.p10 <= s.median && s.median <= s.p90);
      assert.ok(s.bytes > 0 && s.outputShape.length > 0);
    }
  }
});

test('an engine made active again after another engine ran in the same process runs on its own backend', async () => {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await TfjsEngine.create('wasm');
  const cpu = await TfjsEngine.create('cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const s = spec({ batch: 1, height: 5, width: 5, outChannels: 2, kernelH: 3, kernelW: 3 });
  let seen = '';
  const run = await profile(
    wasm,
    s,
    { ...QUICK, variants: ['spatial'] },
    {
      onProgress: () => {
        seen = tf.getBackend();
      },
    },
  );
  assert.equal(run.backend, 'wasm');
  assert.equal(seen, 'wasm');
  await profile(cpu, s, { ...QUICK, variants: ['spatial'] });
  assert.equal(tf.getBackend(), 'cpu');
});

test('an engine that times on the device (GPU events) is timed by it: steps, totals and layer times come from measure()', async () => {
  const engine = await TfjsEngine.create('wasm');
  let launches = 0;
  const measured = Object.assign(Object.create(engine) as TfjsEngine, {
    timing: 'gpu-events' as const,
    // a device that takes 2.5 ms per launch, whatever the host clock says
    measure<T>(launch: () => T) {
      launches++;
      return { value: launch(), ms: 2.5 };
    },
  });
  const run = await profile(
    measured,
    spec({ batch: 1, height: 6, width: 6, inChannels: 1, outChannels: 2, kernelH: 3, kernelW: 3, padding: 'same' }),
    { ...QUICK, variants: ['spatial-equivalent', 'optimized'], reps: 3 },
  );
  assert.equal(run.status, 'ok');
  for (const v of run.variants) {
    assert.ok(
      v.steps.every((s) => s.median === 2.5 && s.timing === 'gpu-events'),
      `${v.name} steps`,
    );
    assert.equal(v.totalMs.median, 2.5);
    assert.equal(v.totalMs.timing, 'gpu-events');
  }
  assert.equal(run.variants.find((v) => v.name === 'optimized')!.layerMs?.median, 2.5);
  assert.ok(launches > 10);
});
