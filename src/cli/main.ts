/**
 * `fconv`: the headless profiler. Arguments → validated spec → engine worker → terminal table,
 * report.json, trace.json and report.html. Exit codes: 0 ok, 1 failed run, 2 usage error.
 */
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { withInsights } from '../core/analysis';
import { fmtMs, fmtRatio, formatHints, formatRunText } from '../core/format';
import type { Sweep } from '../core/insight-schema';
import { type DeviceProfile, explicitProfile, gpuProfile, GPU_TABLE } from '../core/model';
import { predict } from '../core/predict';
import { DEFAULT_KERNELS, confusion, parseChannels, parseKernelList, sweepKernels, sweepProblems } from '../core/sweep';
import type { LayerSpec } from '../core/spec';
import { runSweep } from '../client/sweep-runner';
import { type Discovery, describeDiscovery, loadAddon, searchDirs, unavailableReason } from '../engines/cuda/discovery';
import { deviceFor } from '../client/device-cache';
import { gpuName } from '../engines/tfjs/backends';
import { estimateRunBytes, formatBytes, parseBytes } from '../core/memory';
import { VARIANT_NAMES, type VariantName } from '../core/run';
import { UsageError, specFromText } from '../core/spec-input';
import { WorkerClient, WorkerError } from '../client/client';
import { ENGINE_REQUESTS, type ProgressMsg } from '../protocol/worker-protocol';
import { writeReport, writeSweepReport } from '../report/report-files';
import { type ScanFlags, scanCommand } from './scan';

declare const FCONV_VERSION: string | undefined;
const version = typeof FCONV_VERSION === 'string' ? FCONV_VERSION : '0.0.0-dev';

interface ProfileFlags {
  batch?: string; height?: string; width?: string; in?: string; out?: string; kernel?: string; spatialKernel?: string;
  padding?: string; layout?: string; engine: string; variants: string; warmup: string; reps: string; seed: string;
  maxMemory: string; outDir: string; json?: boolean; progress: boolean; model: boolean; refreshProbe?: boolean; sweep?: boolean;
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

type EngineRequest = (typeof ENGINE_REQUESTS)[number];

function parseEngine(text: string): EngineRequest {
  if (!(ENGINE_REQUESTS as readonly string[]).includes(text)) throw new UsageError(`unknown engine "${text}" (choose from ${ENGINE_REQUESTS.join(', ')})`);
  return text as EngineRequest;
}

function newClient(): WorkerClient {
  return new WorkerClient({ workerPath: path.join(__dirname, 'worker.js'), tool: { name: 'fourier-conv-profiler', version } });
}

/** Runs `f` with a fresh worker client: a worker failure is one line on stderr and exit 1; the worker is always stopped. */
async function withClient(io: CliIo, f: (client: WorkerClient) => Promise<number>): Promise<number> {
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

function progressLine(p: ProgressMsg): string {
  const rep = p.reps ? ` ${Math.min((p.rep ?? 0) + 1, p.reps)}/${p.reps}` : '';
  const step = p.step ? ` ${p.step}` : '';
  return `[${p.variantIndex + 1}/${p.variantCount}] ${p.variant}: ${p.phase}${step}${rep}`;
}

async function profileCommand(flags: ProfileFlags, io: CliIo): Promise<number> {
  const spec = specFromText(flags);
  const engine = parseEngine(flags.engine);
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
  const client = newClient();
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nfconv: cancelling (keeping what was measured)…\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  let lastLen = 0;
  const tty = io.isTTY && flags.progress;
  try {
    const run = await client.run(spec, { engine, variants, warmup, reps, seed, maxMemoryBytes }, {
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
    let full = run;
    if (flags.model && run.variants.length) {
      const { device, note } = await deviceFor(client, engine, version, { refresh: flags.refreshProbe, engineDevice: run.device });
      io.err(`fconv: ${note}\n`);
      let sweep: Sweep | undefined;
      if (flags.sweep) {
        sweep = await sweepWith(client, spec, { kernels: sweepKernels(spec), channels: [{ inChannels: spec.inChannels, outChannels: spec.outChannels }], engine, warmup: 1, reps: 3, seed, maxMemoryBytes, device }, io, tty && flags.progress, ac.signal);
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

interface SweepRunOpts {
  kernels: number[];
  channels: Array<{ inChannels: number; outChannels: number }>;
  engine: EngineRequest;
  warmup: number;
  reps: number;
  seed: number;
  maxMemoryBytes: number;
  device: DeviceProfile;
}

async function sweepWith(client: WorkerClient, base: LayerSpec, o: SweepRunOpts, io: CliIo, tty: boolean, signal: AbortSignal): Promise<Sweep> {
  let lastLen = 0;
  const sweep = await runSweep(client, base, {
    kernels: o.kernels, channels: o.channels, device: o.device,
    run: { engine: o.engine, warmup: o.warmup, reps: o.reps, seed: o.seed, maxMemoryBytes: o.maxMemoryBytes },
  }, {
    signal,
    onProgress: (p) => {
      if (!tty) return;
      const line = `sweep [${p.cell + 1}/${p.cells}] k = ${p.kernel}, ${p.inChannels}→${p.outChannels}: ${p.detail}`;
      io.err(`\r${line.padEnd(lastLen)}`);
      lastLen = line.length;
    },
    onCell: (c) => {
      if (tty) io.err(`\r${''.padEnd(lastLen)}\r`);
      io.err(`sweep k = ${String(c.kernel).padStart(2)}, ${c.inChannels}→${c.outChannels}: spatial ${c.spatialMs === null ? '—' : fmtMs(c.spatialMs)}, spectral ${c.spectralMs === null ? '—' : fmtMs(c.spectralMs)} (model ${fmtMs(c.predictedSpatialMs)} / ${fmtMs(c.predictedSpectralMs)})${c.note ? ` — ${c.note}` : ''}\n`);
    },
  });
  return sweep;
}

export function formatSweepText(sw: Sweep): string {
  const out: string[] = [];
  out.push(`fconv sweep — batch ${sw.base.batch}, ${sw.base.height}×${sw.base.width}, ${sw.base.padding}, ${sw.base.layout}; ${sw.engine}/${sw.backend} on ${sw.device}; ${sw.settings.warmup} warm-up, ${sw.settings.reps} reps per cell`);
  out.push('');
  out.push(`  ${'k'.padStart(3)}  ${'channels'.padEnd(9)} ${'spatial'.padStart(9)} ${'spectral'.padStart(9)}  ${'model spatial'.padStart(13)} ${'model spectral'.padStart(14)}  winner (measured / model)`);
  for (const c of sw.cells) {
    const mw = c.measuredWinner ?? '—';
    out.push(`  ${String(c.kernel).padStart(3)}  ${`${c.inChannels}→${c.outChannels}`.padEnd(9)} ${(c.spatialMs === null ? '—' : fmtMs(c.spatialMs)).padStart(9)} ${(c.spectralMs === null ? '—' : fmtMs(c.spectralMs)).padStart(9)}  ${fmtMs(c.predictedSpatialMs).padStart(13)} ${fmtMs(c.predictedSpectralMs).padStart(14)}  ${mw} / ${c.predictedWinner}${c.measuredWinner && c.measuredWinner !== c.predictedWinner ? '  ✗' : ''}${c.note ? `  (${c.note})` : ''}`);
  }
  out.push('');
  for (const x of sw.crossovers) {
    out.push(`crossover ${x.inChannels}→${x.outChannels}: measured ${x.measured === null ? 'none (spatial wins at every swept kernel)' : `spectral wins from k = ${x.measured}`}; model ${x.predicted === null ? 'none' : `from k = ${x.predicted}`}`);
  }
  const cf = confusion(sw);
  if (cf.measured) out.push(`model picked the measured winner in ${cf.agree}/${cf.measured} cells`);
  if (sw.status !== 'ok') out.push(`sweep ${sw.status}${sw.failure ? `: ${sw.failure}` : ''}; the finished cells are kept`);
  return out.join('\n');
}

function addSpecOptions(cmd: Command): Command {
  return cmd
    .option('--batch <n>', 'batch size (default 32)')
    .option('--height <n>', 'image height (default 28)')
    .option('--width <n>', 'image width (default 28)')
    .option('--in <n>', 'input channels (default 1)')
    .option('--out <n>', 'output channels (default 32)')
    .option('--kernel <k>', 'kernel of the spectral layers: N, HxW or "image" (default image-sized, as the seed)')
    .option('--spatial-kernel <k>', 'kernel of the Conv2D to compare with (default 3)')
    .addOption(new Option('--padding <p>', 'circular | same | valid | linear (default circular, as a plain product of spectra)'))
    .addOption(new Option('--layout <l>', 'NHWC | NCHW (default NHWC)'));
}

function deviceFromFlags(flags: { device?: string; peakTflops?: string; bandwidthGbs?: string }): DeviceProfile | undefined {
  if (flags.peakTflops !== undefined || flags.bandwidthGbs !== undefined) {
    const p = Number(flags.peakTflops), b = Number(flags.bandwidthGbs);
    if (!(p > 0) || !(b > 0)) throw new UsageError('--peak-tflops and --bandwidth-gbs go together, both positive numbers (e.g. --peak-tflops 19.5 --bandwidth-gbs 2039)');
    return explicitProfile(p, b, flags.device ?? 'custom device');
  }
  if (flags.device !== undefined) {
    const g = gpuProfile(flags.device);
    if (!g) throw new UsageError(`unknown device "${flags.device}" (known: ${GPU_TABLE.map((x) => x.name).join(', ')}, or give --peak-tflops and --bandwidth-gbs)`);
    return g;
  }
  return undefined;
}

async function predictCommand(flags: ProfileFlags & { device?: string; peakTflops?: string; bandwidthGbs?: string; backend?: string }, io: CliIo): Promise<number> {
  const spec = specFromText(flags);
  let device = deviceFromFlags(flags);
  if (flags.backend !== undefined && !['wasm', 'cpu', 'tensorflow'].includes(flags.backend)) throw new UsageError(`--backend must be wasm, cpu or tensorflow, got "${flags.backend}"`);
  if (!device) {
    const engine = parseEngine(flags.engine);
    const code = await withClient(io, async (client) => {
      const d = await deviceFor(client, engine, version, { refresh: flags.refreshProbe });
      device = d.device;
      io.err(`fconv: ${d.note}\n`);
      return 0;
    });
    if (code || !device) return code || 1;
  }
  const backend = flags.backend ?? device.probe?.backend ?? 'tensorflow';
  const p = predict(spec, device, backend);
  if (flags.json) {
    io.out(`${JSON.stringify({ spec, device: p.device, deviceSource: p.deviceSource, backend, spatialMs: p.spatialMs, spectralMs: p.spectralMs, winner: p.winner, factor: p.factor, kernelTransformMs: p.kernelTransformMs, breakEven: p.breakEven, reasoning: p.reasoning, spatialSteps: p.spatialSteps, spectralSteps: p.spectralSteps }, null, 2)}\n`);
    return 0;
  }
  io.out(`fconv predict — batch ${spec.batch}, ${spec.height}×${spec.width}, ${spec.inChannels}→${spec.outChannels}, kernel ${spec.kernelH}×${spec.kernelW} (${spec.padding}), ${spec.layout}; device ${p.device}\n\n`);
  io.out(`  spatial (same function):  ${fmtMs(p.spatialMs)}\n  spectral (optimized):     ${fmtMs(p.spectralMs)} per call (+ ${fmtMs(p.kernelTransformMs)} once for the kernel spectrum)\n\n`);
  io.out(`winner: ${p.winner}, ${fmtRatio(p.factor)} faster\n`);
  for (const r of p.reasoning) io.out(`  · ${r}\n`);
  io.out('Nothing was run: these are model estimates. `fconv profile` measures them; `fconv sweep` measures the crossover.\n');
  return 0;
}

async function sweepCommand(flags: ProfileFlags & { kernels?: string; channels?: string }, io: CliIo): Promise<number> {
  const base = specFromText(flags);
  const engine = parseEngine(flags.engine);
  let kernels: number[], channels: Array<{ inChannels: number; outChannels: number }>;
  try {
    kernels = flags.kernels ? parseKernelList(flags.kernels) : sweepKernels(base, DEFAULT_KERNELS);
    channels = flags.channels ? parseChannels(flags.channels) : [{ inChannels: base.inChannels, outChannels: base.outChannels }];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const problems = sweepProblems(base, kernels, channels);
  if (problems.length) throw new UsageError(problems[0]!);
  const warmup = parseCount(flags.warmup, '--warmup', 0);
  const reps = parseCount(flags.reps, '--reps', 1);
  const seed = parseCount(flags.seed, '--seed', 0);
  const maxMemoryBytes = parseBytes(flags.maxMemory);
  if (!Number.isFinite(maxMemoryBytes) || maxMemoryBytes <= 0) throw new UsageError(`--max-memory must be a size like 4GB or 512MB, got "${flags.maxMemory}"`);
  for (const c of channels) for (const k of kernels) {
    const need = estimateRunBytes({ ...base, kernelH: k, kernelW: k, inChannels: c.inChannels, outChannels: c.outChannels }, ['spatial-equivalent', 'optimized']);
    if (need > maxMemoryBytes) throw new UsageError(`cell k = ${k}, ${c.inChannels}→${c.outChannels}: estimated memory ${formatBytes(need)} is above --max-memory ${formatBytes(maxMemoryBytes)}`);
  }
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nfconv: cancelling the sweep (keeping the finished cells)…\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return await withClient(io, async (client) => {
      const { device, note } = await deviceFor(client, engine, version, { refresh: flags.refreshProbe });
      io.err(`fconv: ${note}\n`);
      const sw = await sweepWith(client, base, { kernels, channels, engine, warmup, reps, seed, maxMemoryBytes, device }, io, io.isTTY && flags.progress, ac.signal);
      const files = writeSweepReport(sw, flags.outDir);
      if (flags.json) io.out(`${JSON.stringify(sw, null, 2)}\n`);
      else io.out(`${formatSweepText(sw)}\n\nwrote ${files.html}\n      ${files.json}\n`);
      if (sw.status === 'ok') return 0;
      io.err(`fconv: sweep ${sw.status}${sw.failure ? `: ${sw.failure}` : ''}\n`);
      return 1;
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function probeCommand(flags: { engine: string; refresh?: boolean; json?: boolean }, io: CliIo): Promise<number> {
  const engine = parseEngine(flags.engine);
  return withClient(io, async (client) => {
    const { device, note } = await deviceFor(client, engine, version, { refresh: flags.refresh });
    const p = device.probe!;
    if (flags.json) {
      io.out(`${JSON.stringify(p, null, 2)}\n`);
      return 0;
    }
    io.out(`${note}\n${p.device} (${p.backend}), measured ${p.measuredAt}, first quartile of ${p.reps} after 1 warm-up, wall-clock between syncs\n`);
    io.out(`  2-D GEMM          ${p.gemmGflops.toFixed(1)} GFLOP/s\n`);
    for (const b of p.bmm) io.out(`  batched GEMM K=${String(b.inner).padEnd(3)} ${b.gflops.toFixed(2)} GFLOP/s\n`);
    for (const c of p.conv) io.out(`  conv2d in=${String(c.inner).padEnd(2)}${c.kernel ? ` k=${String(c.kernel).padEnd(2)}` : '     '} ${c.gflops.toFixed(1)} GFLOP/s\n`);
    io.out(`  rfft2d / irfft2d  ${p.fftGflops.toFixed(2)} / ${p.ifftGflops.toFixed(2)} GFLOP/s (DFT-as-GEMM count)\n`);
    io.out(`  elementwise       ${p.elementwiseGBs.toFixed(1)} GB/s\n`);
    for (const x of p.pad) io.out(`${`  pad (rows of ${x.inner})`.padEnd(20)}${x.gflops.toFixed(2)} GB/s\n`);
    io.out(`  transpose         ${p.copyGBs.toFixed(1)} GB/s\n  per-op cost       ${p.overheadUs.toFixed(1)} µs\n`);
    return 0;
  });
}

async function devicesCommand(flags: { json?: boolean; cudaLibDirs?: string }, io: CliIo): Promise<number> {
  const dirs = searchDirs({ setting: flags.cudaLibDirs ? flags.cudaLibDirs.split(':').filter(Boolean) : [] });
  let discovery: Discovery | undefined;
  let reason: string | undefined;
  try {
    discovery = loadAddon().discover(dirs.map((d) => d.dir));
    reason = unavailableReason(discovery);
  } catch (e) {
    reason = (e as Error).message;
  }
  const gpu = gpuName();
  if (flags.json) {
    io.out(`${JSON.stringify({ cuda: { available: !reason, reason: reason ?? null, searchDirs: dirs, discovery: discovery ?? null }, nvidiaSmi: gpu ?? null }, null, 2)}\n`);
    return 0;
  }
  io.out(`GPU (nvidia-smi): ${gpu ?? 'none found'}\n`);
  io.out(`CUDA engine: ${reason ? `unavailable — ${reason}` : 'available (fconv profile --engine cuda; auto uses it first)'}\n`);
  if (discovery) for (const l of describeDiscovery(discovery, dirs)) io.out(`  ${l}\n`);
  io.out(`searched: ${dirs.map((d) => `${d.dir} (${d.from})`).join(', ')}\n`);
  io.out('tfjs engines: see the engine notes of `fconv profile` (wasm and cpu always; tfjs-node-gpu when installed with CUDA 11.2 / cuDNN 8.1).\n');
  return 0;
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
  const common = (cmd: Command) => cmd
    .option('--engine <e>', `${ENGINE_REQUESTS.join(' | ')}`, 'auto')
    .option('--seed <n>', 'seed of the random input and weights', '1')
    .option('--max-memory <size>', 'refuse specs estimated above this', '4GB')
    .option('--refresh-probe', 'measure this machine\'s rates again instead of using the cached probe')
    .option('--json', 'print JSON to stdout instead of the table')
    .option('--no-progress', 'no progress on stderr');
  common(addSpecOptions(program
    .command('profile')
    .description("Run the spectral layers (the seed's recipe and an optimized one) and the spatial convolutions on one spec; check they agree; time every step; explain the result.")))
    .option('--variants <list>', `comma-separated: ${VARIANT_NAMES.join(',')}`, VARIANT_NAMES.join(','))
    .option('--warmup <n>', 'warm-up runs per variant', '3')
    .option('--reps <n>', 'timed repetitions per variant (more for fast pipelines)', '10')
    .option('--out-dir <dir>', 'where report.html, report.json and trace.json go', 'fconv-report')
    .option('--sweep', 'also sweep kernel sizes (spatial-equivalent vs optimized) and put the crossover in the report')
    .option('--no-model', 'skip the cost model, the roofline and the hints (no probe)')
    .action(async (flags: ProfileFlags) => {
      code = await profileCommand(flags, io);
    });
  common(addSpecOptions(program
    .command('sweep')
    .description('Measure spatial-equivalent vs optimized across kernel sizes (and channel counts): where FFT convolution starts to pay, measured and predicted.')))
    .option('--kernels <list>', `kernel sizes (default ${DEFAULT_KERNELS.join(',')}, clipped to the image)`)
    .option('--channels <list>', 'IN:OUT channel pairs, e.g. 1:32,16:16,64:64 (default the spec\'s)')
    .option('--warmup <n>', 'warm-up runs per cell and variant', '1')
    .option('--reps <n>', 'timed repetitions per cell and variant', '3')
    .option('--out-dir <dir>', 'where sweep.html and sweep.json go', 'fconv-report')
    .action(async (flags: ProfileFlags & { kernels?: string; channels?: string }) => {
      code = await sweepCommand(flags, io);
    });
  common(addSpecOptions(program
    .command('predict')
    .description('Predict spatial vs spectral time for a spec on a device, from the cost model, without running the layer.')))
    .option('--device <name>', `a GPU from the table (${GPU_TABLE.map((x) => x.name).join(', ')}); default: this machine (probe)`)
    .option('--peak-tflops <x>', 'peak FP32 TFLOP/s of another device (with --bandwidth-gbs)')
    .option('--bandwidth-gbs <x>', 'memory bandwidth in GB/s of another device (with --peak-tflops)')
    .option('--backend <b>', 'pipeline shape of the optimized layer: wasm | cpu | tensorflow (default: the probed backend, or tensorflow for a GPU)')
    .action(async (flags: ProfileFlags & { device?: string; peakTflops?: string; bandwidthGbs?: string; backend?: string }) => {
      code = await predictCommand(flags, io);
    });
  program
    .command('devices')
    .description('Which GPU and CUDA libraries this machine has, where they were found, and why an engine is unavailable.')
    .option('--cuda-lib-dirs <dirs>', 'extra folders (colon-separated) to search first for libcudart, libcufft, libcublas, libcudnn')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; cudaLibDirs?: string }) => {
      code = await devicesCommand(flags, io);
    });
  program
    .command('probe')
    .description("Measure (or show the cached) rates of this machine the cost model is calibrated with.")
    .option('--engine <e>', `${ENGINE_REQUESTS.join(' | ')}`, 'auto')
    .option('--refresh', 'measure again')
    .option('--json', 'print the probe as JSON')
    .action(async (flags: { engine: string; refresh?: boolean; json?: boolean }) => {
      code = await probeCommand(flags, io);
    });
  program
    .command('scan')
    .description('Find the costly and the wrong patterns of Fourier-domain layers in Python (Keras/TF, PyTorch) and TypeScript/JavaScript (tfjs) source; exit 1 when a warning is found.')
    .argument('[files...]', 'files or folders (folders: their .py, .ts, .tsx, .js, .mjs, .cjs, .jsx files)')
    .option('--json', 'print findings[] (file, line, rule, severity, message, …) and the layers found as JSON')
    .option('--device <name>', `price each Conv2D with the cost model on this device: local (the cached probe) or ${GPU_TABLE.map((x) => x.name).join(', ')}`)
    .option('--max-chars <n>', 'skip files larger than this many characters', String(1 << 20))
    .action(async (files: string[], flags: ScanFlags) => {
      code = await scanCommand(files, flags, io, version);
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
