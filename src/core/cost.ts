/** FLOP and byte estimates for the steps of a pipeline, from shapes alone. Host-free. */

export const F32 = 4;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Real GEMM (m×k)·(k×n), batched. */
export function gemmFlops(m: number, k: number, n: number, batch = 1): number {
  return 2 * m * k * n * batch;
}

/** Bytes a step reads and writes, float32, inputs plus output. */
export function ioBytes(inputs: readonly (readonly number[])[], output: readonly number[], bytesPerElem = F32): number {
  return (inputs.reduce((s, sh) => s + numel(sh), 0) + numel(output)) * bytesPerElem;
}

/** Direct convolution: 2·B·H′·W′·Cin·Cout·kh·kw. */
export function convFlops(
  b: number,
  oh: number,
  ow: number,
  cin: number,
  cout: number,
  kh: number,
  kw: number,
): number {
  return 2 * b * oh * ow * cin * cout * kh * kw;
}

/** A textbook radix-2 FFT of N complex points: 5·N·log2 N real flops (Mathieu et al.'s C ≈ 2.5 per real transform). */
export function fftFlops(n: number): number {
  return n <= 1 ? 0 : 5 * n * Math.log2(n);
}

/**
 * A library FFT (cuFFT) of `batch` real 2-D maps of p×q, R2C or C2R: 2.5·p·q·log2(p·q) real flops per
 * map — half of a complex transform's 5·N·log2 N, as the Hermitian half spectrum needs.
 */
export function fft2dFlops(batch: number, p: number, q: number): number {
  return batch * 2.5 * p * q * Math.log2(Math.max(2, p * q));
}

/** A real-input DFT of length n as a GEMM against an (n × 2·(n/2 + 1)) cos/sin matrix, for `rows` rows. */
export function dftRealFlops(rows: number, n: number): number {
  return gemmFlops(rows, n, 2 * (Math.floor(n / 2) + 1));
}

/** A complex DFT of length n as 4 real (n × n) GEMMs plus the 2 adds per point, for `rows` rows. */
export function dftComplexFlops(rows: number, n: number): number {
  return 4 * gemmFlops(rows, n, n) + 2 * rows * n;
}

/** A complex matrix product per frequency, (B × Ci)·(Ci × Co) over F frequencies: 4 real mults + 4 adds. */
export function complexMatmulFlops(freqs: number, b: number, ci: number, co: number): number {
  return 8 * freqs * b * ci * co;
}

/** Bytes of the complex64 half spectra (p × (q/2 + 1) values of 8 bytes) of `maps` real p×q maps. */
export function halfSpectrumBytes(maps: number, p: number, q: number): number {
  return maps * p * (Math.floor(q / 2) + 1) * 8;
}

/** `rows` real 1-D FFTs of length n (R2C or C2R): 2.5·n·log2 n real flops each. */
export function rfft1dFlops(rows: number, n: number): number {
  return rows * 2.5 * n * Math.log2(Math.max(2, n));
}

/** `rows` complex 1-D FFTs of length n: 5·n·log2 n real flops each. */
export function cfft1dFlops(rows: number, n: number): number {
  return rows * 5 * n * Math.log2(Math.max(2, n));
}

/** Bytes of a complex64 tensor of this shape (the trailing (re, im) pair not included in `shape`). */
export function complexBytes(shape: readonly number[]): number {
  return numel(shape) * 8;
}
