/** `fconv profile`: the four variants on one spec, checked against each other, every step timed, explained. */
import { engineLabel, formatHints, formatRunText, progressText } from '../core/format';
import { type Run, defaultVariants } from '../core/run';
import { variantEntry } from '../core/variants';
import { UsageError, specFromText } from '../core/spec-input';
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
  parsePass,
  parseRunSettings,
  parseVariants,
  statusLine,
  version,
} from './shared';
import { sweepWith } from './sweep';
import { type RunOutcome, defaultSweepPlan, profileSession } from '../client/session';
import type { SweepPlan } from '../client/sweep-runner';

export interface ProfileFlags extends RunFlags {
  variants?: string;
  pass?: string;
  model: boolean;
  sweep?: boolean;
  crosscheck?: boolean;
  compile?: boolean;
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
    e === 'torch'
      ? { ...flags, engine: e }
      : { ...flags, engine: e, python: undefined, torchDevice: undefined, compile: undefined };
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
  const pass = parsePass(flags.pass);
  if (!flags.model && flags.sweep) throw new UsageError('--sweep needs the cost model: drop --no-model');
  if (!flags.model && flags.refreshProbe)
    throw new UsageError('--refresh-probe has no effect with --no-model (no probe runs)');
  if (flags.compile) checkCompile(choice.engine, variants, spec.layer);
  checkMemory(spec, variants, maxMemoryBytes);
  checkOutDir(flags.outDir);
  let plan: SweepPlan | undefined;
  if (flags.sweep) {
    const p = defaultSweepPlan(spec);
    if (typeof p === 'string') throw new UsageError(`--sweep: ${p}`);
    plan = p;
    if (p.kind === 'kernel' && !(variants.includes('spatial-equivalent') && variants.includes('optimized')))
      io.err(
        'fconv: note: the sweep measures spatial-equivalent against optimized at each kernel size, whatever --variants says\n',
      );
  }
  const client = newClient(io);
  const cancel = onCancelSignals(io, 'keeping what was measured', () => client.killNow());
  const tty = io.isTTY && flags.progress;
  const status = statusLine(io);
  /** Prints the run (JSON or the table and hints), then writes its files. */
  const present = (run: Run, outcome: RunOutcome) => {
    if (flags.json) io.out(`${JSON.stringify(run, null, 2)}\n`);
    else if (outcome.kind === 'done') {
      io.out(`${formatRunText(run)}\n\n`);
      if (run.hints?.length) io.out(`${formatHints(run.hints, 3, engineLabel(run))}\n\n`);
    }
    return save(run, flags.outDir, io);
  };
  try {
    const s = await profileSession(
      {
        run: async (sp, options) => {
          try {
            const run = await client.run(sp, options, {
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
            });
            if (tty) status.clear();
            return { kind: 'done', run: { ...run, tool: { ...run.tool, version } } };
          } catch (e) {
            if (!(e instanceof WorkerError)) throw e;
            if (tty) status.clear();
            if (e.kind === 'usage' || e.kind === 'memory' || e.kind === 'engine') throw new UsageError(e.message);
            const partial = e.partial?.variants.length
              ? { ...e.partial, tool: { ...e.partial.tool, version } }
              : undefined;
            return { kind: 'error', error: e, ...(partial ? { partial } : {}) };
          }
        },
        device: async (run) => {
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
            return device;
          } catch (e) {
            if (tty) status.clear();
            throw e;
          }
        },
        sweep: async (base, p, device) =>
          sweepWith(
            client,
            base,
            p,
            { engine: choice, warmup: 1, reps: 3, seed, maxMemoryBytes, device },
            io,
            tty,
            cancel.signal,
          ),
        save: present,
      },
      spec,
      {
        ...choice,
        variants,
        warmup,
        reps,
        seed,
        maxMemoryBytes,
        pass,
        ...(flags.crosscheck ? { crosscheck: true } : {}),
        ...(flags.compile ? { compile: true } : {}),
      },
      { model: flags.model, ...(plan ? { sweep: plan } : {}), signal: cancel.signal },
    );
    if (s.modelNote) io.err(`fconv: no model, roofline or hints: ${s.modelNote}; the report has the measurements\n`);
    if (s.outcome.kind === 'error') {
      if (s.saved) io.err(`fconv: partial report (what was measured before the failure): ${s.saved.html}\n`);
      io.err(`fconv: ${s.outcome.error.message}\n`);
      return done(1);
    }
    const run = s.run!;
    if (s.saved && !flags.json)
      io.out(
        `wrote ${s.saved.html}\n      ${s.saved.json}\n      ${s.saved.trace} (open in https://ui.perfetto.dev)\n`,
      );
    if (s.saved === null) return done(1);
    if (run.status === 'failed') {
      io.err(`fconv: run failed: ${run.failure}\n`);
      return done(1, run);
    }
    if (run.status === 'cancelled' || cancel.signal.aborted) {
      io.err(
        run.variants.length
          ? 'fconv: cancelled; the report holds what was measured\n'
          : `fconv: cancelled before any variant was measured; ${flags.outDir} keeps its previous report\n`,
      );
      return done(1);
    }
    return done(s.modelNote ? 1 : 0, run);
  } finally {
    cancel.dispose();
    client.dispose();
  }
}

/** `--compile` times torch.compile of the layer as written: the torch engine, a variant as written among those run. */
function checkCompile(engine: string, variants: readonly string[], layer: string | undefined): void {
  if (engine !== 'torch' && engine !== 'auto')
    throw new UsageError(`--compile times torch.compile, PyTorch's: use --engine torch (torch ≥ 2), not ${engine}`);
  if (!variants.some((v) => variantEntry(v)?.label === 'as written'))
    throw new UsageError(
      `--compile compiles the layer as written: add ${layer === 'fno' ? 'fno' : 'seed'} to --variants`,
    );
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
