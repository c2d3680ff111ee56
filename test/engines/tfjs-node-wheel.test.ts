/**
 * The tfjs-node engine for real: @tensorflow/tfjs-node built against the TensorFlow wheel's own C library
 * (scripts/install-tfjs-node-from-wheel.sh, run by the test setup) instead of the libtensorflow download its install
 * script attempts. Every variant is checked against its reference and the training step runs on TF's kernels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRun } from '../../src/core/run';
import { CLI, ROOT, tempDir } from '../helpers';

const BINDING = path.join(
  ROOT,
  '.tfjs-node',
  'node_modules',
  '@tensorflow',
  'tfjs-node',
  'lib',
  'napi-v8',
  'tfjs_binding.node',
);
assert.ok(fs.existsSync(BINDING), `tfjs-node's binding at ${BINDING} (bash scripts/install-tfjs-node-from-wheel.sh)`);

test("--engine tfjs-node on the wheel's libtensorflow: every variant correct, forward and training step, and the run says which TensorFlow", () => {
  const dir = tempDir('fconv-tfjs-node-');
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'profile',
      '--engine',
      'tfjs-node',
      '--batch',
      '4',
      '--height',
      '16',
      '--width',
      '16',
      '--out',
      '8',
      '--warmup',
      '1',
      '--reps',
      '3',
      '--json',
      '--no-progress',
      '--out-dir',
      dir,
    ],
    { encoding: 'utf8', timeout: 240_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const run = parseRun(JSON.parse(r.stdout));
  assert.equal(run.engine, 'tfjs');
  assert.equal(run.backend, 'tensorflow');
  // The wheel's C library, by its own version (tfjs-node's download would be 2.9.1).
  assert.match(run.device, /^CPU via libtensorflow 2\.\d+\.\d+ \(tfjs-node\)/);
  assert.ok(run.variants.length >= 4, run.variants.map((v) => v.name).join(', '));
  for (const v of run.variants) {
    assert.ok(v.correct, `${v.name}: max |err| ${v.maxAbsError} > ${v.tolerance}`);
    // tfjs has no gradient for Imag: the question's recipe (tf.spectral on complex64) cannot train here, said so.
    if (v.name === 'seed') continue;
    assert.ok(v.train, `${v.name}: the training step ran`);
    assert.ok(v.train.totalMs.median > 0);
  }
  assert.ok(run.engineNotes.some((n) => /seed: training step not measured — tfjs has no gradient for Imag/.test(n)));
  assert.ok(
    run.engineNotes.some((n) => /@tensorflow\/tfjs-node: loaded/.test(n)),
    run.engineNotes.join('\n'),
  );
});
