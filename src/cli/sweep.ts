/** `fconv sweep`: spatial-equivalent vs optimized across kernel sizes and channel pairs, measured and predicted. */
import { fmtMs, formatSweepText } from '../core/format';
import type { FnoSweep, Sweep } from '../core/insight-schema';
import {
  DEFAULT_FNO_MODES,
  formatFnoSweepText,
  maxModes,
  parseGrids,
  parseModesList,
  sweepModes,
} from '../core/fno-model';
import type { DeviceProfile } from '../core/model';
import { type LayerSpec, fnoSpec } from '../core/spec';
import { UsageError, specFromText } from '../core/spec-input';
import { DEFAULT_KERNELS, parseChannels, parseKernelList, sweepKernels, sweepProblems } from '../core/sweep';
import { type WorkerClient, WorkerError } from '../client/client';
import type { EngineChoice } from '../protocol/worker-protocol';
import { deviceFor } from '../client/device-cache';
import { runFnoSweep, runSweep } from '../client/sweep-runner';
import { writeFnoSweepReport, writeSweepReport } from '../report/report-files';
import {
  type CliIo,
  type RunFlags,
  REFRESH_HINT,
  checkMemory,
  checkOutDir,
  newClient,
  onCancelSignals,
  probeProgress,
  parseEngineChoice,
  parseRunSettings,
  statusLine,
  version,
} from './shared';

export interface SweepFlags extends RunFlags {
  kernels?: string;
  channels?: string;
  modesList?: string;
  grids?: string;
}

export interface FnoSweepRunOpts {
  modes: number[];
  grids: Array<{ height: number; width: number }>;
  engine: EngineChoice;
  warmup: number;
  reps: number;
  seed: number;
  maxMemoryBytes: number;
  device: DeviceProfile;
}

/** Runs an FNO modes sweep, a live line per cell on a terminal and one line per finished cell. */
export async function fnoSweepWith(
  client: WorkerClient,
  base: LayerSpec,
  o: FnoSweepRunOpts,
  io: CliIo,
  tty: boolean,
  signal: AbortSignal,
): Promise<FnoSweep> {
  const status = statusLine(io);
  return runFnoSweep(
    client,
    base,
    {
      modes: o.modes,
      grids: o.grids,
      device: o.device,
      run: { ...o.engine, warmup: o.warmup, reps: o.reps, seed: o.seed, maxMemoryBytes: o.maxMemoryBytes },
    },
    {
      signal,
      onProgress: (p) => {
        if (tty) status.show(`sweep [${p.cell + 1}/${p.cells}] ${p.detail}`);
      },
      onCell: (c) => {
        if (tty) status.clear();
        const ms = (v: number | null) => (v === null ? '—' : fmtMs(v));
        io.err(
          `sweep ${c.height}×${c.width}, modes ${String(c.modes).padStart(2)}: fno ${ms(c.fnoMs)}, optimized ${ms(c.optimizedMs)} (model ${fmtMs(c.predictedFnoMs)} / ${fmtMs(c.predictedOptimizedMs)})${c.note ? ` — ${c.note}` : ''}\n`,
        );
      },
    },
  );
}

async function fnoSweepCommand(base: LayerSpec, flags: SweepFlags, io: CliIo): Promise<number> {
  if (flags.kernels !== undefined || flags.channels !== undefined)
    throw new UsageError(
      "--kernels and --channels sweep the question's layer; an FNO sweep takes --modes-list and --grids",
    );
  const engine = parseEngineChoice(flags);
  let modes: number[], grids: Array<{ height: number; width: number }>;
  try {
    modes = flags.modesList ? parseModesList(flags.modesList) : [...DEFAULT_FNO_MODES];
    grids = flags.grids ? parseGrids(flags.grids) : [{ height: base.height, width: base.width }];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const convention = base.modesConvention ?? 'corners';
  for (const g of grids)
    if (!sweepModes(modes, g.height, g.width, convention).length)
      throw new UsageError(
        `no swept modes fit the ${g.height}×${g.width} grid (at most ${maxModes(g.height, g.width, convention)} with the ${convention} convention)`,
      );
  const { warmup, reps, seed, maxMemoryBytes } = parseRunSettings(flags);
  for (const g of grids)
    for (const m of sweepModes(modes, g.height, g.width, convention))
      checkMemory(
        fnoSpec({ ...base, height: g.height, width: g.width, modes: [m, m], modesConvention: convention }),
        ['fno', 'optimized'],
        maxMemoryBytes,
        `cell ${g.height}×${g.width}, modes ${m}: `,
      );
  checkOutDir(flags.outDir);
  const client = newClient();
  const cancel = onCancelSignals(io, 'keeping the finished cells', () => client.killNow());
  const tty = io.isTTY && flags.progress;
  try {
    const status = statusLine(io);
    const { device, note } = await deviceFor(client, engine, version, {
      refresh: flags.refreshProbe,
      refreshHint: REFRESH_HINT,
      signal: cancel.signal,
      onProgress: probeProgress(io, flags.progress, tty, status),
    });
    if (tty) status.clear();
    io.err(`fconv: ${note}\n`);
    const sw = await fnoSweepWith(
      client,
      base,
      { modes, grids, engine, warmup, reps, seed, maxMemoryBytes, device },
      io,
      tty,
      cancel.signal,
    );
    if (flags.json) io.out(`${JSON.stringify(sw, null, 2)}\n`);
    else io.out(`${formatFnoSweepText(sw)}\n\n`);
    if (sw.cells.some((c) => c.measuredWinner)) {
      try {
        const files = writeFnoSweepReport(sw, flags.outDir);
        if (!flags.json) io.out(`wrote ${files.html}\n      ${files.json}\n`);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        io.err(`fconv: could not write the sweep to ${err.path ?? flags.outDir}: ${err.code ?? err.message}\n`);
        return 1;
      }
    } else io.err(`fconv: no cell was measured; ${flags.outDir} keeps its previous sweep\n`);
    if (sw.status === 'ok') return 0;
    io.err(`fconv: sweep ${sw.status}${sw.failure ? `: ${sw.failure}` : ''}\n`);
    return 1;
  } catch (e) {
    if (!(e instanceof WorkerError)) throw e;
    io.err(
      `fconv: ${e.kind === 'cancelled' ? "cancelled while reading the machine's rates; nothing was swept" : e.message}\n`,
    );
    return 1;
  } finally {
    cancel.dispose();
    client.dispose();
  }
}

export interface SweepRunOpts {
  kernels: number[];
  channels: Array<{ inChannels: number; outChannels: number }>;
  engine: EngineChoice;
  warmup: number;
  reps: number;
  seed: number;
  maxMemoryBytes: number;
  device: DeviceProfile;
}

/** Runs a sweep on the client, a live line per cell on a terminal and one line per finished cell. */
export async function sweepWith(
  client: WorkerClient,
  base: LayerSpec,
  o: SweepRunOpts,
  io: CliIo,
  tty: boolean,
  signal: AbortSignal,
): Promise<Sweep> {
  const status = statusLine(io);
  return runSweep(
    client,
    base,
    {
      kernels: o.kernels,
      channels: o.channels,
      device: o.device,
      run: { ...o.engine, warmup: o.warmup, reps: o.reps, seed: o.seed, maxMemoryBytes: o.maxMemoryBytes },
    },
    {
      signal,
      onProgress: (p) => {
        if (tty)
          status.show(
            `sweep [${p.cell + 1}/${p.cells}] k = ${p.kernel}, ${p.inChannels}→${p.outChannels}: ${p.detail}`,
          );
      },
      onCell: (c) => {
        if (tty) status.clear();
        const ms = (v: number | null) => (v === null ? '—' : fmtMs(v));
        io.err(
          `sweep k = ${String(c.kernel).padStart(2)}, ${c.inChannels}→${c.outChannels}: spatial ${ms(c.spatialMs)}, spectral ${ms(c.spectralMs)} (model ${fmtMs(c.predictedSpatialMs)} / ${fmtMs(c.predictedSpectralMs)})${c.note ? ` — ${c.note}` : ''}\n`,
        );
      },
    },
  );
}

export async function sweepCommand(flags: SweepFlags, io: CliIo): Promise<number> {
  // An FNO sweep sets the modes of every cell: the base spec needs none of its own (any valid value will do).
  const fnoWithoutModes = flags.layer?.trim().toLowerCase() === 'fno' && flags.modes === undefined;
  const base = specFromText(fnoWithoutModes ? { ...flags, modes: '1' } : flags);
  if (base.layer === 'fno') return fnoSweepCommand(base, flags, io);
  if (flags.modesList !== undefined || flags.grids !== undefined)
    throw new UsageError('--modes-list and --grids sweep an FNO layer: add --layer fno');
  const engine = parseEngineChoice(flags);
  let kernels: number[], channels: Array<{ inChannels: number; outChannels: number }>;
  try {
    kernels = flags.kernels ? parseKernelList(flags.kernels) : sweepKernels(base, DEFAULT_KERNELS);
    channels = flags.channels
      ? parseChannels(flags.channels)
      : [{ inChannels: base.inChannels, outChannels: base.outChannels }];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const problems = sweepProblems(base, kernels, channels);
  if (problems.length) throw new UsageError(problems[0]!);
  const { warmup, reps, seed, maxMemoryBytes } = parseRunSettings(flags);
  for (const c of channels)
    for (const k of kernels) {
      const cell = { ...base, kernelH: k, kernelW: k, inChannels: c.inChannels, outChannels: c.outChannels };
      checkMemory(
        cell,
        ['spatial-equivalent', 'optimized'],
        maxMemoryBytes,
        `cell k = ${k}, ${c.inChannels}→${c.outChannels}: `,
      );
    }
  checkOutDir(flags.outDir);
  const client = newClient();
  const cancel = onCancelSignals(io, 'keeping the finished cells', () => client.killNow());
  const tty = io.isTTY && flags.progress;
  try {
    const status = statusLine(io);
    const { device, note } = await deviceFor(client, engine, version, {
      refresh: flags.refreshProbe,
      refreshHint: REFRESH_HINT,
      signal: cancel.signal,
      onProgress: probeProgress(io, flags.progress, tty, status),
    });
    if (tty) status.clear();
    io.err(`fconv: ${note}\n`);
    const opts = { kernels, channels, engine, warmup, reps, seed, maxMemoryBytes, device };
    const sw = await sweepWith(client, base, opts, io, tty, cancel.signal);
    if (flags.json) io.out(`${JSON.stringify(sw, null, 2)}\n`);
    else io.out(`${formatSweepText(sw)}\n\n`);
    if (sw.cells.some((c) => c.measuredWinner)) {
      try {
        const files = writeSweepReport(sw, flags.outDir);
        if (!flags.json) io.out(`wrote ${files.html}\n      ${files.json}\n`);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        io.err(`fconv: could not write the sweep to ${err.path ?? flags.outDir}: ${err.code ?? err.message}\n`);
        return 1;
      }
    } else io.err(`fconv: no cell was measured; ${flags.outDir} keeps its previous sweep\n`);
    if (sw.status === 'ok') return 0;
    io.err(`fconv: sweep ${sw.status}${sw.failure ? `: ${sw.failure}` : ''}\n`);
    return 1;
  } catch (e) {
    if (!(e instanceof WorkerError)) throw e;
    io.err(
      `fconv: ${e.kind === 'cancelled' ? "cancelled while reading the machine's rates; nothing was swept" : e.message}\n`,
    );
    return 1;
  } finally {
    cancel.dispose();
    client.dispose();
  }
}
