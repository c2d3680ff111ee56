/**
 * Interpreter discovery against a hanging interpreter (issue 29, item 7): a short timeout per candidate, said as
 * it happens, and the candidate's whole process group ended — on the timeout and on Ctrl-C during discovery.
 * The stand-in is a shell script that starts a child and waits, as a pyenv shim or a wrapper with a hanging
 * import would; it writes both PIDs so the test can check they are gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discover } from '../../src/engines/python/discovery';
import { candidates } from '../../src/platform/python-candidates';
import { TORCH } from '../../src/engines/torch/framework';
import { CLI, tempDir, torchPython } from '../helpers';

const PY = torchPython();

/** A process is gone when /proc has no entry for it, or only a zombie waiting to be reaped. */
function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** No live process left in process group `pgid`. */
function groupGone(pgid: number): boolean {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return false;
    } catch {
      /* ended while reading */
    }
  }
  return true;
}

async function eventually(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

/** A "python3" that never answers: it starts a child (`sleep`) and waits for it, writing both PIDs. */
function hangingPython(dir: string): { path: string; pids: () => number[] } {
  const pidFile = path.join(dir, 'pids');
  const p = path.join(dir, 'python3');
  fs.writeFileSync(p, `#!/bin/sh\necho $$ > ${pidFile}\nsleep 600 &\necho $! >> ${pidFile}\nwait\n`, { mode: 0o755 });
  return {
    path: p,
    pids: () =>
      fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [],
  };
}

test('a hanging --python is given up on after the discovery timeout: one line, and its process group is gone', async () => {
  const dir = tempDir('fconv-hangpy-');
  const hang = hangingPython(dir);
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [CLI, 'profile', '--engine', 'torch', '--python', hang.path, '--out-dir', path.join(dir, 'o')],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, FCONV_DISCOVERY_TIMEOUT_MS: '1500', FCONV_CACHE_DIR: tempDir('fconv-hangcache-') },
    },
  );
  const took = Date.now() - started;
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /engine torch is not available with .*python3: no answer in 2 s \(a hanging import or start-up file\?\); it was ended/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(took < 20_000, `gave up in ${took} ms, not the old 30 s`);
  const [shell, child] = hang.pids();
  assert.ok(shell && child, 'the stand-in started and wrote its PIDs');
  assert.ok(await eventually(() => gone(shell) && gone(child)), `PIDs ${shell}, ${child} are gone`);
  assert.ok(groupGone(shell), `process group ${shell} is gone`);
});

test('auto discovery says it waits on a slow candidate, ends it, and goes on to the next one that works', async () => {
  assert.ok(PY, 'a Python with torch is installed (the CI installs python3-torch)');
  const dir = tempDir('fconv-hangpath-');
  const hang = hangingPython(dir);
  const notes: string[] = [];
  const { discoveryNotes } = await import('../../src/engines/python/discovery');
  discoveryNotes.listener = (l) => notes.push(l);
  try {
    const tried = await discover([], TORCH, {
      env: { PATH: `${dir}${path.delimiter}${path.dirname(PY)}`, FCONV_DISCOVERY_TIMEOUT_MS: '4000' },
    });
    assert.equal(tried.length, 2, JSON.stringify(tried));
    assert.equal(tried[0].path, hang.path);
    assert.match(tried[0].problem!, /no answer in 4 s .*it was ended/);
    assert.equal(tried[1].problem, undefined, 'the real interpreter is used');
    assert.ok(
      notes.some((n) => n.includes(`waiting for ${hang.path} (PATH) to say its torch version`)),
      notes.join('\n'),
    );
  } finally {
    discoveryNotes.listener = undefined;
  }
  const [shell, child] = hang.pids();
  assert.ok(await eventually(() => gone(shell) && gone(child)), `PIDs ${shell}, ${child} are gone`);
  assert.ok(groupGone(shell));
});

test('Ctrl-C during discovery ends the command and the interpreter it was asking', async () => {
  const dir = tempDir('fconv-hangint-');
  const hang = hangingPython(dir);
  // In its own process group, as a terminal's foreground job: Ctrl-C goes to the whole group.
  const cli = spawn(
    process.execPath,
    [CLI, 'profile', '--engine', 'torch', '--python', hang.path, '--out-dir', path.join(dir, 'o')],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FCONV_DISCOVERY_TIMEOUT_MS: '120000', FCONV_CACHE_DIR: tempDir('fconv-hangcache-') },
    },
  );
  let err = '';
  cli.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => cli.on('exit', (code) => r(code)));
  try {
    assert.ok(await eventually(() => hang.pids().length === 2, 30_000), 'the stand-in started');
    process.kill(-cli.pid!, 'SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
    assert.notEqual(code, 'still running', 'Ctrl-C ends the command during discovery');
    assert.match(err, /cancel/);
    const [shell, child] = hang.pids();
    assert.ok(await eventually(() => gone(shell) && gone(child)), `PIDs ${shell}, ${child} are gone: ${err}`);
    assert.ok(groupGone(shell));
  } finally {
    try {
      process.kill(-cli.pid!, 'SIGKILL');
    } catch {
      /* ended */
    }
  }
});

test("candidates: a virtual environment is its own interpreter even when its python links to the system's, and the working folder's .venv is tried before the PATH", () => {
  const sys = fs.realpathSync('/usr/bin/python3');
  const root = tempDir('fconv-venvs-');
  // Two environments made from the system's python, as `python -m venv` does: a link and pyvenv.cfg.
  const venv = (dir: string) => {
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    fs.symlinkSync(sys, path.join(dir, 'bin', 'python'));
    fs.writeFileSync(path.join(dir, 'pyvenv.cfg'), `home = ${path.dirname(sys)}\n`);
  };
  venv(path.join(root, 'activated'));
  const project = path.join(root, 'project');
  venv(path.join(project, '.venv'));
  const got = candidates([], { VIRTUAL_ENV: path.join(root, 'activated'), PATH: '/usr/bin' }, project).map(
    (c) => `${c.path} (${c.from})`,
  );
  assert.deepEqual(got, [
    `${path.join(root, 'activated', 'bin', 'python')} (VIRTUAL_ENV)`,
    `${path.join(project, '.venv', 'bin', 'python')} (./.venv)`,
    '/usr/bin/python3 (PATH)',
  ]);
  // One interpreter by two paths is tried once: python and python3 in one folder, an environment asked for twice.
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(sys, path.join(bin, 'python3'));
  fs.symlinkSync(sys, path.join(bin, 'python'));
  assert.deepEqual(
    candidates([{ path: path.join(project, '.venv', 'bin', 'python'), from: '--python' }], { PATH: bin }, project).map(
      (c) => c.from,
    ),
    ['--python', 'PATH'],
  );
});
