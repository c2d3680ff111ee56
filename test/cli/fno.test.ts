/**
 * `fconv profile --layer fno` and `fconv sweep --layer fno` end to end on the embedded engine: the report,
 * the verdict and hints of an FNO run, the modes sweep files, and every bad input as a one-line exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fnoSweepSchema } from '../../src/core/insight-schema';
import { parseRun } from '../../src/core/run';
import { CLI, tempDir } from '../helpers';

const CACHE = tempDir('fconv-fno-cache-');

function fconv(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, FCONV_CACHE_DIR: CACHE },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SMALL = [
  '--layer',
  'fno',
  '--batch',
  '2',
  '--height',
  '16',
  '--width',
  '16',
  '--in',
  '4',
  '--out',
  '4',
  '--modes',
  '4',
];

test('fconv profile --layer fno: fno and optimized checked against the naive convolution, FNO verdict and hints, no seed advice', () => {
  const dir = tempDir('fconv-fno-');
  const r = fconv(['profile', '--engine', 'wasm', ...SMALL, '--reps', '3', '--out-dir', dir, '--no-progress']);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /fconv profile — FNO, batch 2, 16×16, 4→4 channels, modes 4×4 per corner \(8×4 coefficients\), NCHW/,
  );
  assert.match(
    r.out,
    /fno · .* — end to end .* vs naive direct circular convolution with the equivalent kernel \(\d+ sampled outputs\) \[ok\]|fno · .* — end to end .* \(every output\) \[ok\]/,
  );
  assert.match(r.out, /Same FNO layer, better formulation: optimized .* vs as written /);
  assert.match(r.out, /spatial-equivalent was not run/);
  assert.doesNotMatch(r.out, /Conv2D|k = \d/);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')));
  assert.equal(run.spec.layer, 'fno');
  assert.deepEqual(
    run.variants.map((v) => v.name),
    ['fno', 'optimized'],
  );
  assert.ok(run.hints!.some((h) => h.id === 'fno-partial-transforms'));
  assert.ok(fs.readFileSync(path.join(dir, 'report.html'), 'utf8').includes('"layer":"fno"'));
});

test('fconv sweep --layer fno writes fno-sweep.json and .html, with the crossover and the agreement', () => {
  const dir = tempDir('fconv-fno-sweep-');
  const r = fconv([
    'sweep',
    '--engine',
    'wasm',
    ...SMALL.filter((_, i) => i < 12),
    '--grids',
    '8,16',
    '--modes-list',
    '2,4,8',
    '--reps',
    '1',
    '--warmup',
    '0',
    '--out-dir',
    dir,
    '--no-progress',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /FNO modes sweep — batch 2, 4→4 channels, corners modes/);
  assert.match(r.out, /Crossover on 8×8: /);
  assert.match(r.out, /Model picked the measured winner in \d+ of 5 cells/);
  const sw = fnoSweepSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, 'fno-sweep.json'), 'utf8')));
  // modes 8 does not fit an 8×8 grid (at most 4 per corner): clipped, not an error.
  assert.deepEqual(
    sw.cells.map((c) => `${c.height}:${c.modes}`),
    ['8:2', '8:4', '16:2', '16:4', '16:8'],
  );
  assert.ok(sw.cells.every((c) => c.fnoMs !== null && c.optimizedMs !== null && !c.note));
  assert.ok(fs.existsSync(path.join(dir, 'fno-sweep.html')));
});

test('bad FNO input: one line on stderr, exit 2, nothing written', () => {
  const dir = tempDir('fconv-fno-bad-');
  const cases: Array<[string[], RegExp]> = [
    [['profile', '--layer', 'fno', '--modes', '40'], /at most 32 \(H\/2\) with the corners convention/],
    [['profile', '--modes', '12'], /--modes applies to an FNO layer: add --layer fno/],
    [['profile', '--layer', 'fno', '--kernel', '5'], /--kernel does not apply to an FNO layer/],
    [['profile', '--layer', 'fno', '--modes-convention', 'middle'], /modes convention must be corners/],
    [['profile', '--layer', 'fno', '--variants', 'seed'], /an FNO layer has no seed variant/],
    [['profile', '--variants', 'fno'], /the fno variant needs an FNO layer/],
    [['sweep', '--layer', 'fno', '--kernels', '3'], /an FNO sweep takes --modes-list and --grids/],
    [['sweep', '--grids', '32'], /--modes-list and --grids sweep an FNO layer/],
    [['sweep', '--layer', 'fno', '--grids', '4', '--modes-list', '8'], /no swept modes fit the 4×4 grid/],
    [['profile', '--preset', 'fno-64', '--batch', '2'], /--preset gives the whole spec; drop --batch/],
  ];
  for (const [args, re] of cases) {
    const r = fconv([...args, '--engine', 'wasm', '--out-dir', dir]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
  }
  assert.deepEqual(fs.readdirSync(dir), []);
});
