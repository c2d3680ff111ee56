/**
 * The Pythons a Python engine may run in, in search order: the interpreter asked for (--python, the
 * fourierConv.pythonPath setting, VS Code's Python extension), VIRTUAL_ENV, CONDA_PREFIX, then every `python3` and
 * `python` on the PATH. A file-system read only: the worker asks each for its framework
 * (src/engines/python/discovery.ts); the editor names them before it asks the user's consent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Candidate {
  path: string;
  /** Where it came from: --python, setting, python extension, VIRTUAL_ENV, CONDA_PREFIX, PATH. */
  from: string;
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
