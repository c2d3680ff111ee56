/**
 * FNO layers on every engine that runs them: the layer as written and the optimized formulation equal the
 * naive direct convolution (and spatial-equivalent, when run) on random small grids — odd and even sizes,
 * both modes conventions — and run exactly their plans; on the FNO preset the hints carry this run's numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../../src/core/data';
import { withInsights } from '../../src/core/analysis';
import { cpuProfile, explicitProfile } from '../../src/core/model';
import { parseRun } from '../../src/core/run';
import { type LayerSpec, fnoSpec } from '../../src/core/spec';
import { CUDA_TRAITS, allSteps, planVariant, tfjsTraits, torchTraits } from '../../src/core/variants';
import { CudaEngine } from '../../src/engines/cuda/engine';
import { FakeCuda } from './fake-cuda';
import { profile } from '../../src/engines/profiler';
import { TfjsEngine } from '../../src/engines/tfjs/engine';
import { TorchEngine } from '../../src/engines/torch/framework';
import { torchPython } from '../helpers';

const QUICK = { warmup: 0, reps: 1, seed: 1, adaptiveBudgetMs: 0 };

function randomFno(r: () => number, i: number): LayerSpec {
  const H = 2 + Math.floor(r() * 11),
    W = 2 + Math.floor(r() * 11);
  const centered = i % 2 === 1;
  return fnoSpec({
    batch: 1 + Math.floor(r() * 3),
    height: H,
    width: W,
    inChannels: [1, 2, 3, 9][Math.floor(r() * 4)]!,
    outChannels: 1 + Math.floor(r() * 4),
    modes: centered
      ? [1 + Math.floor(r() * H), 1 + Math.floor(r() * W)]
      : [1 + Math.floor(r() * Math.floor(H / 2)), 1 + Math.floor(r() * (Math.floor(W / 2) + 1))],
    modesConvention: centered ? 'centered' : 'corners',
  });
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`FNO on tfjs/${backend}: fno and optimized equal spatial-equivalent and the naive convolution on random grids, and run their plans`, async () => {
    const engine = await TfjsEngine.create(backend);
    const r = rng(backend === 'wasm' ? 31 : 32);
    for (let i = 0; i < (backend === 'wasm' ? 24 : 10); i++) {
      const s = randomFno(r, i);
      for (const variants of [['spatial-equivalent', 'fno', 'optimized'] as const, ['fno', 'optimized'] as const]) {
        const run = await profile(engine, s, { ...QUICK, variants: [...variants], seed: i + 1 });
        parseRun(JSON.parse(JSON.stringify(run)));
        assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
        for (const v of run.variants) {
          assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError} > ${v.tolerance}`);
          if (v.name !== 'spatial-equivalent')
            assert.match(
              v.reference,
              variants.length === 3 ? /spatial-equivalent/ : /naive direct circular convolution/,
            );
          const plan = allSteps(planVariant(v.name, s, tfjsTraits(backend)));
          assert.deepEqual(
            v.steps.map((x) => [x.id, x.kind, x.category, x.flops, x.bytes, x.inLayer, x.oneOff]),
            plan.map((x) => [x.id, x.kind, x.category, x.flops, x.bytes, x.inLayer, x.oneOff]),
          );
          // An FNO layer is its whole pipeline: no separate layer-only time.
          assert.equal(v.layerMs, undefined);
        }
      }
    }
  });
}

test('FNO hints on a measured run carry its numbers and no seed-layer advice', async () => {
  const engine = await TfjsEngine.create('wasm');
  const s = fnoSpec({ batch: 4, height: 32, width: 32, inChannels: 8, outChannels: 8, modes: [6, 6] });
  const run = await profile(engine, s, { ...QUICK, variants: ['fno', 'optimized'], reps: 3 });
  const full = withInsights(run, explicitProfile(1, 20, 'test CPU'));
  const ids = (full.hints ?? []).map((h) => h.id);
  for (const id of [
    'fno-partial-transforms',
    'fno-one-gemm',
    'fno-zero-buffer',
    'fno-half-precision',
    'fno-modes-convention',
  ])
    assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
  for (const id of ids) assert.doesNotMatch(id, /crossover|uneven|circular|rfft-axes|kernel-per-call/);
  const z = full.hints!.find((h) => h.id === 'fno-zero-buffer')!;
  const zeros = run.variants.find((v) => v.name === 'fno')!.steps.find((x) => x.id === 'zeros-out-ft')!;
  assert.match(z.title, /^out_ft: 139\.3 kB allocated and zeroed per call/);
  assert.ok(z.evidence.includes(`zeros(out_ft)`), z.evidence);
  assert.ok(zeros.median >= 0);
  const m = full.hints!.find((h) => h.id === 'fno-modes-convention')!;
  assert.match(m.title, /12×6 = 72 coefficients; in the other convention the same numbers keep 24/);
  void cpuProfile;
});

const found = torchPython();

test('FNO on torch (CPU): fno and optimized equal spatial-equivalent and the naive convolution, and run their plans', async () => {
  assert.ok(found, 'a Python with torch is installed (the CI installs python3-torch)');
  const engine = await TorchEngine.create({ python: [{ path: found, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    const r = rng(41);
    for (let i = 0; i < 12; i++) {
      const s = randomFno(r, i);
      const variants =
        i % 3 === 0 ? (['fno', 'optimized'] as const) : (['spatial-equivalent', 'fno', 'optimized'] as const);
      const run = await profile(engine, s, { ...QUICK, variants: [...variants], seed: i + 1 });
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      for (const v of run.variants) {
        assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError}`);
        const plan = allSteps(planVariant(v.name, s, torchTraits('cpu')));
        assert.deepEqual(
          v.steps.map((x) => [x.id, x.flops, x.bytes]),
          plan.map((x) => [x.id, x.flops, x.bytes]),
        );
        if (v.name === 'fno')
          assert.match(v.steps.find((x) => x.id === 'einsum-top')!.implementation, /torch\.einsum\('bixy,ioxy->boxy'/);
      }
    }
  } finally {
    engine.shutdown();
  }
});

test('FNO training step on torch: fno and optimized gradients (input, mode weights) equal the reference, both conventions', async () => {
  assert.ok(found, 'a Python with torch is installed (the CI installs python3-torch)');
  const engine = await TorchEngine.create({ python: [{ path: found, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    const r = rng(43);
    for (let i = 0; i < 6; i++) {
      const s = randomFno(r, i);
      const withEq = i % 2 === 1;
      const variants = withEq ? (['spatial-equivalent', 'fno', 'optimized'] as const) : (['fno', 'optimized'] as const);
      const run = await profile(engine, s, { ...QUICK, variants: [...variants], seed: i + 1, pass: 'both' });
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      const opt = run.variants.find((v) => v.name === 'optimized')!.train!;
      assert.deepEqual(
        opt.gradients.map((g) => [g.name, g.reference]),
        [
          ['input', withEq ? "spatial-equivalent's gradient" : "fno's gradient"],
          ['modeWeights', withEq ? "spatial-equivalent's gradient" : "fno's gradient"],
        ],
      );
      // The loss weighs every output: the gradients are not the kernel's sum alone.
      assert.ok(
        opt.gradients.every((g) => g.correct && g.refScale > 0),
        JSON.stringify(opt.gradients),
      );
      // out_ft's zeros depend on nothing that trains: their backward is nothing.
      const fno = run.variants.find((v) => v.name === 'fno')!.train!;
      assert.equal(fno.steps.find((x) => x.id === 'zeros-out-ft.backward')?.median, 0);
    }
  } finally {
    engine.shutdown();
  }
});

test('FNO on the native CUDA engine (host implementation of the addon): fno and optimized equal the references and run their plans', async () => {
  const r = rng(51);
  for (let i = 0; i < 12; i++) {
    const fake = new FakeCuda();
    const engine = CudaEngine.create(fake, []);
    const s = randomFno(r, i);
    const variants = i % 2 ? (['fno', 'optimized'] as const) : (['spatial-equivalent', 'fno', 'optimized'] as const);
    const run = await profile(engine, s, { ...QUICK, warmup: 1, reps: 2, variants: [...variants], seed: i + 1 });
    assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
    for (const v of run.variants) {
      assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError}`);
      const plan = allSteps(planVariant(v.name, s, CUDA_TRAITS));
      assert.deepEqual(
        v.steps.map((x) => [x.id, x.kind, x.flops, x.bytes, x.inLayer, x.oneOff]),
        plan.map((x) => [x.id, x.kind, x.flops, x.bytes, x.inLayer, x.oneOff]),
      );
      for (const st of v.steps) assert.equal(st.timing, st.id === 'fft-plans' ? 'wall-clock-sync' : 'gpu-events');
    }
    assert.match(
      run.variants.find((v) => v.name === 'optimized')!.steps.find((x) => x.id === 'multiply')!.implementation,
      /over all \d+ kept modes/,
    );
    engine.shutdown();
    assert.equal(fake.allocated(), 0, 'shutdown frees everything');
  }
});
