/**
 * FNO spectral convolutions (Li et al., arXiv 2010.08895): `fno` — the layer as the reference code writes
 * it (rfft2, one einsum per corner block of kept modes, a zero-filled out_ft, slice-assignment, irfft2);
 * `optimized` — the same function with partial transforms (only the kept columns, then only the kept rows),
 * the weights cached frequency-major and one batched GEMM for every kept mode, no full-size out_ft. Every
 * step is inside the layer's forward (an FNO layer takes and returns spatial data). Host-free.
 */
import {
  cfft1dFlops,
  complexBytes,
  complexMatmulFlops,
  dftComplexFlops,
  dftRealFlops,
  fft2dFlops,
  gemmFlops,
  rfft1dFlops,
} from '../cost';
import { type LayerSpec, describeModes, keptModes } from '../spec';
import { type ExecutorTraits, type PlannedStep, type VariantPlan, fftPlanStep, layoutStep, step } from './step';

export function planFno(spec: LayerSpec, t: ExecutorTraits): VariantPlan {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const V = Math.floor(W / 2) + 1;
  const { top, bottom, cols: C } = keptModes(spec);
  const fft = t.transforms === 'fft';
  const x = [B, Ci, H, W];
  const xft = fft ? [B, Ci, H, V, 2] : [B * Ci, V, 2, H];
  const outFt = fft ? [B, Co, H, V, 2] : [B * Co, V, 2, H];
  const block = (rows: number, ch: number) => (fft ? [B, ch, rows, C, 2] : [B * ch, C, 2, rows]);
  const einsum = (id: string, rows: number, which: string) =>
    step({
      id,
      name: `einsum (${which})`,
      category: 'product',
      kind: 'bmm',
      inner: Ci,
      inputShapes: [block(rows, Ci), [Ci, Co, rows, C, 2]],
      outputShape: block(rows, Co),
      flops: complexMatmulFlops(rows * C, B, Ci, Co),
      bytes: complexBytes([B, Ci, rows, C]) + complexBytes([Ci, Co, rows, C]) + complexBytes([B, Co, rows, C]),
      complex: fft,
      // The einsum's lowering copies both operands mode-major and the result back: read + write each.
      layoutBytes:
        2 * (complexBytes([B, Ci, rows, C]) + complexBytes([Ci, Co, rows, C]) + complexBytes([B, Co, rows, C])),
    });
  const steps: PlannedStep[] = [
    step({
      id: 'rfft2d-input',
      name: 'rfft2(x)',
      category: 'forward-transform',
      kind: fft ? 'fft' : 'gemm',
      inputShapes: [x],
      outputShape: xft,
      flops: fft ? fft2dFlops(B * Ci, H, W) : dftRealFlops(B * Ci * H, W) + dftComplexFlops(B * Ci * V, H),
      bytes: complexBytes([B, Ci, H, V]) + 4 * B * Ci * H * W,
    }),
    einsum('einsum-top', top, spec.modesConvention === 'centered' ? 'frequencies ≥ 0' : 'corner 1'),
  ];
  if (bottom > 0)
    steps.push(einsum('einsum-bottom', bottom, spec.modesConvention === 'centered' ? 'frequencies < 0' : 'corner 2'));
  steps.push(
    step({
      id: 'zeros-out-ft',
      name: 'zeros(out_ft)',
      category: 'padding',
      kind: 'elementwise',
      inputShapes: [],
      outputShape: outFt,
      flops: 0,
      bytes: complexBytes([B, Co, H, V]),
    }),
    step({
      id: 'assign-modes',
      name: 'out_ft[modes] =',
      category: 'layout',
      kind: 'copy',
      complex: fft,
      inputShapes: bottom > 0 ? [block(top, Co), block(bottom, Co)] : [block(top, Co)],
      outputShape: outFt,
      flops: 0,
      // tfjs has no slice-assignment: out_ft is assembled by concatenation, a full write of it.
      bytes: fft
        ? 2 * complexBytes([B, Co, top + bottom, C])
        : complexBytes([B, Co, top + bottom, C]) + complexBytes([B, Co, H, V]),
    }),
    step({
      id: 'irfft2d',
      name: 'irfft2(out_ft)',
      category: 'inverse-transform',
      kind: 'ifft',
      inputShapes: [outFt],
      outputShape: [B, Co, H, W],
      flops: fft ? fft2dFlops(B * Co, H, W) : dftComplexFlops(B * Co * V, H) + gemmFlops(B * Co * H, 2 * V, W),
      bytes: complexBytes([B, Co, H, V]) + 4 * B * Co * H * W,
    }),
  );
  const centered = spec.modesConvention === 'centered';
  return {
    name: 'fno',
    title: 'FNO layer as written',
    kind: 'spectral',
    description:
      `The spectral convolution as the original FNO code writes it: x_ft = rfft2(x); out_ft = zeros(batch, out, ${H}, ${V}); ` +
      `one einsum 'bixy,ioxy->boxy' per block of kept modes (${describeModes(spec)}) slice-assigned into out_ft; irfft2(out_ft, s=(${H}, ${W})).` +
      (centered ? " (neuraloperator's fftshift + one centred slice keeps the same modes.)" : '') +
      (fft ? '' : ' Transforms as real GEMMs against DFT matrices on this engine.'),
    reference: 'naive direct circular convolution with the equivalent kernel',
    oneOff: t.fftPlans ? [fftPlanStep(H, W)] : [],
    steps,
  };
}

export function planOptimizedFno(spec: LayerSpec, t: ExecutorTraits): VariantPlan {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const { rows: R, cols: C, count: M } = keptModes(spec);
  const fft = t.transforms === 'fft';
  const weights = step({
    id: 'weights-cached',
    name: 'weights, mode-major',
    category: 'kernel-transform',
    kind: 'copy',
    oneOff: true,
    inputShapes: [[Ci, Co, R, C, 2]],
    outputShape: fft ? [M, Ci, Co, 2] : [M, 2 * Ci, 2 * Co],
    flops: 0,
    bytes: (fft ? 2 : 3) * complexBytes([Ci, Co, R, C]),
  });
  const product = step({
    id: 'multiply',
    name: 'complex matmul',
    category: 'product',
    kind: 'bmm',
    inner: Ci,
    inputShapes: fft
      ? [
          [M, B, Ci, 2],
          [M, Ci, Co, 2],
        ]
      : [
          [M, B, 2 * Ci],
          [M, 2 * Ci, 2 * Co],
        ],
    outputShape: fft ? [M, B, Co, 2] : [M, B, 2 * Co],
    flops: complexMatmulFlops(M, B, Ci, Co),
    complex: fft,
    bytes: complexBytes([M, B, Ci]) + complexBytes([M, Ci, Co]) + complexBytes([M, B, Co]),
  });
  if (t.fftPlans) return optimizedCuda(spec, t, weights, product);
  const steps: PlannedStep[] = fft
    ? [
        step({
          id: 'rfft-w',
          name: 'rfft over W',
          category: 'forward-transform',
          kind: 'fft',
          inputShapes: [[B, Ci, H, W]],
          outputShape: [B, Ci, H, C, 2],
          flops: rfft1dFlops(B * Ci * H, W),
          bytes: 4 * B * Ci * H * W + complexBytes([B, Ci, H, C]),
        }),
        step({
          id: 'fft-h',
          name: 'fft over H',
          category: 'forward-transform',
          kind: 'fft',
          inputShapes: [[B, Ci, H, C, 2]],
          outputShape: [B, Ci, R, C, 2],
          flops: cfft1dFlops(B * Ci * C, H),
          bytes: complexBytes([B, Ci, H, C]) + complexBytes([B, Ci, R, C]),
          // A transform along a strided axis copies its columns to contiguous rows and back; then the gather.
          layoutBytes: 4 * complexBytes([B, Ci, H, C]) + 2 * complexBytes([B, Ci, R, C]),
        }),
        layoutStep('transpose-x', [B, Ci, R, C, 2], [M, B, Ci, 2], true, true),
        product,
        layoutStep('transpose-y', [M, B, Co, 2], [B, Co, R, C, 2], true, true),
        step({
          id: 'ifft-h',
          name: 'ifft over H',
          category: 'inverse-transform',
          kind: 'ifft',
          inputShapes: [[B, Co, R, C, 2]],
          outputShape: [B, Co, H, C, 2],
          flops: cfft1dFlops(B * Co * C, H),
          bytes: complexBytes([B, Co, R, C]) + 2 * complexBytes([B, Co, H, C]),
          layoutBytes: 4 * complexBytes([B, Co, H, C]) + 2 * complexBytes([B, Co, H, C]),
        }),
        step({
          id: 'irfft-w',
          name: 'irfft over W',
          category: 'inverse-transform',
          kind: 'ifft',
          inputShapes: [[B, Co, H, C, 2]],
          outputShape: [B, Co, H, W],
          flops: rfft1dFlops(B * Co * H, W),
          bytes: complexBytes([B, Co, H, C]) + 4 * B * Co * H * W,
        }),
      ]
    : [
        step({
          id: 'rfft-w',
          name: 'rfft over W (kept columns)',
          category: 'forward-transform',
          kind: 'gemm',
          inputShapes: [[B, Ci, H, W]],
          outputShape: [B * Ci, H, 2, C],
          flops: gemmFlops(B * Ci * H, W, 2 * C),
        }),
        layoutStep('transpose-w', [B * Ci, H, 2, C], [B * Ci, C, 2, H]),
        step({
          id: 'dft-h',
          name: 'DFT over H (kept rows)',
          category: 'forward-transform',
          kind: 'gemm',
          inputShapes: [[B * Ci, C, 2, H]],
          outputShape: [B, Ci, M, 2],
          flops: gemmFlops(B * Ci * C, 2 * H, 2 * R),
        }),
        layoutStep('transpose-x', [B, Ci, M, 2], [M, B, 2 * Ci]),
        product,
        layoutStep('transpose-y', [M, B * Co, 2], [B * Co, M, 2]),
        step({
          id: 'idft-h',
          name: 'inverse DFT over H',
          category: 'inverse-transform',
          kind: 'gemm',
          inputShapes: [[B * Co * C, 2 * R]],
          outputShape: [B * Co, C, 2, H],
          flops: gemmFlops(B * Co * C, 2 * R, 2 * H),
        }),
        layoutStep('transpose-h', [B * Co, C, 2, H], [B * Co, H, 2, C]),
        step({
          id: 'c2r-w',
          name: 'C2R over W (kept columns)',
          category: 'inverse-transform',
          kind: 'gemm',
          inputShapes: [[B * Co * H, 2 * C]],
          outputShape: [B, Co, H, W],
          flops: gemmFlops(B * Co * H, 2 * C, W),
        }),
      ];
  const how = fft
    ? `partial transforms — rfft over W keeping the ${C} kept columns, FFT over H of those columns only and a gather of the ${R} kept rows — one batched complex GEMM over the ${M} modes, and the inverse the same way (a ${H}×${C} buffer, not the ${H}×${Math.floor(W / 2) + 1} out_ft)`
    : `truncated DFTs as real GEMMs — only the ${C} kept columns over W and the ${R} kept rows over H are ever computed — one batched GEMM over the ${M} modes (the complex product as one real (2·in × 2·out) block product), and truncated inverse DFTs: no zero-filled out_ft at all`;
  return {
    name: 'optimized',
    title: 'Optimized FNO layer',
    kind: 'spectral',
    description: `The same function: weights cached mode-major (in, out) per mode; ${how}.`,
    reference: 'naive direct circular convolution with the equivalent kernel',
    oneOff: [...(t.fftPlans ? [fftPlanStep(H, W)] : []), weights],
    steps,
  };
}

/**
 * The native CUDA engine's optimized FNO: it has 2-D cuFFT plans only (no strided 1-D C2C), so the
 * transforms stay full; what changes is one batched GEMM over both corners' modes (gathered mode-major
 * by one kernel per block), weights cached mode-major, and no per-call weight permutes.
 */
function optimizedCuda(spec: LayerSpec, t: ExecutorTraits, weights: PlannedStep, product: PlannedStep): VariantPlan {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const V = Math.floor(W / 2) + 1;
  const { rows: R, cols: C, count: M } = keptModes(spec);
  const steps: PlannedStep[] = [
    step({
      id: 'rfft2d-input',
      name: 'rfft2(x)',
      category: 'forward-transform',
      kind: 'fft',
      inputShapes: [[B, Ci, H, W]],
      outputShape: [B, Ci, H, V, 2],
      flops: fft2dFlops(B * Ci, H, W),
      bytes: complexBytes([B, Ci, H, V]) + 4 * B * Ci * H * W,
    }),
    step({
      id: 'gather-modes',
      name: 'gather kept modes',
      category: 'layout',
      kind: 'copy',
      inputShapes: [[B, Ci, H, V, 2]],
      outputShape: [M, B, Ci, 2],
      flops: 0,
      bytes: 4 * complexBytes([B, Ci, R, C]),
    }),
    product,
    step({
      id: 'scatter-modes',
      name: 'out_ft: zeros + kept modes',
      category: 'padding',
      kind: 'copy',
      inputShapes: [[M, B, Co, 2]],
      outputShape: [B, Co, H, V, 2],
      flops: 0,
      bytes: complexBytes([B, Co, H, V]) + 4 * complexBytes([B, Co, R, C]),
    }),
    step({
      id: 'irfft2d',
      name: 'irfft2(out_ft)',
      category: 'inverse-transform',
      kind: 'ifft',
      inputShapes: [[B, Co, H, V, 2]],
      outputShape: [B, Co, H, W],
      flops: fft2dFlops(B * Co, H, W),
      bytes: complexBytes([B, Co, H, V]) + 4 * B * Co * H * W,
    }),
  ];
  return {
    name: 'optimized',
    title: 'Optimized FNO layer',
    kind: 'spectral',
    description: `The same function: weights cached mode-major (${M} modes, in, out); cuFFT R2C, the ${R}×${C} kept modes of both corners gathered mode-major, one ${Ci >= t.gaussMinInChannels ? '3m ' : ''}strided-batched complex GEMM over all of them, scattered into a zeroed out_ft, cuFFT C2R (the native engine has 2-D cuFFT plans only, so the transforms stay full).`,
    reference: 'naive direct circular convolution with the equivalent kernel',
    oneOff: [fftPlanStep(H, W), weights],
    steps,
  };
}
