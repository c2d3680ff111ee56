/**
 * Which engine serves a request: the one asked for by id (used or failing, never replaced), or for `auto`
 * the first of the registry's engines (src/core/engines.ts, in priority order) that can run here — the
 * user's framework first, then the native CUDA engine, then the tfjs engines — with why each one before
 * it was passed over first in the notes.
 */
import { type EngineRequest, autoOrder } from '../core/engine-table';
import { type Engine, EngineUnavailableError } from './engine';
import { ENGINE_FACTORIES, type EngineFactory, type EngineOptions } from './registry';

export type { EngineRequest, EngineOptions };

export async function createEngine(
  request: EngineRequest,
  factories: Record<Exclude<EngineRequest, 'auto'>, EngineFactory> = ENGINE_FACTORIES,
  options: EngineOptions = { python: [] },
): Promise<Engine> {
  if (request !== 'auto') return factories[request](options, false);
  const skipped: string[] = [];
  for (const [i, entry] of autoOrder().entries()) {
    let engine: Engine;
    try {
      engine = await factories[entry.id as Exclude<EngineRequest, 'auto'>](options, true);
    } catch (e) {
      if (!(e instanceof EngineUnavailableError)) throw e;
      skipped.push(`${entry.id}: ${e.reason}`);
      continue;
    }
    engine.notes.unshift(...skipped);
    const why = entry.chosen ? `: ${entry.chosen}` : '';
    engine.notes.push(
      i === 0 ? `using ${entry.id} (${entry.label})${why}` : `using ${entry.id} instead (${entry.label})${why}`,
    );
    return engine;
  }
  throw new EngineUnavailableError(`no engine can run here: ${skipped.join('; ')}`);
}
