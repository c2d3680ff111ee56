/** What every `fconv` command shares: its io, the version, flag parsing, the worker client. */
import * as path from 'node:path';
import { type Command, Option } from 'commander';
import { estimateRunBytes, formatBytes, parseBytes } from '../core/memory';
import { VARIANT_NAMES, type VariantName } from '../core/run';
import type { LayerSpec } from '../core/spec';
import { UsageError } from '../core/spec-input';
import { WorkerClient, WorkerError } from '../client/client';
import { ENGINE_REQUESTS, type EngineRequest } from '../protocol/worker-protocol';

declare const FCONV_VERSION: string | undefined;
export const version = typeof FCONV_VERSION === 'string' ? FCONV_VERSION : '0.0.0-dev';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

/** The flags of the spec (addSpecOptions) and the run (addRunOptions). */
export interface SpecFlags {
  batch?: string;
  height?: string;
  width?: string;
  in?: string;
  out?: string;
  kernel?: string;
  spatialKernel?: string;
  padding?: string;
  layout?: string;
}
export interface RunFlags extends SpecFlags {
  engine: string;
  seed: string;
  maxMemory: string;
  json?: boolean;
  progress: boolean;
  refreshProbe?: boolean;
  warmup: string;
  reps: string;
  outDir: string;
}

export function parseVariants(text: string): VariantName[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!list.length) throw new UsageError('--variants needs at least one variant');
  for (const v of list) {
    if (!(VARIANT_NAMES as readonly string[]).includes(v))
      throw new UsageError(`unknown variant "${v}" (choose from ${VARIANT_NAMES.join(', ')})`);
  }
  return [...new Set(list)] as VariantName[];
}

export function parseCount(text: string, label: string, min: number): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new UsageError(`${label} must be a whole number ≥ ${min}, got "${text}"`);
  const v = Number(t);
  if (v < min) throw new UsageError(`${label} must be ≥ ${min}, got ${v}`);
  return v;
}

export type { EngineRequest } from '../protocol/worker-protocol';

/** What the CLI's device note says about measuring the rates again. */
export const REFRESH_HINT = '--refresh-probe to measure again';

export function parseEngine(text: string): EngineRequest {
  if (!(ENGINE_REQUESTS as readonly string[]).includes(text))
    throw new UsageError(`unknown engine "${text}" (choose from ${ENGINE_REQUESTS.join(', ')})`);
  return text as EngineRequest;
}

/** Warm-up, repetitions, seed and memory budget of a profile or sweep. */
export function parseRunSettings(flags: RunFlags): {
  warmup: number;
  reps: number;
  seed: number;
  maxMemoryBytes: number;
} {
  const warmup = parseCount(flags.warmup, '--warmup', 0);
  const reps = parseCount(flags.reps, '--reps', 1);
  const seed = parseCount(flags.seed, '--seed', 0);
  const maxMemoryBytes = parseBytes(flags.maxMemory);
  if (!Number.isFinite(maxMemoryBytes) || maxMemoryBytes <= 0)
    throw new UsageError(`--max-memory must be a size like 4GB or 512MB, got "${flags.maxMemory}"`);
  return { warmup, reps, seed, maxMemoryBytes };
}

/** Refuses, before anything runs, a spec whose estimated memory is above the budget. */
export function checkMemory(spec: LayerSpec, variants: VariantName[], maxMemoryBytes: number, what = ''): void {
  const need = estimateRunBytes(spec, variants);
  if (need > maxMemoryBytes) {
    throw new UsageError(
      `${what}estimated memory ${formatBytes(need)} is above --max-memory ${formatBytes(maxMemoryBytes)}; shrink the batch or the image, or raise --max-memory`,
    );
  }
}

export function newClient(): WorkerClient {
  return new WorkerClient({
    workerPath: path.join(__dirname, 'worker.js'),
    tool: { name: 'fourier-conv-profiler', version },
  });
}

/** Runs `f` with a fresh worker client: a worker failure is one line on stderr and exit 1; the worker is always stopped. */
export async function withClient(io: CliIo, f: (client: WorkerClient) => Promise<number>): Promise<number> {
  const client = newClient();
  try {
    return await f(client);
  } catch (e) {
    if (e instanceof WorkerError) {
      io.err(`fconv: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    client.dispose();
  }
}

/** A progress line that rewrites itself on a terminal. */
export function statusLine(io: CliIo): { show: (line: string) => void; clear: () => void } {
  let lastLen = 0;
  return {
    show: (line) => {
      io.err(`\r${line.padEnd(lastLen)}`);
      lastLen = line.length;
    },
    clear: () => {
      if (lastLen) io.err(`\r${''.padEnd(lastLen)}\r`);
      lastLen = 0;
    },
  };
}

export function addSpecOptions(cmd: Command): Command {
  return cmd
    .option('--batch <n>', 'batch size (default 32)')
    .option('--height <n>', 'image height (default 28)')
    .option('--width <n>', 'image width (default 28)')
    .option('--in <n>', 'input channels (default 1)')
    .option('--out <n>', 'output channels (default 32)')
    .option('--kernel <k>', 'kernel of the spectral layers: N, HxW or "image" (default image-sized, as the seed)')
    .option('--spatial-kernel <k>', 'kernel of the Conv2D to compare with (default 3)')
    .addOption(
      new Option('--padding <p>', 'circular | same | valid | linear (default circular, as a plain product of spectra)'),
    )
    .addOption(new Option('--layout <l>', 'NHWC | NCHW (default NHWC)'));
}

/** The engine, seed, memory, probe and output flags of profile, sweep and predict. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--engine <e>', `${ENGINE_REQUESTS.join(' | ')}`, 'auto')
    .option('--seed <n>', 'seed of the random input and weights', '1')
    .option('--max-memory <size>', 'refuse specs estimated above this', '4GB')
    .option('--refresh-probe', "measure this machine's rates again instead of using the cached probe")
    .option('--json', 'print JSON to stdout instead of the table')
    .option('--no-progress', 'no progress on stderr');
}
