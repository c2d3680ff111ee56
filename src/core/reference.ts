/**
 * Naive direct convolution, the ground truth the engines are checked against. Written for clarity,
 * not speed; evaluated at every output point when that is cheap and at a deterministic sample of
 * points otherwise. Host-free.
 */
import { rng } from './data';
import { type LayerSpec, geometry } from './spec';

export interface CorrelationSpec {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kh: number;
  kw: number;
  outH: number;
  outW: number;
  /** Input row/col read for output (0,0) and tap (0,0). */
  padTop: number;
  padLeft: number;
  /** Wrap-around (circular) instead of zero padding. */
  wrap: boolean;
  layout: 'NHWC' | 'NCHW';
}

/** Conv2D (cross-correlation) at one output point; weights HWIO. */
export function correlateAt(
  c: CorrelationSpec,
  x: Float32Array,
  w: Float32Array,
  b: number,
  i: number,
  j: number,
  o: number,
): number {
  let acc = 0;
  const { height: H, width: W, inChannels: C, outChannels: O } = c;
  for (let m = 0; m < c.kh; m++) {
    let r = i + m - c.padTop;
    if (c.wrap) r = ((r % H) + H) % H;
    else if (r < 0 || r >= H) continue;
    for (let n = 0; n < c.kw; n++) {
      let s = j + n - c.padLeft;
      if (c.wrap) s = ((s % W) + W) % W;
      else if (s < 0 || s >= W) continue;
      for (let ci = 0; ci < C; ci++) {
        const xi = c.layout === 'NHWC' ? ((b * H + r) * W + s) * C + ci : ((b * C + ci) * H + r) * W + s;
        acc += x[xi]! * w[((m * c.kw + n) * C + ci) * O + o]!;
      }
    }
  }
  return acc;
}

/** The function the spectral layers (and `spatial-equivalent`) compute, as a correlation with the flipped kernel. */
export function equivalentCorrelation(spec: LayerSpec): CorrelationSpec {
  const g = geometry(spec);
  const base = {
    batch: spec.batch,
    height: spec.height,
    width: spec.width,
    inChannels: spec.inChannels,
    outChannels: spec.outChannels,
    kh: spec.kernelH,
    kw: spec.kernelW,
    outH: g.outH,
    outW: g.outW,
    layout: spec.layout,
  };
  switch (spec.padding) {
    case 'circular':
      return { ...base, padTop: spec.kernelH - 1, padLeft: spec.kernelW - 1, wrap: true };
    case 'valid':
      return { ...base, padTop: 0, padLeft: 0, wrap: false };
    case 'same':
    case 'linear':
      return {
        ...base,
        padTop: Math.floor((spec.kernelH - 1) / 2),
        padLeft: Math.floor((spec.kernelW - 1) / 2),
        wrap: false,
      };
  }
}

/** The `spatial` Conv2D: k×k, 'same', the user's baseline. */
export function spatialCorrelation(spec: LayerSpec): CorrelationSpec {
  const k = spec.spatialKernel;
  return {
    batch: spec.batch,
    height: spec.height,
    width: spec.width,
    inChannels: spec.inChannels,
    outChannels: spec.outChannels,
    kh: k,
    kw: k,
    outH: spec.height,
    outW: spec.width,
    padTop: Math.floor((k - 1) / 2),
    padLeft: Math.floor((k - 1) / 2),
    wrap: false,
    layout: spec.layout,
  };
}

export interface ErrorReport {
  maxAbsError: number;
  /** max |ref| over the compared points, to judge the error against. */
  refScale: number;
  points: number;
  exhaustive: boolean;
}

function outIndex(c: CorrelationSpec, b: number, i: number, j: number, o: number): number {
  return c.layout === 'NHWC'
    ? ((b * c.outH + i) * c.outW + j) * c.outChannels + o
    : ((b * c.outChannels + o) * c.outH + i) * c.outW + j;
}

/** Compares an engine's output with the naive reference: everywhere when cheap, else on `samples` points. */
export function checkAgainstNaive(
  c: CorrelationSpec,
  x: Float32Array,
  w: Float32Array,
  y: Float32Array,
  samples = 384,
  maxMacs = 4e6,
): ErrorReport {
  const total = c.batch * c.outH * c.outW * c.outChannels;
  if (y.length !== total) throw new Error(`output has ${y.length} values, expected ${total}`);
  const macsPerPoint = c.kh * c.kw * c.inChannels;
  const exhaustive = total * macsPerPoint <= maxMacs;
  let maxErr = 0;
  let scale = 0;
  let points = 0;
  const visit = (b: number, i: number, j: number, o: number) => {
    const ref = correlateAt(c, x, w, b, i, j, o);
    const got = y[outIndex(c, b, i, j, o)]!;
    const err = Math.abs(ref - got);
    if (!(err <= maxErr)) maxErr = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
    scale = Math.max(scale, Math.abs(ref));
    points++;
  };
  if (exhaustive) {
    for (let b = 0; b < c.batch; b++)
      for (let i = 0; i < c.outH; i++)
        for (let j = 0; j < c.outW; j++) for (let o = 0; o < c.outChannels; o++) visit(b, i, j, o);
  } else {
    const rand = rng(12345);
    const pick = (n: number) => Math.min(n - 1, Math.floor(rand() * n));
    // Corners and edges first: wrap-around and padding mistakes show there.
    for (const i of [0, c.outH - 1]) for (const j of [0, c.outW - 1]) visit(0, i, j, 0);
    for (let s = 0; s < samples; s++) visit(pick(c.batch), pick(c.outH), pick(c.outW), pick(c.outChannels));
  }
  return { maxAbsError: maxErr, refScale: scale, points, exhaustive };
}

/** Max |a − b| over two whole outputs (spectral variant vs its spatial reference). */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`outputs differ in size: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

export function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** float32 tolerance: relative to the output's scale, loose enough for O(n log n) rounding. */
export function tolerance(scale: number): number {
  return 1e-3 * Math.max(1, scale);
}

/**
 * The training step's loss weights: sum(out ⊙ R) with R[i] = sin(0.7 i + 0.3) over the output's elements in memory
 * order (python/fconv_torch_train.py uses the same). Fixed and non-constant, so a gradient check sees every output.
 */
export function lossWeights(n: number): Float32Array {
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) r[i] = Math.sin(0.7 * i + 0.3);
  return r;
}
