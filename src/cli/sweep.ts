/**
 * `fconv sweep`: the kernel-size sweep of the question's layer (spatial-equivalent vs optimized across kernel
 * sizes and channel pairs) or the modes sweep of an FNO layer (as written vs optimized across modes and grids),
 * measured and predicted. One path for both (src/client/sweep-runner.ts).
 */
import { formatSweepText } from '../core/format';
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
import { DEFAULT_KERNELS, cellSpec, parseChannels, parseKernelList, sweepKernels, sweepProblems } from '../core/sweep';
import { type WorkerClient, WorkerError } from '../client/client';
import type { EngineChoice } from '../protocol/worker-protocol';
import { deviceFor } from '../client/device-cache';
import { type AnySweep, type SweepPlan, runAnySweep } from '../client/sweep-runner';
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
  parsePass,
  parseRunSettings,
  statusLine,
  version,
} from './shared';

export interface SweepFlags extends RunFlags {
  pass?: string;
  kernels?: string;
  channels?: string;
  modesList?: string;
  grids?: string;
}

export interface SweepRunOpts {
  engine: EngineChoice;
  /** Each cell's pass: the forward, or the training step. */
  pass?: 'forward' | 'train';
  warmup: number;
  reps: number;
  seed: number;
  maxMemoryBytes: number;
  device: DeviceProfile;
}

/** Runs a sweep of either kind on the client: a live line per cell on a terminal, one line per finished cell. */
export async function sweepWith(
  client: WorkerClient,
  base: LayerSpec,
  plan: SweepPlan,
  o: SweepRunOpts,
  io: CliIo,
  tty: boolean,
  signal: AbortSignal,
): Promise<AnySweep> {
  const status = statusLine(io);
  return runAnySweep(
    client,
    base,
    plan,
    {
      device: o.device,
      run: {
        ...o.engine,
        warmup: o.warmup,
        reps: o.reps,
        seed: o.seed,
        maxMemoryBytes: o.maxMemoryBytes,
        ...(o.pass === 'train' ? { pass: 'train' as const } : {}),
      },
    },
    {
      signal,
      onProgress: (p) => {
        if (tty) status.show(`sweep [${p.cell + 1}/${p.cells}] ${p.detail}`);
      },
      onCell: (line) => {
        if (tty) status.clear();
        io.err(`${line}\n`);
      },
    },
  );
}

/** The plan the flags ask for, checked (usage errors name the flag), with every cell's spec and variants. */
function sweepPlanOf(base: LayerSpec, flags: SweepFlags): { plan: SweepPlan; cells: Array<[LayerSpec, string]> } {
  if (base.layer === 'fno') {
    if (flags.kernels !== undefined || flags.channels !== undefined)
      throw new UsageError(
        "--kernels and --channels sweep the question's layer; an FNO sweep takes --modes-list and --grids",
      );
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
    const cells = grids.flatMap((g) =>
      sweepModes(modes, g.height, g.width, convention).map((m): [LayerSpec, string] => [
        fnoSpec({ ...base, height: g.height, width: g.width, modes: [m, m], modesConvention: convention }),
        `cell ${g.height}×${g.width}, modes ${m}: `,
      ]),
    );
    return { plan: { kind: 'fno', modes, grids }, cells };
  }
  if (flags.modesList !== undefined || flags.grids !== undefined)
    throw new UsageError('--modes-list and --grids sweep an FNO layer: add --layer fno');
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
  const cells = channels.flatMap((c) =>
    kernels.map((k): [LayerSpec, string] => [
      cellSpec(base, k, c.inChannels, c.outChannels),
      `cell k = ${k}, ${c.inChannels}→${c.outChannels}: `,
    ]),
  );
  return { plan: { kind: 'kernel', kernels, channels }, cells };
}

export async function sweepCommand(flags: SweepFlags, io: CliIo): Promise<number> {
  // An FNO sweep sets the modes of every cell: the base spec needs none of its own (any valid value will do).
  const fnoWithoutModes = flags.layer?.trim().toLowerCase() === 'fno' && flags.modes === undefined;
  const base = specFromText(fnoWithoutModes ? { ...flags, modes: '1' } : flags);
  const { plan, cells } = sweepPlanOf(base, flags);
  const pass = parsePass(flags.pass ?? 'forward');
  if (pass === 'both') throw new UsageError('--pass for a sweep is forward or train: each cell times one of them');
  const engine = parseEngineChoice(flags);
  const { warmup, reps, seed, maxMemoryBytes } = parseRunSettings(flags);
  const variants =
    plan.kind === 'fno' ? (['fno', 'optimized'] as const) : (['spatial-equivalent', 'optimized'] as const);
  for (const [spec, where] of cells) checkMemory(spec, [...variants], maxMemoryBytes, where);
  checkOutDir(flags.outDir);
  const client = newClient(io);
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
    const opts = { engine, warmup, reps, seed, maxMemoryBytes, device, pass };
    const any = await sweepWith(client, base, plan, opts, io, tty, cancel.signal);
    const sw = any.sweep;
    if (flags.json) io.out(`${JSON.stringify(sw, null, 2)}\n`);
    else io.out(`${any.kind === 'fno' ? formatFnoSweepText(any.sweep) : formatSweepText(any.sweep)}\n\n`);
    if (sw.cells.some((c) => c.measuredWinner)) {
      try {
        const files =
          any.kind === 'fno' ? writeFnoSweepReport(any.sweep, flags.outDir) : writeSweepReport(any.sweep, flags.outDir);
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
