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
export function convFlops(b: number, oh: number, ow: number, cin: number, cout: number, kh: number, kw: number): number {
  return 2 * b * oh * ow * cin * cout * kh * kw;
}

/** A textbook radix-2 FFT of N complex points: 5·N·log2 N real flops (Mathieu et al.'s C ≈ 2.5 per real transform). */
export function fftFlops(n: number): number {
  return n <= 1 ? 0 : 5 * n * Math.log2(n);
}
