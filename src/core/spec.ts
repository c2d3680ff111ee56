/**
 * Layer specification: the shapes every variant of one profile shares, its validation and the
 * derived geometry (FFT size, crop window, output size). Host-free.
 */

export type Padding = 'circular' | 'same' | 'valid' | 'linear';
export type Layout = 'NHWC' | 'NCHW';
export const PADDINGS: readonly Padding[] = ['circular', 'same', 'valid', 'linear'];
export const LAYOUTS: readonly Layout[] = ['NHWC', 'NCHW'];

export interface LayerSpec {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  /** Kernel of the spectral layers and of `spatial-equivalent`. */
  kernelH: number;
  kernelW: number;
  /** Kernel of the `spatial` Conv2D the user compares against ('same' padding). */
  spatialKernel: number;
  padding: Padding;
  layout: Layout;
  dtype: 'float32';
}

/** The seed's MNIST case: 32 × 28×28, 1 → 32 channels, image-sized kernel, 3×3 Conv2D to compare. */
export const DEFAULT_SPEC: LayerSpec = {
  batch: 32,
  height: 28,
  width: 28,
  inChannels: 1,
  outChannels: 32,
  kernelH: 28,
  kernelW: 28,
  spatialKernel: 3,
  padding: 'circular',
  layout: 'NHWC',
  dtype: 'float32',
};

/** A usage error: bad input found before anything was allocated. */
export class SpecError extends Error {
  override name = 'SpecError';
}

const DIMS: Array<[keyof LayerSpec, string]> = [
  ['batch', 'batch'],
  ['height', 'height'],
  ['width', 'width'],
  ['inChannels', 'in channels'],
  ['outChannels', 'out channels'],
  ['kernelH', 'kernel height'],
  ['kernelW', 'kernel width'],
  ['spatialKernel', 'spatial kernel'],
];

/** Upper bound on any one dimension: beyond it no profile on these engines makes sense. */
export const MAX_DIM = 8192;

/** Returns every problem with the spec, as one-line messages; empty when valid. */
export function specProblems(spec: LayerSpec): string[] {
  const out: string[] = [];
  for (const [key, label] of DIMS) {
    const v = spec[key] as unknown;
    if (typeof v !== 'number' || Number.isNaN(v)) out.push(`${label} must be a number, got ${String(v)}`);
    else if (!Number.isFinite(v)) out.push(`${label} must be finite, got ${v}`);
    else if (!Number.isInteger(v)) out.push(`${label} must be a whole number, got ${v}`);
    else if (v <= 0) out.push(`${label} must be positive, got ${v}`);
    else if (v > MAX_DIM) out.push(`${label} must be at most ${MAX_DIM}, got ${v}`);
  }
  if (!PADDINGS.includes(spec.padding)) {
    out.push(`padding must be one of ${PADDINGS.join(', ')}, got ${String(spec.padding)}`);
  }
  if (!LAYOUTS.includes(spec.layout))
    out.push(`layout must be one of ${LAYOUTS.join(', ')}, got ${String(spec.layout)}`);
  if (spec.dtype !== 'float32') out.push(`dtype must be float32, got ${String(spec.dtype)}`);
  if (out.length) return out;
  if (spec.padding === 'valid' && (spec.kernelH > spec.height || spec.kernelW > spec.width)) {
    out.push(
      `kernel ${spec.kernelH}×${spec.kernelW} is larger than the ${spec.height}×${spec.width} image: 'valid' padding leaves no output`,
    );
  }
  if (spec.padding === 'circular' && (spec.kernelH > spec.height || spec.kernelW > spec.width)) {
    out.push(
      `kernel ${spec.kernelH}×${spec.kernelW} is larger than the ${spec.height}×${spec.width} image: a circular convolution needs kernel ≤ image`,
    );
  }
  return out;
}

export function validateSpec(spec: LayerSpec): LayerSpec {
  const problems = specProblems(spec);
  if (problems.length) throw new SpecError(problems[0]!);
  return spec;
}

/** Geometry of the spectral layers for a spec. */
export interface Geometry {
  /** FFT size (rows, cols). */
  fftH: number;
  fftW: number;
  /** Half-spectrum width, fftW / 2 + 1. */
  freqW: number;
  /** Output size. */
  outH: number;
  outW: number;
  /** Where the output window starts in the circular result of size fftH × fftW. */
  cropTop: number;
  cropLeft: number;
  /** Padding of the spatial-equivalent convolution. */
  spatialPadding: 'circular' | 'same' | 'valid';
  /** One line saying what function the spectral layers compute. */
  describes: string;
}

export function geometry(spec: LayerSpec): Geometry {
  const { height: H, width: W, kernelH: kh, kernelW: kw } = spec;
  switch (spec.padding) {
    case 'circular':
      return {
        fftH: H,
        fftW: W,
        freqW: Math.floor(W / 2) + 1,
        outH: H,
        outW: W,
        cropTop: 0,
        cropLeft: 0,
        spatialPadding: 'circular',
        describes: `circular (wrap-around) convolution on the ${H}×${W} grid, as a plain product of spectra computes`,
      };
    case 'valid':
      return {
        fftH: H,
        fftW: W,
        freqW: Math.floor(W / 2) + 1,
        outH: H - kh + 1,
        outW: W - kw + 1,
        cropTop: kh - 1,
        cropLeft: kw - 1,
        spatialPadding: 'valid',
        describes: `'valid' convolution: the circular product cropped to the ${H - kh + 1}×${W - kw + 1} window the wrap-around does not reach`,
      };
    case 'linear': {
      const fftH = H + kh - 1;
      const fftW = W + kw - 1;
      return {
        fftH,
        fftW,
        freqW: Math.floor(fftW / 2) + 1,
        outH: H,
        outW: W,
        cropTop: Math.ceil((kh - 1) / 2),
        cropLeft: Math.ceil((kw - 1) / 2),
        spatialPadding: 'same',
        describes: `linear convolution: zero-padded to n + k − 1 = ${fftH}×${fftW}, cropped like Conv2D 'same'`,
      };
    }
    case 'same': {
      // The smallest transform that holds the 'same' window (which starts at ⌈(k − 1)/2⌉) and whose
      // wrap-around misses it: n + ⌈(k − 1) / 2⌉ (≤ n + k − 1).
      // Never smaller than the kernel itself, which must fit in the transform.
      const fftH = Math.max(H + Math.ceil((kh - 1) / 2), kh);
      const fftW = Math.max(W + Math.ceil((kw - 1) / 2), kw);
      return {
        fftH,
        fftW,
        freqW: Math.floor(fftW / 2) + 1,
        outH: H,
        outW: W,
        cropTop: Math.ceil((kh - 1) / 2),
        cropLeft: Math.ceil((kw - 1) / 2),
        spatialPadding: 'same',
        describes: `Conv2D 'same' convolution with the least zero padding (${fftH}×${fftW}) that keeps wrap-around out of the window`,
      };
    }
  }
}

/** Output shape in the spec's layout. */
export function outputShape(spec: LayerSpec, g = geometry(spec)): number[] {
  return spec.layout === 'NHWC'
    ? [spec.batch, g.outH, g.outW, spec.outChannels]
    : [spec.batch, spec.outChannels, g.outH, g.outW];
}

export function inputShape(spec: LayerSpec): number[] {
  return spec.layout === 'NHWC'
    ? [spec.batch, spec.height, spec.width, spec.inChannels]
    : [spec.batch, spec.inChannels, spec.height, spec.width];
}

export function describeSpec(spec: LayerSpec): string {
  return (
    `batch ${spec.batch}, ${spec.height}×${spec.width}, ${spec.inChannels}→${spec.outChannels} channels, ` +
    `kernel ${spec.kernelH}×${spec.kernelW} (${spec.padding}), Conv2D ${spec.spatialKernel}×${spec.spatialKernel} same, ${spec.layout}`
  );
}
