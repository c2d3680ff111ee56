import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SPEC, type LayerSpec } from '../src/core/spec';

export const ROOT = path.resolve(__dirname, '..');
export const DIST = path.join(ROOT, 'dist');
export const CLI = path.join(DIST, 'cli.js');
export const WORKER = path.join(DIST, 'worker.js');

export function spec(over: Partial<LayerSpec> = {}): LayerSpec {
  return { ...DEFAULT_SPEC, ...over };
}

/** A small spec that profiles in well under a second. */
export const SMALL: LayerSpec = spec({
  batch: 2,
  height: 8,
  width: 8,
  inChannels: 2,
  outChannels: 3,
  kernelH: 8,
  kernelW: 8,
});

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh folder under the system temp dir, removed when this test process exits (tests leave /tmp as they found it).
 */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
