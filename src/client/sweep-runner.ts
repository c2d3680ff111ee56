/**
 * Sweeps through the engine worker — one path for both kinds: the kernel-size sweep (the question's layer:
 * spatial-equivalent against optimized for each channel configuration and kernel) and the FNO modes sweep
 * (the layer as written against optimized for each grid and modes value). Each cell is a run of two variants
 * with the model's prediction beside the measurement. Cancel stops at the next step boundary and keeps the
 * finished cells. Used by `fconv sweep`, `fconv profile --sweep` and the panel's "Sweep".
 */
import { pipelineOf } from '../core/engine-table';
import type { FnoSweep, FnoSweepCell, Sweep, SweepCell } from '../core/insight-schema';
import { fnoCrossovers, predictFno, sweepModes } from '../core/fno-model';
import type { DeviceProfile } from '../core/model';
import { predict } from '../core/predict';
import type { Run, VariantName, VariantResult } from '../core/run';
import { type LayerSpec, fnoSpec } from '../core/spec';
import { cellSpec, crossovers } from '../core/sweep';
import { fmtMs } from '../core/units';
import type { ProgressMsg, RunOptions } from '../protocol/worker-protocol';
import { type WorkerClient, WorkerError } from './client';

/** What to sweep: kernel sizes and channel pairs (the question's layer), or modes and grids (an FNO layer). */
export type SweepPlan =
  | { kind: 'kernel'; kernels: number[]; channels: Array<{ inChannels: number; outChannels: number }> }
  | { kind: 'fno'; modes: number[]; grids: Array<{ height: number; width: number }> };

export type AnySweep = { kind: 'kernel'; sweep: Sweep } | { kind: 'fno'; sweep: FnoSweep };

export interface SweepRun {
  run: Omit<RunOptions, 'variants'>;
  device: DeviceProfile;
}

/** A variant's time in a cell: its forward end to end, or its training step when the sweep times that. */
function cellMs(v: VariantResult, train: boolean): number | undefined {
  return train ? v.train?.totalMs.median : v.totalMs.median;
}

export interface SweepHooks {
  signal?: AbortSignal;
  /** Cell `cell` of `cells` is running: `detail` says which and what is being measured. */
  onProgress?: (p: { cell: number; cells: number; detail: string }) => void;
  /** A cell is done: `line` is how the CLI and the log say it. */
  onCell?: (line: string) => void;
}

/** One cell of a sweep: its spec, its two variants (the reference first) and how its result is recorded. */
interface CellPlan<C> {
  spec: LayerSpec;
  variants: [VariantName, VariantName];
  /** The cell before it runs, priced on `pipeline` (the first cell's engine is not known yet). */
  cell(pipeline: string): C;
  /** Its measured medians (and the pipeline the run came from, to price it again). */
  measured(c: C, a: VariantResult, b: VariantResult, run: Run): void;
  label: string;
  line(c: C): string;
}

interface CellsResult<C> {
  cells: C[];
  status: 'ok' | 'cancelled' | 'failed';
  failure?: string;
  engine: string;
  backend: string;
  pipeline: string;
  device: string;
  started: number;
}

const ms = (v: number | null) => (v === null ? '—' : fmtMs(v));

/** The cells one after the other: status, cancel and failure handled once for every kind of sweep. */
async function runCells<C extends { note?: string }>(
  client: WorkerClient,
  plans: Array<CellPlan<C>>,
  o: SweepRun,
  h: SweepHooks,
): Promise<CellsResult<C>> {
  const started = Date.now();
  const cells: C[] = [];
  let status: CellsResult<C>['status'] = 'ok';
  let failure: string | undefined;
  let engine = 'unknown',
    backend = o.device.probe?.backend ?? 'unknown',
    pipeline = o.device.probe?.backend ?? 'unknown',
    device = o.device.name;
  for (const [i, plan] of plans.entries()) {
    const cell = plan.cell(pipeline);
    if (status === 'ok' && h.signal?.aborted) status = 'cancelled';
    if (status !== 'ok') {
      cell.note = status === 'cancelled' ? 'not run (cancelled)' : 'not run (the sweep failed)';
      cells.push(cell);
      continue;
    }
    try {
      const run = await client.run(
        plan.spec,
        { ...o.run, variants: plan.variants },
        {
          signal: h.signal,
          onEngine: (info) => {
            engine = info.engine;
            backend = info.backend;
            pipeline = pipelineOf(info);
            device = info.device;
          },
          onProgress: (p: ProgressMsg) =>
            h.onProgress?.({ cell: i, cells: plans.length, detail: `${plan.label}: ${p.variant} ${p.phase}` }),
        },
      );
      const a = run.variants.find((v) => v.name === plan.variants[0]);
      const b = run.variants.find((v) => v.name === plan.variants[1]);
      if (run.status === 'cancelled') status = 'cancelled';
      if (a && b && run.status !== 'cancelled') {
        plan.measured(cell, a, b, run);
        if (!a.correct || !b.correct) cell.note = 'a variant did not match its reference';
      } else
        cell.note =
          run.status === 'cancelled' ? 'cancelled during this cell' : `incomplete: ${run.failure ?? 'no result'}`;
    } catch (e) {
      status = 'failed';
      failure = e instanceof WorkerError || e instanceof Error ? e.message : String(e);
      cell.note = `failed: ${failure}`;
    }
    cells.push(cell);
    h.onCell?.(plan.line(cell));
  }
  return { cells, status, ...(failure ? { failure } : {}), engine, backend, pipeline, device, started };
}

const header = (r: CellsResult<unknown>) => ({
  status: r.status,
  ...(r.failure ? { failure: r.failure } : {}),
  createdAt: new Date(r.started).toISOString(),
  engine: r.engine,
  device: r.device,
});

/** The kernel-size sweep of the question's layer. */
export async function runSweep(
  client: WorkerClient,
  base: LayerSpec,
  o: SweepRun & { kernels: number[]; channels: Array<{ inChannels: number; outChannels: number }> },
  h: SweepHooks = {},
): Promise<Sweep> {
  // The training step's crossover (it moves: the backward of a convolution is two more of its size).
  const train = o.run.pass === 'train' || o.run.pass === 'both';
  const plans = o.channels.flatMap(({ inChannels, outChannels }) =>
    o.kernels.map((k): CellPlan<SweepCell> => {
      const spec = cellSpec(base, k, inChannels, outChannels);
      return {
        spec,
        variants: ['spatial-equivalent', 'optimized'],
        label: `k = ${k}, ${inChannels}→${outChannels}`,
        cell: (pipeline) => {
          const pred = predict(spec, o.device, pipeline, train ? 'train' : 'forward');
          return {
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
        },
        measured: (c, sp, fp) => {
          const a = cellMs(sp, train),
            b = cellMs(fp, train);
          if (a === undefined || b === undefined) {
            c.note =
              'the training step was not measured on this engine (the torch and tfjs engines time it; see the run notes)';
            return;
          }
          c.spatialMs = a;
          c.spectralMs = b;
          c.measuredWinner = b < a ? 'spectral' : 'spatial';
        },
        line: (c) =>
          `sweep k = ${String(c.kernel).padStart(2)}, ${c.inChannels}→${c.outChannels}: spatial ${ms(c.spatialMs)}, spectral ${ms(c.spectralMs)} (model ${fmtMs(c.predictedSpatialMs)} / ${fmtMs(c.predictedSpectralMs)})${c.note ? ` — ${c.note}` : ''}`,
      };
    }),
  );
  const r = await runCells(client, plans, o, h);
  const cross = crossovers(r.cells, o.channels);
  return {
    ...header(r),
    ...(train ? { pass: 'train' as const } : {}),
    backend: r.pipeline,
    base: { batch: base.batch, height: base.height, width: base.width, padding: base.padding, layout: base.layout },
    kernels: o.kernels,
    channels: o.channels,
    settings: { warmup: o.run.warmup, reps: o.run.reps },
    cells: r.cells,
    crossover: cross[0] ?? null,
    crossovers: cross,
    wallMs: Date.now() - r.started,
  };
}

/**
 * An FNO modes sweep: for each grid and modes value, the layer as written (`fno`) against `optimized`,
 * measured, with the model's prediction beside each.
 */
export async function runFnoSweep(
  client: WorkerClient,
  base: LayerSpec,
  o: SweepRun & { modes: number[]; grids: Array<{ height: number; width: number }> },
  h: SweepHooks = {},
): Promise<FnoSweep> {
  const convention = base.modesConvention ?? 'corners';
  const train = o.run.pass === 'train' || o.run.pass === 'both';
  const plans = o.grids.flatMap(({ height, width }) =>
    sweepModes(o.modes, height, width, convention).map((m): CellPlan<FnoSweepCell> => {
      const spec = fnoSpec({ ...base, height, width, modes: [m, m], modesConvention: convention });
      const priced = (pipeline: string) => {
        const pred = predictFno(
          spec,
          o.device,
          pipeline === 'unknown' ? 'wasm' : pipeline,
          train ? 'train' : 'forward',
        );
        return {
          predictedFnoMs: pred.fnoMs,
          predictedOptimizedMs: pred.optimizedMs,
          predictedWinner: pred.winner,
        };
      };
      return {
        spec,
        variants: ['fno', 'optimized'],
        label: `${height}×${width}, modes ${m}`,
        cell: (pipeline) => ({
          height,
          width,
          modes: m,
          fnoMs: null,
          optimizedMs: null,
          ...priced(pipeline),
          measuredWinner: null,
        }),
        measured: (c, a, b, run) => {
          // The first cell's prediction was made before the engine was known: price it again on its pipeline.
          Object.assign(c, priced(pipelineOf(run)));
          const x = cellMs(a, train),
            y = cellMs(b, train);
          if (x === undefined || y === undefined) {
            c.note =
              'the training step was not measured on this engine (the torch and tfjs engines time it; see the run notes)';
            return;
          }
          c.fnoMs = x;
          c.optimizedMs = y;
          c.measuredWinner = y < x ? 'optimized' : 'fno';
        },
        line: (c) =>
          `sweep ${c.height}×${c.width}, modes ${String(c.modes).padStart(2)}: fno ${ms(c.fnoMs)}, optimized ${ms(c.optimizedMs)} (model ${fmtMs(c.predictedFnoMs)} / ${fmtMs(c.predictedOptimizedMs)})${c.note ? ` — ${c.note}` : ''}`,
      };
    }),
  );
  const r = await runCells(client, plans, o, h);
  return {
    ...header(r),
    backend: r.backend,
    base: {
      batch: base.batch,
      inChannels: base.inChannels,
      outChannels: base.outChannels,
      modesConvention: convention,
    },
    grids: o.grids,
    modes: o.modes,
    ...(train ? { pass: 'train' as const } : {}),
    settings: { warmup: o.run.warmup, reps: o.run.reps },
    cells: r.cells,
    crossovers: fnoCrossovers(r.cells, o.grids),
    wallMs: Date.now() - r.started,
  };
}

/** Either sweep, as its plan says: the one entry the CLI, `profile --sweep` and the extension call. */
export async function runAnySweep(
  client: WorkerClient,
  base: LayerSpec,
  plan: SweepPlan,
  o: SweepRun,
  h: SweepHooks = {},
): Promise<AnySweep> {
  return plan.kind === 'fno'
    ? { kind: 'fno', sweep: await runFnoSweep(client, base, { ...o, ...plan }, h) }
    : { kind: 'kernel', sweep: await runSweep(client, base, { ...o, ...plan }, h) };
}
