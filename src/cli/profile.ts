/** `fconv profile`: the four variants on one spec, checked against each other, every step timed, explained. */
import { withInsights } from '../core/analysis';
import { formatHints, formatRunText, progressText } from '../core/format';
import type { Sweep } from '../core/insight-schema';
import { UsageError, specFromText } from '../core/spec-input';
import { sweepKernels } from '../core/sweep';
import { WorkerError } from '../client/client';
import { deviceFor } from '../client/device-cache';
import { writeReport } from '../report/report-files';
import {
  type CliIo,
  type RunFlags,
  checkMemory,
  newClient,
  parseEngine,
  parseRunSettings,
  parseVariants,
  statusLine,
  version,
  REFRESH_HINT,
} from './shared';
import { sweepWith } from './sweep';

export interface ProfileFlags extends RunFlags {
  variants: string;
  model: boolean;
  sweep?: boolean;
}

export async function profileCommand(flags: ProfileFlags, io: CliIo): Promise<number> {
  const spec = specFromText(flags);
  const engine = parseEngine(flags.engine);
  const variants = parseVariants(flags.variants);
  const { warmup, reps, seed, maxMemoryBytes } = parseRunSettings(flags);
  checkMemory(spec, variants, maxMemoryBytes);
  const client = newClient();
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nfconv: cancelling (keeping what was measured)…\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  const tty = io.isTTY && flags.progress;
  const status = statusLine(io);
  try {
    const run = await client.run(
      spec,
      { engine, variants, warmup, reps, seed, maxMemoryBytes },
      {
        signal: ac.signal,
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
    run.tool.version = version;
    if (tty) status.clear();
    let full = run;
    if (flags.model && run.variants.length) {
      const { device, note } = await deviceFor(client, engine, version, {
        refresh: flags.refreshProbe,
        engineDevice: run.device,
        refreshHint: REFRESH_HINT,
      });
      io.err(`fconv: ${note}\n`);
      let sweep: Sweep | undefined;
      if (flags.sweep) {
        const channels = [{ inChannels: spec.inChannels, outChannels: spec.outChannels }];
        sweep = await sweepWith(
          client,
          spec,
          { kernels: sweepKernels(spec), channels, engine, warmup: 1, reps: 3, seed, maxMemoryBytes, device },
          io,
          tty,
          ac.signal,
        );
      }
      full = withInsights(run, device, sweep);
    }
    const files = writeReport(full, flags.outDir);
    if (flags.json) io.out(`${JSON.stringify(full, null, 2)}\n`);
    else {
      io.out(`${formatRunText(full)}\n\n`);
      if (full.hints?.length) io.out(`${formatHints(full.hints, 3)}\n\n`);
      io.out(`wrote ${files.html}\n      ${files.json}\n      ${files.trace} (open in https://ui.perfetto.dev)\n`);
    }
    if (run.status === 'failed') {
      io.err(`fconv: run failed: ${run.failure}\n`);
      return 1;
    }
    if (run.status === 'cancelled') {
      io.err('fconv: run cancelled; the report holds what was measured\n');
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof WorkerError) {
      if (e.kind === 'usage' || e.kind === 'memory') throw new UsageError(e.message);
      if (e.partial?.variants.length) {
        const files = writeReport(e.partial, flags.outDir);
        io.err(`fconv: partial report (what was measured before the failure): ${files.html}\n`);
      }
      io.err(`fconv: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    client.dispose();
  }
}
