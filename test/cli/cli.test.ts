import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRun } from '../../src/core/run';
import { CLI } from '../helpers';

function fconv(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-test-'));

test('fconv profile on the default case writes report.json, trace.json and report.html', () => {
  const dir = tmp();
  const r = fconv(['profile', '--out-dir', dir, '--no-progress']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /seed — end to end/);
  assert.match(r.out, /optimized — end to end/);
  assert.match(r.out, /Verdict: /);
  assert.match(r.err, /engine tfjs\/wasm/);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')));
  assert.deepEqual([run.spec.batch, run.spec.height, run.spec.inChannels, run.spec.outChannels, run.spec.kernelH, run.spec.spatialKernel], [32, 28, 1, 32, 28, 3]);
  assert.deepEqual(run.variants.map((v) => v.name), ['spatial', 'spatial-equivalent', 'seed', 'optimized']);
  assert.ok(run.variants.every((v) => v.correct));
  for (const v of run.variants.filter((x) => x.kind === 'spectral')) assert.ok(v.layerMs!.median > 0 && v.totalMs.median > v.layerMs!.median);
  const trace = JSON.parse(fs.readFileSync(path.join(dir, 'trace.json'), 'utf8'));
  assert.equal(trace.traceEvents.filter((e: { name: string }) => e.name === 'thread_name').length, 4);
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.match(html, /<script type="application\/json" id="fconv-run">/);
  assert.match(html, /Content-Security-Policy/);
  const inlined = /<script type="application\/json" id="fconv-run">([\s\S]*?)<\/script>/.exec(html)![1]!;
  assert.deepEqual(parseRun(JSON.parse(inlined)), run);
  assert.ok(!/<script src=|<link /.test(html), 'standalone: nothing loaded from outside');
});

test('--json prints the run JSON to stdout and progress to stderr', () => {
  const dir = tmp();
  const r = fconv(['profile', '--batch', '2', '--height', '8', '--width', '8', '--out', '3', '--json', '--out-dir', dir, '--reps', '2', '--warmup', '1']);
  assert.equal(r.code, 0, r.err);
  const run = parseRun(JSON.parse(r.out));
  assert.equal(run.spec.batch, 2);
  assert.match(r.err, /\[4\/4\] optimized/);
});

const BAD: Array<[string[], RegExp]> = [
  [['--batch', '0'], /batch must be positive, got 0/],
  [['--batch', '-3'], /batch must be positive/],
  [['--height', '2.5'], /height must be a whole number, got 2.5/],
  [['--in', 'NaN'], /in channels must be a positive whole number, got "NaN"/],
  [['--out', 'abc'], /out channels must be a positive whole number, got "abc"/],
  [['--kernel', '40', '--padding', 'valid'], /kernel 40×40 is larger than the 28×28 image: 'valid' padding leaves no output/],
  [['--padding', 'reflect'], /padding must be one of circular, same, valid, linear/],
  [['--engine', 'cuda'], /unknown engine "cuda"/],
  [['--variants', 'seed,fastest'], /unknown variant "fastest"/],
  [['--reps', '0'], /--reps must be ≥ 1/],
  [['--max-memory', '1MB'], /estimated memory .* is above --max-memory 1\.0 MB/],
  [['--max-memory', 'lots'], /--max-memory must be a size like 4GB/],
  [['--frobnicate'], /unknown option '--frobnicate'/],
];

for (const [args, msg] of BAD) {
  test(`bad input ${args.join(' ')} exits 2 with a one-line reason`, () => {
    const dir = tmp();
    const r = fconv(['profile', ...args, '--out-dir', dir]);
    assert.equal(r.code, 2, `${r.out}\n${r.err}`);
    assert.match(r.err, msg);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
  });
}

test('an unknown command is a usage error', () => {
  const r = fconv(['benchmark']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command/);
});

test('a forced engine that is not installed fails with what is missing, and writes nothing', () => {
  const dir = tmp();
  const r = fconv(['profile', '--engine', 'tensorflow-gpu', '--out-dir', dir]);
  assert.equal(r.code, 1);
  assert.match(r.err, /engine tensorflow-gpu is not available here: @tensorflow\/tfjs-node-gpu: not installed \(optional; needs CUDA 11.2 and cuDNN 8.1\)/);
  assert.match(r.err, /Without --engine/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('no command prints the usage to stderr and exits 2; --help and --version exit 0', () => {
  const r = fconv([]);
  assert.equal(r.code, 2);
  assert.match(r.err, /Usage: fconv/);
  assert.doesNotMatch(r.err, /outputHelp/);
  const h = fconv(['profile', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /--max-memory <size>/);
  const v = fconv(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.out, /^\d+\.\d+\.\d+/);
});
