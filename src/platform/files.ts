/** File helpers of the Node side (CLI, worker client, extension): atomic writes and the cache folder. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Writes to a temporary file beside `file`, then renames it over: readers see the old or the new file, never half of
 * one.
 */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** ~/.cache/fourier-conv-profiler (FCONV_CACHE_DIR overrides, then XDG_CACHE_HOME). */
export function cacheDir(): string {
  return (
    process.env.FCONV_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'fourier-conv-profiler')
  );
}

/**
 * `mkdir -p` that always ends: the missing folders from the nearest existing ancestor down, one
 * `mkdir` each (Node's recursive mkdir can spin forever on filesystems such as /proc).
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) {
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) fs.mkdirSync(m);
}

/**
 * The text of a Python source as Python reads it (PEP 263): UTF-8 (a BOM dropped), unless a `coding:` cookie on
 * one of its first two lines names another encoding — `# -*- coding: latin-1 -*-` makes "\xe9t\xe9" read "été".
 * An encoding this Node cannot decode falls back to UTF-8.
 */
export function decodePythonSource(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 400)).toString('latin1').split(/\r?\n/).slice(0, 2);
  for (const line of head) {
    if (!/^[ \t\f]*#/.test(line)) continue;
    const m = /coding[:=][ \t]*([-\w.]+)/.exec(line);
    if (!m) continue;
    const label = m[1]!.toLowerCase().replace(/_/g, '-');
    if (label === 'utf-8' || label === 'utf8') break;
    try {
      return new TextDecoder(label.replace(/^latin-1$/, 'latin1')).decode(bytes);
    } catch {
      break;
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}
