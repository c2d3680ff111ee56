/**
 * The worker side of the engine registry: one factory per engine id of src/core/engines.ts (the table the
 * CLI, the setting and the webview read). A factory throws EngineUnavailableError, with its `reason`, when
 * the engine cannot run here; `auto` (src/engines/select.ts) then tries the next. Adding an engine: its
 * folder under src/engines, a row in the table, a line here.
 */
import type { EngineId } from '../core/engine-table';
import { AddonUnavailableError, loadAddon, searchDirs } from './cuda/discovery';
import { CudaEngine } from './cuda/engine';
import { type Engine, type EngineOptions, EngineUnavailableError } from './engine';
import { TfjsEngine } from './tfjs/engine';
import { TensorflowEngine } from './tensorflow/framework';
import { TorchEngine } from './torch/framework';

/** Makes the engine; `inAuto`: tried by `auto`'s walk (its failure is a reason to try the next, said briefly). */
export type EngineFactory = (options: EngineOptions, inAuto: boolean) => Promise<Engine>;

export type { EngineOptions };

export const ENGINE_FACTORIES: Record<EngineId, EngineFactory> = {
  torch: (o) => TorchEngine.create(o),
  cuda: async () => {
    try {
      return CudaEngine.create(loadAddon(), searchDirs());
    } catch (e) {
      if (e instanceof AddonUnavailableError) throw EngineUnavailableError.of('cuda', e.message);
      throw e;
    }
  },
  tensorflow: (o) => TensorflowEngine.create(o),
  'tfjs-node-gpu': (_o, inAuto) => TfjsEngine.create('tensorflow-gpu', undefined, inAuto),
  'tfjs-node': (_o, inAuto) => TfjsEngine.create('tensorflow', undefined, inAuto),
  wasm: (_o, inAuto) => TfjsEngine.create('wasm', undefined, inAuto),
  cpu: (_o, inAuto) => TfjsEngine.create('cpu', undefined, inAuto),
};
