/** File helpers of the Node side (CLI, worker client, extension): atomic writes and the cache folder. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Writes to a temporary file beside `file`, then renames it over: readers see the old or the new file, never half of one. */
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
