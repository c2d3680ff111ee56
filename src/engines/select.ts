/**
 * Which engine serves a request. Not forced ('auto'): the native CUDA engine when the driver, a GPU and
 * its libraries are found; else the tfjs engines in their own order (tfjs-node-gpu, tfjs-node, wasm,
 * cpu), with the reason the CUDA engine was skipped first in the notes.
 */
import type { EngineRequest } from '../protocol/worker-protocol';
import { AddonUnavailableError, loadAddon, searchDirs } from './cuda/discovery';
import { CudaEngine } from './cuda/engine';
import { type Engine, EngineUnavailableError } from './engine';
import { TfjsEngine } from './tfjs/engine';

export type { EngineRequest };

export interface SelectDeps {
  cuda: () => Engine;
  tfjs: (request: Exclude<EngineRequest, 'cuda'>) => Promise<Engine & { notes: string[] }>;
}

export const defaultSelectDeps: SelectDeps = {
  cuda: () => {
    try {
      return CudaEngine.create(loadAddon(), searchDirs());
    } catch (e) {
      if (e instanceof AddonUnavailableError)
        throw new EngineUnavailableError(`engine cuda is not available here: ${e.message}`);
      throw e;
    }
  },
  tfjs: (r) => TfjsEngine.create(r),
};

export async function createEngine(request: EngineRequest, deps: SelectDeps = defaultSelectDeps): Promise<Engine> {
  if (request === 'cuda') return deps.cuda();
  if (request !== 'auto') return deps.tfjs(request);
  let skipped: string;
  try {
    const e = deps.cuda();
    e.notes.push('using cuda (the native CUDA engine)');
    return e;
  } catch (e) {
    skipped = `cuda: ${(e as Error).message.replace(/^engine cuda is not available here: /, '')}`;
  }
  const t = await deps.tfjs('auto');
  t.notes.unshift(skipped);
  return t;
}
