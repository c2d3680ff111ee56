/**
 * `fconv profile-layer` on Keras layers, end to end on the real TensorFlow of the test setup (.venv-tf, or
 * FCONV_TF_PYTHON): the question's own class (tf.keras) loaded without its training script's top level, built
 * from the NHWC input shape, fed complex64 spectra, timed per line with TF op names, its training step per line,
 * beside the profiler's formulations; the question as posted (tf.spectral) mapped to its line with the fix; a
 * Keras 3 layer; the ways it can be asked wrongly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { layerProfileSchema } from '../../src/core/layer-profile';
import { CLI, tempDir } from '../helpers';

const ROOT = path.join(__dirname, '..', '..');
const PY = process.env.FCONV_TF_PYTHON ?? path.join(ROOT, '.venv-tf', 'bin', 'python');
assert.ok(fs.existsSync(PY), `TensorFlow's Python at ${PY} (scripts/install-tf-venv.sh makes it)`);
const FIX = path.join(__dirname, 'fixtures');

function fconv(args: string[], cwd = tempDir('fconv-plk-cwd-')) {
  const r = spawnSync(
    process.execPath,
    [CLI, 'profile-layer', ...args, '--python', PY, '--threads', '1', '--no-progress'],
    { encoding: 'utf8', timeout: 240_000, cwd },
  );
  return { code: r.status, out: r.stdout, err: r.stderr, cwd };
}

const quick = ['--reps', '5', '--trace-reps', '2', '--warmup', '1', '--json'];

/** The question's class built as Fourier_Conv2D(32), from `file`, with `extra` flags. */
function question(file: string, extra: string[]) {
  return fconv([file, '--class', 'Fourier_Conv2D', '--init', '32', ...extra]);
}

test("the question's Keras layer as written: its top level not run, per-line forward and training step with TF op names, beside the profiler's formulations", () => {
  const out = tempDir('fconv-plk-out-');
  const file = path.join(FIX, 'keras_question.py');
  const r = question(file, ['--input-shape', '8,28,28,1', '--input-dtype', 'complex64', ...quick, '--out-dir', out]);
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.existsSync(path.join(r.cwd, 'SHOULD_NOT_EXIST.txt')), false);
  assert.equal(fs.existsSync(path.join(FIX, 'SHOULD_NOT_EXIST.txt')), false);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  assert.equal(p.engine, 'tensorflow');
  assert.equal(p.framework.name, 'TensorFlow');
  assert.match(p.framework.version, /^2\./);
  assert.equal(p.framework.threads, 1);
  assert.deepEqual(p.input, { shape: [8, 28, 28, 1], dtype: 'complex64' });
  // rfft2d over the kernel's innermost two axes (W, out): 32 → 17, as the question's compute_output_shape says.
  assert.deepEqual(p.output, { shape: [8, 28, 28, 17], dtype: 'complex64' });
  assert.equal(p.parameters, 28 * 28 * 32);
  assert.match(p.timing, /tf\.function/);
  // The lines and the rest add up to the plain median; every line is the call()'s.
  const sum = p.lines.reduce((a, l) => a + l.ms, 0) + p.notOnLineMs;
  assert.ok(Math.abs(sum - p.totalMs.median) <= 1e-6 * p.totalMs.median + 1e-9, `${sum} vs ${p.totalMs.median}`);
  const byLine = new Map(p.lines.map((l) => [l.line, l]));
  for (const l of p.lines) assert.ok(l.line >= 18 && l.line <= 22, `line ${l.line} is in call()`);
  const ops = (n: number) => byLine.get(n)?.ops.map((o) => o.name) ?? [];
  assert.ok(ops(19).includes('RFFT2D'), JSON.stringify(byLine.get(19)));
  assert.ok(ops(20).includes('Transpose'), JSON.stringify(byLine.get(20)));
  assert.ok(ops(21).includes('Einsum'), JSON.stringify(byLine.get(21)));
  assert.deepEqual(byLine.get(21)!.ops.find((o) => o.name === 'Einsum')!.shapes, [
    '8x28x28x1 complex',
    '28x28x1x17 complex',
  ]);
  // The training step: one tf.function, its backward per line (the rfft2d's and the einsum's gradients).
  assert.ok(p.train, 'the training step was measured');
  assert.ok(p.train.totalMs.median > 0 && p.train.backwardMs.median <= p.train.totalMs.p90);
  assert.ok((byLine.get(19)!.backwardMs ?? 0) > 0 && (byLine.get(21)!.backwardMs ?? 0) > 0);
  assert.equal(byLine.get(18)!.backwardMs ?? 0, 0, 'fft_x = x makes no op');
  const bsum = p.lines.reduce((a, l) => a + (l.backwardMs ?? 0), 0) + p.train.notOnLineMs;
  assert.ok(
    Math.abs(bsum - p.train.backwardMs.median) <= 1e-6 + 1e-6 * bsum,
    `${bsum} vs ${p.train.backwardMs.median}`,
  );
  assert.match(p.train.attribution, /gradient function/);
  // Beside it: the profiler's formulations of the question's spec on TensorFlow, forward and training step.
  assert.ok(p.comparison, p.noComparison);
  assert.equal(p.comparison.spec.layer ?? 'seed', 'seed');
  assert.deepEqual(
    [p.comparison.spec.batch, p.comparison.spec.height, p.comparison.spec.inChannels, p.comparison.spec.outChannels],
    [8, 28, 1, 32],
  );
  assert.equal(p.comparison.spec.layout, 'NHWC');
  assert.equal(p.comparison.callOnly, true);
  const rows = new Map(p.comparison.rows.map((x) => [x.variant, x]));
  for (const v of ['seed', 'optimized', 'spatial']) assert.ok(rows.has(v), `${v} in ${[...rows.keys()].join(', ')}`);
  assert.ok(rows.get('spatial')!.trainMs && p.comparison.asWritten.trainMs);
  assert.match(p.comparison.engine, /^tensorflow\/cpu/);
  const saved = layerProfileSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'profile-layer.json'), 'utf8')));
  assert.equal(saved.totalMs.median, p.totalMs.median);
});

test('the text report names TensorFlow, the ratio to Conv2D and the ops of the costly lines', () => {
  const r = fconv([
    path.join(FIX, 'keras_question.py'),
    '--class',
    'Fourier_Conv2D',
    '--init',
    'no_of_kernels=16',
    '--input-shape',
    '4,16,16,1',
    '--input-dtype',
    'complex64',
    '--reps',
    '3',
    '--trace-reps',
    '1',
    '--out-dir',
    tempDir('fconv-plk-out-'),
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /as written — TensorFlow 2\.\d+\.\d+ on CPU \(1 intra-op thread\)/);
  assert.match(r.out, /yours vs Conv2D 3×3: [\d.]+x the forward, [\d.]+x the training step/);
  assert.match(r.out, /line 21: Einsum\(4x16x16x1 complex, 16x16x1x9 complex\)/);
  assert.doesNotMatch(r.out, /nn\.Module/);
});

test('the question as posted (tf.spectral): the error at its line, with tf.signal named as the fix', () => {
  // The same file as the question posted it: tf.spectral.rfft2d, removed in TF 2.0.
  const posted = path.join(tempDir('fconv-plk-posted-'), 'keras_question_tf1.py');
  const fixed = fs.readFileSync(path.join(FIX, 'keras_question.py'), 'utf8');
  assert.match(fixed, /tf\.signal\.rfft2d/);
  fs.writeFileSync(posted, fixed.replace('tf.signal.rfft2d', 'tf.spectral.rfft2d'));
  const r = question(posted, [
    '--input-shape',
    '2,8,8,1',
    '--input-dtype',
    'complex64',
    ...quick,
    '--out-dir',
    tempDir('fconv-plk-out-'),
  ]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /keras_question_tf1\.py:19: AttributeError: module 'tensorflow' has no attribute 'spectral'/);
  assert.match(r.err, /tf\.signal\.rfft2d/);
  assert.match(r.err, /docs\/rules\.md#tf-spectral-removed/);
});

test("a real input to the question's layer: the dtype error at the einsum's line suggests --input-dtype complex64", () => {
  const r = question(path.join(FIX, 'keras_question.py'), [
    '--input-shape',
    '2,8,8,1',
    ...quick,
    '--out-dir',
    tempDir('fconv-plk-out-'),
  ]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /keras_question\.py:21: InvalidArgumentError: .*complex64/);
  assert.match(r.err, /--input-dtype complex64 \(the input was float32\)/);
});

test('a Keras 3 layer: built from the input shape, timed per line; a build that needs more says so with --init', () => {
  const file = path.join(FIX, 'keras3_layers.py');
  const r = fconv([
    file,
    '--class',
    'GatedMix',
    '--init',
    'units=256',
    '--input-shape',
    '256,512',
    ...quick,
    '--out-dir',
    tempDir('fconv-plk-out-'),
  ]);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out + r.err, /module top level ran/);
  assert.ok(!JSON.parse(r.out).notes.some((n: string) => /line tracer/.test(n)), 'no tracer note');
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  assert.deepEqual(p.output.shape, [256, 256]);
  assert.equal(p.parameters, 512 * 256 + 256);
  assert.ok(
    p.lines.some((l) => l.line === 18 && l.ops.some((o) => /MatMul/.test(o.name))),
    JSON.stringify(p.lines),
  );
  assert.ok(p.train && p.lines.some((l) => (l.backwardMs ?? 0) > 0));
  assert.match(p.noComparison ?? '', /not a layer the profiler models/);

  const bad = fconv([
    file,
    '--class',
    'NeedsVocab',
    '--input-shape',
    '4,8',
    ...quick,
    '--out-dir',
    tempDir('fconv-plk-out-'),
  ]);
  assert.equal(bad.code, 1, bad.err);
  assert.match(bad.err, /keras3_layers\.py:29: TypeError: .*NeedsVocab\.build\(input_shape=\(4, 8\)\)/);
  assert.match(bad.err, /--init "vocab=None"/);
});

test('asked wrongly: torch for a Keras layer, a dtype that is not one, TensorFlow flags on a torch class', () => {
  const file = path.join(FIX, 'keras_question.py');
  const out = tempDir('fconv-plk-out-');
  const torch = question(file, ['--input-shape', '2,8,8,1', '--engine', 'torch', '--out-dir', out]);
  assert.equal(torch.code, 2);
  assert.match(torch.err, /Fourier_Conv2D is a Keras layer: it runs on --engine tensorflow/);
  const dtype = fconv([
    file,
    '--class',
    'Fourier_Conv2D',
    '--input-shape',
    '2,8,8,1',
    '--input-dtype',
    'complex32',
    '--out-dir',
    out,
  ]);
  assert.equal(dtype.code, 2);
  assert.match(dtype.err, /--input-dtype must be one of float32, .*complex64/);
  const tfOnTorch = fconv([
    path.join(FIX, 'train_fno.py'),
    '--class',
    'FNOBlock',
    '--input-shape',
    '2,16,8,8',
    '--tf-mode',
    'eager',
    '--out-dir',
    out,
  ]);
  assert.equal(tfOnTorch.code, 2);
  assert.match(tfOnTorch.err, /--tf-mode is for --engine tensorflow, not --engine torch/);
  assert.deepEqual(fs.readdirSync(out), []);
});
