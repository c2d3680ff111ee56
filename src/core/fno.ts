/**
 * FNO spectral convolutions (Li et al., arXiv 2010.08895): which frequencies a layer keeps, its complex
 * weights, and the spatial kernel that computes the same function — the circular convolution whose
 * spectrum is the kept weights (what `spatial-equivalent` runs and the naive reference checks). Host-free.
 */
import { normal } from './random';
import { type LayerSpec, keptModes } from './spec';

/** Row frequencies kept, as indices into the H axis of the spectrum, in weight order: top block, then bottom. */
export function keptRows(spec: LayerSpec): number[] {
  const { top, bottom } = keptModes(spec);
  const H = spec.height;
  return [...Array.from({ length: top }, (_, r) => r), ...Array.from({ length: bottom }, (_, r) => H - bottom + r)];
}

/**
 * Complex weights (in, out, rows, cols), interleaved (re, im), rows in `keptRows` order — the original
 * code's `weights1` (top corner) stacked on `weights2` (bottom corner). Scaled so the layer's output is
 * of order one for unit-variance input.
 */
export function makeModeWeights(spec: LayerSpec, rand: () => number): Float32Array {
  const { count } = keptModes(spec);
  const sigma = Math.sqrt((spec.height * spec.width) / (4 * spec.inChannels * count));
  return normal(spec.inChannels * spec.outChannels * count * 2, rand, sigma);
}

/**
 * The image-sized convolution kernel (HWIO) of an FNO layer: per (in, out) pair, irfft2 of the
 * zero-filled weight spectrum, s = (H, W) — so rfft2 of it is the weights, Hermitian-projected the way
 * irfft2 reads the DC and Nyquist columns. Float64 separable sums: inverse DFT over H of the kept rows,
 * then C2R over W of the kept columns.
 */
export function equivalentKernel(spec: LayerSpec, weights: Float32Array): Float32Array {
  const { height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const { rows: R, cols: C } = keptModes(spec);
  const freqs = keptRows(spec);
  const out = new Float32Array(H * W * Ci * Co);
  const cosH = new Float64Array(R * H),
    sinH = new Float64Array(R * H);
  for (let r = 0; r < R; r++)
    for (let h = 0; h < H; h++) {
      const t = (2 * Math.PI * ((freqs[r]! * h) % H)) / H;
      cosH[r * H + h] = Math.cos(t);
      sinH[r * H + h] = Math.sin(t);
    }
  const cosW = new Float64Array(C * W),
    sinW = new Float64Array(C * W);
  for (let c = 0; c < C; c++) {
    const coef = (c === 0 || (W % 2 === 0 && c === W / 2) ? 1 : 2) / (H * W);
    for (let w = 0; w < W; w++) {
      const t = (2 * Math.PI * ((c * w) % W)) / W;
      cosW[c * W + w] = coef * Math.cos(t);
      sinW[c * W + w] = coef * Math.sin(t);
    }
  }
  const ar = new Float64Array(H * C),
    ai = new Float64Array(H * C);
  for (let i = 0; i < Ci; i++)
    for (let o = 0; o < Co; o++) {
      const base = (i * Co + o) * R * C * 2;
      ar.fill(0);
      ai.fill(0);
      for (let r = 0; r < R; r++)
        for (let c = 0; c < C; c++) {
          const zr = weights[base + (r * C + c) * 2]!,
            zi = weights[base + (r * C + c) * 2 + 1]!;
          for (let h = 0; h < H; h++) {
            const cr = cosH[r * H + h]!,
              sr = sinH[r * H + h]!;
            ar[h * C + c] += zr * cr - zi * sr;
            ai[h * C + c] += zr * sr + zi * cr;
          }
        }
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          let acc = 0;
          for (let c = 0; c < C; c++) acc += ar[h * C + c]! * cosW[c * W + w]! - ai[h * C + c]! * sinW[c * W + w]!;
          out[((h * W + w) * Ci + i) * Co + o] = acc;
        }
    }
  return out;
}
