/**
 * Which Python runs a Python engine (its framework a parameter: torch today). Candidates in order: the
 * interpreter asked for (--python, the fourierConv.pythonPath setting, or VS Code's Python extension — the
 * host passes them), VIRTUAL_ENV, CONDA_PREFIX, then every `python3` and `python` on the PATH (a pyenv shim
 * first on the PATH often has no torch while /usr/bin/python3 has). Each is asked for its versions by starting
 * the worker script for the framework, which says hello and exits when its stdin closes. The first with a
 * recent enough framework is used; every one tried is reported. Worker side.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fmtCudnn } from '../../core/units';
import { type Hello, helloSchema } from '../../protocol/python-protocol';
import { EngineUnavailableError } from '../engine';
import { type Candidate, candidates } from '../../platform/python-candidates';
import { type PythonFramework, frameworkProblem } from './framework';
import { pythonPids, workerScript } from './process';

export { type Candidate, candidates } from '../../platform/python-candidates';

export interface Tried extends Candidate {
  hello?: Hello;
  /** Why it cannot run the engine (not a Python, no torch, torch too old); absent when it can. */
  problem?: string;
}

/** How long one candidate may take to say hello (it imports the framework: 1–5 s here) before it is given up on. */
export function discoveryTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.FCONV_DISCOVERY_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 20_000;
}

/** After this long without a hello, the wait is said (a hanging interpreter is otherwise silence). */
const SAY_WAITING_MS = 3_000;

/** Told what discovery is doing when it takes a while (waiting on a slow candidate, giving up on one). */
export const discoveryNotes: { listener?: (line: string) => void } = {};

/** Candidates still being asked: ended with their process group if this process exits first. */
const asking = new Set<number>();
let exitHooked = false;

function endGroup(pid: number): void {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/**
 * Asks one interpreter for its versions (about a second: it imports the framework). The candidate runs in a
 * process group of its own (a pyenv shim or a wrapper script may start the real Python as a child), reported to
 * the host like every Python process, and the whole group is ended when it answers, when it takes longer than
 * `timeoutMs`, when `signal` aborts, or when this process exits.
 */
export function tryInterpreter(
  c: Candidate,
  fw: PythonFramework,
  o: { timeoutMs?: number; signal?: AbortSignal; say?: (line: string) => void } = {},
): Promise<Tried> {
  let script: string;
  try {
    script = workerScript();
  } catch (e) {
    return Promise.resolve({ ...c, problem: (e as Error).message });
  }
  if (!fs.existsSync(c.path)) return Promise.resolve({ ...c, problem: 'no such file' });
  const timeoutMs = o.timeoutMs ?? discoveryTimeoutMs();
  const say = o.say ?? discoveryNotes.listener;
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const pid of asking) endGroup(pid);
    });
  }
  return new Promise<Tried>((resolve) => {
    const started = Date.now();
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(c.path, ['-u', script, fw.id], {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
      });
    } catch (e) {
      resolve({ ...c, problem: `could not run it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) {
      asking.add(pid);
      pythonPids.listener?.(pid, true);
    }
    let stdout = '';
    let stderr = '';
    let ended: string | undefined;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    child.stdin!.on('error', () => {});
    child.stdin!.end();
    const waiting =
      timeoutMs > SAY_WAITING_MS
        ? setTimeout(
            () =>
              say?.(
                `python: waiting for ${c.path} (${c.from}) to say its ${fw.id} version (${Math.round((Date.now() - started) / 1000)} s so far; given up on after ${Math.round(timeoutMs / 1000)} s)`,
              ),
            SAY_WAITING_MS,
          )
        : undefined;
    let settled = false;
    const finish = (t: Tried) => {
      if (settled) return;
      settled = true;
      clearTimeout(waiting);
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        // What it started (a shim's real Python) goes with it.
        endGroup(pid);
        asking.delete(pid);
        pythonPids.listener?.(pid, false);
      }
      resolve(t);
    };
    const stop = (why: string) => {
      if (ended !== undefined) return;
      ended = why;
      if (pid !== undefined) endGroup(pid);
      // A process that escaped the group may still hold the pipes open: do not wait for them.
      setTimeout(() => finish({ ...c, problem: why }), 1000).unref();
    };
    const timer = setTimeout(
      () => stop(`no answer in ${Math.round(timeoutMs / 1000)} s (a hanging import or start-up file?); it was ended`),
      timeoutMs,
    );
    const onAbort = () => stop('cancelled');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => stop(`could not run it: ${e.code ?? e.message}`));
    child.on('close', (code) => {
      if (ended !== undefined) return finish({ ...c, problem: ended });
      const hello = helloIn(stdout);
      if (!hello) {
        const why = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit code ${code}`;
        return finish({ ...c, problem: `not a Python that can run the worker (${why.slice(0, 200)})` });
      }
      const problem = frameworkProblem(fw, hello);
      finish(problem ? { ...c, hello, problem } : { ...c, hello });
    });
  });
}

/** The hello is the first line that is one: a sitecustomize.py or a .pth file may print a banner before it. */
function helloIn(stdout: string): Hello | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const h = helloSchema.safeParse(JSON.parse(line));
      if (h.success) return h.data;
    } catch {
      /* not JSON: a banner */
    }
  }
  return undefined;
}

/**
 * Tries the candidates in order and returns every one tried, up to and including the first that can run
 * the engine (`all` tries every one, for `fconv devices`). An interpreter asked for explicitly that cannot
 * run it ends the search: the user asked for that one.
 */
export async function discover(
  asked: Candidate[],
  fw: PythonFramework,
  o: { all?: boolean; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<Tried[]> {
  const tried: Tried[] = [];
  for (const c of candidates(asked, o.env)) {
    if (o.signal?.aborted) break;
    const t = await tryInterpreter(c, fw, { signal: o.signal, timeoutMs: discoveryTimeoutMs(o.env) });
    tried.push(t);
    if (!o.all && (!t.problem || asked.some((a) => a.path === c.path))) break;
  }
  return tried;
}

/** One line per interpreter tried, for the notes and the log. */
export function describeTried(tried: Tried[]): string[] {
  return tried.map((t) => {
    const h = t.hello;
    const what = h
      ? `Python ${h.python}${h.version ? `, ${h.framework} ${h.version}` : ''}${h.cuda ? `, CUDA ${h.cudaVersion} (${h.gpus.join(', ')})` : h.version ? ', no CUDA' : ''}${h.cudnn ? `, cuDNN ${fmtCudnn(h.cudnn)}` : ''}`
      : '';
    return `${t.path} (${t.from})${what ? `: ${what}` : ''}${t.problem ? ` — ${t.problem}` : ' — usable'}`;
  });
}

/**
 * The interpreter to run the framework in (the first usable one, in search order) and the device to use on it,
 * or an EngineUnavailableError saying why not: the one asked for and its problem, or every one tried. `what`
 * names the job in the message ("engine torch is not available", "cannot profile the layer").
 */
export async function pickInterpreter(
  asked: Candidate[],
  device: string | undefined,
  fw: PythonFramework,
  what: { with: (path: string) => string; none: string },
): Promise<{ usable: Tried & { hello: Hello }; device: string; notes: string[] }> {
  const tried = await discover(asked, fw);
  const notes = describeTried(tried).map((l) => `python: ${l}`);
  const usable = tried.find((t) => !t.problem);
  if (!usable?.hello) {
    const named = asked.length ? tried.find((t) => asked.some((a) => a.path === t.path)) : undefined;
    const reason = named
      ? `${named.problem}`
      : `no Python with ${fw.id} ≥ ${fw.minVersion.join('.')} found (${tried.length ? tried.map((t) => `${t.path}: ${t.problem}`).join('; ') : 'no python3 or python on the PATH'}); give one with --python`;
    throw new EngineUnavailableError(`${named ? what.with(named.path) : what.none}: ${reason}`, reason);
  }
  const hello = usable.hello;
  const chosen = device ?? (hello.cuda ? 'cuda' : 'cpu');
  const flag = fw.id === 'tensorflow' ? '--tf-device' : `--${fw.id}-device`;
  const sees =
    fw.id === 'tensorflow' ? "tf.config.list_physical_devices('GPU') is empty" : 'torch.cuda.is_available() is False';
  if (!/^(cpu|cuda(:\d+)?)$/.test(chosen))
    throw new EngineUnavailableError(`${flag} must be cpu, cuda or cuda:N, got "${chosen}"`);
  if (chosen.startsWith('cuda') && !hello.cuda)
    throw new EngineUnavailableError(
      `${flag} ${chosen}: ${fw.id} ${hello.version} in ${usable.path} has no CUDA (${sees}${hello.cudaError ? `: ${hello.cudaError}` : ''})`,
    );
  return { usable: usable as Tried & { hello: Hello }, device: chosen, notes };
}
