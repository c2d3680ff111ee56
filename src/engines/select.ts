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
import { TorchEngine, type TorchOptions } from './torch/engine';

export type { EngineRequest };

export interface SelectDeps {
  torch: (o: TorchOptions) => Promise<Engine>;
  cuda: () => Engine;
  tfjs: (request: Exclude<EngineRequest, 'cuda' | 'torch'>) => Promise<Engine & { notes: string[] }>;
}

export const defaultSelectDeps: SelectDeps = {
  torch: (o) => TorchEngine.create(o),
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

export async function createEngine(
  request: EngineRequest,
  deps: SelectDeps = defaultSelectDeps,
  torch: TorchOptions = { python: [] },
): Promise<Engine> {
  if (request === 'torch') return deps.torch(torch);
  if (request === 'cuda') return deps.cuda();
  if (request !== 'auto') return deps.tfjs(request);
  const skipped: string[] = [];
  // The framework the user's code runs on comes first: its numbers are the ones that hold for them.
  try {
    const e = await deps.torch(torch);
    e.notes.push(
      'using torch (PyTorch in your Python): its verdicts hold for PyTorch; --engine wasm for the embedded engine',
    );
    return e;
  } catch (e) {
    if (!(e instanceof EngineUnavailableError)) throw e;
    skipped.push(`torch: ${(e as Error).message.replace(/^engine torch is not available (here|with [^:]+): /, '')}`);
  }
  try {
    const e = deps.cuda();
    e.notes.unshift(...skipped);
    e.notes.push('using cuda (the native CUDA engine)');
    return e;
  } catch (e) {
    skipped.push(`cuda: ${(e as Error).message.replace(/^engine cuda is not available here: /, '')}`);
  }
  const t = await deps.tfjs('auto');
  t.notes.unshift(...skipped);
  return t;
}
