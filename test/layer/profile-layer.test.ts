/**
 * `fconv profile-layer` end to end on the real torch of this machine (CI installs python3-torch): the
 * user's own class loaded without running the file's top level, timed per line, the lines adding up to
 * the total, and each way it can fail — their exception at their line, an import they use that is
 * missing, arguments missing, the time limit, the memory budget, a cancel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allocatorFinding, formatLayerProfile, layerProfileSchema } from '../../src/core/layer-profile';
import { CLI, tempDir, torchPython } from '../helpers';

const found = torchPython();
assert.ok(found, 'a Python with torch is installed (the CI installs python3-torch)');
const PY = found;
const FIX = path.join(__dirname, 'fixtures');

function fconv(args: string[], cwd = tempDir('fconv-pl-cwd-'), env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [CLI, 'profile-layer', ...args, '--python', PY, '--no-progress'], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd,
    env,
  });
  return { code: r.status, out: r.stdout, err: r.stderr, cwd };
}

/** A quick run of a small layer: few repetitions, no comparison, JSON; `extra` adds or overrides flags. */
function quick(file: string, cls: string, shape: string, extra: string[] = []) {
  return fconv([
    file,
    '--class',
    cls,
    '--input-shape',
    shape,
    '--reps',
    '3',
    '--trace-reps',
    '1',
    '--no-compare',
    '--json',
    '--out-dir',
    tempDir('fconv-pl-out-'),
    ...extra,
  ]);
}

test('an FNO block inside a training script: only what the layer needs runs; lines add up to the total; the profiler formulations beside it', () => {
  const out = tempDir('fconv-pl-out-');
  const r = fconv([
    path.join(FIX, 'train_fno.py'),
    '--class',
    'FNOBlock',
    '--input-shape',
    '4,16,32,32',
    '--reps',
    '10',
    '--trace-reps',
    '3',
    '--json',
    '--out-dir',
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  // The training script's top level would have written this file (in the cwd) and exited.
  assert.equal(fs.existsSync(path.join(r.cwd, 'SHOULD_NOT_EXIST.txt')), false);
  assert.equal(fs.existsSync(path.join(FIX, 'SHOULD_NOT_EXIST.txt')), false);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  assert.deepEqual(p.layer, { file: path.join(FIX, 'train_fno.py'), class: 'FNOBlock', line: 42 });
  // Built from the call in the file, whose arguments are module constants.
  assert.deepEqual(p.init, { args: 'WIDTH, MODES', from: 'file', line: 55 });
  assert.equal(p.engine, 'torch');
  assert.equal(p.framework.name, 'PyTorch');
  assert.deepEqual(p.output.shape, [4, 16, 32, 32]);
  // The lines and the rest add up to the plain forward's median.
  const sum = p.lines.reduce((a, l) => a + l.ms, 0) + p.notOnLineMs;
  assert.ok(Math.abs(sum - p.totalMs.median) <= 1e-6 * p.totalMs.median + 1e-9, `${sum} vs ${p.totalMs.median}`);
  const shares = p.lines.reduce((a, l) => a + l.share, 0);
  assert.ok(shares <= 1 + 1e-9 && shares > 0.5, `shares ${shares}`);
  const byLine = new Map(p.lines.map((l) => [l.line, l]));
  // forward() of the block and of the spectral conv, and the helper (called twice per forward).
  for (const n of [34, 38, 49, 50, 51]) assert.ok(byLine.has(n), `line ${n} timed`);
  assert.equal(byLine.get(18)?.hits, 2);
  assert.match(byLine.get(34)!.text, /torch\.fft\.rfft2\(x\)/);
  assert.ok(
    byLine.get(34)!.ops.some((o) => o.name === 'torch.fft.rfft2' && o.shapes[0] === '4x16x32x32'),
    JSON.stringify(byLine.get(34)!.ops),
  );
  assert.ok(byLine.get(18)!.ops.some((o) => o.name === 'torch.einsum' && o.calls === 2));
  // Nothing of train() or the top level was traced.
  for (const l of p.lines) assert.ok(l.line < 54 && l.line > 15, `line ${l.line}`);
  assert.ok(p.notes.some((n) => /this_package_is_not_installed.*does not use it: skipped/.test(n)));
  // The spectral conv inside, beside the profiler's fno and optimized of the same spec.
  assert.ok(p.comparison, p.noComparison);
  assert.equal(p.comparison.spec.layer, 'fno');
  assert.deepEqual(p.comparison.spec.modes, [6, 6]);
  assert.equal(p.comparison.spec.inChannels, 16);
  assert.match(p.comparison.asWritten.label, /conv \(SpectralConv2d\)/);
  assert.deepEqual(
    p.comparison.rows.map((x) => x.variant).sort(),
    ['fno', 'optimized', 'spatial-equivalent'].filter((v) => p.comparison!.rows.some((x) => x.variant === v)).sort(),
  );
  assert.ok(p.comparison.rows.some((x) => x.variant === 'optimized'));
  assert.ok(p.comparison.gain && p.comparison.gain.factor > 0);
  // The files: JSON equal to stdout, a page that embeds it.
  const saved = layerProfileSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'profile-layer.json'), 'utf8')));
  assert.equal(saved.totalMs.median, p.totalMs.median);
  assert.match(fs.readFileSync(path.join(out, 'profile-layer.html'), 'utf8'), /"kind":"layer-profile"/);
});

test('the text output: every line with its time and share, the attribution method, the gain', () => {
  const r = fconv([
    path.join(FIX, 'train_fno.py'),
    '--class',
    'SpectralConv2d',
    '--init',
    '8, 8, modes1=4, modes2=4',
    '--input-shape',
    '2,8,16,16',
    '--reps',
    '5',
    '--trace-reps',
    '2',
    '--out-dir',
    tempDir('fconv-pl-out-'),
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /SpectralConv2d \(.*train_fno\.py:21\) as written — PyTorch .* on CPU/);
  assert.match(r.out, /built as SpectralConv2d\(8, 8, modes1=4, modes2=4\)/);
  // The default pass times the training step too: each line's forward and backward, its share of the step.
  assert.match(r.out, /training step \(forward \+ backward\): [\d.]+ (ms|µs) median/);
  assert.match(r.out, /\n {4}38 +[\d.]+ (ms|µs) +([\d.]+ (ms|µs)|0) +\d+ % .*torch\.fft\.irfft2/);
  assert.match(r.out, /Line times: sys\.settrace line tracer/);
  assert.match(r.out, /Backward line times: every autograd node/);
  assert.match(r.out, /yours, as written/);
  assert.match(r.out, /optimized \(profiler\)/);
});

test("the attribution's numbers agree with its scale: the lines' traced sum against the plain median", () => {
  const r = quick(path.join(FIX, 'train_fno.py'), 'SpectralConv2d', '2,8,16,16', ['--init', '8, 8, 4, 4']);
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  const m = /sum to ([\d.e+-]+) ms against ([\d.e+-]+) ms plain, so they are scaled by ([\d.]+)/.exec(p.attribution);
  assert.ok(m, p.attribution);
  const [sum, plain, scale] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Three significant digits each: the ratio of the stated numbers is the stated scale.
  assert.ok(Math.abs(plain / sum - scale) <= 0.01 * scale, `${plain}/${sum} vs ${scale}`);
  assert.ok(Math.abs(plain - p.totalMs.median) <= 0.005 * p.totalMs.median);
  const b =
    p.train &&
    /medians sum to ([\d.e+-]+) ms against ([\d.e+-]+) ms plain, so the line times are scaled by ([\d.]+)/.exec(
      p.train.attribution,
    );
  if (b) assert.ok(Math.abs(Number(b[2]) / Number(b[1]) - Number(b[3])) <= 0.01 * Number(b[3]), p.train!.attribution);
});

test('constructor defaults from module constants; no call in the file', () => {
  const r = quick(path.join(FIX, 'const_defaults.py'), 'DefaultsFromConstants', '2,6,8,8');
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  assert.deepEqual(p.init, { args: '', from: 'defaults' });
  // channels=CHANNELS (6): 6·6·3·2 complex weights.
  assert.equal(p.parameters, 6 * 6 * 3 * 2);
  assert.equal(p.noComparison, '--no-compare');
});

test("an error in the user's code comes back as their file:line and exit 1", () => {
  const r = fconv([path.join(FIX, 'raises.py'), '--class', 'BadMix', '--input-shape', '2,4,8,8', '--no-compare']);
  assert.equal(r.code, 1);
  assert.match(r.err, /raises\.py:13: RuntimeError: einsum\(\).*\(in BadMix\.forward\)/);
});

test('an import the layer uses that fails names the import and the interpreter; exit 1', () => {
  const r = fconv([path.join(FIX, 'uses_missing.py'), '--class', 'Wrapper', '--input-shape', '1,3,4,4']);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /uses_missing\.py:2: `from not_installed_anywhere import SpecialConv` failed in .*python.*ModuleNotFoundError/,
  );
});

test('missing constructor arguments: exit 2 naming them; --init supplies them', () => {
  const f = path.join(FIX, 'needs_args.py');
  let r = fconv([f, '--class', 'Mixer', '--input-shape', '1,4,4,4']);
  assert.equal(r.code, 2);
  assert.match(r.err, /Mixer\(width, modes\) needs width, modes .* --init "width=, modes="/);
  r = fconv([
    f,
    '--class',
    'Mixer',
    '--init',
    'width=4, modes=2',
    '--input-shape',
    '1,4,4,4',
    '--reps',
    '2',
    '--trace-reps',
    '1',
    '--no-compare',
    '--out-dir',
    tempDir('fconv-pl-out-'),
  ]);
  assert.equal(r.code, 0, r.err);
  // Arguments are literals only: code in --init is refused, never run.
  r = fconv([f, '--class', 'Mixer', '--init', '__import__("os").getcwd(), 2', '--input-shape', '1,4,4,4']);
  assert.equal(r.code, 2);
  assert.match(r.err, /literals or module constants/);
});

test('bad input: no such class, bad shape, not Python: one line, exit 2', () => {
  let r = fconv([path.join(FIX, 'train_fno.py'), '--class', 'Nope', '--input-shape', '1,1,4,4']);
  assert.equal(r.code, 2);
  assert.match(r.err, /no class Nope .*layer classes here: SpectralConv2d, FNOBlock/);
  r = fconv([path.join(FIX, 'train_fno.py'), '--class', 'FNOBlock', '--input-shape', '1,x,4']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--input-shape must be/);
  r = fconv([path.join(FIX, 'train_fno.py'), '--class', 'FNOBlock']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--input-shape is required/);
});

test('the time limit stops the layer process and says so; the memory budget likewise', () => {
  const f = path.join(FIX, 'slow_and_big.py');
  let r = fconv([f, '--class', 'Sleeper', '--input-shape', '1,1,2,2', '--time-limit', '2', '--reps', '50']);
  assert.equal(r.code, 1);
  assert.match(r.err, /did not finish within the time limit of 2 s/);
  r = fconv([f, '--class', 'Hog', '--input-shape', '1,1,2,2', '--max-memory', '300MB']);
  assert.equal(r.code, 1);
  assert.match(r.err, /the layer's process used [\d.]+ MiB, above the memory budget of 286\.1 MiB/);
});

test('SIGINT cancels: the layer process stops, exit 1, no report written', async () => {
  const out = tempDir('fconv-pl-out-');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'profile-layer',
      path.join(FIX, 'slow_and_big.py'),
      '--class',
      'Sleeper',
      '--input-shape',
      '1,1,2,2',
      '--reps',
      '100',
      '--python',
      PY,
      '--out-dir',
      out,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 1, err);
  assert.ok(Date.now() - t0 < 5000, 'stopped within 5 s');
  assert.match(err, /cancel/);
  assert.equal(fs.existsSync(path.join(out, 'profile-layer.json')), false);
});

test("a layer inside a package: its relative import resolves, and the helper's lines are timed with their file", () => {
  const r = quick(path.join(FIX, 'pkg', 'models', 'fno.py'), 'PackagedSpectralConv', '2,4,8,8');
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  const helper = p.lines.find((l) => l.file === path.join(FIX, 'pkg', 'models', 'layers.py'));
  assert.ok(helper, p.lines.map((l) => `${l.file}:${l.line}`).join(', '));
  assert.equal(helper.line, 5);
  assert.ok(helper.ops.some((o) => o.name === 'torch.einsum'));
});

test('--pass train: the training step, each backward node timed on the line that made it; a line slow only in backward leads the backward', () => {
  const r = quick(path.join(FIX, 'backward_heavy.py'), 'BackwardHeavy', '4,16,32,32', [
    '--pass',
    'train',
    '--reps',
    '5',
    '--trace-reps',
    '5',
  ]);
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  const t = p.train!;
  assert.ok(t, 'the training step was measured');
  assert.ok(t.totalMs.median > t.backwardMs.median && t.backwardMs.median > 0);
  const line = (n: number) => p.lines.find((l) => l.line === n)!;
  const sort = line(17),
    expand = line(18);
  // The sort leads the forward; the expand + sum (a cheap reduction forward, a 64x broadcast backward) the backward.
  assert.ok(sort.ms > expand.ms, `forward: sort ${sort.ms} vs expand ${expand.ms}`);
  assert.ok(expand.backwardMs! > sort.backwardMs!, `backward: expand ${expand.backwardMs} vs sort ${sort.backwardMs}`);
  assert.ok(expand.backwardMs! > expand.ms, 'the expand line is slow in backward, not forward');
  // Lines + the rest add up to each pass's median.
  const fwd = p.lines.reduce((a, l) => a + l.ms, 0) + p.notOnLineMs;
  const bwd = p.lines.reduce((a, l) => a + (l.backwardMs ?? 0), 0) + t.notOnLineMs;
  assert.ok(
    Math.abs(fwd - p.totalMs.median) <= 1e-6 * p.totalMs.median + 1e-9,
    `forward ${fwd} vs ${p.totalMs.median}`,
  );
  assert.ok(
    Math.abs(bwd - t.backwardMs.median) <= 1e-6 * t.backwardMs.median + 1e-9,
    `bwd ${bwd} vs ${t.backwardMs.median}`,
  );
  // The forward-only pass has no training step and no backward per line.
  const f = quick(path.join(FIX, 'backward_heavy.py'), 'BackwardHeavy', '2,16,8,8', ['--pass', 'forward']);
  assert.equal(f.code, 0, f.err);
  const pf = layerProfileSchema.parse(JSON.parse(f.out));
  assert.equal(pf.train, undefined);
  assert.ok(pf.lines.every((l) => l.backwardMs === undefined));
  const bad = fconv([
    path.join(FIX, 'backward_heavy.py'),
    '--class',
    'BackwardHeavy',
    '--input-shape',
    '2,16,8,8',
    '--pass',
    'up',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--pass must be one of forward, train, both/);
});

test('a layer whose output has no gradient keeps its forward profile; the training step says why it was not measured', () => {
  const r = quick(path.join(FIX, 'argmax_head.py'), 'ArgmaxHead', '2,3,8,8', ['--pass', 'both']);
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  assert.ok(p.totalMs.median > 0 && p.lines.length > 0);
  assert.equal(p.train, undefined);
  assert.ok(
    p.notes.some((n) =>
      /training step not measured: ValueError: forward\(\) returned no floating-point tensor/.test(n),
    ),
    p.notes.join('\n'),
  );
});

/** A process that still runs (not a zombie waiting to be reaped). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

test('every process the layer started ends: the time limit kills its Python, its subprocess and its fork (the GIL held)', () => {
  const pidfile = path.join(tempDir('fconv-pl-pids-'), 'pids');
  const started = Date.now();
  const r = fconv(
    [
      path.join(FIX, 'spawns_and_hangs.py'),
      '--class',
      'Stuck',
      '--input-shape',
      '2',
      '--time-limit',
      '3',
      '--no-compare',
      '--out-dir',
      tempDir('fconv-pl-out-'),
    ],
    undefined,
    { ...process.env, FCONV_TEST_PIDFILE: pidfile },
  );
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /did not finish within the time limit of 3 s/);
  assert.ok(Date.now() - started < 60_000);
  const pids = fs.readFileSync(pidfile, 'utf8').trim().split(/\s+/).map(Number);
  assert.equal(pids.length, 3);
  const deadline = Date.now() + 5000;
  while (pids.some(running) && Date.now() < deadline) spawnSync('sleep', ['0.2']);
  assert.deepEqual(
    pids.filter(running),
    [],
    `still running: ${pids.filter(running).join(', ')} (python, its subprocess, its fork)`,
  );
});

test("only what the layer needs runs: a try block's imports (not its else/finally), free names (not x.view's `view`); a value only skipped code sets is named with its line", () => {
  const mark = path.join(tempDir('fconv-pl-mark-'), 'mark');
  const file = path.join(FIX, 'hostile_top.py');
  const run = (cls: string) =>
    fconv(
      [
        file,
        '--class',
        cls,
        '--input-shape',
        '2,3',
        '--reps',
        '2',
        '--trace-reps',
        '1',
        '--pass',
        'forward',
        '--no-compare',
        '--json',
        '--out-dir',
        tempDir('fconv-pl-out-'),
      ],
      undefined,
      { ...process.env, FCONV_TEST_MARK: mark },
    );
  const ok = run('UsesView');
  assert.equal(ok.code, 0, ok.err);
  assert.equal(fs.existsSync(`${mark}.else`), false, "the try block's else ran");
  assert.equal(fs.existsSync(`${mark}.finally`), false, "the try block's finally ran");
  assert.deepEqual(layerProfileSchema.parse(JSON.parse(ok.out)).output.shape, [6]);
  const bad = run('UsesDevice');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /hostile_top\.py:44: NameError: name 'device' is not defined/);
  assert.match(
    bad.err,
    /`device` is set on line 17 \(`device = torch\.device\("cpu"\)`\), which the profiler does not run/,
  );
  assert.match(bad.err, /--init/);
});

test('sys.exit() and a KeyboardInterrupt raised by the layer are its errors, at their line', () => {
  const file = path.join(FIX, 'exits.py');
  const exits = quick(file, 'Exits', '2,3');
  assert.equal(exits.code, 1, exits.err);
  assert.match(exits.err, /exits\.py:8: SystemExit: 3 \(your code called sys\.exit\(\) or raised SystemExit/);
  const interrupts = quick(file, 'Interrupts', '2,3');
  assert.equal(interrupts.code, 1, interrupts.err);
  assert.match(interrupts.err, /exits\.py:14: KeyboardInterrupt: {2}\(raised by your code, not a Ctrl-C\)/);
  // os._exit() would end the process with no reason and no line: it is stopped at the call, mapped to it.
  const hard = quick(file, 'HardExits', '2,3');
  assert.equal(hard.code, 1, hard.err);
  assert.match(hard.err, /exits\.py:21: os\._exit\(7\) \(your code called os\._exit\(\), which would end the process/);
});

test('inputs that used to crash are usage errors: one line, exit 2 — huge shapes, long or malformed --init, overflowing literals', () => {
  const file = path.join(FIX, 'exits.py');
  const out = tempDir('fconv-pl-out-');
  for (const [args, re] of [
    [['--input-shape', '1048577,1'], /--input-shape: each size must be at most 1048576/],
    [['--input-shape', '99999999999999999999'], /--input-shape: each size must be at most/],
    [['--input-shape', '65536,65536,8'], /more than the 4e\+9 a layer's random input may have/],
    [['--input-shape', '2,3', '--init', `1${', 1'.repeat(2100)}`], /--init is \d+ characters: at most 4000/],
    [['--input-shape', '2,3', '--init', '1), (2'], /--init is not a Python argument list: 1\), \(2/],
    [['--input-shape', '2,3', '--init', '10.0**400'], /OverflowError/],
    [['--input-shape', '2,3', '--init', '1/0'], /ZeroDivisionError/],
    [['--input-shape', '2,3', '--init', "1, b='a'*(2*10**9)"], /too large for a constructor argument/],
  ] as Array<[string[], RegExp]>) {
    const r = fconv([file, '--class', 'Exits', ...args, '--out-dir', out]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(
      r.err
        .trim()
        .split('\n')
        .filter((l) => !/^fconv: profiling/.test(l)).length,
      1,
      r.err,
    );
  }
  assert.deepEqual(fs.readdirSync(out), []);
});

test('a file with a coding cookie (PEP 263) is read in its encoding: Latin-1 literals reach the layer as Python reads them', () => {
  const r = quick(path.join(FIX, 'latin1.py'), 'Accents', '2,3', ['--pass', 'forward']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(layerProfileSchema.parse(JSON.parse(r.out)).output.shape, [2, 3]);
});

test('an interpreter whose sitecustomize prints a banner still runs the worker (the hello is found after it)', () => {
  const site = tempDir('fconv-pl-site-');
  fs.writeFileSync(path.join(site, 'sitecustomize.py'), 'print("Welcome to the cluster! Module loads below.")\n');
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'profile',
      '--engine',
      'torch',
      '--python',
      PY,
      '--batch',
      '1',
      '--height',
      '8',
      '--width',
      '8',
      '--out',
      '2',
      '--pass',
      'forward',
      '--reps',
      '2',
      '--warmup',
      '1',
      '--no-model',
      '--no-progress',
      '--out-dir',
      tempDir('fconv-pl-out-'),
    ],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PYTHONPATH: site } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /engine torch\/cpu/);
});

test('Ctrl-C twice while the layer holds the GIL: the CLI exits and its Python, subprocess and fork are gone', async () => {
  const pidfile = path.join(tempDir('fconv-pl-pids-'), 'pids');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'profile-layer',
      path.join(FIX, 'spawns_and_hangs.py'),
      '--class',
      'Stuck',
      '--input-shape',
      '2',
      '--python',
      PY,
      '--no-progress',
      '--no-compare',
      '--out-dir',
      tempDir('fconv-pl-out-'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FCONV_TEST_PIDFILE: pidfile } },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(pidfile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  const pids = fs.readFileSync(pidfile, 'utf8').trim().split(/\s+/).map(Number);
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.notEqual(code, 0, err);
  const until = Date.now() + 5000;
  while (pids.some(running) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(pids.filter(running), [], `still running: ${pids.filter(running).join(', ')}`);
});

test('a layer that removes the line tracer (sys.settrace(None)) is told so, not silently misattributed', () => {
  const r = quick(path.join(FIX, 'untraces.py'), 'Untraces', '2,3', ['--pass', 'forward']);
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  assert.ok(
    p.notes.some((n) => /your code replaced or removed the line tracer/.test(n)),
    p.notes.join('\n'),
  );
});

test('a failing star import is skipped with a note; a name the layer then lacks names it as the likely source', () => {
  const file = path.join(FIX, 'star_import.py');
  const ok = quick(file, 'NeedsNothing', '2,3', ['--pass', 'forward']);
  assert.equal(ok.code, 0, ok.err);
  const p = layerProfileSchema.parse(JSON.parse(ok.out));
  assert.ok(
    p.notes.some((n) => /line 4: `from utilities3_not_here import \*` failed .*skipped/.test(n)),
    p.notes.join('\n'),
  );
  const bad = quick(file, 'NeedsHelper', '2,3', ['--pass', 'forward']);
  assert.equal(bad.code, 1, bad.err);
  assert.match(
    bad.err,
    /star_import\.py:18: NameError: name 'LpLoss' is not defined; `LpLoss` probably comes from `from utilities3_not_here import \*` \(line 4\)/,
  );
});

test('the memory budget counts what __init__ builds, and an input above it is refused before it is made', () => {
  const file = path.join(FIX, 'big_init.py');
  const init = quick(file, 'BigInit', '2,3', ['--max-memory', '512MB']);
  assert.equal(init.code, 1, init.err);
  assert.match(init.err, /the layer.s process used [\d.]+ MiB, above the memory budget of 488\.3 MiB/);
  const input = quick(path.join(FIX, 'exits.py'), 'Exits', '1024,1024,512', ['--max-memory', '256MB']);
  assert.equal(input.code, 2, input.err);
  assert.match(input.err, /the input 1024x1024x512 is 2048\.0 MiB, above the memory budget of 244\.1 MiB/);
});

test("the input dtype: float32 beside a float64 scale parameter (not the first parameter's dtype); --input-dtype overrides", () => {
  const file = path.join(FIX, 'mixed_dtypes.py');
  const r = quick(file, 'ScaledConv', '1,2,6,6', ['--pass', 'forward']);
  assert.equal(r.code, 0, r.err);
  assert.equal(layerProfileSchema.parse(JSON.parse(r.out)).input.dtype, 'float32');
  const wrong = quick(file, 'ScaledConv', '1,2,6,6', ['--pass', 'forward', '--input-dtype', 'float64']);
  assert.equal(wrong.code, 1, wrong.err);
  assert.match(wrong.err, /mixed_dtypes\.py:12: RuntimeError: .*(double|Double|float)/);
});

test('a layer that leaves the line tracer alone gets no note about it', () => {
  const r = quick(path.join(FIX, 'mixed_dtypes.py'), 'ScaledConv', '1,2,6,6', ['--pass', 'forward']);
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  assert.ok(!p.notes.some((n) => /line tracer/.test(n)), p.notes.join('\n'));
});

test("the default allocator's cost: a 48 MiB temporary per call faults on glibc's default malloc, not once memory is kept; said with the fix", () => {
  const r = fconv([
    path.join(FIX, 'big_buffers.py'),
    '--class',
    'BigTemporary',
    '--input-shape',
    '2,3',
    '--pass',
    'forward',
    '--no-compare',
    '--reps',
    '10',
    '--json',
    '--out-dir',
    tempDir('fconv-pl-out-'),
  ]);
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  const a = p.allocator;
  assert.ok(a, 'measured on the default allocator first');
  // 48 MiB / 4 KiB = 12,288 pages mapped in per call on the default malloc; the kept runs reuse them.
  assert.ok(a.default.faultsPerCall > 8000, `default: ${a.default.faultsPerCall} faults per call`);
  assert.ok(a.keptFaultsPerCall < a.default.faultsPerCall / 10, `kept: ${a.keptFaultsPerCall}`);
  assert.ok(a.default.median > p.totalMs.median, `${a.default.median} vs ${p.totalMs.median} ms`);
  assert.match(p.timing, /glibc malloc keeps freed memory/);
  const text = formatLayerProfile(p);
  const finding = allocatorFinding(p);
  if (finding) {
    assert.match(text, /In a default PyTorch process this forward takes .*page faults per call/);
    assert.match(text, /MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=268435456.*docs\/allocator\.md/);
  } else assert.ok(!/In a default PyTorch process/.test(text));
});

test('a statement over several lines is one row, run once per forward; a loop header counts its evaluations', () => {
  const r = quick(path.join(FIX, 'multiline.py'), 'MultiLine', '4,3', ['--trace-reps', '2', '--pass', 'forward']);
  assert.equal(r.code, 0, r.err);
  const p = layerProfileSchema.parse(JSON.parse(r.out));
  const rows = new Map(p.lines.map((l) => [l.line, l]));
  // torch.zeros( over lines 12–15 and (x * self.w) over 16–17: their first lines only, each once per forward.
  assert.deepEqual(
    p.lines.map((l) => l.line),
    [12, 16, 18, 20, 21],
  );
  assert.equal(rows.get(12)!.hits, 1);
  assert.equal(rows.get(16)!.hits, 1);
  assert.equal(rows.get(18)!.hits, 3, 'the for header: two iterations and the exit');
  assert.equal(rows.get(20)!.hits, 2, 'the body: twice');
  assert.match(rows.get(12)!.text, /z = torch\.zeros\(/);
  assert.ok(
    rows.get(12)!.ops.some((o) => o.name === 'torch.zeros'),
    'the call is charged to its first line',
  );
});
