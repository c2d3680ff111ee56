/**
 * Which Python runs a Python engine (its framework a parameter: torch today). Candidates in order: the
 * interpreter asked for (--python, the fourierConv.pythonPath setting, or VS Code's Python extension — the
 * host passes them), VIRTUAL_ENV, CONDA_PREFIX, then every `python3` and `python` on the PATH (a pyenv shim
 * first on the PATH often has no torch while /usr/bin/python3 has). Each is asked for its versions by starting
 * the worker script for the framework, which says hello and exits when its stdin closes. The first with a
 * recent enough framework is used; every one tried is reported. Worker side.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Hello, helloSchema } from '../../protocol/python-protocol';
import { EngineUnavailableError } from '../engine';
import { type PythonFramework, frameworkProblem } from './framework';
import { workerScript } from './process';

export interface Candidate {
  path: string;
  /** Where it came from: --python, setting, python extension, VIRTUAL_ENV, CONDA_PREFIX, PATH. */
  from: string;
}

export interface Tried extends Candidate {
  hello?: Hello;
  /** Why it cannot run the engine (not a Python, no torch, torch too old); absent when it can. */
  problem?: string;
}

/** The candidates in search order, without duplicates (by resolved path). */
export function candidates(asked: Candidate[], env: NodeJS.ProcessEnv = process.env): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (p: string | undefined, from: string) => {
    if (!p) return;
    let key = p;
    try {
      key = fs.realpathSync(p);
    } catch {
      /* a path that does not exist is still reported */
    }
    // Shims resolve to one script for every version: keep each as given.
    if (/shims/.test(p)) key = p;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path: p, from });
  };
  for (const c of asked) add(c.path, c.from);
  for (const [key, from] of [
    ['VIRTUAL_ENV', 'VIRTUAL_ENV'],
    ['CONDA_PREFIX', 'CONDA_PREFIX'],
  ] as const) {
    const root = env[key];
    if (root) add(path.join(root, 'bin', 'python'), from);
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of ['python3', 'python']) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) add(p, 'PATH');
    }
  }
  return out;
}

/** Asks one interpreter for its versions (about a second: it imports torch). */
export function tryInterpreter(c: Candidate, fw: PythonFramework, timeoutMs = 30_000): Tried {
  let script: string;
  try {
    script = workerScript();
  } catch (e) {
    return { ...c, problem: (e as Error).message };
  }
  if (!fs.existsSync(c.path)) return { ...c, problem: 'no such file' };
  const r = spawnSync(c.path, ['-u', script, fw.id], {
    input: '',
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 1 << 20,
  });
  if (r.error)
    return { ...c, problem: `could not run it: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  // The hello is the first line that is one: a sitecustomize.py or a .pth file may print a banner before it.
  let hello: Hello | undefined;
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const h = helloSchema.safeParse(JSON.parse(line));
      if (h.success) {
        hello = h.data;
        break;
      }
    } catch {
      /* not JSON: a banner */
    }
  }
  if (!hello) {
    const why = (r.stderr ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit code ${r.status}`;
    return { ...c, problem: `not a Python that can run the worker (${why.slice(0, 200)})` };
  }
  const problem = frameworkProblem(fw, hello);
  return problem ? { ...c, hello, problem } : { ...c, hello };
}

/**
 * Tries the candidates in order and returns every one tried, up to and including the first that can run
 * the engine (`all` tries every one, for `fconv devices`). An interpreter asked for explicitly that cannot
 * run it ends the search: the user asked for that one.
 */
export function discover(
  asked: Candidate[],
  fw: PythonFramework,
  o: { all?: boolean; env?: NodeJS.ProcessEnv } = {},
): Tried[] {
  const tried: Tried[] = [];
  for (const c of candidates(asked, o.env)) {
    const t = tryInterpreter(c, fw);
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
      ? `Python ${h.python}${h.version ? `, ${h.framework} ${h.version}` : ''}${h.cuda ? `, CUDA ${h.cudaVersion} (${h.gpus.join(', ')})` : h.version ? ', no CUDA' : ''}${h.cudnn ? `, cuDNN ${h.cudnn}` : ''}`
      : '';
    return `${t.path} (${t.from})${what ? `: ${what}` : ''}${t.problem ? ` — ${t.problem}` : ' — usable'}`;
  });
}

/**
 * The interpreter to run the framework in (the first usable one, in search order) and the device to use on it,
 * or an EngineUnavailableError saying why not: the one asked for and its problem, or every one tried. `what`
 * names the job in the message ("engine torch is not available", "cannot profile the layer").
 */
export function pickInterpreter(
  asked: Candidate[],
  device: string | undefined,
  fw: PythonFramework,
  what: { with: (path: string) => string; none: string },
): { usable: Tried & { hello: Hello }; device: string; notes: string[] } {
  const tried = discover(asked, fw);
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
