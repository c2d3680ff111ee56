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
