/**
 * Two ways to do the seed's complex arithmetic on a tfjs backend, chosen by capability:
 * - `NativeComplex`: the tfjs ops the seed's code maps to (tf.spectral.rfft/fft/irfft, tf.einsum,
 *   complex64 tensors), split into real and imaginary parts exactly where the backend rejects complex64.
 * - `PlanarComplex`: the nearest real-arithmetic equivalent for backends with no complex kernels
 *   (wasm): (re, im) pairs, transforms as DFT-as-GEMM against cos/sin matrices, einsum lowered as TF
 *   lowers it (transposes + batched matmuls).
 */
import * as tf from '@tensorflow/tfjs-core';
import { cosSin } from './dft';

export interface Pair {
  re: tf.Tensor;
  im: tf.Tensor;
}
export type Cx = tf.Tensor | Pair;

export interface ComplexKit {
  readonly label: string;
  readonly einsumLabel: string;
  readonly transposeLabel: string;
  /** Real → half spectrum along the last axis. */
  rfftLast(x: tf.Tensor): Cx;
  /** Complex DFT along the last axis. */
  fftLast(c: Cx, inverse: boolean): Cx;
  /** Half spectrum → real along the last axis, length q. */
  irfftLast(c: Cx, q: number): tf.Tensor;
  transpose(c: Cx, perm: number[]): Cx;
  /** 'ijkl,jklo->ijko' on complex values. */
  einsumSeed(x: Cx, k: Cx): Cx;
  shape(c: Cx): number[];
}

function lastDimMatmul(x: tf.Tensor, m: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const n = shape[shape.length - 1]!;
  const out = tf.matMul(tf.reshape(x, [-1, n]), m as tf.Tensor2D);
  return tf.reshape(out, [...shape.slice(0, -1), m.shape[1]!]);
}

class MatrixCache {
  private readonly mats = new Map<string, tf.Tensor2D>();
  get(key: string, rows: number, cols: number, make: () => Float32Array): tf.Tensor2D {
    let t = this.mats.get(key);
    if (!t) {
      t = tf.keep(tf.tensor2d(make(), [rows, cols]));
      this.mats.set(key, t);
    }
    return t;
  }
  dispose(): void {
    for (const t of this.mats.values()) t.dispose();
    this.mats.clear();
  }
}

export class PlanarComplex implements ComplexKit {
  readonly label =
    "tfjs's rfft/irfft composition with each FFT as an N×N DFT-as-GEMM on (re, im) pairs (no complex kernels on this backend)";
  readonly einsumLabel =
    "transposes + 4 real batchMatMuls over H·(W/2+1) frequency batches (TF's lowering of the einsum; no Einsum or complex kernels on this backend)";
  readonly transposeLabel = 'transpose of the real and imaginary parts';
  private readonly mats = new MatrixCache();

  private cs(n: number, inverse: boolean) {
    const s = inverse ? 1 / n : 1;
    const { cos, sin } = cosSin(n);
    return {
      c: this.mats.get(`c${n}${inverse}`, n, n, () => cos.map((v) => v * s)),
      s: this.mats.get(`s${n}${inverse}`, n, n, () => sin.map((v) => v * s)),
    };
  }

  /**
   * As tfjs builds tf.spectral.rfft: complex(x, 0) → full complex FFT → keep the first n/2 + 1 bins;
   * the FFT kernel replaced by a DFT-as-GEMM (what tfjs's cpu kernel does for non-power-of-2 sizes).
   */
  rfftLast(x: tf.Tensor): Pair {
    const q = x.shape[x.shape.length - 1]!;
    const v = Math.floor(q / 2) + 1;
    const zeros = tf.zerosLike(x);
    const full = this.fftLast({ re: x, im: zeros }, false);
    const begin = x.shape.map(() => 0);
    const size = [...x.shape.slice(0, -1), v];
    const out = { re: tf.slice(full.re, begin, size), im: tf.slice(full.im, begin, size) };
    tf.dispose([zeros, full.re, full.im]);
    return out;
  }

  fftLast(cx: Cx, inverse: boolean): Pair {
    const { re, im } = cx as Pair;
    const n = re.shape[re.shape.length - 1]!;
    const { c, s } = this.cs(n, inverse);
    const rc = lastDimMatmul(re, c),
      is = lastDimMatmul(im, s),
      ic = lastDimMatmul(im, c),
      rs = lastDimMatmul(re, s);
    const out = inverse ? { re: tf.sub(rc, is), im: tf.add(ic, rs) } : { re: tf.add(rc, is), im: tf.sub(ic, rs) };
    tf.dispose([rc, is, ic, rs]);
    return out;
  }

  /**
   * As tfjs builds tf.spectral.irfft: Hermitian extension (slice, reverse, conjugate, concat) → full
   * complex inverse FFT → real part; the FFT kernel replaced by a DFT-as-GEMM.
   */
  irfftLast(cx: Cx, q: number): tf.Tensor {
    const { re, im } = cx as Pair;
    const rank = re.shape.length;
    const v = re.shape[rank - 1]!;
    const mirror = q - v; // bins v..q−1 are conjugates of bins q−v..1
    const begin = re.shape.map((_, i) => (i === rank - 1 ? 1 : 0));
    const size = [...re.shape.slice(0, -1), mirror];
    const rMir = tf.reverse(tf.slice(re, begin, size), rank - 1);
    const iMir = tf.neg(tf.reverse(tf.slice(im, begin, size), rank - 1));
    const fullRe = tf.concat([re, rMir], rank - 1);
    const fullIm = tf.concat([im, iMir], rank - 1);
    const out = this.fftLast({ re: fullRe, im: fullIm }, true);
    tf.dispose([rMir, iMir, fullRe, fullIm, out.im]);
    return out.re;
  }

  transpose(cx: Cx, perm: number[]): Pair {
    const { re, im } = cx as Pair;
    return { re: tf.transpose(re, perm), im: tf.transpose(im, perm) };
  }

  einsumSeed(xc: Cx, kc: Cx): Pair {
    const x = xc as Pair;
    const k = kc as Pair;
    const [b, j, kk, l] = x.re.shape as [number, number, number, number];
    const o = k.re.shape[3]!;
    // ijkl → (jk, i, l): frequencies become the batch of the matmul.
    const xt = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [1, 2, 0, 3]), [j * kk, b, l]) as tf.Tensor3D;
    const kt = (t: tf.Tensor) => tf.reshape(t, [j * kk, l, o]) as tf.Tensor3D;
    const xr = xt(x.re),
      xi = xt(x.im),
      kr = kt(k.re),
      ki = kt(k.im);
    const rr = tf.matMul(xr, kr),
      ii = tf.matMul(xi, ki),
      ri = tf.matMul(xr, ki),
      ir = tf.matMul(xi, kr);
    const yr = tf.sub(rr, ii),
      yi = tf.add(ri, ir);
    const back = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [j, kk, b, o]), [2, 0, 1, 3]);
    const out = { re: back(yr), im: back(yi) };
    tf.dispose([xr, xi, rr, ii, ri, ir, yr, yi]);
    return out;
  }

  shape(c: Cx): number[] {
    return (c as Pair).re.shape;
  }

  dispose(): void {
    this.mats.dispose();
  }
}

export interface NativeCaps {
  complexTranspose: boolean;
  complexEinsum: boolean;
}

export class NativeComplex implements ComplexKit {
  readonly label: string;
  readonly einsumLabel: string;
  readonly transposeLabel: string;
  private readonly planar = new PlanarComplex();

  constructor(
    private readonly caps: NativeCaps,
    backend: string,
  ) {
    this.label = `tf.spectral rfft/fft/irfft (complex64 FFT kernel on ${backend})`;
    this.einsumLabel = caps.complexEinsum
      ? `tf.einsum on complex64 (${backend})`
      : `tf.einsum on real and imaginary parts: 4 real einsums + 2 adds (complex64 einsum is rejected by ${backend})`;
    this.transposeLabel = caps.complexTranspose
      ? `tf.transpose on complex64 (${backend})`
      : `tf.real/tf.imag → 2 transposes → tf.complex (complex64 transpose is broken on ${backend})`;
  }

  rfftLast(x: tf.Tensor): tf.Tensor {
    return tf.spectral.rfft(x);
  }

  fftLast(c: Cx, inverse: boolean): tf.Tensor {
    return inverse ? tf.spectral.ifft(c as tf.Tensor) : tf.spectral.fft(c as tf.Tensor);
  }

  irfftLast(c: Cx, q: number): tf.Tensor {
    const t = c as tf.Tensor;
    if (q % 2 === 0) {
      const y = tf.spectral.irfft(t);
      const out = tf.reshape(y, [...t.shape.slice(0, -1), q]);
      y.dispose();
      return out;
    }
    // tfjs irfft assumes an even length; for odd lengths take the real-arithmetic C2R.
    return tf.tidy(() => this.planar.irfftLast({ re: tf.real(t), im: tf.imag(t) }, q));
  }

  transpose(c: Cx, perm: number[]): tf.Tensor {
    const t = c as tf.Tensor;
    if (this.caps.complexTranspose) return tf.transpose(t, perm);
    return tf.tidy(() => tf.complex(tf.transpose(tf.real(t), perm), tf.transpose(tf.imag(t), perm)));
  }

  einsumSeed(xc: Cx, kc: Cx): tf.Tensor {
    const x = xc as tf.Tensor;
    const k = kc as tf.Tensor;
    if (this.caps.complexEinsum) return tf.einsum('ijkl,jklo->ijko', x, k);
    return tf.tidy(() => {
      const xr = tf.real(x),
        xi = tf.imag(x),
        kr = tf.real(k),
        ki = tf.imag(k);
      const e = (a: tf.Tensor, b: tf.Tensor) => tf.einsum('ijkl,jklo->ijko', a, b);
      return tf.complex(tf.sub(e(xr, kr), e(xi, ki)), tf.add(e(xr, ki), e(xi, kr)));
    });
  }

  shape(c: Cx): number[] {
    return (c as tf.Tensor).shape;
  }

  dispose(): void {
    this.planar.dispose();
  }
}
