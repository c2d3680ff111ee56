import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SPEC, type LayerSpec, PADDINGS } from '../src/core/spec';
import { candidates } from '../src/engines/python/discovery';

export const ROOT = path.resolve(__dirname, '..');

/**
 * The interpreter with torch that discovery finds first here (CI: /usr/bin/python3 with python3-torch): the first
 * candidate, in discovery's order, that imports torch. Synchronous, for a test file's top level.
 */
export function torchPython(): string | undefined {
  for (const c of candidates([])) {
    const r = spawnSync(c.path, ['-c', 'import torch, torch.fft'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return c.path;
  }
  return undefined;
}
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

/** A small random layer for an engine's correctness tests (torch 1.13 and 2.x): every padding, both layouts. */
export function randomEngineSpec(r: () => number, i: number): LayerSpec {
  const padding = PADDINGS[i % PADDINGS.length]!;
  const H = 2 + Math.floor(r() * 9),
    W = 2 + Math.floor(r() * 9);
  const bound = padding === 'circular' || padding === 'valid';
  return spec({
    batch: 1 + Math.floor(r() * 3),
    height: H,
    width: W,
    inChannels: [1, 2, 3, 9][Math.floor(r() * 4)]!,
    outChannels: 1 + Math.floor(r() * 4),
    kernelH: 1 + Math.floor(r() * (bound ? H : 2 * H + 3)),
    kernelW: 1 + Math.floor(r() * (bound ? W : 2 * W + 3)),
    spatialKernel: [1, 2, 3, 5][Math.floor(r() * 4)]!,
    padding,
    layout: i % 2 ? 'NHWC' : 'NCHW',
  });
}
