/**
 * The training step on the command line (issue #25): `fconv profile` with both passes on torch, `fconv sweep
 * --pass train` (its crossover measured and modelled), the engines that do not time it saying so, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sweepSchema } from '../../src/core/insight-schema';
import { parseRun } from '../../src/core/run';
import { CLI, tempDir } from '../helpers';

const CACHE = tempDir('fconv-train-cache-');

function fconv(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, FCONV_CACHE_DIR: CACHE },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SMALL = ['--batch', '2', '--height', '8', '--width', '8', '--out', '4', '--warmup', '1', '--reps', '3'];

test('fconv profile on torch times the training step by default, leads with it, and checks the gradients', () => {
  const out = tempDir('fconv-train-');
  const r = fconv(['profile', '--engine', 'torch', '--no-model', '--no-progress', ...SMALL, '--out-dir', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Verdict: On PyTorch .*: training step \(forward \+ backward\)/);
  assert.match(r.out, /↩ einsum \(backward\)/);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')));
  assert.equal(run.settings.pass, 'both');
  assert.ok(run.variants.every((v) => v.train && v.train.totalMs.median > 0));
  const seed = run.variants.find((v) => v.name === 'seed')!.train!;
  assert.deepEqual(
    seed.gradients.map((g) => [g.name, g.correct]),
    [
      ['input', true],
      ['kernel', true],
    ],
  );
  const forward = fconv([
    'profile',
    '--engine',
    'torch',
    '--no-model',
    '--no-progress',
    '--pass',
    'forward',
    ...SMALL,
    '--out-dir',
    out,
  ]);
  assert.equal(forward.code, 0, forward.err);
  assert.doesNotMatch(forward.out, /training step/);
});

test('fconv profile on wasm times the training step through tfjs gradients, per step, checked', () => {
  const out = tempDir('fconv-train-wasm-');
  const r = fconv(['profile', '--engine', 'wasm', '--no-model', '--no-progress', ...SMALL, '--out-dir', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Verdict: On tfjs\/wasm: training step \(forward \+ backward\)/);
  assert.match(r.out, /↩ einsum \(backward\)/);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')));
  assert.ok(run.variants.every((v) => v.train && v.train.totalMs.median >= v.train.backwardMs.median));
  for (const name of ['seed', 'optimized']) {
    const t = run.variants.find((v) => v.name === name)!.train!;
    assert.deepEqual(
      t.gradients.map((g) => [g.name, g.correct]),
      [
        ['input', true],
        ['kernel', true],
      ],
      name,
    );
    assert.equal(t.steps.length, run.variants.find((v) => v.name === name)!.steps.length);
  }
  // wasm has no Conv2DBackpropFilter kernel of its own: the run says how the filter gradient ran.
  assert.ok(
    run.engineNotes.some((n) => /no Conv2DBackpropFilter kernel/.test(n)),
    run.engineNotes.join('\n'),
  );
  fs.rmSync(out, { recursive: true, force: true });
});

test("a variant with an op that has no gradient on the engine is skipped with the reason, the rest trained (tfjs cpu's FFT)", () => {
  const out = tempDir('fconv-train-cpu-');
  const r = fconv(['profile', '--engine', 'cpu', '--no-model', '--no-progress', ...SMALL, '--out-dir', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /seed: training step not measured — tfjs has no gradient for \w+ \(on cpu\)/);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')));
  assert.equal(run.status, 'ok');
  const seed = run.variants.find((v) => v.name === 'seed')!;
  assert.ok(seed.correct && seed.train === undefined, 'its forward pass is measured and checked');
  assert.ok(run.variants.filter((v) => v.name !== 'seed').every((v) => v.train && v.train.totalMs.median > 0));
  fs.rmSync(out, { recursive: true, force: true });
});

test("fconv sweep --pass train measures and models each cell's training step; bad passes are one-line errors", () => {
  const out = tempDir('fconv-train-sweep-');
  const r = fconv([
    'sweep',
    '--engine',
    'torch',
    '--pass',
    'train',
    '--kernels',
    '3,7',
    ...SMALL,
    '--json',
    '--no-progress',
    '--out-dir',
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  const sw = sweepSchema.parse(JSON.parse(r.out));
  assert.equal(sw.pass, 'train');
  assert.equal(sw.cells.length, 2);
  assert.ok(sw.cells.every((c) => c.spatialMs! > 0 && c.spectralMs! > 0 && c.predictedSpatialMs > 0));
  for (const [args, msg] of [
    [['--pass', 'both'], /--pass for a sweep is forward or train/],
    [['--pass', 'sideways'], /--pass must be one of forward, train, both/],
  ] as const) {
    const bad = fconv(['sweep', '--engine', 'torch', ...args, '--out-dir', out]);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, msg);
    assert.equal(bad.err.trim().split('\n').length, 1);
  }
});

test('fconv sweep --layer fno --pass train: each cell times fno and optimized trained (wasm), measured and modelled', () => {
  const out = tempDir('fconv-train-fno-sweep-');
  const r = fconv([
    'sweep',
    '--engine',
    'wasm',
    '--layer',
    'fno',
    '--pass',
    'train',
    '--grids',
    '16',
    '--modes',
    '2,4',
    '--batch',
    '2',
    '--in',
    '4',
    '--out',
    '4',
    '--warmup',
    '1',
    '--reps',
    '3',
    '--json',
    '--no-progress',
    '--out-dir',
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  const sw = JSON.parse(r.out) as {
    pass?: string;
    cells: Array<{ fnoMs: number | null; optimizedMs: number | null; predictedFnoMs: number }>;
  };
  assert.equal(sw.pass, 'train');
  assert.equal(sw.cells.length, 2);
  assert.ok(sw.cells.every((c) => c.fnoMs! > 0 && c.optimizedMs! > 0 && c.predictedFnoMs > 0));
  fs.rmSync(out, { recursive: true, force: true });
});
