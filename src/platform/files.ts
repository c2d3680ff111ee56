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
