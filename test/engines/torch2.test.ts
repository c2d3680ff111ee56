/**
 * The torch engine and profile-layer on PyTorch 2.x (the torch users run), beside Debian's 1.13 that torch.test.ts
 * uses: torch 2.13 CPU in .venv-torch (scripts/install-torch-venv.sh; the CI installs it). Every variant against its
 * reference, forward and the training step's gradients; the CLI's profile and profile-layer end to end with Python
 * warnings turned into errors (a deprecation our worker trips would fail them); the engine reports the 2.x version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rng } from '../../src/core/data';
import { compiledLayerLine, layerProfileSchema } from '../../src/core/layer-profile';
import { parseRun } from '../../src/core/run';
import { profile } from '../../src/engines/profiler';
import { TorchEngine } from '../../src/engines/torch/framework';
import { CLI, randomEngineSpec, tempDir, torchPython } from '../helpers';

const TORCH2 = process.env.FCONV_TORCH2_PYTHON ?? path.join(__dirname, '..', '..', '.venv-torch', 'bin', 'python');
assert.ok(fs.existsSync(TORCH2), `PyTorch 2.x at ${TORCH2} (bash scripts/install-torch-venv.sh makes it)`);
const QUICK = {
  variants: ['spatial', 'spatial-equivalent', 'seed', 'optimized'] as const,
  warmup: 0,
  reps: 1,
  seed: 1,
  adaptiveBudgetMs: 0,
};

test('torch 2.x: every variant equals its reference, forward and training step gradients, all paddings and layouts', async () => {
  const engine = await TorchEngine.create({ python: [{ path: TORCH2, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    const r = rng(202);
    for (let i = 0; i < 8; i++) {
      const s = randomEngineSpec(r, i);
      const run = await profile(engine, s, { ...QUICK, variants: [...QUICK.variants], seed: i + 1, pass: 'both' });
      parseRun(JSON.parse(JSON.stringify(run)));
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      assert.match(run.framework?.version ?? '', /^2\./);
      for (const v of run.variants) {
        assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError}`);
        if (v.name === 'seed' || v.name === 'optimized')
          assert.ok(
            v.train!.gradients.every((g) => g.correct),
            `${v.name} ${JSON.stringify(s)}: ${JSON.stringify(v.train!.gradients)}`,
          );
      }
    }
  } finally {
    engine.shutdown();
  }
});

/** The CLI with Python warnings as errors: a deprecation our code trips on 2.x fails the run. */
function fconv(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--python', TORCH2, '--no-progress'], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd: tempDir('fconv-t2-cwd-'),
    env: { ...process.env, PYTHONWARNINGS: 'error' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('torch 2.x: fconv profile and profile-layer end to end, no Python warning even as errors', () => {
  const p = fconv([
    'profile',
    '--engine',
    'torch',
    '--torch-device',
    'cpu',
    '--batch',
    '2',
    '--pass',
    'both',
    '--reps',
    '2',
    '--warmup',
    '1',
    '--json',
    '--out-dir',
    tempDir('fconv-t2-out-'),
  ]);
  assert.equal(p.code, 0, p.err);
  const run = parseRun(JSON.parse(p.out));
  assert.match(run.framework?.version ?? '', /^2\./);
  assert.ok(run.variants.every((v) => v.correct));
  assert.doesNotMatch(p.err, /Warning/);
  const l = fconv([
    'profile-layer',
    path.join(__dirname, '..', 'layer', 'fixtures', 'train_fno.py'),
    '--class',
    'SpectralConv2d',
    '--init',
    '8, 8, 4, 4',
    '--input-shape',
    '2,8,32,32',
    '--reps',
    '3',
    '--trace-reps',
    '2',
    '--no-compare',
    '--json',
    '--out-dir',
    tempDir('fconv-t2-out-'),
  ]);
  assert.equal(l.code, 0, l.err);
  assert.doesNotMatch(l.err, /Warning/);
  const lp = layerProfileSchema.parse(JSON.parse(l.out));
  assert.match(lp.framework.version, /^2\./);
  // The lines (and the time on no line) add up to the plain median; the training step has its backward per line.
  const sum = lp.lines.reduce((s, x) => s + x.ms, 0) + lp.notOnLineMs;
  assert.ok(Math.abs(sum - lp.totalMs.median) <= 0.02 * lp.totalMs.median + 1e-6, `${sum} vs ${lp.totalMs.median}`);
  assert.ok(lp.train && lp.lines.some((x) => (x.backwardMs ?? 0) > 0));
  assert.ok(lp.lines.some((x) => x.ops.some((o) => /fft/.test(o.name))));
});

test('torch 2.x: profile-layer --compile times torch.compile of the class beside eager, checked, compile time apart; torch 1.13 says why not', () => {
  const fixture = path.join(__dirname, '..', 'layer', 'fixtures', 'train_fno.py');
  const args = [
    'profile-layer',
    fixture,
    '--class',
    'SpectralConv2d',
    '--init',
    '4, 4, 3, 3',
    '--input-shape',
    '2,4,16,16',
    '--reps',
    '6',
    '--trace-reps',
    '1',
    '--threads',
    '1',
    '--no-compare',
    '--compile',
    '--json',
    '--out-dir',
    tempDir('fconv-t2-out-'),
  ];
  // Warnings as errors: torch.compile trips deprecations inside torch itself; the row must not fail on them.
  const r = spawnSync(process.execPath, [CLI, ...args, '--python', TORCH2, '--no-progress'], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd: tempDir('fconv-t2-cwd-'),
    env: { ...process.env, PYTHONWARNINGS: 'error' },
  });
  assert.equal(r.status, 0, r.stderr);
  const p = layerProfileSchema.parse(JSON.parse(r.stdout));
  const c = p.compiled!;
  assert.ok(c, 'the compiled row is there');
  assert.equal(c.failed, undefined, c.failed);
  assert.ok(c.compileMs! > 0 && c.forward && c.eagerForward && c.train && c.eagerTrain);
  assert.ok(c.maxRelError! <= 1e-4, `checked against eager: ${c.maxRelError}`);
  assert.match(
    compiledLayerLine(p)!,
    /^torch\.compile of your class: compile and first call .* \(once\), then forward .* eager in the same rounds/,
  );
  // torch 1.13 (Debian's): no torch.compile, said in one line, the profile intact.
  const old = spawnSync(process.execPath, [CLI, ...args, '--python', torchPython()!, '--no-progress'], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd: tempDir('fconv-t2-cwd-'),
  });
  assert.equal(old.status, 0, old.stderr);
  const o = layerProfileSchema.parse(JSON.parse(old.stdout));
  assert.match(o.compiled!.failed!, /torch 1\.13.* has no torch\.compile \(it came with torch 2\.0\)/);
  assert.ok(o.lines.length > 0);
});

test('torch 2.x: fconv profile --compile gives the FNO layer as written a torch.compile row beside eager, checked, compile time apart; torch 1.13 and other engines say why not', () => {
  const spec = [
    '--layer',
    'fno',
    '--batch',
    '2',
    '--in',
    '4',
    '--out',
    '4',
    '--height',
    '16',
    '--width',
    '16',
    '--modes',
    '4',
  ];
  const run = (python: string, extra: string[] = []) =>
    spawnSync(
      process.execPath,
      [
        CLI,
        'profile',
        '--engine',
        'torch',
        ...spec,
        '--pass',
        'both',
        '--reps',
        '3',
        '--warmup',
        '1',
        '--threads',
        '1',
        '--compile',
        '--no-model',
        '--json',
        '--out-dir',
        tempDir('fconv-t2-out-'),
        '--python',
        python,
        '--no-progress',
        ...extra,
      ],
      // Warnings as errors: torch.compile trips deprecations inside torch itself; the row must not fail on them.
      {
        encoding: 'utf8',
        timeout: 240_000,
        cwd: tempDir('fconv-t2-cwd-'),
        env: { ...process.env, PYTHONWARNINGS: 'error' },
      },
    );
  const r = run(TORCH2);
  assert.equal(r.status, 0, r.stderr);
  const got = parseRun(JSON.parse(r.stdout));
  const fno = got.variants.find((v) => v.name === 'fno')!;
  const c = fno.compiled!;
  assert.ok(c, 'the layer as written has the compiled row');
  assert.equal(c.failed, undefined, c.failed);
  assert.ok(c.compileMs! > 0 && c.compileTrainMs! > 0, 'compile time apart, forward and backward');
  assert.ok(c.forward!.median > 0 && c.eagerForward!.median > 0 && c.train!.median > 0 && c.eagerTrain!.median > 0);
  assert.ok(c.maxRelError! <= 1e-4, `output and gradients checked against eager: ${c.maxRelError}`);
  assert.equal(got.variants.find((v) => v.name === 'optimized')!.compiled, undefined, 'only the layer as written');
  // torch 1.13: the row says why, the run stands.
  const o = run(torchPython()!);
  assert.equal(o.status, 0, o.stderr);
  const old = parseRun(JSON.parse(o.stdout));
  assert.match(
    old.variants.find((v) => v.name === 'fno')!.compiled!.failed!,
    /^torch 1\.13.* has no torch\.compile \(it came with torch 2\.0\)$/,
  );
  assert.ok(old.variants.every((v) => v.correct));
  // Another engine, or no variant as written: one line, exit 2, before anything runs.
  const usage = (args: string[]) =>
    spawnSync(process.execPath, [CLI, 'profile', ...args, '--compile', '--out-dir', tempDir('fconv-t2-out-')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const wasm = usage(['--engine', 'wasm']);
  assert.equal(wasm.status, 2);
  assert.equal(
    wasm.stderr.trim(),
    "fconv: --compile times torch.compile, PyTorch's: use --engine torch (torch ≥ 2), not wasm",
  );
  const none = usage(['--engine', 'torch', '--layer', 'fno', '--variants', 'optimized']);
  assert.equal(none.status, 2);
  assert.equal(none.stderr.trim(), 'fconv: --compile compiles the layer as written: add fno to --variants');
});

test("torch.compile's warnings are recorded, never raised (even as errors) nor printed: deprecations left out, the rest kept for the row", () => {
  const code = [
    'import json, sys, warnings',
    'warnings.simplefilter("error")',
    'import fconv_layer',
    'said = []',
    'with fconv_layer.compile_warnings(said):',
    '    warnings.warn("torch.jit.script_method is deprecated", DeprecationWarning)',
    '    for _ in range(2):',
    '        warnings.warn("Torchinductor does not support code generation for complex operators.\\nmore", UserWarning)',
    '    warnings.warn("another note", RuntimeWarning)',
    'raised = False',
    'try:',
    '    warnings.warn("after", UserWarning)',
    'except UserWarning:',
    '    raised = True',
    'print(json.dumps({"said": said, "filterRestored": raised}))',
  ].join('\n');
  const r = spawnSync(
    '/usr/bin/python3',
    ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'python'))})\n${code}`],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing printed');
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(out.said, ['Torchinductor does not support code generation for complex operators.', 'another note']);
  assert.equal(out.filterRestored, true, "the caller's warning filters are back after it");
});
