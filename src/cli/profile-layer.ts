/**
 * `fconv profile-layer FILE --class NAME --input-shape …`: the user's own layer as they wrote it — a PyTorch
 * nn.Module (torch engine) or a Keras layer (TensorFlow engine; `--engine auto` picks by the class's bases) —
 * loaded without running the file's top level (src/scan/extract.ts), built from --init or the call in the file,
 * its forward()/call() and training step timed and attributed to its source lines in a Python process of its own;
 * then, for an FNO layer or the question's layer, the profiler's own formulations of the same spec on the same
 * engine, beside it. Exit 0 ok; 1 the layer's code failed (`file:line: message`), the time limit passed, or it was
 * cancelled; 2 a usage error (no such class, arguments missing, no torch / TensorFlow).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  INPUT_DTYPES,
  type LayerProfile,
  assembleLayerProfile,
  comparisonOf,
  formatLayerProfile,
  specOfLayer,
} from '../core/layer-profile';
import { estimateRunBytes, formatBytes, parseBytes } from '../core/memory';
import { UsageError, parseWhole } from '../core/spec-input';
import { WorkerError } from '../client/client';
import { decodePythonSource, makeDirs, writeAtomic } from '../platform/files';
import { loadParser } from '../platform/grammars';
import { htmlPage } from '../report/report-files';
import { type LayerExtract, extractLayer, initFor, initTemplate, layerSource } from '../scan/extract';
import {
  type CliIo,
  type EngineFlags,
  checkOutDir,
  newClient,
  onCancelSignals,
  parseEngineChoice,
  parsePass,
  statusLine,
} from './shared';

export interface ProfileLayerFlags extends EngineFlags {
  class?: string;
  init?: string;
  inputShape?: string;
  json?: boolean;
  outDir: string;
  warmup: string;
  reps: string;
  traceReps: string;
  pass?: string;
  seed: string;
  timeLimit: string;
  maxMemory: string;
  compare: boolean;
  compile?: boolean;
  progress: boolean;
  inputDtype?: string;
}

/** `--engine auto|torch|tensorflow` for a class: auto by its bases (a Keras layer runs on TensorFlow). */
export function layerEngine(asked: string | undefined, framework: LayerExtract['framework'], cls: string) {
  const e = (asked ?? 'auto').trim().toLowerCase();
  if (e !== 'auto' && e !== 'torch' && e !== 'tensorflow')
    throw new UsageError(`--engine for profile-layer is auto, torch or tensorflow, got "${asked}"`);
  const want = framework === 'keras' ? 'tensorflow' : 'torch';
  if (e !== 'auto' && framework && e !== want)
    throw new UsageError(
      `${cls} is ${framework === 'keras' ? 'a Keras layer: it runs on --engine tensorflow' : 'a torch nn.Module: it runs on --engine torch'}`,
    );
  return e === 'auto' ? want : e;
}

/** The largest size of one input axis, and of the whole input (elements), profile-layer builds. */
const MAX_INPUT_DIM = 1 << 20;
const MAX_INPUT_ELEMENTS = 4e9;

export function parseShape(text: string | undefined): number[] {
  if (!text?.trim()) throw new UsageError('--input-shape is required: the input of forward(), e.g. 20,32,64,64');
  const parts = text.split(/[,x×]/).map((s) => s.trim());
  if (parts.length < 1 || parts.length > 6 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1))
    throw new UsageError(`--input-shape must be 1–6 positive integers, e.g. 20,32,64,64; got "${text}"`);
  const dims = parts.map(Number);
  if (dims.some((d) => d > MAX_INPUT_DIM))
    throw new UsageError(`--input-shape: each size must be at most ${MAX_INPUT_DIM}; got "${text}"`);
  const elements = dims.reduce((a, b) => a * b, 1);
  if (elements > MAX_INPUT_ELEMENTS)
    throw new UsageError(
      `--input-shape ${dims.join('×')} is ${elements.toExponential(1)} elements, more than the ${MAX_INPUT_ELEMENTS.toExponential(0)} a layer's random input may have`,
    );
  return dims;
}

/** --input-dtype, checked (undefined: the layer's own default). */
export function parseInputDtype(text: string | undefined): (typeof INPUT_DTYPES)[number] | undefined {
  const t = text?.trim().toLowerCase();
  if (t !== undefined && !(INPUT_DTYPES as readonly string[]).includes(t))
    throw new UsageError(`--input-dtype must be one of ${INPUT_DTYPES.join(', ')}, got "${text}"`);
  return t as (typeof INPUT_DTYPES)[number] | undefined;
}

/** --time-limit and --max-memory of a command that runs the user's layer in a process of its own. */
export function parseLayerLimits(flags: { timeLimit: string; maxMemory: string }) {
  const timeLimitS = parseWhole(flags.timeLimit, '--time-limit', 1, 24 * 3600);
  const maxMemoryBytes = parseBytes(flags.maxMemory);
  if (!Number.isFinite(maxMemoryBytes) || maxMemoryBytes <= 0)
    throw new UsageError(`--max-memory must be a size like 4GB or 512MB, got "${flags.maxMemory}"`);
  return { timeLimitS, maxMemoryBytes };
}

/** The user's Python file as Python decodes it (PEP 263), or a usage error naming why it cannot be read. */
export function readPythonFile(file: string, command: string): { abs: string; text: string } {
  const abs = path.resolve(file);
  if (!/\.pyi?$/i.test(abs)) throw new UsageError(`${file}: ${command} reads Python files (.py)`);
  try {
    return { abs, text: decodePythonSource(readFileSync(abs)) };
  } catch (e) {
    throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function profileLayerCommand(file: string, flags: ProfileLayerFlags, io: CliIo): Promise<number> {
  if (!flags.class) throw new UsageError('--class is required: the nn.Module or Keras Layer class to profile');
  const inputShape = parseShape(flags.inputShape);
  const inputDtype = parseInputDtype(flags.inputDtype);
  const warmup = parseWhole(flags.warmup, '--warmup', 0, 1000);
  const reps = parseWhole(flags.reps, '--reps', 1, 10000);
  const traceReps = parseWhole(flags.traceReps, '--trace-reps', 1, 1000);
  const pass = parsePass(flags.pass);
  const seed = parseWhole(flags.seed, '--seed', 0, 2 ** 31 - 1);
  const { timeLimitS, maxMemoryBytes } = parseLayerLimits(flags);
  const { abs, text } = readPythonFile(file, 'profile-layer');
  checkOutDir(flags.outDir);
  const parser = await loadParser();
  const tree = parser.parse('python', text);
  const x = extractLayer(tree, flags.class, flags.init);
  tree.delete();
  if ('error' in x) throw new UsageError(`${file}: ${x.error}`);
  const engine = layerEngine(flags.engine, x.framework, flags.class);
  const choice = parseEngineChoice({ ...flags, engine });
  if (flags.init !== undefined && flags.init.length > 4000)
    throw new UsageError(`--init is ${flags.init.length} characters: at most 4000 (literals and module constants)`);
  const init = initFor(x, flags.init);
  if ('missing' in init)
    throw new UsageError(
      `${flags.class}(${init.params.map((p) => p.name).join(', ')}) needs ${init.missing.join(', ')} and the file has no call of it with literal arguments: give them with --init "${initTemplate(init.params)}"`,
    );

  const client = newClient(io);
  const cancel = onCancelSignals(io, 'the layer process is stopped', () => client.killNow());
  const tty = io.isTTY && flags.progress;
  const status = statusLine(io);
  const short = (f: string) => path.relative(process.cwd(), f) || f;
  try {
    const n = (kind: string) => x.chunks.filter((c) => c.kind === kind).length;
    const parts = [
      [n('class'), 'class', 'classes'],
      [n('def'), 'function', 'functions'],
      [n('const'), 'constant', 'constants'],
    ]
      .filter(([k]) => k)
      .map(([k, one, many]) => `${k} ${k === 1 ? one : many}`);
    io.err(
      `fconv: profiling ${flags.class} from ${short(abs)}: only its imports and the ${parts.join(', ')} it needs run, not the rest of the file\n`,
    );
    let res;
    try {
      res = await client.profileLayer(
        {
          request: {
            ...layerSource(x, abs, init.args),
            inputShape,
            warmup,
            reps,
            traceReps,
            seed,
            pass,
            framework: engine,
            compare: flags.compare,
            ...(flags.compile ? { compile: true } : {}),
            ...(inputDtype ? { inputDtype } : {}),
            ...(choice.tfMode ? { tfMode: choice.tfMode } : {}),
          },
          python: choice.python,
          torchDevice: choice.torchDevice,
          threads: choice.threads,
          maxMemoryBytes,
          timeLimitMs: timeLimitS * 1000,
        },
        {
          signal: cancel.signal,
          onProgress: (p) => {
            if (tty) status.show(`fconv: ${flags.class}: ${p.phase} ${p.count ? `${p.index + 1}/${p.count}` : ''}`);
          },
        },
      );
    } catch (e) {
      if (tty) status.clear();
      return layerFailure(e, io, short, x);
    }
    if (tty) status.clear();
    let profile: LayerProfile = assembleLayerProfile(res.measured, {
      classLine: x.classLine,
      init:
        init.from === 'file'
          ? { args: init.args, from: 'file', line: init.line }
          : { args: init.args, from: init.from },
      python: res.python,
      notes: x.notes,
      measuredAt: new Date(),
    });
    profile = await compare(profile, res.measured, flags, { client, choice, seed, maxMemoryBytes, cancel, io });
    if (flags.json) io.out(`${JSON.stringify(profile, null, 2)}\n`);
    else io.out(`${formatLayerProfile(profile, short)}\n\n`);
    try {
      makeDirs(flags.outDir);
      const json = path.join(flags.outDir, 'profile-layer.json');
      const html = path.join(flags.outDir, 'profile-layer.html');
      writeAtomic(json, `${JSON.stringify(profile, null, 2)}\n`);
      writeAtomic(
        html,
        htmlPage(`Fourier Conv — ${profile.layer.class} as written`, { kind: 'layer-profile', layer: profile }),
      );
      if (!flags.json) io.out(`wrote ${html}\n      ${json}\n`);
    } catch (e) {
      io.err(`fconv: could not write the report to ${flags.outDir}: ${(e as Error).message}\n`);
      return 1;
    }
    return cancel.signal.aborted ? 1 : 0;
  } finally {
    cancel.dispose();
    client.dispose();
  }
}

/** A failure of the layer's process: a usage error thrown, else the user's file:line and frames printed; exit 1. */
export function layerFailure(e: unknown, io: CliIo, short: (f: string) => string, x: LayerExtract): number {
  if (!(e instanceof WorkerError)) throw e;
  if (e.kind === 'usage' || e.kind === 'engine') throw new UsageError(e.message);
  if (e.where) {
    io.err(`${short(e.where.file)}:${e.where.line}: ${e.message}\n`);
    if (/\.build\(input_shape=/.test(e.message) && x.params.length)
      io.err(`  its constructor takes: --init "${initTemplate(x.params)}"\n`);
    const frames = e.where.frames ?? [];
    if (frames.length > 1) for (const f of frames) io.err(`  ${short(f.file)}:${f.line} in ${f.name}: ${f.text}\n`);
  } else io.err(`fconv: ${e.message}\n`);
  return 1;
}

/** The profiler's own formulations of the same spec (FNO layers), on the same interpreter and device. */
async function compare(
  profile: LayerProfile,
  measured: Parameters<typeof specOfLayer>[0],
  flags: ProfileLayerFlags,
  o: {
    client: ReturnType<typeof newClient>;
    choice: ReturnType<typeof parseEngineChoice>;
    seed: number;
    maxMemoryBytes: number;
    cancel: { signal: AbortSignal };
    io: CliIo;
  },
): Promise<LayerProfile> {
  if (!flags.compare) return { ...profile, noComparison: '--no-compare' };
  const found = specOfLayer(measured);
  if ('why' in found) return { ...profile, noComparison: found.why };
  const variants = found.variants;
  const need = estimateRunBytes(found.spec, variants);
  if (need > o.maxMemoryBytes)
    return {
      ...profile,
      noComparison: `the profiler's formulations would need ${formatBytes(need)}, above the budget of ${formatBytes(o.maxMemoryBytes)}`,
    };
  o.io.err(`fconv: now the profiler's formulations of ${found.what}\n`);
  try {
    const run = await o.client.run(
      found.spec,
      {
        engine: profile.engine,
        python: o.choice.python,
        torchDevice: profile.backend === 'cuda' ? (o.choice.torchDevice ?? 'cuda') : 'cpu',
        ...(o.choice.tfMode ? { tfMode: o.choice.tfMode } : {}),
        threads: o.choice.threads ?? profile.framework.threads,
        variants,
        pass: profile.train ? 'both' : 'forward',
        warmup: 3,
        reps: 20,
        seed: o.seed,
        maxMemoryBytes: o.maxMemoryBytes,
      },
      { signal: o.cancel.signal },
    );
    if (run.status !== 'ok' || !run.variants.length)
      return { ...profile, noComparison: `the profiler's run ${run.status}${run.failure ? `: ${run.failure}` : ''}` };
    const engine = `${run.engine}/${run.backend} — ${run.device}`;
    return {
      ...profile,
      comparison: comparisonOf(found, engine, run.variants, profile.train?.totalMs),
    };
  } catch (e) {
    if (!(e instanceof WorkerError)) throw e;
    return { ...profile, noComparison: `the profiler's run did not complete: ${e.message}` };
  }
}
