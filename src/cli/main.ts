/**
 * `fconv`: the headless profiler. Arguments → validated spec → engine worker → terminal table,
 * report.json, trace.json and report.html. Exit codes: 0 ok, 1 failed run, 2 usage error.
 */
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { formatRunText } from '../core/format';
import { estimateRunBytes, formatBytes, parseBytes } from '../core/memory';
import { VARIANT_NAMES, type VariantName } from '../core/run';
import { UsageError, specFromText } from '../core/spec-input';
import { WorkerClient, WorkerError } from '../engines/client';
import { ENGINE_REQUESTS, type ProgressMsg } from '../protocol/worker-protocol';
import { writeReport } from '../report/report-files';

declare const FCONV_VERSION: string | undefined;
const version = typeof FCONV_VERSION === 'string' ? FCONV_VERSION : '0.0.0-dev';

interface ProfileFlags {
  batch?: string; height?: string; width?: string; in?: string; out?: string; kernel?: string; spatialKernel?: string;
  padding?: string; layout?: string; engine: string; variants: string; warmup: string; reps: string; seed: string;
  maxMemory: string; outDir: string; json?: boolean; progress: boolean;
}

function parseVariants(text: string): VariantName[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new UsageError('--variants needs at least one variant');
  for (const v of list) {
    if (!(VARIANT_NAMES as readonly string[]).includes(v)) throw new UsageError(`unknown variant "${v}" (choose from ${VARIANT_NAMES.join(', ')})`);
  }
  return [...new Set(list)] as VariantName[];
}

function parseCount(text: string, label: string, min: number): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new UsageError(`${label} must be a whole number ≥ ${min}, got "${text}"`);
  const v = Number(t);
  if (v < min) throw new UsageError(`${label} must be ≥ ${min}, got ${v}`);
  return v;
}

function progressLine(p: ProgressMsg): string {
  const rep = p.reps ? ` ${Math.min((p.rep ?? 0) + 1, p.reps)}/${p.reps}` : '';
  const step = p.step ? ` ${p.step}` : '';
  return `[${p.variantIndex + 1}/${p.variantCount}] ${p.variant}: ${p.phase}${step}${rep}`;
}

async function profileCommand(flags: ProfileFlags, io: CliIo): Promise<number> {
  const spec = specFromText(flags);
  if (!(ENGINE_REQUESTS as readonly string[]).includes(flags.engine)) {
    throw new UsageError(`unknown engine "${flags.engine}" (choose from ${ENGINE_REQUESTS.join(', ')})`);
  }
  const variants = parseVariants(flags.variants);
  const warmup = parseCount(flags.warmup, '--warmup', 0);
  const reps = parseCount(flags.reps, '--reps', 1);
  const seed = parseCount(flags.seed, '--seed', 0);
  const maxMemoryBytes = parseBytes(flags.maxMemory);
  if (!Number.isFinite(maxMemoryBytes) || maxMemoryBytes <= 0) throw new UsageError(`--max-memory must be a size like 4GB or 512MB, got "${flags.maxMemory}"`);
  const need = estimateRunBytes(spec, variants);
  if (need > maxMemoryBytes) {
    throw new UsageError(`estimated memory ${formatBytes(need)} is above --max-memory ${formatBytes(maxMemoryBytes)}; shrink the batch or the image, or raise --max-memory`);
  }
  const client = new WorkerClient({ workerPath: path.join(__dirname, 'worker.js'), tool: { name: 'fourier-conv-profiler', version } });
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nfconv: cancelling (keeping what was measured)…\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  let lastLen = 0;
  const tty = io.isTTY && flags.progress;
  try {
    const run = await client.run(spec, { engine: flags.engine as (typeof ENGINE_REQUESTS)[number], variants, warmup, reps, seed, maxMemoryBytes }, {
      signal: ac.signal,
      onEngine: (info) => io.err(`fconv: engine ${info.engine}/${info.backend} — ${info.device}\n${info.notes.map((n) => `  · ${n}\n`).join('')}`),
      onProgress: (p) => {
        if (!flags.progress) return;
        const line = progressLine(p);
        if (tty) {
          io.err(`\r${line.padEnd(lastLen)}`);
          lastLen = line.length;
        } else if (p.phase === 'prepare' || p.phase === 'check') io.err(`${line}\n`);
      },
      onRejected: (why) => io.err(`fconv: ${why}\n`),
    });
    run.tool.version = version;
    if (tty) io.err(`\r${''.padEnd(lastLen)}\r`);
    const files = writeReport(run, flags.outDir);
    if (flags.json) io.out(`${JSON.stringify(run, null, 2)}\n`);
    else {
      io.out(`${formatRunText(run)}\n\n`);
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

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const program = new Command();
  let code = 0;
  program
    .name('fconv')
    .description('Profile a Fourier-domain convolution layer against the spatial convolution it replaces.')
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => {} })
    .showHelpAfterError(false);
  program
    .command('profile')
    .description("Run the spectral layers (the seed's recipe and an optimized one) and the spatial convolutions on one spec; check they agree; time every step.")
    .option('--batch <n>', 'batch size (default 32)')
    .option('--height <n>', 'image height (default 28)')
    .option('--width <n>', 'image width (default 28)')
    .option('--in <n>', 'input channels (default 1)')
    .option('--out <n>', 'output channels (default 32)')
    .option('--kernel <k>', 'kernel of the spectral layers: N, HxW or "image" (default image-sized, as the seed)')
    .option('--spatial-kernel <k>', 'kernel of the Conv2D to compare with (default 3)')
    .addOption(new Option('--padding <p>', 'circular | same | valid | linear (default circular, as a plain product of spectra)'))
    .addOption(new Option('--layout <l>', 'NHWC | NCHW (default NHWC)'))
    .option('--engine <e>', `${ENGINE_REQUESTS.join(' | ')}`, 'auto')
    .option('--variants <list>', `comma-separated: ${VARIANT_NAMES.join(',')}`, VARIANT_NAMES.join(','))
    .option('--warmup <n>', 'warm-up runs per variant', '3')
    .option('--reps <n>', 'timed repetitions per variant (more for fast pipelines)', '10')
    .option('--seed <n>', 'seed of the random input and weights', '1')
    .option('--max-memory <size>', 'refuse specs estimated above this', '4GB')
    .option('--out-dir <dir>', 'where report.html, report.json and trace.json go', 'fconv-report')
    .option('--json', 'print the run JSON to stdout instead of the table')
    .option('--no-progress', 'no progress on stderr')
    .action(async (flags: ProfileFlags) => {
      code = await profileCommand(flags, io);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      if (e.code === 'commander.help') return 2; // no command given: the help went to stderr
      io.err(`fconv: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`fconv: ${e.message}\n`);
      return 2;
    }
    io.err(`fconv: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}


if (require.main === module) {
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: !!process.stderr.isTTY,
  }).then((c) => {
    process.exitCode = c;
  });
}
