/** cuDNN's algorithm, as the kernels a PyTorch convolution launched name it (torch.profiler). Worker side. */

/**
 * Which cuDNN forward algorithm family a convolution ran, from the names of the CUDA kernels torch.profiler saw
 * (PyTorch does not say which algorithm cudnn.benchmark picked): FFT, Winograd, implicit / precomputed GEMM,
 * GEMM or direct. Undefined when the names say nothing (or no CUDA kernel was seen).
 */
export function cudnnAlgorithmOf(
  kernels: Array<{ name: string; device: 'cpu' | 'cuda'; ms?: number }>,
): string | undefined {
  const names = kernels.filter((k) => k.device === 'cuda').map((k) => k.name.toLowerCase());
  if (!names.length) return undefined;
  const has = (re: RegExp) => names.some((n) => re.test(n));
  if (has(/fft_?tiling|fft2d_r2c_16x16|fft_tile/)) return 'FFT_TILING';
  if (has(/fft/)) return 'FFT';
  if (has(/winograd_nonfused|winograd.*nonfused/)) return 'WINOGRAD_NONFUSED';
  if (has(/winograd/)) return 'WINOGRAD';
  if (has(/precomp|implicit_gemm_precomp|implicit_convolve_sgemm_precomp/)) return 'IMPLICIT_PRECOMP_GEMM';
  if (has(/implicit_convolve|implicit_gemm|xmma_fprop_implicit_gemm|sm\d+_xmma_fprop|cutlass.*fprop|conv2d_fprop/))
    return 'IMPLICIT_GEMM';
  if (has(/im2col|sgemm|gemm/)) return 'GEMM';
  if (has(/direct/)) return 'DIRECT';
  return undefined;
}
