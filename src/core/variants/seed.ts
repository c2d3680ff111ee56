/**
 * The question's recipe as written: rfft2d of the input outside the layer (it fed spectra in); inside
 * the layer rfft2d of the (in, H, W, out) kernel on every call, transpose perm [2,1,0,3], complex einsum
 * 'ijkl,jklo->ijko'; irfft2d back to the spatial domain for the check. Host-free.
 */
import { complexMatmulFlops, dftComplexFlops, dftRealFlops, fft2dFlops, gemmFlops } from '../cost';
import { type LayerSpec, geometry, inputShape, outputShape } from '../spec';
import {
  type ExecutorTraits,
  type PlannedStep,
  type VariantPlan,
  fftPlanStep,
  layoutStep,
  padInputStep,
  step,
} from './step';

export function planSeed(spec: LayerSpec, t: ExecutorTraits): VariantPlan {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH,
    Q = g.fftW,
    V = g.freqW,
    U = P,
    F = U * V;
  const nhwc = spec.layout === 'NHWC';
  const base = {
    name: 'seed' as const,
    title: "The question's layer, as written",
    kind: 'spectral' as const,
    description:
      "The question's recipe step by step: rfft2d of the input outside the layer; inside it rfft2d of the (in, H, W, out) kernel on every call, transpose perm [2,1,0,3], complex einsum 'ijkl,jklo->ijko'" +
      (t.transforms === 'fft' ? ' (as TensorFlow lowers it: transposes + a batched complex GEMM)' : '') +
      '; irfft2d back for the check.',
    reference: 'spatial-equivalent output',
  };
  const steps: PlannedStep[] = [];
  if (t.transforms === 'fft') {
    // A library FFT: the permute to channels-first and the zero padding are part of each transform step.
    steps.push(
      step({
        id: 'rfft2d-input',
        name: 'rfft2d(input)',
        category: 'forward-transform',
        kind: 'fft',
        inLayer: false,
        inputShapes: [inputShape(spec)],
        outputShape: [B, F, Ci, 2],
        flops: fft2dFlops(B * Ci, P, Q),
      }),
      step({
        id: 'rfft2d-kernel',
        name: 'rfft2d(kernel)',
        category: 'kernel-transform',
        kind: 'fft',
        inputShapes: [[Ci, kh, kw, Co]],
        outputShape: [Ci, Co, F, 2],
        flops: fft2dFlops(Ci * Co, P, Q),
      }),
      layoutStep('transpose-kernel', [Ci, Co, F, 2], [F, Ci, Co, 2], true, true),
      step({
        id: 'einsum',
        name: 'einsum',
        category: 'product',
        kind: 'bmm',
        inner: Ci,
        inputShapes: [
          [B, F, Ci, 2],
          [F, Ci, Co, 2],
        ],
        outputShape: [B, F, Co, 2],
        flops: complexMatmulFlops(F, B, Ci, Co),
        complex: true,
      }),
      step({
        id: 'irfft2d',
        name: 'irfft2d',
        category: 'inverse-transform',
        kind: 'ifft',
        inLayer: false,
        inputShapes: [[B, F, Co, 2]],
        outputShape: outputShape(spec, g),
        flops: fft2dFlops(B * Co, P, Q),
      }),
    );
    return { ...base, oneOff: t.fftPlans ? [fftPlanStep(P, Q)] : [], steps };
  }
  // Transforms composed of DFT GEMMs (rfft over W + complex DFT over H), each padding a step of its own.
  if (P !== H || Q !== W) steps.push(padInputStep(spec, P, Q));
  steps.push(
    step({
      id: 'rfft2d-input',
      name: 'rfft2d(input)',
      category: 'forward-transform',
      inLayer: false,
      inputShapes: [nhwc ? [B, P, Q, Ci] : [B, Ci, P, Q]],
      outputShape: [B, V, U, Ci, 2],
      // Outside the layer: the engine's fastest transform (the same GEMMs as the optimized layer's).
      kind: 'gemm',
      flops: gemmFlops(B * Ci * P, Q, 2 * V) + gemmFlops(B * Ci * V, 2 * P, 2 * P),
    }),
  );
  if (kh !== P || kw !== Q) {
    steps.push(
      step({
        id: 'pad-kernel',
        name: 'pad',
        category: 'padding',
        kind: 'pad',
        inner: Co,
        inputShapes: [[Ci, kh, kw, Co]],
        outputShape: [Ci, P, Q, Co],
        flops: 0,
      }),
    );
  }
  steps.push(
    step({
      id: 'rfft2d-kernel',
      name: 'rfft2d(kernel)',
      category: 'kernel-transform',
      kind: 'fft',
      inputShapes: [[Ci, P, Q, Co]],
      outputShape: [Ci, U, V, Co, 2],
      flops: dftRealFlops(Ci * Co * P, Q) + dftComplexFlops(Ci * Co * V, P),
    }),
    layoutStep('transpose-kernel', [Ci, U, V, Co, 2], [V, U, Ci, Co, 2]),
    step({
      id: 'einsum',
      name: 'einsum',
      category: 'product',
      kind: 'bmm',
      inner: Ci,
      inputShapes: [
        [B, V, U, Ci, 2],
        [V, U, Ci, Co, 2],
      ],
      outputShape: [B, V, U, Co, 2],
      flops: complexMatmulFlops(F, B, Ci, Co),
    }),
    layoutStep('transpose-y', [B, V, U, Co, 2], [B, Co, V, 2, U], false),
    step({
      id: 'irfft2d',
      name: 'irfft2d',
      category: 'inverse-transform',
      kind: 'gemm',
      inLayer: false,
      inputShapes: [[B, Co, V, 2, U]],
      outputShape: outputShape(spec, g),
      flops: gemmFlops(B * Co * V, 2 * P, 2 * g.outH) + gemmFlops(B * Co * g.outH, 2 * V, g.outW),
    }),
  );
  return { ...base, oneOff: [], steps };
}
