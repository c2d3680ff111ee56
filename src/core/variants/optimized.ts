/**
 * The optimized spectral layer: the same function as the recipe, with the kernel spectrum computed
 * once and cached, a frequency-major product (a broadcast multiply for in-channels = 1, batched GEMMs
 * otherwise) and no transposes inside the layer. Host-free.
 */
import { complexMatmulFlops, fft2dFlops, gemmFlops } from '../cost';
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

export function planOptimized(spec: LayerSpec, t: ExecutorTraits): VariantPlan {
  const { inChannels: Ci } = spec;
  const gauss = Ci >= t.gaussMinInChannels;
  const fft = t.transforms === 'fft';
  const product =
    Ci === 1
      ? fft
        ? 'one broadcast-multiply kernel since in-channels = 1'
        : 'a broadcast product since in-channels = 1 (no einsum, no transposes)'
      : fft
        ? `frequency-major product as one ${gauss ? '3m ' : ''}strided-batched complex GEMM`
        : `frequency-major layout, the complex product as ${gauss ? "Gauss's 3-multiplication" : '4-multiplication'} batched real matmuls with no transposes`;
  const transforms = fft
    ? 'library FFTs (R2C / C2R)'
    : `transforms as real GEMMs against cached DFT matrices ${t.orientation === 'right' ? 'as cached right operands' : 'from the left, frequency axis leading'}`;
  const padding =
    spec.padding === 'circular'
      ? 'no padding (circular, as the layer as written)'
      : 'zero padding for the linear part, the crop folded into the inverse';
  return {
    name: 'optimized',
    title: 'Optimized spectral layer',
    kind: 'spectral',
    description: `Kernel spectrum computed once and cached; ${product}; ${transforms}; ${padding}.`,
    reference: 'spatial-equivalent output',
    ...(fft ? fftSteps(spec, t) : dftGemmSteps(spec, t, gauss)),
  };
}

/** A library FFT: channels-first R2C of the padded input, the product, C2R, crop and layout in the inverse step. */
function fftSteps(spec: LayerSpec, t: ExecutorTraits): Pick<VariantPlan, 'oneOff' | 'steps'> {
  const { batch: B, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH,
    Q = g.fftW,
    V = g.freqW,
    F = P * V;
  const oneOff = [
    ...(t.fftPlans ? [fftPlanStep(P, Q)] : []),
    step({
      id: 'rfft2d-kernel-cached',
      name: 'rfft2d(kernel)',
      category: 'kernel-transform',
      kind: 'fft',
      oneOff: true,
      inputShapes: [[kh, kw, Ci, Co]],
      outputShape: Ci > 1 ? [F, Ci, Co, 2] : [Co, F, 2],
      flops: fft2dFlops(Ci * Co, P, Q),
    }),
  ];
  const steps: PlannedStep[] = [
    step({
      id: 'rfft2d-input',
      name: 'rfft2d(input)',
      category: 'forward-transform',
      kind: 'fft',
      inLayer: false,
      inputShapes: [inputShape(spec)],
      outputShape: [B, Ci, P, V, 2],
      flops: fft2dFlops(B * Ci, P, Q),
    }),
  ];
  if (Ci === 1) {
    steps.push(
      step({
        id: 'multiply',
        name: 'multiply',
        category: 'product',
        kind: 'elementwise',
        inner: 1,
        inputShapes: [
          [B, F, 2],
          [Co, F, 2],
        ],
        outputShape: [B, Co, F, 2],
        flops: 6 * B * Co * F,
      }),
    );
  } else {
    steps.push(
      layoutStep('transpose-x', [B, Ci, F, 2], [F, B, Ci, 2], true, true),
      step({
        id: 'multiply',
        name: 'complex matmul',
        category: 'product',
        kind: 'bmm',
        inner: Ci,
        inputShapes: [
          [F, B, Ci, 2],
          [F, Ci, Co, 2],
        ],
        outputShape: [F, B, Co, 2],
        flops: complexMatmulFlops(F, B, Ci, Co),
        complex: true,
      }),
      layoutStep('transpose-y', [F, B, Co, 2], [B, Co, F, 2], false, true),
    );
  }
  steps.push(
    step({
      id: 'irfft2d',
      name: 'irfft2d',
      category: 'inverse-transform',
      kind: 'ifft',
      inLayer: false,
      inputShapes: [[B, Co, P, V, 2]],
      outputShape: outputShape(spec, g),
      flops: fft2dFlops(B * Co, P, Q),
    }),
  );
  return { oneOff, steps };
}

/** Transforms as real GEMMs against cached DFT matrices, oriented for the backend. */
function dftGemmSteps(spec: LayerSpec, t: ExecutorTraits, gauss: boolean): Pick<VariantPlan, 'oneOff' | 'steps'> {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH,
    Q = g.fftW,
    V = g.freqW,
    U = P,
    F = U * V;
  const oh = g.outH,
    ow = g.outW;
  const nhwc = spec.layout === 'NHWC';
  const right = t.orientation === 'right';
  const transformFlops = (m: number) => gemmFlops(m * P, Q, 2 * V) + gemmFlops(m * V, 2 * P, 2 * P);
  const oneOff = [
    step({
      id: 'rfft2d-kernel-cached',
      name: 'rfft2d(kernel)',
      category: 'kernel-transform',
      kind: 'gemm',
      oneOff: true,
      inputShapes: [[kh, kw, Ci, Co]],
      outputShape: [2, V, U, Ci, Co],
      flops: transformFlops(Ci * Co),
    }),
  ];
  const steps: PlannedStep[] = [];
  if (P !== H || Q !== W) steps.push(padInputStep(spec, P, Q));
  steps.push(
    step({
      id: 'rfft2d-input',
      name: 'rfft2d(input)',
      category: 'forward-transform',
      kind: 'gemm',
      inLayer: false,
      inputShapes: [nhwc ? [B, P, Q, Ci] : [B, Ci, P, Q]],
      outputShape: Ci === 1 ? [B, V, 2, U] : [2, V, U, B, Ci],
      flops: transformFlops(B * Ci) + (Ci === 1 ? gemmFlops(B * V, 2 * P, 2 * U) : 0),
    }),
  );
  steps.push(
    step({
      id: 'multiply',
      name: Ci === 1 ? 'multiply' : 'complex matmul',
      category: 'product',
      kind: Ci === 1 && right ? 'elementwise' : 'bmm',
      inner: Ci,
      ...(Ci === 1 && right ? { passes: 3 } : {}),
      inputShapes: [Ci === 1 ? [B, V, 2, U] : [2, V, U, B, Ci], [2, V, U, Ci, Co]],
      outputShape:
        Ci === 1 ? (right ? [B, Co, V, 2, U] : [V, 2, U, B, Co]) : right ? [2, V, U, B, Co] : [V, 2, U, B, Co],
      flops: Ci === 1 ? 6 * F * B * Co : (gauss ? 3 : 4) * gemmFlops(B, Ci, Co, F) + (gauss ? 5 : 2) * F * B * Co,
    }),
  );
  const outShape = outputShape(spec, g);
  const inverse = (
    id: string,
    name: string,
    kind: 'gemm' | 'bmm',
    input: number[],
    output: number[],
    flops: number,
    inner?: number,
  ) =>
    step({
      id,
      name,
      category: 'inverse-transform',
      kind,
      inLayer: false,
      inputShapes: [input],
      outputShape: output,
      flops,
      ...(inner ? { inner } : {}),
    });
  if (right) {
    if (Ci > 1) steps.push(layoutStep('transpose-freq', [2, V, U, B, Co], [B, Co, V, 2, U], false));
    steps.push(
      inverse(
        'ifft-h',
        'irfft2d · ifft over H',
        'gemm',
        [B, Co, V, 2, U],
        [B, Co, V, 2, oh],
        gemmFlops(B * Co * V, 2 * P, 2 * oh),
      ),
    );
    steps.push(layoutStep('transpose-rows', [B, Co, V, 2, oh], [B, Co, oh, V, 2], false));
    steps.push(
      inverse(
        'irfft-w',
        'irfft2d · C2R over W',
        'gemm',
        [B, Co, oh, V, 2],
        [B, Co, oh, ow],
        gemmFlops(B * Co * oh, 2 * V, ow),
      ),
    );
    if (nhwc) steps.push(layoutStep('transpose-out', [B, Co, oh, ow], outShape, false));
  } else {
    steps.push(
      inverse(
        'ifft-h',
        'irfft2d · ifft over H',
        'bmm',
        [V, 2, U, B, Co],
        [V, 2, oh, B, Co],
        gemmFlops(2 * oh, 2 * P, B * Co, V),
        2 * P,
      ),
    );
    steps.push(
      inverse(
        'irfft-w',
        'irfft2d · C2R over W',
        'gemm',
        [V, 2, oh, B, Co],
        [ow, oh, B, Co],
        gemmFlops(ow, 2 * V, oh * B * Co),
      ),
    );
    steps.push(layoutStep('transpose-out', [ow, oh, B, Co], outShape, false));
  }
  return { oneOff, steps };
}
