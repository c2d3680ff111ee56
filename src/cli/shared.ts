/** What every `fconv` command shares: its io, the version, flag parsing, the worker client. */
import { listItems } from '../core/sweep';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, Option } from 'commander';
import { estimateRunBytes, formatBytes, parseBytes } from '../core/memory';
import { DEFAULT_PASS, RUN_PASSES, type RunPass, VARIANT_NAMES, type VariantName, variantsOf } from '../core/run';
import type { LayerKind } from '../core/spec';
import { PRESETS } from '../core/presets';
import type { LayerSpec } from '../core/spec';
import { UsageError, parseWhole } from '../core/spec-input';
import { makeDirs } from '../platform/files';
import { WorkerClient, WorkerError } from '../client/client';
import { ENGINE_REQUESTS, type EngineChoice, type EngineRequest, RUN_LIMITS } from '../protocol/worker-protocol';

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
  layer?: string;
  modes?: string;
  modesConvention?: string;
  preset?: string;
}
export interface EngineFlags {
  engine: string;
  python?: string;
  torchDevice?: string;
  /** The TensorFlow engine's device (TF's own placement): cpu, cuda or cuda:N. */
  tfDevice?: string;
  /** The TensorFlow engine's steps: function (tf.function, the default) or eager. */
  tfMode?: string;
  threads?: string;
}

export interface RunFlags extends SpecFlags, EngineFlags {
  seed: string;
  maxMemory: string;
  json?: boolean;
  progress: boolean;
  refreshProbe?: boolean;
  warmup: string;
  reps: string;
  outDir: string;
}

export function parseVariants(text: string, layer?: LayerKind): VariantName[] {
  let list: string[];
  try {
    list = listItems(text, '--variants');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  for (const v of list) {
    if (!(VARIANT_NAMES as readonly string[]).includes(v))
      throw new UsageError(`unknown variant "${v}" (choose from ${VARIANT_NAMES.join(', ')})`);
    if (!variantsOf(layer).includes(v as VariantName))
      throw new UsageError(
        layer === 'fno'
          ? `an FNO layer has no ${v} variant (choose from ${variantsOf(layer).join(', ')})`
          : `the ${v} variant needs an FNO layer (--layer fno); the question's layer has ${variantsOf(layer).join(', ')}`,
      );
  }
  return [...new Set(list)] as VariantName[];
}

export type { EngineRequest } from '../protocol/worker-protocol';

/** What the CLI's device note says about measuring the rates again. */
export const REFRESH_HINT = '--refresh-probe to measure again';

export function parseEngine(text: string): EngineRequest {
  if (!(ENGINE_REQUESTS as readonly string[]).includes(text))
    throw new UsageError(`unknown engine "${text}" (choose from ${ENGINE_REQUESTS.join(', ')})`);
  return text as EngineRequest;
}

/**
 * The engine asked for, with the PyTorch engine's interpreter, device and threads. A --python that does
 * not exist is a usage error here; one that is not a Python, or has no torch, is the engine's (exit 2).
 */
export function parseEngineChoice(flags: EngineFlags): EngineChoice {
  const engine = parseEngine(flags.engine);
  const choice: EngineChoice = { engine };
  if (flags.python !== undefined) {
    const p = flags.python.trim();
    if (!p) throw new UsageError('--python is empty: give the path of a Python interpreter');
    if (!fs.existsSync(p)) throw new UsageError(`--python ${p}: no such file`);
    if (engine !== 'auto' && engine !== 'torch' && engine !== 'tensorflow')
      throw new UsageError(`--python is for the torch and tensorflow engines, not --engine ${engine}`);
    choice.python = [{ path: path.resolve(p), from: '--python' }];
  }
  if (flags.torchDevice !== undefined) {
    if (!/^(cpu|cuda(:\d+)?)$/.test(flags.torchDevice))
      throw new UsageError(`--torch-device must be cpu, cuda or cuda:N, got "${flags.torchDevice}"`);
    if (engine !== 'auto' && engine !== 'torch')
      throw new UsageError(`--torch-device is for the torch engine, not --engine ${engine}`);
    choice.torchDevice = flags.torchDevice;
  }
  if (flags.tfDevice !== undefined) {
    if (!/^(cpu|cuda(:\d+)?)$/.test(flags.tfDevice))
      throw new UsageError(`--tf-device must be cpu, cuda or cuda:N, got "${flags.tfDevice}"`);
    if (engine !== 'tensorflow') throw new UsageError(`--tf-device is for --engine tensorflow, not --engine ${engine}`);
    choice.torchDevice = flags.tfDevice;
  }
  if (flags.tfMode !== undefined) {
    if (flags.tfMode !== 'function' && flags.tfMode !== 'eager')
      throw new UsageError(`--tf-mode must be function or eager, got "${flags.tfMode}"`);
    if (engine !== 'tensorflow') throw new UsageError(`--tf-mode is for --engine tensorflow, not --engine ${engine}`);
    choice.tfMode = flags.tfMode;
  }
  if (flags.threads !== undefined)
    choice.threads = parseWhole(flags.threads, '--threads', RUN_LIMITS.threads.min, RUN_LIMITS.threads.max);
  return choice;
}

/** Warm-up, repetitions, seed and memory budget of a profile or sweep. */
/** `--pass forward|train|both` (default both: the training step leads, the forward figures beside it). */
export function parsePass(text: string | undefined): RunPass {
  const p = (text ?? DEFAULT_PASS).trim().toLowerCase();
  if (!(RUN_PASSES as readonly string[]).includes(p))
    throw new UsageError(`--pass must be one of ${RUN_PASSES.join(', ')}, got "${text}"`);
  return p as RunPass;
}

export function parseRunSettings(flags: RunFlags): {
  warmup: number;
  reps: number;
  seed: number;
  maxMemoryBytes: number;
} {
  const limit = (text: string, flag: string, l: { min: number; max: number }) => parseWhole(text, flag, l.min, l.max);
  const warmup = limit(flags.warmup, '--warmup', RUN_LIMITS.warmup);
  const reps = limit(flags.reps, '--reps', RUN_LIMITS.reps);
  const seed = limit(flags.seed, '--seed', RUN_LIMITS.seed);
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

export function newClient(io?: CliIo): WorkerClient {
  return new WorkerClient({
    workerPath: path.join(__dirname, 'worker.js'),
    tool: { name: 'fourier-conv-profiler', version },
    ...(io ? { onNote: (text: string) => io.err(`fconv: ${text}\n`) } : {}),
  });
}

/**
 * Runs `f` with a fresh worker client: a worker failure is one line on stderr and exit 1; the worker is always
 * stopped.
 */
export async function withClient(io: CliIo, f: (client: WorkerClient) => Promise<number>): Promise<number> {
  const client = newClient(io);
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
    .option('--preset <id>', `a whole spec by name: ${PRESETS.map((p) => p.id).join(', ')}`)
    .option('--batch <n>', 'batch size (default 32)')
    .option('--height <n>', 'image height (default 28)')
    .option('--width <n>', 'image width (default 28)')
    .option('--in <n>', 'input channels (default 1)')
    .option('--out <n>', 'output channels (default 32)')
    .option(
      '--kernel <k>',
      "kernel of the spectral layers: N, HxW or 'image' (default image-sized, as in the question's layer)",
    )
    .option('--spatial-kernel <k>', 'kernel of the Conv2D to compare with (default 3)')
    .addOption(
      new Option('--padding <p>', 'circular | same | valid | linear (default circular, as a plain product of spectra)'),
    )
    .addOption(new Option('--layout <l>', 'NHWC | NCHW (default NHWC)'))
    .addOption(
      new Option(
        '--layer <kind>',
        "seed (the question's layer: a product of spectra, default) | fno (an FNO spectral convolution: rfft2, kept modes, irfft2)",
      ),
    )
    .option(
      '--modes <m>',
      'fno: modes kept, N or ROWS,COLS (default 12; with --layer fno the grid defaults to 64×64, 32 channels, batch 20)',
    )
    .addOption(
      new Option(
        '--modes-convention <c>',
        "fno: corners (the original FNO code: m1 rows from each end, m2 columns; default) | centered (neuraloperator's n_modes)",
      ),
    );
}

/** The engine, seed, memory, probe and output flags of profile, sweep and predict. */
export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option(
      '--engine <e>',
      `${ENGINE_REQUESTS.join(' | ')} (auto: torch in your Python if it has it, then TensorFlow, then cuda, then tfjs)`,
      'auto',
    )
    .option(
      '--python <path>',
      'the Python interpreter for the torch and tensorflow engines (default: VIRTUAL_ENV, CONDA_PREFIX, ./.venv, ./venv, then python3/python on the PATH)',
    )
    .option('--torch-device <d>', 'cpu | cuda | cuda:N for the torch engine (default: cuda when torch sees a GPU)')
    .option(
      '--tf-device <d>',
      'cpu | cuda | cuda:N for the tensorflow engine (default: its GPU when TensorFlow sees one)',
    )
    .option(
      '--tf-mode <m>',
      'function (each step a tf.function, as model.fit runs it; the default) | eager, for --engine tensorflow',
    )
    .option('--threads <n>', "torch's CPU threads (torch.set_num_threads)");
}

export function addCommonOptions(cmd: Command): Command {
  return addEngineOptions(cmd)
    .option('--seed <n>', 'seed of the random input and weights', '1')
    .option('--max-memory <size>', 'refuse specs estimated above this', '4GB')
    .option('--refresh-probe', "measure this machine's rates again instead of using the cached probe")
    .option('--json', 'print JSON to stdout instead of the table')
    .option('--no-progress', 'no progress on stderr');
}

/**
 * Refuses, before anything runs, an output folder that cannot be written: empty, a file, or a folder
 * that cannot be created or written to (checked by creating and removing a file in it).
 */
export function checkOutDir(dir: string): string {
  if (!dir.trim()) throw new UsageError('--out-dir is empty: give a folder (default fconv-report)');
  const abs = path.resolve(dir);
  if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory())
    throw new UsageError(`--out-dir ${dir} is a file, not a folder`);
  try {
    makeDirs(abs);
    const probe = path.join(abs, `.fconv-write-check-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`--out-dir ${dir} cannot be written (${err.code ?? err.message}); choose another folder`);
  }
  return dir;
}

/** The signals that cancel a command the way Ctrl-C does (a terminal closing, `kill`, CI timeouts). */
const CANCEL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Ctrl-C, SIGTERM and SIGHUP while a command runs: the first one cancels (`signal` aborts: the worker
 * stops at the next step boundary or is killed after its grace, and what was measured is kept); a
 * second one stops the worker at once (`now`) — what was measured is still saved. Call the returned
 * function to restore the default handlers.
 */
export function onCancelSignals(
  io: CliIo,
  what: string,
  now: () => void,
): { signal: AbortSignal; received: () => NodeJS.Signals | undefined; dispose: () => void } {
  const ac = new AbortController();
  let first: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (!first) {
      first = sig;
      io.err(`\nfconv: ${sig === 'SIGINT' ? 'cancelling' : `${sig}: cancelling`} (${what}); again to stop at once…\n`);
      ac.abort();
    } else {
      io.err(`\nfconv: stopping now (${what})\n`);
      now();
    }
  };
  for (const sig of CANCEL_SIGNALS) process.on(sig, handler);
  return {
    signal: ac.signal,
    received: () => first,
    dispose: () => {
      for (const sig of CANCEL_SIGNALS) process.off(sig, handler);
    },
  };
}

/**
 * stdout and stderr that end quietly when the reader goes away (`| head`, a closed pipe): the first
 * EPIPE marks the stream closed and later writes are dropped, so the command finishes what it was doing
 * (its files are written) without a stack trace.
 */
export function processIo(): CliIo {
  const closed = { out: false, err: false };
  const guard = (stream: NodeJS.WriteStream, key: 'out' | 'err') => {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed[key] = true;
      else throw e;
    });
    return (text: string) => {
      if (closed[key] || stream.destroyed) return;
      stream.write(text);
    };
  };
  return { out: guard(process.stdout, 'out'), err: guard(process.stderr, 'err'), isTTY: !!process.stderr.isTTY };
}

/** The probe's progress on stderr: a live line on a terminal, one line when it starts otherwise. */
export function probeProgress(
  io: CliIo,
  show: boolean,
  tty: boolean,
  status: ReturnType<typeof statusLine>,
): (p: { what: string; index: number; count: number }) => void {
  return (p) => {
    if (!show) return;
    const line = `reading this machine's rates (once, then cached): ${p.what} ${p.index + 1}/${p.count}`;
    if (tty) status.show(line);
    else if (p.index === 0) io.err(`fconv: ${line}…\n`);
  };
}
