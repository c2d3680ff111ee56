import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../../src/core/data';
import { parseRun } from '../../src/core/run';
import { PADDINGS, type LayerSpec } from '../../src/core/spec';
import { CudaEngine, filterLayout } from '../../src/engines/cuda/engine';
import { profile } from '../../src/engines/profiler';
import { EngineUnavailableError } from '../../src/engines/engine';
import { CUDA_TRAITS, allSteps, planVariant } from '../../src/core/variants';
import { spec } from '../helpers';
import { FakeCuda } from './fake-cuda';

const ALL = {
  variants: ['spatial', 'spatial-equivalent', 'seed', 'optimized'] as (
    'spatial' | 'spatial-equivalent' | 'seed' | 'optimized'
  )[],
  warmup: 1,
  reps: 2,
  seed: 1,
  adaptiveBudgetMs: 0,
};

function randomSpec(r: () => number, i: number): LayerSpec {
  const padding = PADDINGS[i % PADDINGS.length]!;
  const H = 2 + Math.floor(r() * 5),
    W = 2 + Math.floor(r() * 5);
  const bound = padding === 'circular' || padding === 'valid';
  return spec({
    batch: 1 + Math.floor(r() * 2),
    height: H,
    width: W,
    inChannels: [1, 2, 3][Math.floor(r() * 3)]!,
    outChannels: 1 + Math.floor(r() * 3),
    kernelH: 1 + Math.floor(r() * (bound ? H : H + 2)),
    kernelW: 1 + Math.floor(r() * (bound ? W : W + 2)),
    spatialKernel: [1, 2, 3][Math.floor(r() * 3)]!,
    padding,
    layout: r() < 0.5 ? 'NHWC' : 'NCHW',
  });
}

test("the CUDA engine's four pipelines compute what their references compute (host implementation of the addon, random shapes)", async () => {
  const r = rng(31);
  for (let i = 0; i < 24; i++) {
    const fake = new FakeCuda();
    const engine = CudaEngine.create(fake, []);
    const s = randomSpec(r, i);
    const run = await profile(engine, s, { ...ALL, seed: i + 1 });
    parseRun(JSON.parse(JSON.stringify(run)));
    assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
    for (const v of run.variants) {
      assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError}`);
      // What ran is the variant's plan for the CUDA executors: the steps the cost model prices.
      const plan = allSteps(planVariant(v.name, s, CUDA_TRAITS)).map((x) => [
        x.id,
        x.kind,
        x.flops,
        x.bytes,
        x.inLayer,
        x.oneOff,
      ]);
      assert.deepEqual(
        v.steps.map((x) => [x.id, x.kind, x.flops, x.bytes, x.inLayer, x.oneOff]),
        plan,
        `${v.name} plan for ${JSON.stringify(s)}`,
      );
    }
    engine.shutdown();
    assert.equal(fake.allocated(), 0, 'shutdown frees everything');
  }
});

test('every step is timed by CUDA events on the device clock, the cuDNN algorithm table is in the run, and nothing leaks between variants', async () => {
  const fake = new FakeCuda({ msPerLaunch: 0.5 });
  const engine = CudaEngine.create(fake, []);
  assert.match(engine.device, /^GPU Fake GPU \(sm 9\.0, 8 SMs, 1\.0 of 1\.0 GiB free\)/);
  const run = await profile(
    engine,
    spec({ batch: 1, height: 4, width: 4, inChannels: 2, outChannels: 2, kernelH: 3, kernelW: 3, padding: 'same' }),
    ALL,
  );
  for (const v of run.variants)
    for (const st of v.steps)
      assert.equal(st.timing, st.id === 'fft-plans' ? 'wall-clock-sync' : 'gpu-events', `${v.name}/${st.id}`);
  const opt = run.variants.find((v) => v.name === 'optimized')!;
  // rfft2d(input) here is NHWC → NCHW + pad + R2C: three launches of 0.5 ms on the fake device
  assert.equal(opt.steps.find((x) => x.id === 'rfft2d-input')!.median, 1.5);
  assert.equal(opt.steps.find((x) => x.id === 'multiply')!.median, 0.5);
  assert.equal(opt.totalMs.median, opt.stepSumMs, 'end to end = the sum of the launches');
  const plans = opt.steps.find((x) => x.id === 'fft-plans')!;
  assert.ok(
    plans.oneOff && plans.timing === 'wall-clock-sync',
    'plan creation is its own one-off step, timed on the host',
  );
  assert.match(plans.implementation, /^cufftPlanMany: R2C 4 × 5×5, R2C 2 × 5×5, C2R 2 × 5×5 — host time/);
  assert.ok(fake.destroyed > 0, 'repeated plan creation destroys the previous plans');
  const eq = run.variants.find((v) => v.name === 'spatial-equivalent')!;
  assert.deepEqual(
    eq.algorithms?.map((a) => a.algo),
    ['IMPLICIT_PRECOMP_GEMM', 'FFT', 'WINOGRAD'],
  );
  assert.match(
    eq.steps.find((x) => x.id === 'conv2d')!.implementation,
    /^cuDNN IMPLICIT_PRECOMP_GEMM \(the fastest of 3/,
  );
  assert.equal(fake.allocated(), 0, 'each variant frees its buffers');
  engine.shutdown();
});

test('a long-lived worker leaks nothing: plans and prepared convolutions go with their variant; events time only launches; the convolution runs with FP32 FMA math', async () => {
  const fake = new FakeCuda({ msPerLaunch: 0.5 });
  const engine = CudaEngine.create(fake, []);
  const s = spec({ batch: 1, height: 5, width: 5, inChannels: 2, outChannels: 3, kernelH: 5, kernelW: 5 });
  for (let i = 0; i < 3; i++) {
    const run = await profile(engine, s, ALL);
    assert.equal(run.status, 'ok', run.failure);
    assert.deepEqual(fake.stats(), { plans: 0, convs: 0, buffers: 0 }, `after run ${i + 1}`);
    assert.deepEqual(run.resources, { plans: 0, convs: 0, buffers: 0 }, 'the run records what was left');
  }
  // Between the start and the stop event only launches: no descriptor, workspace, plan or allocation work.
  assert.deepEqual(fake.hostWorkInTimed, []);
  assert.ok(fake.mathRun.length > 0 && fake.mathRun.every((m) => m === 'FMA'), fake.mathRun.join());
  const run = await profile(engine, s, ALL);
  const conv = run.variants.find((v) => v.name === 'spatial-equivalent')!.steps.find((x) => x.id === 'conv2d')!;
  assert.match(conv.implementation, /FP32 FMA math, TF32 off/);
  engine.shutdown();
});

test('without cuDNN the spatial variants are skipped with the reason and the spectral ones are checked on the host', async () => {
  const fake = new FakeCuda({ noCudnn: true });
  const engine = CudaEngine.create(fake, []);
  const run = await profile(
    engine,
    spec({ batch: 1, height: 6, width: 6, inChannels: 1, outChannels: 2, kernelH: 6, kernelW: 6 }),
    ALL,
  );
  assert.equal(run.status, 'ok', run.failure);
  assert.deepEqual(
    run.variants.map((v) => v.name),
    ['seed', 'optimized'],
  );
  for (const v of run.variants) {
    assert.match(v.reference, /^naive direct circular convolution/);
    assert.ok(v.correct);
  }
  assert.ok(run.engineNotes.some((n) => /^spatial-equivalent not run: cuDNN is not usable here/.test(n)));
  await assert.rejects(
    profile(engine, spec({ batch: 1, height: 4, width: 4, kernelH: 4, kernelW: 4 }), { ...ALL, variants: ['spatial'] }),
    /engine cuda cannot run spatial \(cuDNN is not usable/,
  );
  engine.shutdown();
});

test('a sticky CUDA error marks the engine for a restart (its context is poisoned)', () => {
  const fake = new FakeCuda();
  const engine = CudaEngine.create(fake, []);
  assert.equal(engine.alive, true);
  fake.synchronize = () => {
    throw Object.assign(new Error('cudaDeviceSynchronize failed: cudaErrorIllegalAddress (700)'), {
      name: 'CudaError',
      call: 'cudaDeviceSynchronize',
      code: 700,
      codeName: 'cudaErrorIllegalAddress',
      outOfMemory: false,
      sticky: true,
    });
  };
  assert.throws(() => engine.sync());
  assert.equal(engine.alive, false);
  assert.match(engine.restartRequired!, /cudaErrorIllegalAddress/);
});

test('out of device memory is a named error with the call that failed, and what was allocated is freed', async () => {
  const fake = new FakeCuda({ memory: 64 * 1024 });
  const engine = CudaEngine.create(fake, []);
  const big = spec({ batch: 4, height: 28, width: 28, inChannels: 1, outChannels: 8, kernelH: 28, kernelW: 28 });
  assert.throws(
    () =>
      engine.prepare('optimized', big, {
        input: new Float32Array(4 * 784),
        inputShape: [4, 28, 28, 1],
        kernel: new Float32Array(784 * 8),
        spatialKernel: new Float32Array(9 * 8),
      }),
    (e: unknown) =>
      (e as Error).name === 'OutOfMemoryError' &&
      /cudaMalloc\(\d+ bytes\) failed: cudaErrorMemoryAllocation/.test((e as Error).message),
  );
  assert.equal(fake.allocated(), 0);
  engine.shutdown();
});

test('the engine is unavailable, with the reason, when the driver or a library is missing', () => {
  const noDriver = Object.assign(new FakeCuda(), {
    discover: () => ({
      libraries: [],
      driver: { ok: false, reason: 'no CUDA driver: libcuda.so.1 not found', devices: [] },
    }),
  });
  assert.throws(
    () => CudaEngine.create(noDriver, []),
    (e: unknown) => e instanceof EngineUnavailableError && /no CUDA driver/.test((e as Error).message),
  );
});

test('filters are laid out KRSC for NHWC and KCRS for NCHW', () => {
  // HWIO 1×2, 1 in, 2 out: w[0,j,0,o] = 10·j + o
  const hwio = Float32Array.from([0, 1, 10, 11]);
  assert.deepEqual([...filterLayout(hwio, 1, 2, 1, 2, true)], [0, 10, 1, 11]);
  assert.deepEqual([...filterLayout(hwio, 1, 2, 1, 2, false)], [0, 10, 1, 11]);
  const two = Float32Array.from({ length: 8 }, (_, i) => i); // 1×2×2×2
  assert.deepEqual([...filterLayout(two, 1, 2, 2, 2, true)], [0, 2, 4, 6, 1, 3, 5, 7]);
  assert.deepEqual([...filterLayout(two, 1, 2, 2, 2, false)], [0, 4, 2, 6, 1, 5, 3, 7]);
});

test("the cost model reads the CUDA engine's steps like the others: kinds, and the conv kernel size from the filter shape", async () => {
  const { costOf, stepKind } = await import('../../src/core/model');
  const fake = new FakeCuda();
  const engine = CudaEngine.create(fake, []);
  const s = spec({
    batch: 1,
    height: 6,
    width: 6,
    inChannels: 2,
    outChannels: 3,
    kernelH: 5,
    kernelW: 5,
    padding: 'same',
  });
  const run = await profile(engine, s, { ...ALL, variants: ['spatial-equivalent', 'optimized'] });
  const conv = run.variants[0]!.steps.find((x) => x.id === 'conv2d')!;
  assert.equal(costOf(conv, s).kernel, 5);
  const kinds = Object.fromEntries(run.variants[1]!.steps.map((x) => [x.id, stepKind(x)]));
  assert.deepEqual(kinds, {
    'fft-plans': 'fft',
    'rfft2d-kernel-cached': 'fft',
    'rfft2d-input': 'fft',
    'transpose-x': 'copy',
    multiply: 'bmm',
    'transpose-y': 'copy',
    irfft2d: 'ifft',
  });
  engine.shutdown();
});

test('the native CUDA engine says the training step was not measured, points to torch on CUDA, and reports the forward pass', async () => {
  const engine = CudaEngine.create(new FakeCuda(), []);
  const run = await profile(
    engine,
    spec({ batch: 1, height: 6, width: 6, inChannels: 1, outChannels: 2, kernelH: 6, kernelW: 6 }),
    { ...ALL, pass: 'both' },
  );
  assert.equal(run.status, 'ok', run.failure);
  assert.ok(
    run.engineNotes.some((n) =>
      /training step not measured on the cuda engine \(cuda\): .* use the torch engine on CUDA \(--engine torch --torch-device cuda\)/.test(
        n,
      ),
    ),
    run.engineNotes.join('\n'),
  );
  assert.ok(run.variants.length > 0 && run.variants.every((v) => v.train === undefined && v.totalMs.median > 0));
});
