import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRun } from '../../src/core/run';
import { CLI, ROOT, tempDir } from '../helpers';

const tmp = () => tempDir('fconv-test-');
/** One probe cache for this file's runs, never the user's. */
const CACHE = tmp();

function fconv(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, FCONV_CACHE_DIR: CACHE, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('fconv profile on the default case writes report.json, trace.json and report.html', () => {
  const dir = tmp();
  const r = fconv(['profile', '--engine', 'wasm', '--out-dir', dir, '--no-progress']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /seed · .* — end to end/);
  assert.match(r.out, /optimized · .* — end to end/);
  assert.match(r.out, /Verdict: /);
  assert.match(
    r.out,
    /Hints \(from this run on tfjs\/wasm; top 3 of \d+; all in report.html\):\n1\. \[warning\] The 3×3 Conv2D computes a different, 87x smaller function/,
  );
  assert.match(r.err, /engine tfjs\/wasm/);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')));
  assert.deepEqual(
    [
      run.spec.batch,
      run.spec.height,
      run.spec.inChannels,
      run.spec.outChannels,
      run.spec.kernelH,
      run.spec.spatialKernel,
    ],
    [32, 28, 1, 32, 28, 3],
  );
  assert.deepEqual(
    run.variants.map((v) => v.name),
    ['spatial', 'spatial-equivalent', 'seed', 'optimized'],
  );
  assert.ok(run.variants.every((v) => v.correct));
  for (const v of run.variants.filter((x) => x.kind === 'spectral'))
    assert.ok(v.layerMs!.median > 0 && v.totalMs.median > v.layerMs!.median);
  const trace = JSON.parse(fs.readFileSync(path.join(dir, 'trace.json'), 'utf8'));
  // One thread per variant and one for its backward (the default pass times the training step too).
  assert.deepEqual(
    trace.traceEvents
      .filter((e: { name: string }) => e.name === 'thread_name')
      .map((e: { args: { name: string } }) => e.args.name)
      .sort(),
    run.variants.flatMap((v) => [v.name, `${v.name} backward`]).sort(),
  );
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.match(html, /<script type="application\/json" id="fconv-run">/);
  assert.match(html, /Content-Security-Policy/);
  const inlined = /<script type="application\/json" id="fconv-run">([\s\S]*?)<\/script>/.exec(html)![1]!;
  assert.deepEqual(parseRun(JSON.parse(inlined).run), run);
  assert.ok(!/<script src=|<link /.test(html), 'standalone: nothing loaded from outside');
  assert.ok(run.analysis && run.analysis.device.source === 'probe', "the model analysis, on this machine's probe");
  assert.ok(run.hints!.some((h) => h.id === 'einsum-lowering'));
});

test('the probe is measured once, cached, reused, and measured again on request', () => {
  const cache = tmp();
  const first = fconv(['probe', '--json'], { FCONV_CACHE_DIR: cache });
  assert.equal(first.code, 0, first.err);
  const p1 = JSON.parse(first.out);
  assert.ok(p1.gemmGflops > 0 && p1.copyGBs > 0 && p1.bmm.length === 2 && p1.conv.length >= 4);
  const files = fs.readdirSync(cache);
  assert.equal(files.length, 1);
  const again = fconv(['probe', '--json'], { FCONV_CACHE_DIR: cache });
  assert.equal(JSON.parse(again.out).measuredAt, p1.measuredAt, 'cached');
  const text = fconv(['probe'], { FCONV_CACHE_DIR: cache });
  assert.match(text.out, /cached probe/);
  assert.match(text.out, /2-D GEMM +[\d.]+ GFLOP\/s/);
  const fresh = fconv(['probe', '--json', '--refresh'], { FCONV_CACHE_DIR: cache });
  assert.notEqual(JSON.parse(fresh.out).measuredAt, p1.measuredAt, 'refreshed');
  fs.writeFileSync(path.join(cache, files[0]!), '{"broken": true');
  const healed = fconv(['probe', '--json'], { FCONV_CACHE_DIR: cache });
  assert.equal(healed.code, 0, 'a damaged cache is measured again');
  assert.ok(JSON.parse(healed.out).gemmGflops > 0);
});

test('fconv predict runs nothing and gives spatialMs, spectralMs, winner and reasoning, for a table GPU or explicit peaks', () => {
  const h100 = fconv([
    'predict',
    '--device',
    'H100',
    '--kernel',
    '7',
    '--padding',
    'same',
    '--in',
    '64',
    '--out',
    '64',
    '--json',
  ]);
  assert.equal(h100.code, 0, h100.err);
  const p = JSON.parse(h100.out);
  assert.equal(p.device, 'H100 SXM');
  assert.ok(p.spatialMs > 0 && p.spectralMs > 0);
  assert.equal(p.winner, p.spatialMs <= p.spectralMs ? 'spatial' : 'spectral');
  assert.ok(
    p.reasoning.some((r: string) => /dominated by/.test(r)) && p.reasoning.some((r: string) => /Mathieu/.test(r)),
  );
  const custom = fconv(['predict', '--peak-tflops', '10', '--bandwidth-gbs', '500', '--json']);
  assert.equal(JSON.parse(custom.out).deviceSource, 'explicit');
  const local = fconv(['predict']);
  assert.equal(local.code, 0, local.err);
  assert.match(local.out, /winner: spectral/);
  assert.match(local.out, /Nothing was run/);
  for (const bad of [
    ['--device', 'K80'],
    ['--peak-tflops', '10'],
    ['--backend', 'metal'],
    ['--kernel', '0'],
  ]) {
    const r = fconv(['predict', ...bad]);
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.err}`);
    assert.match(r.err, /^fconv: /);
  }
});

test('fconv sweep measures each kernel size, prints cells and the crossover, and writes sweep.json and sweep.html', () => {
  const dir = tmp();
  const r = fconv([
    'sweep',
    '--batch',
    '4',
    '--height',
    '16',
    '--width',
    '16',
    '--out',
    '8',
    '--kernels',
    '3,9,16',
    '--channels',
    '1:8,4:4',
    '--reps',
    '2',
    '--out-dir',
    dir,
    '--json',
    '--no-progress',
  ]);
  assert.equal(r.code, 0, r.err);
  const sw = JSON.parse(r.out);
  assert.equal(sw.cells.length, 6);
  for (const c of sw.cells) {
    assert.ok(c.spatialMs > 0 && c.spectralMs > 0, JSON.stringify(c));
    assert.equal(c.measuredWinner, c.spectralMs < c.spatialMs ? 'spectral' : 'spatial');
    for (const k of ['kernel', 'inChannels', 'outChannels', 'predictedWinner']) assert.ok(k in c);
  }
  assert.equal(sw.crossovers.length, 2);
  assert.ok('crossover' in sw);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8')).cells, sw.cells);
  assert.match(fs.readFileSync(path.join(dir, 'sweep.html'), 'utf8'), /id="fconv-run"/);
  for (const bad of [
    ['--kernels', '3,a'],
    ['--channels', '1-8'],
    ['--kernels', '40', '--padding', 'valid'],
  ]) {
    const b = fconv(['sweep', '--height', '16', '--width', '16', ...bad]);
    assert.equal(b.code, 2, `${bad.join(' ')}: ${b.err}`);
  }
});

test('--json prints the run JSON to stdout and progress to stderr', () => {
  const dir = tmp();
  const r = fconv([
    'profile',
    '--batch',
    '2',
    '--height',
    '8',
    '--width',
    '8',
    '--out',
    '3',
    '--json',
    '--out-dir',
    dir,
    '--reps',
    '2',
    '--warmup',
    '1',
  ]);
  assert.equal(r.code, 0, r.err);
  const run = parseRun(JSON.parse(r.out));
  assert.equal(run.spec.batch, 2);
  assert.match(r.err, /optimized \(4\/4\): preparing/);
});

const BAD: Array<[string[], RegExp]> = [
  [['--batch', '0'], /batch must be positive, got 0/],
  [['--batch', '-3'], /batch must be positive/],
  [['--height', '2.5'], /height must be a whole number, got 2.5/],
  [['--in', 'NaN'], /in channels must be a positive whole number, got "NaN"/],
  [['--out', 'abc'], /out channels must be a positive whole number, got "abc"/],
  [
    ['--kernel', '40', '--padding', 'valid'],
    /kernel 40×40 is larger than the 28×28 image: 'valid' padding leaves no output/,
  ],
  [['--padding', 'reflect'], /padding must be one of circular, same, valid, linear/],
  [['--engine', 'metal'], /unknown engine "metal"/],
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
  const r = fconv(['profile', '--engine', 'tfjs-node-gpu', '--out-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    /engine tfjs-node-gpu is not available here: @tensorflow\/tfjs-node-gpu: not installed \(optional; needs CUDA 11.2 and cuDNN 8.1\)/,
  );
  assert.match(r.err, /Without --engine/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('--engine cuda on a machine without a GPU driver says so and writes nothing; auto notes why it skipped cuda', () => {
  const dir = tmp();
  const r = fconv([
    'profile',
    '--engine',
    'cuda',
    '--out-dir',
    dir,
    '--batch',
    '2',
    '--height',
    '8',
    '--width',
    '8',
    '--out',
    '2',
  ]);
  assert.equal(r.code, 2);
  assert.match(r.err, /engine cuda is not available here: no CUDA driver: libcuda\.so\.1 not found/);
  assert.deepEqual(fs.readdirSync(dir), []);
  const auto = fconv(
    [
      'profile',
      '--out-dir',
      dir,
      '--batch',
      '2',
      '--height',
      '8',
      '--width',
      '8',
      '--out',
      '2',
      '--no-model',
      '--no-progress',
    ],
    { PATH: '/nonexistent', VIRTUAL_ENV: '', CONDA_PREFIX: '' },
  );
  assert.equal(auto.code, 0, auto.err);
  assert.match(auto.err, /· torch: no Python with torch ≥ 1\.8 found \(no python3 or python on the PATH\)/);
  // The next engine the walk finds: tfjs-node where the test setup built it (scripts/install-tfjs-node-from-wheel.sh),
  // else the embedded wasm engine.
  const tfjsNode = fs.existsSync(
    path.join(ROOT, '.tfjs-node', 'node_modules', '@tensorflow', 'tfjs-node', 'lib', 'napi-v8', 'tfjs_binding.node'),
  );
  assert.match(
    auto.err,
    new RegExp(
      `· cuda: no CUDA driver: libcuda\\.so\\.1 not found[^\\n]*\\n[\\s\\S]*using ${tfjsNode ? 'tfjs-node' : 'wasm'} instead`,
    ),
  );
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

test('fconv profile --engine torch,wasm runs one spec on both engines and puts their verdicts side by side', () => {
  const dir = tmp();
  const r = fconv([
    'profile',
    '--engine',
    'torch,wasm',
    '--batch',
    '2',
    '--height',
    '8',
    '--width',
    '8',
    '--out',
    '2',
    '--reps',
    '3',
    '--no-model',
    '--out-dir',
    dir,
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /fconv profile on 2 engines/);
  assert.match(r.out, /(agree {5}|DISAGREE {2})same function, spectral \(optimized\) vs spatial/);
  for (const e of ['torch', 'wasm']) {
    const run = parseRun(JSON.parse(fs.readFileSync(path.join(dir, e, 'report.json'), 'utf8')));
    assert.equal(run.engine, e === 'torch' ? 'torch' : 'tfjs');
  }
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'engines.json'), 'utf8')) as {
    runs: unknown[];
    verdicts: unknown[];
  };
  assert.equal(c.runs.length, 2);
  assert.equal(c.verdicts.length, 3);
  assert.ok(fs.existsSync(path.join(dir, 'engines.html')));
  const bad = fconv(['profile', '--engine', 'torch,torch', '--out-dir', dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /lists an engine twice/);
});
