/**
 * The TensorFlow engine on real TensorFlow (the test setup's .venv-tf, scripts/install-tf-venv.sh): every
 * variant equals its reference on random specs (all paddings, both layouts), runs exactly its plan, trains
 * with gradients equal to spatial-equivalent's; the CLI's verdict, framework and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rng } from '../../src/core/data';
import { parseRun } from '../../src/core/run';
import { PADDINGS, type LayerSpec, fnoSpec } from '../../src/core/spec';
import { allSteps, planVariant, tensorflowTraits } from '../../src/core/variants';
import { profile } from '../../src/engines/profiler';
import { TensorflowEngine } from '../../src/engines/tensorflow/framework';
import { CLI, ROOT, spec, tempDir } from '../helpers';

const PY = process.env.FCONV_TF_PYTHON ?? path.join(ROOT, '.venv-tf', 'bin', 'python');
assert.ok(fs.existsSync(PY), `TensorFlow's Python at ${PY} (bash scripts/install-tf-venv.sh makes it)`);
/** A small layer for the CLI runs. */
const small = ['--batch', '2', '--height', '8', '--width', '8', '--out', '4', '--warmup', '1', '--reps', '3'];
const QUICK = { warmup: 0, reps: 1, seed: 1, adaptiveBudgetMs: 0, pass: 'both' as const };

function randomSpec(r: () => number, i: number): LayerSpec {
  const padding = PADDINGS[i % PADDINGS.length]!;
  const H = 3 + Math.floor(r() * 6),
    W = 3 + Math.floor(r() * 6);
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
    layout: i % 2 ? 'NCHW' : 'NHWC',
  });
}

test('TensorFlow engine: every variant equals its reference, runs its plan, and trains with the reference gradients (random specs, all paddings, both layouts)', async () => {
  const engine = await TensorflowEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    assert.equal(engine.name, 'tensorflow');
    assert.match(engine.device, /CPU via TensorFlow 2\.\d+/);
    const r = rng(81);
    for (let i = 0; i < 6; i++) {
      const s = randomSpec(r, i);
      const run = await profile(engine, s, {
        ...QUICK,
        variants: ['spatial', 'spatial-equivalent', 'seed', 'optimized'],
        seed: i + 1,
      });
      parseRun(JSON.parse(JSON.stringify(run)));
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      assert.equal(run.framework?.name, 'tensorflow');
      for (const v of run.variants) {
        assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError} > ${v.tolerance}`);
        const plan = allSteps(planVariant(v.name, s, tensorflowTraits('cpu')));
        assert.deepEqual(
          v.steps.map((x) => x.id),
          plan.map((x) => x.id),
        );
        const t = v.train!;
        assert.ok(t && t.totalMs.median > 0 && t.backwardMs.median > 0, `${v.name}: a training step`);
        assert.deepEqual(
          t.steps.map((x) => x.id),
          plan.map((x) => `${x.id}.backward`),
        );
        if (v.name === 'seed' || v.name === 'optimized')
          assert.deepEqual(
            t.gradients.map((g) => [g.name, g.reference, g.correct]),
            [
              ['input', "spatial-equivalent's gradient", true],
              ['kernel', "spatial-equivalent's gradient", true],
            ],
            `${v.name} ${JSON.stringify(s)}: ${JSON.stringify(t.gradients)}`,
          );
      }
    }
  } finally {
    engine.shutdown();
  }
});

function fconv(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('fconv profile --engine tensorflow: the question’s comparison on TensorFlow, its framework in the run; bad input is one line, exit 2', () => {
  const out = tempDir('fconv-tf-');
  const r = fconv([
    'profile',
    '--engine',
    'tensorflow',
    '--python',
    PY,
    '--threads',
    '1',
    '--no-progress',
    '--no-model',
    ...small,
    '--out-dir',
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Verdict: On tensorflow\/cpu: training step \(forward \+ backward\)/);
  assert.match(r.out, /each step a tf\.function/);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')));
  assert.deepEqual(
    { name: run.framework?.name, device: run.framework?.device, threads: run.framework?.threads },
    { name: 'tensorflow', device: 'cpu', threads: 1 },
  );
  fs.rmSync(out, { recursive: true, force: true });
  for (const [args, msg] of [
    // A Python without TensorFlow: the install command.
    [['--python', '/usr/bin/python3'], /engine tensorflow is not available.*pip install tensorflow-cpu/],
    [['--python', PY, '--tf-device', 'cuda'], /sees no GPU|no CUDA|cuda/i],
    [['--python', PY, '--tf-mode', 'graph'], /--tf-mode must be function or eager/],
    [['--python', PY, '--tf-device', 'tpu'], /--tf-device must be cpu, cuda or cuda:N/],
  ] as const) {
    const bad = fconv([
      'profile',
      '--engine',
      'tensorflow',
      ...args,
      ...small,
      '--no-progress',
      '--out-dir',
      tempDir('fconv-tf-bad-'),
    ]);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.err}`);
    assert.match(bad.err, msg);
  }
  const wrong = fconv(['profile', '--engine', 'wasm', '--tf-device', 'cpu', '--out-dir', tempDir('fconv-tf-bad-')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /--tf-device is for --engine tensorflow/);
});

test('--tf-mode eager runs each step op by op, and the run says so', () => {
  const out = tempDir('fconv-tf-eager-');
  const r = fconv([
    'profile',
    '--engine',
    'tensorflow',
    '--python',
    PY,
    '--tf-mode',
    'eager',
    '--threads',
    '1',
    '--variants',
    'spatial,seed',
    '--no-progress',
    '--no-model',
    ...small,
    '--out-dir',
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')));
  assert.match(run.device, /1 intra-op thread, eager/);
  assert.match(run.timingNote, /each step eager \(--tf-mode eager/);
  assert.ok(
    run.variants.every(
      (v) => v.correct && v.steps.every((s) => /eager mode|einsum|rfft|transpose/.test(s.implementation)),
    ),
  );
  fs.rmSync(out, { recursive: true, force: true });
});

test('FNO layers on TensorFlow: fno and optimized equal spatial-equivalent, and their mode-weight gradients equal fno’s', async () => {
  const engine = await TensorflowEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    for (const [i, [H, W, m1, m2, convention]] of (
      [
        [8, 9, 2, 3, 'corners'],
        [7, 8, 5, 6, 'centered'],
      ] as const
    ).entries()) {
      const s = fnoSpec({
        batch: 2,
        height: H,
        width: W,
        inChannels: 3,
        outChannels: 2,
        modes: [m1, m2],
        modesConvention: convention,
      });
      const run = await profile(engine, s, {
        ...QUICK,
        variants: ['spatial-equivalent', 'fno', 'optimized'],
        seed: i + 1,
      });
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      assert.ok(run.variants.every((v) => v.correct && v.train));
      const opt = run.variants.find((v) => v.name === 'optimized')!.train!;
      assert.deepEqual(
        opt.gradients.map((g) => [g.name, g.reference, g.correct]),
        [
          ['input', "spatial-equivalent's gradient", true],
          ['modeWeights', "fno's gradient", true],
        ],
      );
      assert.ok(opt.gradients.every((g) => g.refScale > 0));
    }
  } finally {
    engine.shutdown();
  }
});

test("each step's kernels from TF's profiler: oneDNN's convolution, the FFT kernels, by the op that ran them", () => {
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'profile',
      '--engine',
      'tensorflow',
      '--python',
      PY,
      '--threads',
      '1',
      '--variants',
      'spatial,seed',
      '--pass',
      'forward',
      ...small,
      '--json',
      '--no-progress',
      '--out-dir',
      tempDir('fconv-tf-kernels-'),
    ],
    { encoding: 'utf8', timeout: 240_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const run = parseRun(JSON.parse(r.stdout));
  const kernels = (variant: string, step: string) =>
    run.variants.find((v) => v.name === variant)!.steps.find((s) => s.id === step)?.kernels ?? [];
  const conv = kernels('spatial', 'conv2d');
  assert.ok(
    conv.some((k) => /Conv2D/.test(k.name) && k.device === 'cpu' && k.ms > 0),
    JSON.stringify(conv),
  );
  assert.ok(
    kernels('seed', 'einsum').some((k) => /Einsum|MatMul/.test(k.name)),
    JSON.stringify(kernels('seed', 'einsum')),
  );
  assert.ok(kernels('seed', 'irfft2d').some((k) => /IRFFT2D/.test(k.name)));
  // No profiler bookkeeping among them.
  for (const v of run.variants)
    for (const s of v.steps) for (const k of s.kernels ?? []) assert.doesNotMatch(k.name, /::/);
});
