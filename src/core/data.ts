/**
 * Deterministic test data: every variant of a run sees the same input and weights, and a run can be
 * reproduced from its seed. Host-free (plain typed arrays).
 */
import { type LayerSpec, inputShape, isFno } from './spec';
import { equivalentKernel, makeModeWeights } from './fno';
import { normal, rng } from './random';

export { normal, rng };

export interface LayerData {
  /** Input in the spec's layout. */
  input: Float32Array;
  inputShape: number[];
  /** Spectral/equivalent kernel, HWIO: (kernelH, kernelW, in, out). Convolution (not correlation) weights. */
  kernel: Float32Array;
  /** The comparison Conv2D's kernel, HWIO (k, k, in, out), cross-correlation as Conv2D computes. */
  spatialKernel: Float32Array;
  /**
   * FNO layers: the complex weights of the kept modes, (in, out, rows, cols) interleaved (re, im), rows
   * as core/fno.ts keptRows orders them. `kernel` is then their equivalent spatial kernel, computed when
   * first read (only spatial-equivalent and the naive reference need it).
   */
  modeWeights?: Float32Array;
}

export function makeLayerData(spec: LayerSpec, seed = 1): LayerData {
  const rand = rng(seed);
  const shape = inputShape(spec);
  const n = shape.reduce((a, b) => a * b, 1);
  const kn = spec.kernelH * spec.kernelW * spec.inChannels * spec.outChannels;
  const sk = spec.spatialKernel;
  if (isFno(spec)) {
    const input = normal(n, rand);
    const modeWeights = makeModeWeights(spec, rand);
    const spatialKernel = normal(
      sk * sk * spec.inChannels * spec.outChannels,
      rand,
      1 / Math.sqrt(sk * sk * spec.inChannels),
    );
    let kernel: Float32Array | undefined;
    return {
      input,
      inputShape: shape,
      modeWeights,
      spatialKernel,
      get kernel() {
        kernel ??= equivalentKernel(spec, modeWeights);
        return kernel;
      },
    };
  }
  return {
    input: normal(n, rand),
    inputShape: shape,
    kernel: normal(kn, rand, 1 / Math.sqrt(spec.kernelH * spec.kernelW * spec.inChannels)),
    spatialKernel: normal(sk * sk * spec.inChannels * spec.outChannels, rand, 1 / Math.sqrt(sk * sk * spec.inChannels)),
  };
}

/** Kernel flipped in both spatial axes (HWIO): turns a convolution into Conv2D's cross-correlation. */
export function flipKernel(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  const plane = cin * cout;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = (i * kw + j) * plane;
      const dst = ((kh - 1 - i) * kw + (kw - 1 - j)) * plane;
      out.set(k.subarray(src, src + plane), dst);
    }
  }
  return out;
}
