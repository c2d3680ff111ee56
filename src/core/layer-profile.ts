/**
 * "Profile this layer" on the user's own PyTorch class: what comes back from the Python side, and the JSON
 * `fconv profile-layer --json` prints. Every line's time is its own (a helper's lines apart), scaled so that
 * the lines and the time outside any line add up to the plain forward's median (the attribution note says
 * by how much). Host-free.
 */
import { z } from 'zod';
import { compiledSchema, compiledLine } from './compiled';
import { fmtFaults, fmtMs } from './format';
import { type VariantName, layerSpecSchema, variantsForSpec } from './run';
import { DEFAULT_SPEC, type LayerSpec, fnoSpec, specProblems } from './spec';

/** The dtypes a layer's random input can have (`--input-dtype`). */
export const INPUT_DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'complex64', 'complex128'] as const;

/** The passes of a run on the user's layer (profile-layer, optimize), as its Python process reports them. */
export const LAYER_PHASES = [
  'load',
  'warm-up',
  'timed',
  'lines',
  'ops',
  'train',
  'backward',
  'backward lines',
  'baseline',
  'prove',
  'compile',
  'forward',
] as const;

const ms = z.number().finite().nonnegative();
const stats = z.object({ median: ms, p10: ms, p90: ms });

/**
 * The forward on glibc's default malloc (the user's own process) before freed memory was kept for the timed runs:
 * its time and minor page faults per call, and the kept runs' faults (python/fconv_layer.py allocator_effect).
 */
const allocatorSchema = z.object({
  default: stats.extend({ faultsPerCall: z.number().finite().nonnegative() }),
  keptFaultsPerCall: z.number().finite().nonnegative(),
});
export type AllocatorEffect = z.infer<typeof allocatorSchema>;

type Stat = z.infer<typeof stats>;

export const lineOpSchema = z.object({
  name: z.string().max(200),
  shapes: z.array(z.string().max(100)).max(8),
  ms,
  calls: z.number().int().nonnegative().optional(),
});

export const lineKernelSchema = z.object({ name: z.string().max(200), device: z.enum(['cpu', 'cuda']), ms });

export const lineCostSchema = z.object({
  file: z.string(),
  line: z.number().int().positive(),
  text: z.string().max(400),
  ms,
  tracedMs: ms,
  share: z.number().finite().nonnegative(),
  hits: z.number().int().nonnegative(),
  ops: z.array(lineOpSchema).max(16),
  kernels: z.array(lineKernelSchema).max(16),
  /** The backward of the autograd nodes this line's forward ops made (the training pass), scaled like `ms`. */
  backwardMs: ms.optional(),
  backwardShare: z.number().finite().nonnegative().optional(),
});
export type LineCost = z.infer<typeof lineCostSchema>;

export const spectralPartSchema = z.object({
  /**
   * What it is: an FNO spectral convolution (complex (in, out, modes1, modes2) weights), or the question's layer (one
   * real (in, H, W, out) kernel on an (B, H, W, in) input, its spectrum multiplied in per frequency). Absent: fno.
   */
  kind: z.enum(['fno', 'seed']).optional(),
  /** Its attribute path in the layer (`conv`, `convs.0`), or "(the layer itself)". */
  name: z.string(),
  className: z.string(),
  /** (in, out, modes1, modes2) of each complex weight block; the question's layer: its (in, H, W, out) kernel. */
  weights: z.array(z.array(z.number().int().nonnegative())).max(8),
  inputShape: z.array(z.number().int().positive()),
  totalMs: stats,
});
export type SpectralPart = z.infer<typeof spectralPartSchema>;

/** The layer's training step (--pass train|both): forward + backward, the backward alone, the rest of the backward. */
export const layerTrainSchema = z.object({
  totalMs: stats,
  backwardMs: stats,
  /**
   * The step with the weights' gradients only — a first layer fed the data, as model.fit runs it (no input gradient).
   * Absent when the input is not differentiated or nothing else trains.
   */
  weightsOnlyMs: stats.optional(),
  warmup: z.number().int().nonnegative(),
  /** Backward time of nodes no line of the user's made (the loss's own, the leaves'), scaled like the lines. */
  notOnLineMs: ms,
  attribution: z.string(),
  timing: z.string(),
});
export type LayerTrain = z.infer<typeof layerTrainSchema>;

/**
 * The Conv2D the question compares with, written as the user's framework writes it (Keras `Conv2D(out, 3,
 * padding='same')`), timed in the same process, threads and mode as their layer: forward, training step, and the
 * step with the weights' gradients only.
 */
export const layerBaselineSchema = z.object({
  label: z.string(),
  totalMs: stats,
  trainMs: stats.optional(),
  weightsOnlyMs: stats.optional(),
});
export type LayerBaseline = z.infer<typeof layerBaselineSchema>;

/** What the Python side measured (python/fconv_layer.py). */
export const layerMeasuredSchema = z.object({
  /** Which framework ran the layer: a torch nn.Module, or a Keras layer on TensorFlow. */
  framework: z.enum(['torch', 'tensorflow']).default('torch'),
  file: z.string(),
  className: z.string(),
  init: z.string(),
  inputShape: z.array(z.number().int().positive()),
  inputDtype: z.string(),
  outputShape: z.array(z.number().int().nonnegative()).nullable(),
  outputDtype: z.string(),
  parameters: z.number().int().nonnegative(),
  /** The FNO spectral convolution the layer holds (the first module with complex 4-D weights), timed alone. */
  spectral: spectralPartSchema.nullable(),
  device: z.string(),
  backend: z.enum(['cpu', 'cuda']),
  /** The framework's version. */
  version: z.string(),
  threads: z.number().int().positive(),
  totalMs: stats,
  samples: z.array(ms),
  warmup: z.number().int().nonnegative(),
  tracedTotalMs: ms,
  traceReps: z.number().int().positive(),
  scale: z.number().finite().nonnegative(),
  notOnLineMs: ms,
  notOnLineShare: z.number().finite().nonnegative(),
  lines: z.array(lineCostSchema),
  notes: z.array(z.string()),
  peakMemoryBytes: z.number().int().nonnegative(),
  train: layerTrainSchema.optional(),
  baseline: layerBaselineSchema.optional(),
  allocator: allocatorSchema.optional(),
  compiled: compiledSchema.optional(),
  timing: z.string(),
  attribution: z.string(),
});
export type LayerMeasured = z.infer<typeof layerMeasuredSchema>;

/** The profile-layer JSON (CLI --json, profile-layer.json, the panel). */
export const layerProfileSchema = z.object({
  kind: z.literal('layer-profile'),
  layer: z.object({ file: z.string(), class: z.string(), line: z.number().int().positive() }),
  init: z.object({ args: z.string(), from: z.enum(['--init', 'file', 'defaults']), line: z.number().int().optional() }),
  input: z.object({ shape: z.array(z.number().int().positive()), dtype: z.string() }),
  output: z.object({ shape: z.array(z.number().int().nonnegative()).nullable(), dtype: z.string() }),
  parameters: z.number().int().nonnegative(),
  engine: z.enum(['torch', 'tensorflow']),
  framework: z.object({
    name: z.enum(['PyTorch', 'TensorFlow']),
    version: z.string(),
    python: z.string(),
    threads: z.number().int(),
  }),
  device: z.string(),
  backend: z.enum(['cpu', 'cuda']),
  totalMs: stats,
  samples: z.array(ms),
  timing: z.string(),
  attribution: z.string(),
  /**
   * Time inside forward() not on any line of the user's code (nn.Module's call machinery; for a Keras layer in a
   * tf.function the ops no line of theirs made), scaled like the lines.
   */
  notOnLineMs: ms,
  lines: z.array(lineCostSchema),
  /** The training step, when it was measured (its per-line backward is in each line's backwardMs). */
  train: layerTrainSchema.optional(),
  /** The framework's own Conv2D 3×3 in the same process (the question's comparison), for the question's layer. */
  baseline: layerBaselineSchema.optional(),
  notes: z.array(z.string()),
  peakMemoryBytes: z.number().int().nonnegative(),
  /** The forward on the default allocator, as the user's process runs it (CPU, glibc). */
  allocator: allocatorSchema.optional(),
  /** torch.compile of the class as written (--compile). */
  compiled: compiledSchema.optional(),
  measuredAt: z.string(),
  /** The profiler's own formulations of the same spec, on the same engine and device, beside the layer as written. */
  comparison: z
    .object({
      spec: layerSpecSchema,
      what: z.string(),
      engine: z.string(),
      /** The part of the layer the spec describes, as written, timed alone. */
      asWritten: z.object({ label: z.string(), ms: stats, trainMs: stats.optional() }),
      rows: z.array(z.object({ variant: z.string(), label: z.string(), ms: stats, trainMs: stats.optional() })),
      /** The layer takes spectra: the spectral rows are their call() alone (Conv2D end to end). */
      callOnly: z.boolean().optional(),
      /** Where the rows compute something else than the layer as written, and why. */
      caveat: z.string().optional(),
      /** optimized vs the layer as written (end to end, per call). */
      gain: z.object({ factor: z.number().positive(), savedMs: z.number().finite() }).optional(),
    })
    .optional(),
  /** Why there is no comparison (the layer is not one the profiler models, --no-compare, it failed). */
  noComparison: z.string().optional(),
});
export type LayerProfile = z.infer<typeof layerProfileSchema>;

/** What the lines' shares are of: the forward's median, or with the training step its forward + backward. */
export function wholeMs(p: Pick<LayerProfile, 'totalMs' | 'train'>): number {
  return p.totalMs.median + (p.train?.backwardMs.median ?? 0);
}

/** A line's share of the forward, or with the training step its forward + backward's share of the step. */
export function lineShare(p: Pick<LayerProfile, 'totalMs' | 'train'>, l: LineCost): number {
  if (!p.train) return l.share;
  const whole = wholeMs(p);
  return whole > 0 ? (l.ms + (l.backwardMs ?? 0)) / whole : 0;
}

/** The lines worth showing in the editor: costliest first, at ≥ `minShare` (of the training step, if measured). */
export function costlyLines(p: Pick<LayerProfile, 'lines' | 'totalMs' | 'train'>, minShare = 0.02): LineCost[] {
  return p.lines
    .filter((l) => lineShare(p, l) >= minShare)
    .sort((a, b) => b.ms + (b.backwardMs ?? 0) - (a.ms + (a.backwardMs ?? 0)));
}

/**
 * The end-of-line text: `3.41 ms · 18 %`, or with the training step `fwd 1.20 ms · bwd 3.40 ms · 31 % of the
 * training step`.
 */
export function lineLabel(
  l: Pick<LineCost, 'ms' | 'share' | 'hits' | 'backwardMs'>,
  fmt: (ms: number) => string,
  trainMs?: number,
): string {
  const calls = l.hits > 1 ? ` · ${l.hits} calls` : '';
  if (l.backwardMs !== undefined && trainMs)
    return `fwd ${fmt(l.ms)} · bwd ${fmt(l.backwardMs)} · ${Math.round(((l.ms + l.backwardMs) / trainMs) * 100)} % of the training step${calls}`;
  return `${fmt(l.ms)} · ${Math.round(l.share * 100)} %${calls}`;
}

/** What the host asks the worker to run: the chunks of the user's file and how to build and feed the layer. */
export const layerRequestSchema = z.object({
  file: z.string().min(1).max(4096),
  className: z.string().regex(/^[A-Za-z_]\w*$/),
  classLine: z.number().int().positive(),
  chunks: z
    .array(
      z.object({
        kind: z.enum(['import', 'def', 'class', 'const']),
        line: z.number().int().positive(),
        source: z.string().max(1 << 20),
        binds: z.array(z.string().max(200)).max(200),
        used: z.boolean(),
      }),
    )
    .max(2000),
  constants: z.array(z.string().max(200)).max(2000),
  init: z.string().max(4000),
  inputShape: z
    .array(
      z
        .number()
        .int()
        .min(1)
        .max(1 << 20),
    )
    .min(1)
    .max(6),
  warmup: z.number().int().min(0).max(1000),
  reps: z.number().int().min(1).max(10000),
  traceReps: z.number().int().min(1).max(1000),
  seed: z.number().int().min(0),
  /** forward: forward() only; train / both: the training step too, its backward per line (default both). */
  pass: z.enum(['forward', 'train', 'both']).optional(),
  /** Which framework runs it (absent: torch): an nn.Module, or a Keras layer on TensorFlow. */
  framework: z.enum(['torch', 'tensorflow']).optional(),
  /** The input's dtype (absent: the layer's parameters' real dtype on torch, float32 on TensorFlow). */
  inputDtype: z.enum(INPUT_DTYPES).optional(),
  /** TensorFlow: the call inside one tf.function (default), or eager. */
  tfMode: z.enum(['function', 'eager']).optional(),
  /** Module names only statements the profiler skips bind (a NameError on one names the line). */
  skipped: z
    .array(z.object({ name: z.string().max(200), line: z.number().int().positive(), text: z.string().max(400) }))
    .max(2000)
    .optional(),
  /** Imports resolve from this file's folder (and package) instead of `file`'s: a rewrite profiled from a temp copy. */
  importFrom: z.string().min(1).max(4096).optional(),
  /** Time the framework's own Conv2D beside the question's layer (absent: yes; --no-compare: no). */
  compare: z.boolean().optional(),
  /** torch ≥ 2: torch.compile of the class as written, one more row (compile time apart, checked against eager). */
  compile: z.boolean().optional(),
});
export type LayerRequest = z.infer<typeof layerRequestSchema>;

/** `20, 32, 64, 64` or `32, 28, 28, 1 complex64`: the shape and an optional dtype; undefined when malformed. */
export function parseShapeInput(v: string): { shape: number[]; dtype?: (typeof INPUT_DTYPES)[number] } | undefined {
  const m = /^\s*(\d+(?:\s*[,x×]\s*\d+){0,5})\s*(?:[:,]?\s*([a-z0-9]+))?\s*$/i.exec(v);
  if (!m) return undefined;
  const shape = m[1]!.split(/[,x×]/).map((s) => Number(s.trim()));
  if (shape.some((d) => !(d >= 1))) return undefined;
  const dtype = m[2]?.toLowerCase();
  if (dtype !== undefined && !(INPUT_DTYPES as readonly string[]).includes(dtype)) return undefined;
  return { shape, ...(dtype ? { dtype: dtype as (typeof INPUT_DTYPES)[number] } : {}) };
}

/** The profile-layer JSON from what Python measured and how the layer was built. */
export function assembleLayerProfile(
  m: LayerMeasured,
  o: {
    classLine: number;
    init: { args: string; from: 'file' | '--init' | 'defaults'; line?: number };
    python: { path: string; version: string };
    notes: string[];
    measuredAt: Date;
  },
): LayerProfile {
  return {
    kind: 'layer-profile',
    layer: { file: m.file, class: m.className, line: o.classLine },
    init: o.init,
    input: { shape: m.inputShape, dtype: m.inputDtype },
    output: { shape: m.outputShape, dtype: m.outputDtype },
    parameters: m.parameters,
    engine: m.framework,
    framework: {
      name: m.framework === 'tensorflow' ? 'TensorFlow' : 'PyTorch',
      version: m.version,
      python: `${o.python.path} (Python ${o.python.version})`,
      threads: m.threads,
    },
    device: m.device,
    backend: m.backend,
    totalMs: m.totalMs,
    samples: m.samples,
    timing: m.timing,
    attribution: m.attribution,
    notOnLineMs: m.notOnLineMs,
    lines: m.lines,
    ...(m.train ? { train: m.train } : {}),
    ...(m.baseline ? { baseline: m.baseline } : {}),
    notes: [...m.notes, ...o.notes],
    peakMemoryBytes: m.peakMemoryBytes,
    ...(m.allocator ? { allocator: m.allocator } : {}),
    ...(m.compiled ? { compiled: m.compiled } : {}),
    measuredAt: o.measuredAt.toISOString(),
  };
}

/** What the profiler runs beside a layer as written: its spec, the variants, and what the layer's own time covers. */
export interface LayerFound {
  spec: LayerSpec;
  what: string;
  asWritten: { label: string; ms: z.infer<typeof stats> };
  /** The profiler's variants to run beside it. */
  variants: VariantName[];
  /** The layer takes spectra and returns spectra (the question's): compare with the variants' call() alone. */
  callOnly: boolean;
  /** Why the rows do not compute quite what the layer does (the question's rfft2d over the kernel's (W, out) axes). */
  caveat?: string;
}

/**
 * The profiler's own spec for the same layer, to run its formulations beside the one as written: an FNO layer when
 * the class holds complex 4-D weights (in, out, modes1, modes2) whose `in` is the input's channels and the input is
 * (B, C, H, W); the question's layer when it holds a real (in, H, W, out) kernel for an (B, H, W, in) input;
 * otherwise why not.
 */
export function specOfLayer(
  m: Pick<LayerMeasured, 'spectral'> & { outputShape?: number[] | null },
): LayerFound | { why: string } {
  const sp = m.spectral;
  if (!sp)
    return {
      why: 'the layer holds no complex (in, out, modes1, modes2) weights and no image-sized (in, H, W, out) kernel: not a layer the profiler models',
    };
  if (sp.kind === 'seed') return seedOfLayer(sp, m.outputShape ?? null);
  const [b, c, h, w] = sp.inputShape;
  if (sp.inputShape.length !== 4 || !b || !c || !h || !w)
    return {
      why: `${sp.className} gets an input that is not (batch, channels, height, width): ${sp.inputShape.join('×')}`,
    };
  const fno = sp.weights.find((s) => s.length === 4 && s[0] === c);
  if (!fno) return { why: `${sp.className}'s complex weights do not take its input's ${c} channels` };
  const [, out, m1, m2] = fno as [number, number, number, number];
  const spec = fnoSpec({ batch: b, height: h, width: w, inChannels: c, outChannels: out, modes: [m1, m2] });
  const problems = specProblems(spec);
  if (problems.length) return { why: problems[0]! };
  const blocks = sp.weights.filter((s) => s.length === 4 && s[0] === c).length;
  const self = sp.name === '(the layer itself)';
  return {
    spec,
    what: `${self ? sp.className : `${sp.name} (${sp.className})`}: ${c} → ${out} channels, ${m1}×${m2} modes per corner (${blocks} weight block${blocks === 1 ? '' : 's'}), on ${b}×${c}×${h}×${w}`,
    asWritten: { label: self ? 'yours, as written' : `yours: ${sp.name} (${sp.className}) as written`, ms: sp.totalMs },
    variants: variantsForSpec(spec, ['fno', 'optimized', 'spatial-equivalent']),
    callOnly: false,
  };
}

/** The question's layer: (B, H, W, in) spectra in, an image-sized (in, H, W, out) kernel's spectrum multiplied in. */
function seedOfLayer(
  sp: NonNullable<LayerMeasured['spectral']>,
  output: number[] | null,
): LayerFound | { why: string } {
  const [b, h, w, c] = sp.inputShape;
  const k = sp.weights[0];
  if (sp.inputShape.length !== 4 || !b || !h || !w || !c || !k || k.length !== 4)
    return {
      why: `${sp.className} gets an input that is not (batch, height, width, channels): ${sp.inputShape.join('×')}`,
    };
  const out = k[3]!;
  const spec: LayerSpec = {
    ...DEFAULT_SPEC,
    batch: b,
    height: h,
    width: w,
    inChannels: c,
    outChannels: out,
    kernelH: h,
    kernelW: w,
    layer: 'seed',
  };
  const problems = specProblems(spec);
  if (problems.length) return { why: problems[0]! };
  return {
    spec,
    what: `${sp.className}: the question's layer — ${c} → ${out} channels, an image-sized ${h}×${w} kernel's spectrum multiplied in, on ${b}×${h}×${w}×${c} (NHWC)`,
    asWritten: { label: 'yours, as written (call() on spectra)', ms: sp.totalMs },
    variants: variantsForSpec(spec, ['seed', 'optimized', 'spatial', 'spatial-equivalent']),
    callOnly: true,
    ...(output && output.length === 4 && output[3] !== out
      ? {
          caveat: `yours returns ${output[3]} maps per position, not the ${out} its kernel has: tf.signal.rfft2d transforms the innermost two axes — the kernel's (W, out) here, not (H, W) — so it computes another function than a convolution (docs/rules.md#rfft-axes); the profiler's rows compute the ${out}-map convolution`,
        }
      : {}),
  };
}

/** The profiler's variant names, as the comparison labels them. */
const VARIANT_LABELS: Record<string, string> = {
  fno: 'fno — as FNO code writes it (profiler)',
  seed: "seed — the question's recipe, axes fixed (profiler)",
  optimized: 'optimized (profiler)',
  spatial: 'spatial — Conv2D 3×3, what the question compares with (profiler)',
  'spatial-equivalent': 'spatial-equivalent (profiler)',
};

/**
 * The comparison rows: each variant's end-to-end time, or for a layer that takes spectra (callOnly) a spectral
 * variant's call() alone (the spatial Conv2D has no call() apart: end to end, as the question compares).
 */
export function comparisonOf(
  found: LayerFound,
  engine: string,
  variants: Array<{ name: string; totalMs: Stat; layerMs?: Stat; train?: { totalMs: Stat } }>,
  train?: Stat,
): NonNullable<LayerProfile['comparison']> {
  const pick = (s: Stat) => ({ median: s.median, p10: s.p10, p90: s.p90 });
  const rows = variants.map((v) => {
    const ms = found.callOnly && v.layerMs ? v.layerMs : v.totalMs;
    return {
      variant: v.name,
      label: VARIANT_LABELS[v.name] ?? v.name,
      ms: pick(ms),
      ...(train && v.train ? { trainMs: pick(v.train.totalMs) } : {}),
    };
  });
  const opt = rows.find((r) => r.variant === 'optimized');
  const mine = found.asWritten.ms.median;
  return {
    spec: found.spec,
    what: found.what,
    engine,
    asWritten: { ...found.asWritten, ...(train ? { trainMs: pick(train) } : {}) },
    rows,
    ...(found.callOnly ? { callOnly: true } : {}),
    ...(found.caveat ? { caveat: found.caveat } : {}),
    // A layer that computes another function (the caveat) has no gain to claim against the convolution's rows.
    ...(opt && opt.ms.median > 0 && !found.caveat
      ? { gain: { factor: mine / opt.ms.median, savedMs: mine - opt.ms.median } }
      : {}),
  };
}

function bar(share: number, width = 20): string {
  const n = Math.max(0, Math.min(width, Math.round(share * width)));
  return '█'.repeat(n) + ' '.repeat(width - n);
}

/** The CLI's text: the forward's time, each line's, the ops of the costly ones, the comparison. */
/**
 * What the default allocator costs the layer, when it costs something measurable: its median above the kept runs'
 * p90 and at least 10 % slower, with the page faults that explain it and how to avoid them. Undefined otherwise.
 */
export function allocatorFinding(
  p: Pick<LayerProfile, 'allocator' | 'totalMs' | 'framework'>,
): { title: string; detail: string } | undefined {
  const a = p.allocator;
  if (!a) return undefined;
  const d = a.default;
  const slower = d.median / Math.max(p.totalMs.median, 1e-9);
  if (!(d.median > p.totalMs.p90 && slower >= 1.1)) return undefined;
  return {
    title: `In a default ${p.framework.name} process this forward takes ${fmtMs(d.median)}, not ${fmtMs(p.totalMs.median)} (${slower.toFixed(1)}x): ${fmtFaults(d.faultsPerCall)} page faults per call against ${fmtFaults(a.keptFaultsPerCall)}`,
    detail:
      'glibc malloc hands freed multi-MB buffers back to the OS and faults them in again on the next call. The times above keep freed memory, as a long-running process that holds GBs does. ' +
      'To get them in yours: MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=268435456 in the environment, or jemalloc / tcmalloc through LD_PRELOAD (docs/allocator.md).',
  };
}

/** torch.compile of the class as written, in one line: what it cost, what it gives against eager, or why not. */
export function compiledLayerLine(p: Pick<LayerProfile, 'compiled'>): string | undefined {
  return compiledLine(p.compiled, 'your class');
}

export function formatLayerProfile(p: LayerProfile, shortFile: (f: string) => string = (f) => f): string {
  const out: string[] = [];
  const t = p.totalMs;
  out.push(
    `${p.layer.class} (${shortFile(p.layer.file)}:${p.layer.line}) as written — ${p.framework.name} ${p.framework.version} on ${p.device}`,
  );
  out.push(
    `input ${p.input.shape.join('×')} ${p.input.dtype} → output ${p.output.shape?.join('×') ?? '(not a tensor)'} ${p.output.dtype}; ${p.parameters.toLocaleString('en-US')} parameters; built as ${p.layer.class}(${p.init.args})${p.init.from === 'file' ? ` (the call on line ${p.init.line})` : p.init.from === 'defaults' ? ' (its defaults)' : ''}`,
  );
  const tr = p.train;
  if (tr)
    out.push(
      `training step (forward + backward): ${fmtMs(tr.totalMs.median)} median (p10 ${fmtMs(tr.totalMs.p10)}, p90 ${fmtMs(tr.totalMs.p90)}); backward alone ${fmtMs(tr.backwardMs.median)} (${Math.round((tr.backwardMs.median / tr.totalMs.median) * 100)} % of the step) — ${tr.timing}${tr.weightsOnlyMs ? `; as a first layer (the weights' gradients only, no input gradient — model.fit's step for a layer fed the data): ${fmtMs(tr.weightsOnlyMs.median)}` : ''}`,
    );
  const bl = p.baseline;
  if (bl) {
    const r = (a?: Stat, b?: Stat) => (a && b && b.median > 0 ? `${(a.median / b.median).toFixed(1)}x` : '—');
    out.push(
      `the question's comparison — ${bl.label}: forward ${fmtMs(bl.totalMs.median)}${bl.trainMs ? `, training step ${fmtMs(bl.trainMs.median)}` : ''}${bl.weightsOnlyMs ? `, as a first layer ${fmtMs(bl.weightsOnlyMs.median)}` : ''} → yours is ${r(t, bl.totalMs)} the forward${tr ? `, ${r(tr.totalMs, bl.trainMs)} the training step, ${r(tr.weightsOnlyMs, bl.weightsOnlyMs)} as a first layer` : ''}`,
    );
  }
  out.push(`forward(): ${fmtMs(t.median)} median (p10 ${fmtMs(t.p10)}, p90 ${fmtMs(t.p90)}) — ${p.timing}`);
  const alloc = allocatorFinding(p);
  if (alloc) out.push(`${alloc.title}. ${alloc.detail}`);
  const compiled = compiledLayerLine(p);
  if (compiled) out.push(compiled);
  out.push('');
  // With the training step: each line's forward and backward, its share of the two together.
  const shareOf = (l: LineCost) => lineShare(p, l);
  out.push(tr ? '  line         fwd         bwd  share' : '  line        time  share');
  for (const l of p.lines) {
    const where = l.file === p.layer.file ? String(l.line).padStart(6) : `${shortFile(l.file)}:${l.line}`;
    const calls = l.hits > 1 ? ` (×${l.hits})` : '';
    const times = tr
      ? `${fmtMs(l.ms).padStart(10)}  ${fmtMs(l.backwardMs ?? 0).padStart(10)}`
      : fmtMs(l.ms).padStart(10);
    const s = shareOf(l);
    out.push(
      `${where}  ${times}  ${`${Math.round(s * 100)} %`.padStart(5)}  ${bar(s)}  ${l.text.slice(0, 70)}${calls}`,
    );
  }
  const rest = p.notOnLineMs;
  const keras = p.engine === 'tensorflow';
  const fwdRest = keras ? 'ops no line of yours made' : "nn.Module's call machinery";
  const bwdRest = keras ? "the loss's own gradients" : "the loss's own nodes and the autograd engine between nodes";
  out.push(
    tr
      ? `   (not on a line of yours: forward ${fmtMs(rest)} — ${fwdRest}; backward ${fmtMs(tr.notOnLineMs)} — ${bwdRest})`
      : `   (not on a line of yours: ${fmtMs(rest)} — ${fwdRest})`,
  );
  if (tr) {
    const top = [...p.lines].sort((a, b) => (b.backwardMs ?? 0) - (a.backwardMs ?? 0))[0];
    if (top?.backwardMs && tr.backwardMs.median > 0)
      out.push(
        `   the backward is ${Math.round((tr.backwardMs.median / tr.totalMs.median) * 100)} % of the training step; line ${top.line}'s backward alone ${Math.round((top.backwardMs / tr.totalMs.median) * 100)} % (${fmtMs(top.backwardMs)}, its forward ${fmtMs(top.ms)})`,
      );
  }
  const costly = costlyLines(p, 0.1).slice(0, 3);
  if (costly.length) {
    out.push('');
    for (const l of costly) {
      const ops = l.ops
        .slice(0, 3)
        .map((o) => `${o.name}(${o.shapes.join(', ')}) ${fmtMs(o.ms)}`)
        .join('; ');
      if (ops) out.push(`  line ${l.line}: ${ops}`);
    }
  }
  out.push('');
  out.push(`Line times: ${p.attribution}.`);
  if (tr) out.push(`Backward line times: ${tr.attribution}.`);
  if (p.comparison) {
    const c = p.comparison;
    out.push('');
    out.push(
      `The same layer in the profiler's formulations (${c.what}; ${c.engine}; ${c.callOnly ? "per call: the spectral ones' call() alone, as yours takes spectra; Conv2D end to end" : 'end to end per call'}):`,
    );
    const w = Math.max(24, c.asWritten.label.length, ...c.rows.map((r) => r.label.length));
    const train = c.asWritten.trainMs !== undefined;
    const cell = (s?: Stat) => (s ? fmtMs(s.median) : '—').padStart(14);
    if (train) out.push(`  ${''.padEnd(w)}  ${'forward'.padStart(10)}  ${'training step'.padStart(14)}`);
    out.push(
      `  ${c.asWritten.label.padEnd(w)}  ${fmtMs(c.asWritten.ms.median).padStart(10)}${train ? `  ${cell(c.asWritten.trainMs)}` : ''}`,
    );
    for (const r of c.rows)
      out.push(`  ${r.label.padEnd(w)}  ${fmtMs(r.ms.median).padStart(10)}${train ? `  ${cell(r.trainMs)}` : ''}`);
    if (c.caveat) out.push(`  note: ${c.caveat}`);
    const conv = c.rows.find((r) => r.variant === 'spatial');
    if (conv && conv.ms.median > 0)
      out.push(
        `  → yours vs Conv2D 3×3: ${(c.asWritten.ms.median / conv.ms.median).toFixed(1)}x the forward${train && conv.trainMs && c.asWritten.trainMs ? `, ${(c.asWritten.trainMs.median / conv.trainMs.median).toFixed(1)}x the training step` : ''}`,
      );
    if (c.gain)
      out.push(
        c.gain.factor >= 1.05
          ? `  → the optimized formulation would run ${c.gain.factor.toFixed(2)}x faster than yours: ${fmtMs(c.gain.savedMs)} less per call\n  → fconv optimize ${p.layer.file} --class ${p.layer.class} --init "${p.init.args}" --input-shape ${p.input.shape.join(',')}${p.engine === 'tensorflow' ? ` --input-dtype ${p.input.dtype}` : ''} writes a rewrite of your class, proven equal on your weights (docs/optimize.md)`
          : c.gain.factor <= 0.95
            ? `  → yours is already ${(1 / c.gain.factor).toFixed(2)}x faster than the profiler's optimized formulation`
            : '  → yours and the optimized formulation are within 5 % of each other',
      );
  } else if (p.noComparison) out.push(`\nNo comparison with the profiler's formulations: ${p.noComparison}.`);
  for (const n of p.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
