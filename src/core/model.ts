/**
 * The cost model: what each step should cost on a device, from its FLOPs and bytes. A device is a
 * table entry (GPUs: FP32 / TF32 peaks and bandwidth from vendor datasheets, as collected in
 * docs/fft-convolution.md#roofline) or, for CPUs, rates measured once by the probe (GEMM, batched
 * GEMM, conv2d GFLOP/s; elementwise and transpose GB/s; the fixed cost of one op). Host-free.
 */
import { z } from 'zod';
import { type LayerSpec, geometry } from './spec';

/** A rate measured at one inner size (GEMM K, or conv in-channels): small inner sizes run slower. */
const ratePoint = z.object({
  inner: z.number().positive(),
  gflops: z.number().positive(),
  kernel: z.number().positive().optional(),
});

export const probeSchema = z.object({
  backend: z.string(),
  device: z.string(),
  gemmGflops: z.number().positive(),
  bmm: z.array(ratePoint).min(1),
  /** complex64 batched GEMMs (K = inner), where the engine multiplies complex tensors (torch): absent on tfjs. */
  cbmm: z.array(ratePoint).min(1).optional(),
  /** A complex64 tensor permuted and made contiguous (GB/s read + written), where measured (torch). */
  complexCopyGBs: z.number().positive().optional(),
  conv: z.array(ratePoint).min(1),
  /**
   * A convolution's backward (data + filter gradients; FLOPs twice the forward's) at the same points, where the
   * engine trains (tfjs, torch): its rate can be far from the forward's (tfjs wasm's data gradient is a plain loop).
   */
  convBackward: z.array(ratePoint).min(1).optional(),
  /** A 2-D GEMM's backward (both operands' gradients, twice the FLOPs), where the engine trains. */
  gemmBackwardGflops: z.number().positive().optional(),
  fftGflops: z.number().positive(),
  ifftGflops: z.number().positive(),
  elementwiseGBs: z.number().positive(),
  /** tf.pad bandwidth by the innermost (contiguous) axis length: short rows copy slowly (GB/s in `gflops`). */
  pad: z.array(ratePoint).min(1),
  copyGBs: z.number().positive(),
  overheadUs: z.number().nonnegative(),
  measuredAt: z.string(),
  seconds: z.number().nonnegative(),
  reps: z.number().int().positive(),
});
export type Probe = z.infer<typeof probeSchema>;

export const deviceProfileSchema = z.object({
  name: z.string(),
  kind: z.enum(['cpu', 'gpu']),
  source: z.enum(['probe', 'table', 'explicit']),
  /** Peak of the arithmetic the FFT path uses (FP32 FMA units; GEMM for a CPU). */
  fp32Gflops: z.number().positive(),
  /** Dense TF32 tensor-core peak, where the device has one (implicit-GEMM convolution runs there). */
  tf32Gflops: z.number().positive().optional(),
  bandwidthGBs: z.number().positive(),
  /** Fixed cost per step (kernel launch on a GPU, dispatch on a CPU), µs. */
  overheadUs: z.number().nonnegative(),
  citation: z.string(),
  probe: probeSchema.optional(),
});
export type DeviceProfile = z.infer<typeof deviceProfileSchema>;

const FACTS = 'vendor datasheet peaks (docs/fft-convolution.md#roofline)';

/** GPUs with known peaks. `match` is tested against nvidia-smi names and user input. */
export const GPU_TABLE: ReadonlyArray<{ name: string; match: RegExp; fp32: number; tf32: number; bandwidth: number }> =
  [
    { name: 'H100 SXM', match: /h100(?!.*pcie)/i, fp32: 67_000, tf32: 494_700, bandwidth: 3350 },
    { name: 'H100 PCIe', match: /h100.*pcie/i, fp32: 51_000, tf32: 378_000, bandwidth: 2000 },
    { name: 'A100 80GB SXM', match: /a100/i, fp32: 19_500, tf32: 156_000, bandwidth: 2039 },
    { name: 'RTX 4090', match: /4090/i, fp32: 82_600, tf32: 82_600, bandwidth: 1008 },
  ];

/** Kernel launch cost assumed for table GPUs (a few µs per launch; no probe there). */
export const GPU_LAUNCH_US = 5;

export function gpuProfile(name: string): DeviceProfile | undefined {
  const g = GPU_TABLE.find((x) => x.match.test(name) || x.name.toLowerCase() === name.trim().toLowerCase());
  if (!g) return undefined;
  return {
    name: g.name,
    kind: 'gpu',
    source: 'table',
    fp32Gflops: g.fp32,
    tf32Gflops: g.tf32,
    bandwidthGBs: g.bandwidth,
    overheadUs: GPU_LAUNCH_US,
    citation: FACTS,
  };
}

export function explicitProfile(peakTflops: number, bandwidthGBs: number, name = 'custom device'): DeviceProfile {
  return {
    name,
    kind: 'gpu',
    source: 'explicit',
    fp32Gflops: peakTflops * 1000,
    bandwidthGBs,
    overheadUs: GPU_LAUNCH_US,
    citation: 'peaks given on the command line',
  };
}

export function cpuProfile(p: Probe): DeviceProfile {
  return {
    name: p.device,
    kind: 'cpu',
    source: 'probe',
    fp32Gflops: Math.max(p.gemmGflops, ...p.conv.map((c) => c.gflops)),
    bandwidthGBs: Math.max(p.copyGBs, p.elementwiseGBs),
    overheadUs: p.overheadUs,
    citation: `probe on the ${p.backend} backend, ${p.measuredAt.slice(0, 10)}`,
    probe: p,
  };
}

/** How a step spends its time: which rate bounds it. */
export const STEP_KINDS = ['gemm', 'bmm', 'conv', 'fft', 'ifft', 'elementwise', 'pad', 'copy'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const KIND_LABEL: Record<StepKind, string> = {
  gemm: '2-D GEMM',
  bmm: 'batched small GEMMs',
  conv: 'convolution',
  fft: 'FFT / DFT composition',
  ifft: 'inverse FFT composition',
  elementwise: 'elementwise',
  pad: 'padding',
  copy: 'transpose / copy',
};

/**
 * The step's kind: what its plan recorded. Runs saved before steps carried their kind are read from the
 * step's id and implementation (the ids are stable across engines).
 */
export function stepKind(step: { id: string; implementation: string; kind?: StepKind }): StepKind {
  if (step.kind) return step.kind;
  const { id, implementation: impl } = step;
  if (id === 'conv2d') return 'conv';
  if (id.startsWith('pad')) return 'pad';
  if (id.startsWith('transpose') || id === 'to-nhwc' || id === 'to-nchw') return 'copy';
  if (id === 'multiply') return /broadcast multiply/.test(impl) ? 'elementwise' : 'bmm';
  if (id === 'einsum') return 'bmm';
  if (id === 'ifft-h') return /batched over/.test(impl) ? 'bmm' : 'gemm';
  if (id === 'irfft-w' || id === 'rfft2d-kernel-cached') return /cuFFT/.test(impl) ? 'fft' : 'gemm';
  if (id === 'rfft2d-input') return /R2C GEMM/.test(impl) ? 'gemm' : 'fft';
  if (id === 'irfft2d') return 'ifft';
  return 'fft'; // the seed's rfft2d compositions
}

type FlopKind = Exclude<StepKind, 'elementwise' | 'copy' | 'pad'>;
const MOVING: readonly StepKind[] = ['elementwise', 'copy', 'pad'];
type RatePoint = z.infer<typeof ratePoint>;

/** The rates of one device: GFLOP/s for arithmetic (by inner size where measured), GB/s for data movement. */
export interface Rates {
  flops: Record<FlopKind, number | RatePoint[]>;
  /** complex64 batched GEMM rates, where measured: complex products use them instead of `bmm`. */
  cbmm?: number | RatePoint[];
  /** A convolution's backward rate, where measured: backward convolution steps use it instead of `conv`. */
  convBackward?: RatePoint[];
  /** The backward-to-forward rate of a GEMM, where measured: backward GEMM and batched-GEMM steps are scaled by it. */
  gemmBackwardFactor?: number;
  /** complex64 permute-copy bandwidth, where measured: complex layout changes use it instead of `copyGBs`. */
  complexCopyGBs?: number;
  elementwiseGBs: number;
  pad: number | RatePoint[];
  copyGBs: number;
  overheadUs: number;
}

/** Log-log interpolation between measured inner sizes; beyond them, the nearest slope (capped at 1.5x the best). */
export function rateAt(r: number | RatePoint[], inner: number | undefined): number {
  if (typeof r === 'number') return r;
  const pts = [...r].sort((a, b) => a.inner - b.inner);
  if (pts.length === 1 || inner === undefined) return pts[pts.length - 1]!.gflops;
  let i = 0;
  while (i < pts.length - 2 && inner > pts[i + 1]!.inner) i++;
  const a = pts[i]!,
    b = pts[i + 1]!;
  const slope = Math.log(b.gflops / a.gflops) / Math.log(b.inner / a.inner);
  const v = a.gflops * Math.exp(slope * Math.log(inner / a.inner));
  return Math.min(v, 1.5 * Math.max(...pts.map((p) => p.gflops)));
}

export function ratesFor(d: DeviceProfile): Rates {
  const p = d.probe;
  if (p) {
    return {
      flops: { gemm: p.gemmGflops, bmm: p.bmm, conv: p.conv, fft: p.fftGflops, ifft: p.ifftGflops },
      ...(p.cbmm ? { cbmm: p.cbmm } : {}),
      ...(p.convBackward ? { convBackward: p.convBackward } : {}),
      ...(p.gemmBackwardGflops ? { gemmBackwardFactor: p.gemmBackwardGflops / p.gemmGflops } : {}),
      ...(p.complexCopyGBs ? { complexCopyGBs: p.complexCopyGBs } : {}),
      elementwiseGBs: p.elementwiseGBs,
      pad: p.pad,
      copyGBs: p.copyGBs,
      overheadUs: p.overheadUs,
    };
  }
  // GPU roofline peaks: convolution (implicit GEMM) on tensor cores where there are some, everything
  // else on the FP32 units (cuFFT butterflies, SGEMM).
  return {
    flops: {
      gemm: d.fp32Gflops,
      bmm: d.fp32Gflops,
      conv: d.tf32Gflops ?? d.fp32Gflops,
      fft: d.fp32Gflops,
      ifft: d.fp32Gflops,
    },
    elementwiseGBs: d.bandwidthGBs,
    pad: d.bandwidthGBs,
    copyGBs: d.bandwidthGBs,
    overheadUs: d.overheadUs,
  };
}

export interface StepCost {
  kind: StepKind;
  flops: number;
  bytes: number;
  /** GEMM inner size (batched products) or conv in-channels: what the measured rate depends on. */
  inner?: number;
  /** Conv kernel size (the larger side): with one input channel the rate depends on it. */
  kernel?: number;
  /** Full passes over the output a step makes (an unfused multiply-multiply-add makes 3). */
  passes?: number;
  /**
   * Bytes moved by layout changes inside the step (torch.einsum's permute + contiguous copies of its
   * operands, a strided FFT's gather to contiguous rows): charged at the copy rate on top of its arithmetic.
   */
  layoutBytes?: number;
  /** A product of complex tensors (complex64 GEMMs): priced at the measured complex rate where there is one. */
  complex?: boolean;
  /** The pass of the step: a backward convolution is priced at the measured backward rate where there is one. */
  pass?: 'forward' | 'backward';
}

/**
 * Convolution rate for (in-channels, kernel). Measured on XNNPACK: with one input channel the rate
 * grows with the kernel (5 GFLOP/s at 3×3, 15 at 9×9, flat beyond); from a few channels on it is near
 * the GEMM rate whatever the kernel. So: one input channel → interpolate the in = 1 points over the
 * kernel (flat beyond the largest); more → interpolate the in > 1 points over the in-channels.
 */
export function convRate(
  points: RatePoint[] | number,
  inChannels: number | undefined,
  kernel: number | undefined,
): number {
  if (typeof points === 'number') return points;
  const one = points.filter((p) => p.inner === 1 && p.kernel !== undefined);
  const many = points.filter((p) => p.inner > 1);
  if (inChannels === 1 && one.length) {
    const byK = one.map((p) => ({ inner: p.kernel!, gflops: p.gflops }));
    const kmax = Math.max(...byK.map((p) => p.inner));
    return rateAt(byK, Math.min(kernel ?? kmax, kmax));
  }
  return rateAt(many.length ? many : points, inChannels);
}

/** The cost inputs of a recorded step. */
export function costOf(
  step: {
    id: string;
    implementation: string;
    kind?: StepKind;
    flops: number;
    bytes: number;
    inputShapes: number[][];
    layoutBytes?: number;
    complex?: boolean;
    pass?: 'forward' | 'backward';
  },
  spec: { inChannels: number },
): StepCost {
  const kind = stepKind(step);
  const inner =
    kind === 'conv' || step.id === 'multiply' || step.id === 'einsum'
      ? spec.inChannels
      : kind === 'bmm'
        ? step.inputShapes[0]?.at(-2)
        : undefined;
  const w = step.inputShapes[1];
  const kernel = kind === 'conv' && w && w.length === 4 ? Math.max(w[0]!, w[1]!) : undefined;
  const passes = kind === 'elementwise' && step.id === 'multiply' ? 3 : undefined;
  const padInner = kind === 'pad' ? step.inputShapes[0]?.at(-1) : undefined;
  return {
    kind,
    flops: step.flops,
    bytes: step.bytes,
    inner: padInner ?? inner,
    ...(kernel ? { kernel } : {}),
    ...(passes ? { passes } : {}),
    ...(step.layoutBytes ? { layoutBytes: step.layoutBytes } : {}),
    ...(step.complex ? { complex: true } : {}),
    ...(step.pass === 'backward' ? { pass: 'backward' as const } : {}),
  };
}

export interface StepEstimate {
  ms: number;
  computeMs: number;
  memoryMs: number;
  /** What the estimate is made of: compute, memory or the fixed per-op cost. */
  bound: 'compute' | 'memory' | 'overhead';
  /** FLOP per byte. */
  intensity: number;
  /** Roofline: min(peak, bandwidth × intensity) for this kind, GFLOP/s (0 for pure data movement). */
  attainableGflops: number;
}

/** The bandwidth that bounds a step's data movement on these rates. */
export function bandwidthFor(s: Pick<StepCost, 'kind' | 'inner' | 'complex'>, r: Rates): number {
  if (s.kind === 'copy') return s.complex && r.complexCopyGBs ? r.complexCopyGBs : r.copyGBs;
  if (s.kind === 'pad') return rateAt(r.pad, s.inner);
  if (s.kind === 'elementwise') return r.elementwiseGBs;
  return Math.max(r.copyGBs, r.elementwiseGBs);
}

export function estimateStep(s: StepCost, r: Rates): StepEstimate {
  const moving = MOVING.includes(s.kind);
  const bw = bandwidthFor(s, r);
  const peak = moving
    ? 0
    : s.kind === 'conv'
      ? convRate(s.pass === 'backward' && r.convBackward ? r.convBackward : r.flops.conv, s.inner, s.kernel)
      : (s.kind === 'bmm' && s.complex && r.cbmm
          ? rateAt(r.cbmm, s.inner)
          : rateAt(r.flops[s.kind as FlopKind], s.inner)) *
        (s.pass === 'backward' && (s.kind === 'gemm' || s.kind === 'bmm') ? (r.gemmBackwardFactor ?? 1) : 1);
  const computeMs = moving || !peak ? 0 : (s.flops / (peak * 1e9)) * 1e3;
  const passes = s.passes ?? 1;
  const memoryMs = ((s.bytes * passes) / (bw * 1e9)) * 1e3;
  const overheadMs = (passes * r.overheadUs) / 1000;
  const layoutGBs = s.complex && r.complexCopyGBs ? r.complexCopyGBs : r.copyGBs;
  const layoutMs = s.layoutBytes ? (s.layoutBytes / (layoutGBs * 1e9)) * 1e3 : 0;
  const work = Math.max(computeMs, memoryMs) + layoutMs;
  const intensity = s.bytes > 0 ? s.flops / s.bytes : 0;
  return {
    ms: overheadMs + work,
    computeMs,
    memoryMs,
    bound: overheadMs > work ? 'overhead' : computeMs >= memoryMs ? 'compute' : 'memory',
    intensity,
    attainableGflops: moving ? 0 : Math.min(peak, bw * intensity),
  };
}

/** Ridge point of a device: the intensity (FLOP/byte) above which a step can reach the FP32 peak. */
export function ridge(d: DeviceProfile): number {
  return d.fp32Gflops / d.bandwidthGBs;
}

/**
 * Mathieu, Henaff & LeCun (arXiv 1312.5851): FFT convolution does less arithmetic than the direct one
 * when k²·(n′/n)² > 4 + 2C·log2 n·(1/f + 1/f′ + 1/S), C ≈ 2.5; ≈ 2 instead of 4 with Hermitian half
 * spectra (as the optimized layer uses).
 */
export function breakEven(a: { n: number; nOut: number; k: number; f: number; fOut: number; S: number }): {
  lhs: number;
  threshold: number;
  thresholdHalf: number;
  fftPays: boolean;
  terms: { inputs: number; outputs: number; batch: number };
} {
  const C = 2.5;
  const lhs = a.k * a.k * (a.nOut / a.n) ** 2;
  const base = 2 * C * Math.log2(a.n);
  const terms = { inputs: base / a.f, outputs: base / a.fOut, batch: base / a.S };
  const t = terms.inputs + terms.outputs + terms.batch;
  return { lhs, threshold: 4 + t, thresholdHalf: 2 + t, fftPays: lhs > 2 + t, terms };
}

/** The break-even condition for a spec: n the transform size, n′ the output size, k the larger kernel side. */
export function specBreakEven(spec: LayerSpec) {
  const g = geometry(spec);
  return breakEven({
    n: Math.max(g.fftH, g.fftW),
    nOut: Math.max(g.outH, g.outW),
    k: Math.max(spec.kernelH, spec.kernelW),
    f: spec.inChannels,
    fOut: spec.outChannels,
    S: spec.batch,
  });
}
