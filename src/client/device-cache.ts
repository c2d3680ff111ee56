/**
 * The device profile for the model: a GPU from the datasheet table when the engine runs on one we
 * know, else this machine's probe — measured once per machine, engine and tool version, cached in
 * ~/.cache/fourier-conv-profiler (FCONV_CACHE_DIR overrides; the extension uses its global storage),
 * refreshed on request.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DeviceProfile, type Probe, cpuProfile, gpuProfile, probeSchema } from '../core/model';
import type { ProbeHandlers, WorkerClient } from './client';
import type { EngineChoice, EngineRequest } from '../protocol/worker-protocol';
import { cacheDir, makeDirs, writeAtomic } from '../platform/files';
import { pipelineOf } from '../core/engine-table';

export function probeFile(engine: string, version: string, dir = cacheDir(), setup = ''): string {
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}|${os.cpus().length}|${os.totalmem()}|${version}${setup ? `|${setup}` : ''}`;
  return path.join(dir, `probe-v7-${engine}-${createHash('sha256').update(machine).digest('hex').slice(0, 12)}.json`);
}

export function readCachedProbe(file: string): Probe | undefined {
  try {
    const p = probeSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return p.success ? p.data : undefined;
  } catch {
    return undefined;
  }
}

export interface DeviceResult {
  device: DeviceProfile;
  /** Where it came from, for a line on stderr. */
  note: string;
}

/** Whether deviceFor would measure this machine (no table GPU, no cached probe, or a refresh asked for). */
export function needsProbe(
  engine: EngineChoice | EngineRequest,
  version: string,
  opts: { refresh?: boolean; engineDevice?: string; dir?: string; engineId?: string } = {},
): boolean {
  if (opts.engineDevice && /\bGPU\b/.test(opts.engineDevice) && gpuProfile(opts.engineDevice)) return false;
  if (opts.refresh) return true;
  const cached = readCachedProbe(probeFile(cacheKey(engine, opts.engineId), version, opts.dir, setupKey(engine)));
  return !cached || !probeHolds(cached, opts.engineDevice);
}

/**
 * The probe cache's key: the engine and backend that ran (`torch-cpu`, `tfjs-wasm`) when known, else the
 * engine asked for — so 'auto' never reads another engine's rates.
 */
function cacheKey(engine: EngineChoice | EngineRequest, engineId?: string): string {
  return engineId ?? (typeof engine === 'string' ? engine : engine.engine);
}

/**
 * What else changes the rates an engine measures: the interpreter asked for (another Python, another torch or TF
 * build), the active virtual environment, the thread count, TF's mode. Part of the cache file's name.
 */
function setupKey(engine: EngineChoice | EngineRequest, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof engine === 'string') return '';
  const parts = [
    engine.python?.[0]?.path ?? env.VIRTUAL_ENV ?? env.CONDA_PREFIX ?? '',
    engine.threads ?? '',
    engine.tfMode ?? '',
    engine.torchDevice ?? '',
  ];
  return parts.some((x) => x !== '') ? parts.join('|') : '';
}

/** A cached probe holds for a run when it was measured on the device the run reports (its framework, version and
 * threads are in that name), or when the run's device is not known yet. */
function probeHolds(p: Probe, engineDevice?: string): boolean {
  return !engineDevice || !p.device || /\bGPU\b/.test(engineDevice) || p.device === engineDevice;
}

/** Table GPU when the engine reports one; else the cached probe, or a fresh one (about a second). */
export async function deviceFor(
  client: WorkerClient,
  engine: EngineChoice | EngineRequest,
  version: string,
  opts: {
    refresh?: boolean;
    engineDevice?: string;
    dir?: string;
    refreshHint?: string;
    engineId?: string;
  } & ProbeHandlers = {},
): Promise<DeviceResult> {
  // One key whoever asks (profile, sweep, predict, probe): the engine and backend the choice resolves to
  // (`torch-cpu`), asked of the worker when the caller has no run to read it from yet — 'torch' and 'torch-cpu'
  // were two caches of the same rates. The device it reports (framework version, threads) checks the cache.
  if (opts.engineId === undefined || opts.engineDevice === undefined) {
    const info = await client.engineInfo(engine, opts.signal);
    opts = { ...opts, engineId: opts.engineId ?? pipelineOf(info), engineDevice: opts.engineDevice ?? info.device };
  }
  if (opts.engineDevice && /\bGPU\b/.test(opts.engineDevice)) {
    const g = gpuProfile(opts.engineDevice);
    if (g) return { device: g, note: `device: ${g.name} (datasheet peaks)` };
  }
  const file = probeFile(cacheKey(engine, opts.engineId), version, opts.dir, setupKey(engine));
  const read = opts.refresh ? undefined : readCachedProbe(file);
  // Measured on another setup (another torch, other threads) under the same name: measured again.
  const cached = read && probeHolds(read, opts.engineDevice) ? read : undefined;
  if (cached)
    return {
      device: cpuProfile(cached),
      note: `device rates: cached probe of ${cached.measuredAt.slice(0, 10)} (${file}${opts.refreshHint ? `; ${opts.refreshHint}` : ''})`,
    };
  const { probe } = await client.probe(engine, { signal: opts.signal, onProgress: opts.onProgress });
  makeDirs(path.dirname(file));
  writeAtomic(file, `${JSON.stringify(probe, null, 2)}\n`);
  return {
    device: cpuProfile(probe),
    note: `device rates: probed this machine in ${probe.seconds.toFixed(1)} s on ${probe.backend} (cached in ${file})`,
  };
}
