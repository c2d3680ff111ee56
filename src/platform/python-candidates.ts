/**
 * The Pythons a Python engine may run in, in search order: the interpreter asked for (--python, the
 * fourierConv.pythonPath setting, VS Code's Python extension), VIRTUAL_ENV, CONDA_PREFIX, the working folder's
 * `.venv` and `venv` (a project's environment, not activated), then every `python3` and `python` on the PATH. A
 * file-system read only: the worker asks each for its framework (src/engines/python/discovery.ts); the editor names
 * them before it asks the user's consent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Candidate {
  path: string;
  /** Where it came from: --python, setting, python extension, VIRTUAL_ENV, CONDA_PREFIX, PATH. */
  from: string;
}

/**
 * Which interpreter a path is, for telling duplicates apart: a virtual environment's python (its folder has
 * pyvenv.cfg) is that environment — its binary is often a link to the system's python, with other packages — and any
 * other path is the binary it resolves to (python and python3 in one folder are one interpreter).
 */
function interpreterKey(p: string): string {
  // Shims resolve to one script for every version: keep each as given.
  if (/shims/.test(p)) return p;
  try {
    const root = path.dirname(path.dirname(path.resolve(p)));
    if (fs.existsSync(path.join(root, 'pyvenv.cfg'))) return `venv:${fs.realpathSync(root)}`;
    return fs.realpathSync(p);
  } catch {
    return p; // a path that does not exist is still reported
  }
}

/** The candidates in search order, without duplicates (the same interpreter by two paths). */
export function candidates(
  asked: Candidate[],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (p: string | undefined, from: string) => {
    if (!p) return;
    const key = interpreterKey(p);
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
  for (const dir of ['.venv', 'venv']) {
    const p = path.join(cwd, dir, 'bin', 'python');
    if (fs.existsSync(p)) add(p, `./${dir}`);
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of ['python3', 'python']) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) add(p, 'PATH');
    }
  }
  return out;
}
