/** `fconv profile`: the four variants on one spec, checked against each other, every step timed, explained. */
import { withInsights } from '../core/analysis';
import { engineLabel, formatHints, formatRunText, progressText } from '../core/format';
import type { FnoSweep, Sweep } from '../core/insight-schema';
import { DEFAULT_FNO_MODES } from '../core/fno-model';
import { type Run, defaultVariants } from '../core/run';
import { UsageError, specFromText } from '../core/spec-input';
import { sweepKernels } from '../core/sweep';
import { WorkerError } from '../client/client';
import { deviceFor } from '../client/device-cache';
import * as path from 'node:path';
import { pipelineOf } from '../core/engine-table';
import { compareEngines, formatEnginesCompare } from '../core/engines-compare';
import { makeDirs, writeAtomic } from '../platform/files';
import { htmlPage, writeReport } from '../report/report-files';
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
  parseVariants,
  statusLine,
  version,
} from './shared';
import { fnoSweepWith, sweepWith } from './sweep';

export interface ProfileFlags extends RunFlags {
  variants?: string;
  model: boolean;
  sweep?: boolean;
}

export async function profileCommand(flags: ProfileFlags, io: CliIo): Promise<number> {
  const engines = flags.engine.split(',').map((e) => e.trim());
  if (engines.length > 1) return profileEngines(flags, engines, io);
  return (await profileOne(flags, io)).code;
}

/**
 * `--engine torch,wasm`: the same spec (same input and weights) on each engine, each with its own
 * report in OUT-DIR/<engine>/, then the engines side by side — times, verdicts, and where they disagree
 * (engines.json, engines.html). Stops at the first engine that is cancelled or cannot run.
 */
async function profileEngines(flags: ProfileFlags, engines: string[], io: CliIo): Promise<number> {
  if (new Set(engines).size !== engines.length || engines.some((e) => !e))
    throw new UsageError(`--engine lists an engine twice or has an empty item: "${flags.engine}"`);
  if (engines.includes('auto'))
    throw new UsageError('--engine auto picks one engine; list the engines to compare (e.g. torch,wasm)');
  const only = (e: string): ProfileFlags =>
    e === 'torch' ? { ...flags, engine: e } : { ...flags, engine: e, python: undefined, torchDevice: undefined };
  for (const e of engines) parseEngineChoice(only(e));
  checkOutDir(flags.outDir);
  const runs: Run[] = [];
  // With --json only the comparison goes to stdout; each engine's table goes to stderr.
  const each: CliIo = flags.json ? { ...io, out: io.err } : io;
  for (const e of engines) {
    io.err(`fconv: — engine ${e} —\n`);
    const r = await profileOne({ ...only(e), json: false, outDir: path.join(flags.outDir, e) }, each);
    if (!r.run || r.code !== 0) return r.code || 1;
    runs.push(r.run);
  }
  const c = compareEngines(runs);
  makeDirs(flags.outDir);
  writeAtomic(path.join(flags.outDir, 'engines.json'), `${JSON.stringify(c, null, 2)}\n`);
  writeAtomic(
    path.join(flags.outDir, 'engines.html'),
    htmlPage(`Fourier Conv — ${engines.join(' vs ')}`, { kind: 'engines', engines: c }),
  );
  if (flags.json) io.out(`${JSON.stringify(c, null, 2)}\n`);
  else io.out(`\n${formatEnginesCompare(c)}\n\nwrote ${path.join(flags.outDir, 'engines.html')}\n`);
  return 0;
}

async function profileOne(flags: ProfileFlags, io: CliIo): Promise<{ code: number; run?: Run }> {
  const done = (code: number, run?: Run) => ({ code, ...(run ? { run } : {}) });
  const spec = specFromText(flags);
  const choice = parseEngineChoice(flags);
  const variants =
    flags.variants !== undefined ? parseVariants(flags.variants, spec.layer) : defaultVariants(spec.layer);
  const { warmup, reps, seed, maxMemoryBytes } = parseRunSettings(flags);
  if (!flags.model && flags.sweep) throw new UsageError('--sweep needs the cost model: drop --no-model');
  if (!flags.model && flags.refreshProbe)
    throw new UsageError('--refresh-probe has no effect with --no-model (no probe runs)');
  checkMemory(spec, variants, maxMemoryBytes);
  checkOutDir(flags.outDir);
  if (flags.sweep && !(variants.includes('spatial-equivalent') && variants.includes('optimized')))
    io.err(
      'fconv: note: the sweep measures spatial-equivalent against optimized at each kernel size, whatever --variants says\n',
    );
  const client = newClient();
  const cancel = onCancelSignals(io, 'keeping what was measured', () => client.killNow());
  const tty = io.isTTY && flags.progress;
  const status = statusLine(io);
  try {
    let run: Run;
    try {
      run = await client.run(
        spec,
        { ...choice, variants, warmup, reps, seed, maxMemoryBytes },
        {
          signal: cancel.signal,
          onEngine: (info) =>
            io.err(
              `fconv: engine ${info.engine}/${info.backend} — ${info.device}\n${info.notes.map((n) => `  · ${n}\n`).join('')}`,
            ),
          onProgress: (p) => {
            if (!flags.progress) return;
            if (tty) status.show(progressText(p));
            else if (p.phase === 'prepare' || p.phase === 'check') io.err(`${progressText(p)}\n`);
          },
          onRejected: (why) => io.err(`fconv: ${why}\n`),
        },
      );
    } catch (e) {
      if (!(e instanceof WorkerError)) throw e;
      if (tty) status.clear();
      if (e.kind === 'usage' || e.kind === 'memory' || e.kind === 'engine') throw new UsageError(e.message);
      if (e.partial?.variants.length) {
        const full = { ...e.partial, tool: { ...e.partial.tool, version } };
        if (flags.json) io.out(`${JSON.stringify(full, null, 2)}\n`);
        const files = save(full, flags.outDir, io);
        if (files) io.err(`fconv: partial report (what was measured before the failure): ${files.html}\n`);
      }
      io.err(`fconv: ${e.message}\n`);
      return done(1);
    }
    run.tool.version = version;
    if (tty) status.clear();
    let full = run;
    let modelNote: string | undefined;
    if (flags.model && run.variants.length && !cancel.signal.aborted) {
      try {
        const { device, note } = await deviceFor(client, choice, version, {
          refresh: flags.refreshProbe,
          engineDevice: run.device,
          engineId: pipelineOf(run),
          refreshHint: REFRESH_HINT,
          signal: cancel.signal,
          onProgress: probeProgress(io, flags.progress, tty, status),
        });
        if (tty) status.clear();
        io.err(`fconv: ${note}\n`);
        let sweep: Sweep | undefined;
        let fnoSweep: FnoSweep | undefined;
        if (flags.sweep && spec.layer === 'fno') {
          const modes = [...DEFAULT_FNO_MODES];
          const grids = [{ height: spec.height, width: spec.width }];
          const opts = { modes, grids, engine: choice, warmup: 1, reps: 3, seed, maxMemoryBytes, device };
          fnoSweep = await fnoSweepWith(client, spec, opts, io, tty, cancel.signal);
        } else if (flags.sweep) {
          const channels = [{ inChannels: spec.inChannels, outChannels: spec.outChannels }];
          const kernels = sweepKernels(spec);
          const opts = { kernels, channels, engine: choice, warmup: 1, reps: 3, seed, maxMemoryBytes, device };
          sweep = await sweepWith(client, spec, opts, io, tty, cancel.signal);
        }
        full = withInsights(run, device, sweep);
        if (fnoSweep) full = { ...full, fnoSweep };
      } catch (e) {
        if (!(e instanceof WorkerError)) throw e;
        if (tty) status.clear();
        modelNote = e.kind === 'cancelled' ? "cancelled while reading the machine's rates" : e.message;
        io.err(`fconv: no model, roofline or hints: ${modelNote}; the report has the measurements\n`);
      }
    }
    if (flags.json) io.out(`${JSON.stringify(full, null, 2)}\n`);
    else {
      io.out(`${formatRunText(full)}\n\n`);
      if (full.hints?.length) io.out(`${formatHints(full.hints, 3, engineLabel(full))}\n\n`);
    }
    const files = save(full, flags.outDir, io);
    if (files && !flags.json)
      io.out(`wrote ${files.html}\n      ${files.json}\n      ${files.trace} (open in https://ui.perfetto.dev)\n`);
    if (files === null) return done(1);
    if (run.status === 'failed') {
      io.err(`fconv: run failed: ${run.failure}\n`);
      return done(1, full);
    }
    if (run.status === 'cancelled' || cancel.signal.aborted) {
      io.err(
        run.variants.length
          ? 'fconv: cancelled; the report holds what was measured\n'
          : `fconv: cancelled before any variant was measured; ${flags.outDir} keeps its previous report\n`,
      );
      return done(1);
    }
    return done(modelNote ? 1 : 0, full);
  } finally {
    cancel.dispose();
    client.dispose();
  }
}

/**
 * Writes the report files. A run that measured nothing leaves the folder's previous report as it was
 * (undefined); a write that fails names the path and returns null (the table or JSON was already printed).
 */
function save(run: Run, outDir: string, io: CliIo): ReturnType<typeof writeReport> | undefined | null {
  if (!run.variants.length) return undefined;
  try {
    return writeReport(run, outDir);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.err(`fconv: could not write the report to ${err.path ?? outDir}: ${err.code ?? err.message}\n`);
    return null;
  }
}
