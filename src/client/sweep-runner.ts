/**
 * Runs a kernel-size sweep through the engine worker: for each channel configuration and kernel, the
 * spatial convolution of the same function against the optimized spectral layer, with the model's
 * prediction beside each measurement. Cancel stops at the next step boundary and keeps the finished
 * cells. Used by `fconv sweep` and the panel's "Sweep kernel sizes".
 */
import { pipelineOf } from '../core/variants/step';
import type { FnoSweep, FnoSweepCell, Sweep, SweepCell } from '../core/insight-schema';
import { fnoCrossovers, predictFno, sweepModes } from '../core/fno-model';
import type { DeviceProfile } from '../core/model';
import { predict } from '../core/predict';
import { type LayerSpec, fnoSpec } from '../core/spec';
import { cellSpec, crossovers } from '../core/sweep';
import type { RunOptions } from '../protocol/worker-protocol';
import { type WorkerClient, WorkerError } from './client';

export interface SweepOptions {
  kernels: number[];
  channels: Array<{ inChannels: number; outChannels: number }>;
  run: Omit<RunOptions, 'variants'>;
  device: DeviceProfile;
}

export interface SweepProgress {
  cell: number;
  cells: number;
  kernel: number;
  inChannels: number;
  outChannels: number;
  /** The variant and phase being measured in this cell. */
  detail: string;
}

export async function runSweep(
  client: WorkerClient,
  base: LayerSpec,
  o: SweepOptions,
  h: { signal?: AbortSignal; onProgress?: (p: SweepProgress) => void; onCell?: (c: SweepCell) => void } = {},
): Promise<Sweep> {
  const started = Date.now();
  const cells: SweepCell[] = [];
  const todo = o.channels.flatMap((c) => o.kernels.map((k) => ({ k, ...c })));
  let status: Sweep['status'] = 'ok';
  let failure: string | undefined;
  let engine = 'unknown',
    backend = o.device.probe?.backend ?? 'unknown',
    device = o.device.name;
  for (let i = 0; i < todo.length; i++) {
    const { k, inChannels, outChannels } = todo[i]!;
    const spec = cellSpec(base, k, inChannels, outChannels);
    const pred = predict(spec, o.device, backend);
    const cell: SweepCell = {
      kernel: k,
      inChannels,
      outChannels,
      spatialMs: null,
      spectralMs: null,
      predictedSpatialMs: pred.spatialMs,
      predictedSpectralMs: pred.spectralMs,
      predictedWinner: pred.winner,
      measuredWinner: null,
    };
    if (status === 'ok' && h.signal?.aborted) status = 'cancelled';
    if (status !== 'ok') {
      cell.note = status === 'cancelled' ? 'not run (cancelled)' : 'not run (the sweep failed)';
      cells.push(cell);
      continue;
    }
    try {
      const run = await client.run(
        spec,
        { ...o.run, variants: ['spatial-equivalent', 'optimized'] },
        {
          signal: h.signal,
          onEngine: (info) => {
            engine = info.engine;
            backend = pipelineOf(info);
            device = info.device;
          },
          onProgress: (p) =>
            h.onProgress?.({
              cell: i,
              cells: todo.length,
              kernel: k,
              inChannels,
              outChannels,
              detail: `${p.variant}: ${p.phase}`,
            }),
        },
      );
      const sp = run.variants.find((v) => v.name === 'spatial-equivalent');
      const fp = run.variants.find((v) => v.name === 'optimized');
      if (run.status === 'cancelled') status = 'cancelled';
      if (sp && fp && run.status !== 'cancelled') {
        cell.spatialMs = sp.totalMs.median;
        cell.spectralMs = fp.totalMs.median;
        cell.measuredWinner = fp.totalMs.median < sp.totalMs.median ? 'spectral' : 'spatial';
        if (!sp.correct || !fp.correct) cell.note = 'a variant did not match its reference';
      } else
        cell.note =
          run.status === 'cancelled' ? 'cancelled during this cell' : `incomplete: ${run.failure ?? 'no result'}`;
    } catch (e) {
      status = 'failed';
      failure = e instanceof WorkerError || e instanceof Error ? e.message : String(e);
      cell.note = `failed: ${failure}`;
    }
    cells.push(cell);
    h.onCell?.(cell);
  }
  const cross = crossovers(cells, o.channels);
  return {
    status,
    ...(failure ? { failure } : {}),
    createdAt: new Date(started).toISOString(),
    engine,
    backend,
    device,
    base: { batch: base.batch, height: base.height, width: base.width, padding: base.padding, layout: base.layout },
    kernels: o.kernels,
    channels: o.channels,
    settings: { warmup: o.run.warmup, reps: o.run.reps },
    cells,
    crossover: cross[0] ?? null,
    crossovers: cross,
    wallMs: Date.now() - started,
  };
}

export interface FnoSweepOptions {
  modes: number[];
  grids: Array<{ height: number; width: number }>;
  run: Omit<RunOptions, 'variants'>;
  device: DeviceProfile;
}

/**
 * An FNO modes sweep: for each grid and modes value, the layer as written (`fno`) against `optimized`,
 * measured, with the model's prediction beside each. Cancel keeps the finished cells.
 */
export async function runFnoSweep(
  client: WorkerClient,
  base: LayerSpec,
  o: FnoSweepOptions,
  h: {
    signal?: AbortSignal;
    onProgress?: (p: { cell: number; cells: number; detail: string }) => void;
    onCell?: (c: FnoSweepCell) => void;
  } = {},
): Promise<FnoSweep> {
  const started = Date.now();
  const convention = base.modesConvention ?? 'corners';
  const todo = o.grids.flatMap((g) => sweepModes(o.modes, g.height, g.width, convention).map((m) => ({ ...g, m })));
  const cells: FnoSweepCell[] = [];
  let status: FnoSweep['status'] = 'ok';
  let failure: string | undefined;
  let engine = 'unknown',
    backend = o.device.probe?.backend ?? 'unknown',
    device = o.device.name;
  for (let i = 0; i < todo.length; i++) {
    const { height, width, m } = todo[i]!;
    const spec = fnoSpec({ ...base, height, width, modes: [m, m], modesConvention: convention });
    const pipeline = pipelineOf({ engine, backend });
    const pred = predictFno(spec, o.device, pipeline === 'unknown' ? 'wasm' : pipeline);
    const cell: FnoSweepCell = {
      height,
      width,
      modes: m,
      fnoMs: null,
      optimizedMs: null,
      predictedFnoMs: pred.fnoMs,
      predictedOptimizedMs: pred.optimizedMs,
      predictedWinner: pred.winner,
      measuredWinner: null,
    };
    if (status === 'ok' && h.signal?.aborted) status = 'cancelled';
    if (status !== 'ok') {
      cell.note = status === 'cancelled' ? 'not run (cancelled)' : 'not run (the sweep failed)';
      cells.push(cell);
      continue;
    }
    try {
      const run = await client.run(
        spec,
        { ...o.run, variants: ['fno', 'optimized'] },
        {
          signal: h.signal,
          onEngine: (info) => {
            engine = info.engine;
            backend = info.backend;
            device = info.device;
          },
          onProgress: (p) =>
            h.onProgress?.({
              cell: i,
              cells: todo.length,
              detail: `${height}×${width}, modes ${m}: ${p.variant} ${p.phase}`,
            }),
        },
      );
      // The first cell's prediction was made before the engine was known: price it again on its pipeline.
      const again = predictFno(spec, o.device, pipelineOf(run));
      Object.assign(cell, {
        predictedFnoMs: again.fnoMs,
        predictedOptimizedMs: again.optimizedMs,
        predictedWinner: again.winner,
      });
      const a = run.variants.find((v) => v.name === 'fno');
      const b = run.variants.find((v) => v.name === 'optimized');
      if (run.status === 'cancelled') status = 'cancelled';
      if (a && b && run.status !== 'cancelled') {
        cell.fnoMs = a.totalMs.median;
        cell.optimizedMs = b.totalMs.median;
        cell.measuredWinner = b.totalMs.median < a.totalMs.median ? 'optimized' : 'fno';
        if (!a.correct || !b.correct) cell.note = 'a variant did not match its reference';
      } else
        cell.note =
          run.status === 'cancelled' ? 'cancelled during this cell' : `incomplete: ${run.failure ?? 'no result'}`;
    } catch (e) {
      status = 'failed';
      failure = e instanceof Error ? e.message : String(e);
      cell.note = `failed: ${failure}`;
    }
    cells.push(cell);
    h.onCell?.(cell);
  }
  return {
    status,
    ...(failure ? { failure } : {}),
    createdAt: new Date(started).toISOString(),
    engine,
    backend,
    device,
    base: {
      batch: base.batch,
      inChannels: base.inChannels,
      outChannels: base.outChannels,
      modesConvention: convention,
    },
    grids: o.grids,
    modes: o.modes,
    settings: { warmup: o.run.warmup, reps: o.run.reps },
    cells,
    crossovers: fnoCrossovers(cells, o.grids),
    wallMs: Date.now() - started,
  };
}
