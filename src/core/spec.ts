/**
 * Layer specification: the shapes every variant of one profile shares, its validation and the
 * derived geometry (FFT size, crop window, output size). Host-free.
 */

export type Padding = 'circular' | 'same' | 'valid' | 'linear';
export type Layout = 'NHWC' | 'NCHW';
export const PADDINGS: readonly Padding[] = ['circular', 'same', 'valid', 'linear'];
export const LAYOUTS: readonly Layout[] = ['NHWC', 'NCHW'];

/**
 * Which layer the spectral variants compute: `seed` — the question's product of spectra with a
 * (learned or given) spatial kernel; `fno` — a Fourier Neural Operator spectral convolution: rfft2, keep
 * the lowest modes, mix channels per mode with complex weights, irfft2 (Li et al., arXiv 2010.08895).
 */
export type LayerKind = 'seed' | 'fno';
export const LAYER_KINDS: readonly LayerKind[] = ['seed', 'fno'];

/**
 * What `modes: [m1, m2]` means. `corners`: the original FNO code — m1 rows from each end of the
 * H axis (two corner blocks) and m2 columns of the half spectrum, 2·m1 × m2 coefficients; `centered`:
 * neuraloperator's `n_modes` — m1 rows in all, centred on frequency 0, and m2 // 2 + 1 columns.
 */
export type ModesConvention = 'corners' | 'centered';
export const MODES_CONVENTIONS: readonly ModesConvention[] = ['corners', 'centered'];

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
  /** Absent: 'seed' (runs saved before FNO layers existed). */
  layer?: LayerKind;
  /** `fno` only: the modes kept, [rows, columns] in `modesConvention`'s meaning. */
  modes?: [number, number];
  /** `fno` only; absent: 'corners'. */
  modesConvention?: ModesConvention;
}

export const isFno = (spec: Pick<LayerSpec, 'layer'>): boolean => spec.layer === 'fno';

/** The frequencies an FNO layer keeps: rows [0, top) and [H − bottom, H) of the spectrum, columns [0, cols). */
export interface KeptModes {
  top: number;
  bottom: number;
  cols: number;
  /** top + bottom */
  rows: number;
  /** rows · cols complex coefficients per (in, out) channel pair. */
  count: number;
}

export function keptModes(spec: LayerSpec): KeptModes {
  const [m1, m2] = spec.modes ?? [1, 1];
  const centered = spec.modesConvention === 'centered';
  const top = centered ? m1 - Math.floor(m1 / 2) : m1;
  const bottom = centered ? Math.floor(m1 / 2) : m1;
  const cols = centered ? Math.floor(m2 / 2) + 1 : m2;
  return { top, bottom, cols, rows: top + bottom, count: (top + bottom) * cols };
}

/** "12 × 12 per corner (24 × 12 coefficients)" / "n_modes 12 × 12 (12 × 7 coefficients)". */
export function describeModes(spec: LayerSpec): string {
  const [m1, m2] = spec.modes ?? [0, 0];
  const k = keptModes(spec);
  return spec.modesConvention === 'centered'
    ? `n_modes ${m1}×${m2} centred (${k.rows}×${k.cols} coefficients)`
    : `modes ${m1}×${m2} per corner (${k.rows}×${k.cols} coefficients)`;
}

/** An FNO spec: the grid, channels and modes; the rest follows (periodic, NCHW, image-sized equivalent kernel). */
export function fnoSpec(s: {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  modes: [number, number];
  modesConvention?: ModesConvention;
}): LayerSpec {
  return {
    batch: s.batch,
    height: s.height,
    width: s.width,
    inChannels: s.inChannels,
    outChannels: s.outChannels,
    kernelH: s.height,
    kernelW: s.width,
    spatialKernel: 3,
    padding: 'circular',
    layout: 'NCHW',
    dtype: 'float32',
    layer: 'fno',
    modes: s.modes,
    modesConvention: s.modesConvention ?? 'corners',
  };
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
  if (spec.layer !== undefined && !LAYER_KINDS.includes(spec.layer))
    return [`layer must be one of ${LAYER_KINDS.join(', ')}, got ${String(spec.layer)}`];
  if (isFno(spec)) return fnoProblems(spec);
  if (spec.modes !== undefined) return ["modes apply to an FNO layer (--layer fno), not to the question's layer"];
  if (spec.modesConvention !== undefined)
    return ["a modes convention applies to an FNO layer (--layer fno) with --modes, not to the question's layer"];
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

function fnoProblems(spec: LayerSpec): string[] {
  const { height: H, width: W } = spec;
  if (!spec.modes) return ['an FNO layer needs its modes (--modes 12, or 12,16 for rows,columns)'];
  const conv = spec.modesConvention ?? 'corners';
  if (!MODES_CONVENTIONS.includes(conv))
    return [`modes convention must be one of ${MODES_CONVENTIONS.join(', ')}, got ${String(conv)}`];
  const [m1, m2] = spec.modes;
  for (const [v, what] of [
    [m1, 'modes (rows)'],
    [m2, 'modes (columns)'],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      return [`${what} must be a positive whole number, got ${String(v)}`];
  }
  if (spec.kernelH !== H || spec.kernelW !== W)
    return [
      `an FNO layer has no spatial kernel (its weights are the kept modes), got kernel ${spec.kernelH}×${spec.kernelW}: drop --kernel`,
    ];
  if (spec.padding !== 'circular')
    return [
      `an FNO layer is periodic (a product of spectra on the ${H}×${W} grid): padding must be circular, got ${spec.padding}`,
    ];
  if (spec.layout !== 'NCHW')
    return [`an FNO layer runs on NCHW activations, as PyTorch code writes it; got ${spec.layout}`];
  const half = Math.floor(W / 2) + 1;
  if (conv === 'corners') {
    if (2 * m1 > H)
      return [
        `modes ${m1} per corner need 2·${m1} = ${2 * m1} rows of the spectrum but the grid has ${H}: at most ${Math.floor(H / 2)} (H/2) with the corners convention`,
      ];
    if (m2 > half)
      return [`modes ${m2} (columns) exceed the ${half} columns of the half spectrum (W/2 + 1 for W = ${W})`];
  } else {
    if (m1 > H) return [`n_modes ${m1} (rows, centred) exceed the ${H} rows of the grid`];
    if (Math.floor(m2 / 2) + 1 > half)
      return [
        `n_modes ${m2} (columns) keep ${Math.floor(m2 / 2) + 1} columns, more than the ${half} of the half spectrum (W/2 + 1 for W = ${W}): at most ${W}`,
      ];
  }
  return [];
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
  if (isFno(spec)) {
    const k = keptModes(spec);
    return {
      fftH: H,
      fftW: W,
      freqW: Math.floor(W / 2) + 1,
      outH: H,
      outW: W,
      cropTop: 0,
      cropLeft: 0,
      spatialPadding: 'circular',
      describes: `FNO spectral convolution on the ${H}×${W} grid: rfft2, ${k.rows}×${k.cols} of the ${H}×${Math.floor(W / 2) + 1} modes kept (${describeModes(spec)}) and mixed over channels with complex weights, irfft2 — a circular convolution with an image-sized kernel whose spectrum is the kept weights`,
    };
  }
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
  if (isFno(spec))
    return `FNO, batch ${spec.batch}, ${spec.height}×${spec.width}, ${spec.inChannels}→${spec.outChannels} channels, ${describeModes(spec)}, NCHW`;
  return (
    `batch ${spec.batch}, ${spec.height}×${spec.width}, ${spec.inChannels}→${spec.outChannels} channels, ` +
    `kernel ${spec.kernelH}×${spec.kernelW} (${spec.padding}), Conv2D ${spec.spatialKernel}×${spec.spatialKernel} same, ${spec.layout}`
  );
}
