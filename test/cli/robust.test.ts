/**
 * The CLI as CI scripts and impatient people use it: signals, closed pipes, unwritable outputs, limits,
 * unreadable inputs. Each test spawns `fconv`, acts on it, and asserts the exit code, a time bound, the
 * files left behind and that no worker process is left running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRun } from '../../src/core/run';
import { CLI, DIST, tempDir } from '../helpers';

const tmp = () => tempDir('fconv-robust-');
/** This file's probe cache, never the user's; a probe is measured into it once. */
const CACHE = tmp();
const ENV = { ...process.env, FCONV_CACHE_DIR: CACHE };
const S = ['--batch', '2', '--reps', '3', '--height', '8', '--width', '8', '--out', '2'];
/** A run slow enough to signal in the middle of (cpu engine, a few seconds). */
const SLOW = ['--batch', '8', '--height', '28', '--width', '28', '--out', '32', '--reps', '20', '--engine', 'cpu'];

function fconv(args: string[], env: NodeJS.ProcessEnv = ENV) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Live {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; ms: number }>;
  /** Resolves when stderr matches. */
  waitErr: (re: RegExp, ms?: number) => Promise<void>;
  workerPid: () => number | undefined;
}

function start(args: string[], env: NodeJS.ProcessEnv = ENV): Live {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '',
    err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let t0 = Date.now();
  const exited = new Promise<{ code: number | null; ms: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, ms: Date.now() - t0 })),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    waitErr: async (re, ms = 60_000) => {
      const until = Date.now() + ms;
      while (!re.test(err)) {
        if (Date.now() > until) throw new Error(`stderr never matched ${re}: ${err}`);
        if (child.exitCode !== null)
          throw new Error(`fconv exited (${child.exitCode}) before stderr matched ${re}: ${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      t0 = Date.now();
    },
    workerPid: () => {
      try {
        const pids = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
          .trim()
          .split('\n');
        return Number(pids[0]) || undefined;
      } catch {
        return undefined;
      }
    },
  };
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number | undefined, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

test('an output folder that cannot be written is refused before the run: exit 2, one line', () => {
  const file = path.join(tmp(), 'a-file');
  fs.writeFileSync(file, 'x');
  for (const [dir, want] of [
    [file, /--out-dir .* is a file, not a folder/],
    ['', /--out-dir is empty/],
    ['/proc/fconv-report', /--out-dir \/proc\/fconv-report cannot be written \(\w+\)/],
  ] as const) {
    const t0 = Date.now();
    const r = fconv(['profile', ...S, '--out-dir', dir]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, want);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.equal(r.out, '');
    assert.ok(Date.now() - t0 < 5000, 'refused before anything ran');
  }
});

test('a write that fails after the run still prints the table and names the path (exit 1)', async () => {
  const dir = path.join(tmp(), 'out');
  const live = start(['profile', ...SLOW, '--pass', 'forward', '--no-model', '--out-dir', dir]);
  await live.waitErr(/spatial \(1\/4\): preparing/);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.writeFileSync(dir, 'now a file');
  const { code } = await live.exited;
  assert.equal(code, 1, live.err());
  assert.match(live.out(), /optimized · .* — end to end/);
  assert.match(live.err(), new RegExp(`could not write the report to ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('a closed stdout ends the command quietly and keeps its files', async () => {
  const dir = tmp();
  for (const args of [
    ['profile', ...S, '--out-dir', dir],
    ['profile', ...S, '--out-dir', dir, '--json'],
    ['devices', '--json'],
  ]) {
    const live = start(args);
    // Read one chunk, then close the pipe as `head -c 100` does.
    await new Promise<void>((resolve) => live.child.stdout!.once('data', () => resolve()));
    live.child.stdout!.destroy();
    const { code } = await live.exited;
    assert.equal(code, 0, `${args.join(' ')}: ${live.err()}`);
    assert.doesNotMatch(live.err(), /Unhandled|EPIPE|at .*\.js:\d+/, args.join(' '));
  }
  assert.ok(fs.existsSync(path.join(dir, 'report.html')));
  // The scanner, on a file with many findings, into a reader that stops after one line.
  const big = path.join(tmp(), 'big.py');
  const layer = (i: number) =>
    `class L${i}(tf.keras.layers.Layer):\n    def call(self, x):\n        k = tf.signal.rfft2d(self.kernel)\n        return tf.einsum('ijkl,jklo->ijko', x, k)\n`;
  fs.writeFileSync(big, `import tensorflow as tf\n${Array.from({ length: 400 }, (_, i) => layer(i)).join('')}`);
  const sh = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" scan "${big}" | head -1`], {
    encoding: 'utf8',
    env: ENV,
  });
  assert.equal(sh.stdout.split('\n').filter(Boolean).length, 1);
  assert.doesNotMatch(sh.stderr, /Unhandled|EPIPE/);
});

test('the CLI knows every limit the worker enforces, and numbers parse one way everywhere', () => {
  for (const [args, want] of [
    [['profile', ...S, '--reps', '10001'], /--reps must be ≤ 10000, got 10001/],
    [['profile', ...S, '--warmup', '1001'], /--warmup must be ≤ 1000, got 1001/],
    [['sweep', ...S, '--reps', '10001'], /--reps must be ≤ 10000/],
    [['profile', '--batch', '1e1'], /batch must be a whole number, got 1e1/],
    [['profile', '--reps', '1e1'], /--reps must be a whole number, got 1e1/],
    [['profile', '--seed', '2.5'], /--seed must be a whole number, got 2.5/],
    [['sweep', '--kernels', '3,,5'], /--kernels has an empty item in "3,,5"/],
    [['profile', '--variants', ',,seed,'], /--variants has an empty item/],
    [['profile', '--variants', ''], /--variants needs at least one item/],
    [['sweep', '--channels', '1:32,'], /--channels has an empty item/],
    [['profile', '--no-model', '--refresh-probe'], /--refresh-probe has no effect with --no-model/],
    [['profile', '--no-model', '--sweep'], /--sweep needs the cost model/],
    [['predict', '--device', 'H100 SXM', '--peak-tflops', '10', '--bandwidth-gbs', '100'], /give one or the other/],
    [['predict', '--peak-tflops', '1e308', '--bandwidth-gbs', '1e-308'], /--peak-tflops must be a number from/],
    [['predict', '--peak-tflops', '10', '--bandwidth-gbs', '1e-308'], /--bandwidth-gbs must be a number from/],
  ] as const) {
    const r = fconv([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, want, args.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.doesNotMatch(r.err, /ZodError|"code":/);
  }
  const custom = fconv(['predict', '--peak-tflops', '10', '--bandwidth-gbs', '500', '--json']);
  assert.equal(custom.code, 0, custom.err);
  const p = JSON.parse(custom.out) as { device: string; factor: number };
  assert.equal(p.device, 'custom device');
  assert.ok(Number.isFinite(p.factor));
});

test('the probe reports progress and a Ctrl-C during it ends within a second, keeping the measured report', async () => {
  const dir = tmp();
  const cache = tmp();
  const live = start(['profile', ...S, '--engine', 'cpu', '--out-dir', dir], { ...ENV, FCONV_CACHE_DIR: cache });
  await live.waitErr(/reading this machine's rates \(once, then cached\): 2-D GEMM 1\/\d+/);
  const worker = live.workerPid();
  live.child.kill('SIGINT');
  const { code, ms } = await live.exited;
  assert.equal(code, 1, live.err());
  assert.ok(ms < 1500, `ended ${ms} ms after Ctrl-C`);
  assert.match(live.err(), /cancelled while reading the machine's rates/);
  assert.equal(parseRun(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'))).variants.length, 4);
  assert.ok(await gone(worker, 2000), 'no worker left');
  assert.deepEqual(fs.readdirSync(cache), [], 'a cancelled probe is not cached');
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${sig} cancels like Ctrl-C; a second one stops at once and still saves what was measured`, async () => {
    const dir = tmp();
    const live = start(['profile', ...SLOW, '--no-model', '--out-dir', dir]);
    await live.waitErr(/spatial-equivalent \(2\/4\): preparing/);
    const worker = live.workerPid();
    live.child.kill(sig);
    await new Promise((r) => setTimeout(r, 150));
    live.child.kill(sig);
    const { code, ms } = await live.exited;
    assert.equal(code, 1, live.err());
    assert.ok(ms < 1500, `ended ${ms} ms after the first signal`);
    assert.match(live.err(), /cancelling/);
    const run = parseRun(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')));
    assert.equal(run.status, 'cancelled');
    assert.ok(run.variants.length >= 1, 'the measured variant is kept');
    assert.match(fs.readFileSync(path.join(dir, 'report.html'), 'utf8'), /<\/html>\s*$/);
    JSON.parse(fs.readFileSync(path.join(dir, 'trace.json'), 'utf8'));
    assert.ok(await gone(worker, 2000), 'no worker left');
  });
}

test('the worker exits by itself when the CLI is killed (SIGKILL)', async () => {
  const live = start(['profile', ...SLOW, '--no-model', '--out-dir', tmp()]);
  await live.waitErr(/spatial \(1\/4\): preparing/);
  const worker = live.workerPid();
  assert.ok(alive(worker));
  live.child.kill('SIGKILL');
  await live.exited;
  assert.ok(await gone(worker, 10_000), 'the orphaned worker exits once its current step ends');
});

test('a run cancelled before any variant finished leaves the previous report in place', async () => {
  const dir = tmp();
  assert.equal(fconv(['profile', ...S, '--no-model', '--out-dir', dir]).code, 0);
  const before = fs.readFileSync(path.join(dir, 'report.json'), 'utf8');
  const live = start(['profile', ...SLOW, '--no-model', '--out-dir', dir]);
  await live.waitErr(/spatial \(1\/4\): preparing/);
  live.child.kill('SIGINT');
  const { code } = await live.exited;
  assert.equal(code, 1);
  assert.match(live.err(), /cancelled before any variant was measured; .* keeps its previous report/);
  assert.equal(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'), before);
});

test('--json prints the partial run when the worker crashes, as it does on a cancel', async () => {
  const live = start(['profile', ...SLOW, '--no-model', '--json', '--out-dir', tmp()]);
  await live.waitErr(/spatial-equivalent \(2\/4\): preparing/);
  process.kill(live.workerPid()!, 'SIGKILL');
  const { code } = await live.exited;
  assert.equal(code, 1);
  const run = parseRun(JSON.parse(live.out()));
  assert.equal(run.status, 'failed');
  assert.ok(run.variants.length >= 1);
  assert.match(live.err(), /the engine worker was killed by SIGKILL/);
});

test('a sweep stopped early says "not measured" for the channel pairs it never reached', async () => {
  const dir = tmp();
  fconv(['probe']); // the cached probe, so the sweep starts at once
  const live = start(['sweep', '--channels', '1:32,16:16', '--kernels', '3,5,7', '--out-dir', dir]);
  await live.waitErr(/sweep k = {2}3, 1→32/);
  live.child.kill('SIGINT');
  const { code } = await live.exited;
  assert.equal(code, 1);
  assert.match(live.out(), /crossover 16→16: measured: not measured/);
  assert.doesNotMatch(live.out(), /16→16: measured: spatial wins/);
});

test('fconv scan reports unreadable inputs one line each, scans the rest, and exits 2', () => {
  // Root reads everything: the scan runs as an unprivileged user then, from a copy of dist/ it can read.
  const root = process.getuid?.() === 0;
  const base = tmp();
  fs.chmodSync(base, 0o755);
  const dist = path.join(base, 'dist');
  fs.cpSync(DIST, dist, { recursive: true });
  const src = path.join(base, 'src');
  fs.mkdirSync(path.join(src, 'locked'), { recursive: true });
  fs.writeFileSync(
    path.join(src, 'good.py'),
    "import torch\nk = torch.fft.rfft2(x)\ny = torch.einsum('bixy,ioxy->boxy', k, w)\n",
  );
  fs.writeFileSync(path.join(src, 'noread.py'), 'import torch\n');
  fs.writeFileSync(path.join(src, 'locked', 'inner.py'), 'import torch\n');
  execFileSync('chmod', ['-R', 'a+rX', base]);
  fs.chmodSync(path.join(src, 'noread.py'), 0o000);
  fs.chmodSync(path.join(src, 'locked'), 0o000);
  const r = spawnSync(process.execPath, [path.join(dist, 'cli.js'), 'scan', path.join(src, 'good.py'), src, '--json'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: base },
    ...(root ? { uid: 65534, gid: 65534 } : {}),
  });
  fs.chmodSync(path.join(src, 'locked'), 0o755); // so the temp folder can be removed
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /cannot read .*noread\.py \(EACCES\)/);
  assert.match(r.stderr, /cannot read .*locked \(EACCES\)/);
  const report = JSON.parse(r.stdout) as {
    files: Array<{ file: string }>;
    unreadable: unknown[];
    summary: { unreadable: number };
  };
  assert.ok(
    report.files.some((f) => f.file.endsWith('good.py')),
    'good.py was scanned',
  );
  assert.equal(report.summary.unreadable, 2);
});

test('fconv scan exits 2 when nothing was scanned (every input over --max-chars), and says so', () => {
  const f = path.join(tmp(), 'model.py');
  fs.writeFileSync(f, 'import torch\nx = torch.fft.rfft2(y)\n');
  const r = fconv(['scan', f, '--max-chars', '10']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /nothing was scanned: every input was skipped/);
});

test('a worker that cannot start says why (the module it could not find), not the tail of a stack trace', () => {
  const dir = tmp();
  for (const f of ['cli.js', 'worker.js']) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
  const r = spawnSync(process.execPath, [path.join(dir, 'cli.js'), 'profile', ...S, '--out-dir', path.join(dir, 'o')], {
    encoding: 'utf8',
    env: { ...ENV, NODE_PATH: '' },
    cwd: dir,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /engine worker exited before it was ready .*Cannot find module '@tensorflow\/tfjs-core'/);
});
