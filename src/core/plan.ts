/**
 * The steps a variant will run, from the spec alone: ids, shapes, FLOPs, bytes and kind, the same
 * numbers the engine records when it runs them (a test holds the two together). What `fconv predict`
 * and the sweep's predictions are computed from. Host-free.
 */
import { convFlops, gemmFlops, ioBytes } from './cost';
import type { StepCost, StepKind } from './model';
import { type LayerSpec, geometry, outputShape } from './spec';

export interface PlannedStep extends StepCost {
  id: string;
  inLayer: boolean;
  oneOff: boolean;
}

/**
 * Where the constant DFT matrices go. wasm (XNNPACK) packs the right operand of a matmul and caches
 * it when that operand is the same tensor call after call, so constants go on the right and the data
 * on the left, at the price of one more transpose. On the other backends a matmul costs the same either
 * way, batched matmuls are cheap and broadcasting elementwise ops are slow (cpu), so the pipeline keeps
 * the frequency axis leading and multiplies constants from the left.
 */
export type Orientation = 'right' | 'left';
export function orientationFor(backend: string): Orientation {
  return backend === 'wasm' ? 'right' : 'left';
}

/**
 * Gauss's 3-multiplication complex product pays once the matmuls outweigh its extra adds. Measured
 * (batch 8, 16×16, 32 out-channels; product step medians, 4-mult vs Gauss): wasm wins from 2
 * in-channels (1.47 vs 1.10 ms at 2, 7.99 vs 6.52 ms at 32); cpu from 8 (6.59 vs 6.37 ms at 8,
 * 3.99 vs 4.35 ms at 2, 31.9 vs 27.8 ms at 64).
 */
export function gaussMinInChannels(backend: string): number {
  return backend === 'wasm' ? 2 : 8;
}

function st(id: string, kind: StepKind, inputs: number[][], output: number[], flops: number, extra: Partial<PlannedStep> = {}): PlannedStep {
  return { id, kind, flops, bytes: ioBytes(inputs, output), inLayer: true, oneOff: false, ...extra };
}

function layoutWrap(spec: LayerSpec, outNhwc: number[], inner: PlannedStep[]): PlannedStep[] {
  if (spec.layout === 'NHWC') return inner;
  const { batch: B, height: H, width: W, inChannels: Ci } = spec;
  const [, oh, ow, co] = outNhwc as [number, number, number, number];
  return [
    st('to-nhwc', 'copy', [[B, Ci, H, W]], [B, H, W, Ci], 0),
    ...inner,
    st('to-nchw', 'copy', [outNhwc], [B, co, oh, ow], 0),
  ];
}

export function planSpatial(spec: LayerSpec): PlannedStep[] {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, spatialKernel: k } = spec;
  const out = [B, H, W, Co];
  return layoutWrap(spec, out, [st('conv2d', 'conv', [[B, H, W, Ci], [k, k, Ci, Co]], out, convFlops(B, H, W, Ci, Co, k, k), { inner: Ci, kernel: k })]);
}

export function planSpatialEquivalent(spec: LayerSpec): PlannedStep[] {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const out = [B, g.outH, g.outW, Co];
  const steps: PlannedStep[] = [];
  let convIn = [B, H, W, Ci];
  if (spec.padding === 'circular' && (kh > 1 || kw > 1)) {
    const padded = [B, H + kh - 1, W + kw - 1, Ci];
    steps.push(st('pad-wrap', 'pad', [convIn], padded, 0, { inner: Ci }));
    convIn = padded;
  }
  steps.push(st('conv2d', 'conv', [convIn, [kh, kw, Ci, Co]], out, convFlops(B, g.outH, g.outW, Ci, Co, kh, kw), { inner: Ci, kernel: Math.max(kh, kw) }));
  return layoutWrap(spec, out, steps);
}

export function planOptimized(spec: LayerSpec, backend: string): PlannedStep[] {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH, Q = g.fftW, V = g.freqW, U = P, F = U * V;
  const oh = g.outH, ow = g.outW;
  const nhwc = spec.layout === 'NHWC';
  const right = orientationFor(backend) === 'right';
  const gauss = Ci >= gaussMinInChannels(backend);
  const transformFlops = (m: number) => gemmFlops(m * P, Q, 2 * V) + gemmFlops(m * V, 2 * P, 2 * P);
  const outside = { inLayer: false };
  const steps: PlannedStep[] = [
    st('rfft2d-kernel-cached', 'gemm', [[kh, kw, Ci, Co]], [2, V, U, Ci, Co], transformFlops(Ci * Co), { oneOff: true }),
  ];
  if (P !== H || Q !== W) steps.push(st('pad-input', 'pad', [nhwc ? [B, H, W, Ci] : [B, Ci, H, W]], nhwc ? [B, P, Q, Ci] : [B, Ci, P, Q], 0, { ...outside, inner: nhwc ? Ci : W }));
  steps.push(st('rfft2d-input', 'gemm', [nhwc ? [B, P, Q, Ci] : [B, Ci, P, Q]], Ci === 1 ? [B, V, 2, U] : [2, V, U, B, Ci],
    transformFlops(B * Ci) + (Ci === 1 ? gemmFlops(B * V, 2 * P, 2 * U) : 0), outside));
  steps.push(st('multiply', Ci === 1 && right ? 'elementwise' : 'bmm',
    [Ci === 1 ? [B, V, 2, U] : [2, V, U, B, Ci], [2, V, U, Ci, Co]],
    Ci === 1 ? (right ? [B, Co, V, 2, U] : [V, 2, U, B, Co]) : right ? [2, V, U, B, Co] : [V, 2, U, B, Co],
    Ci === 1 ? 6 * F * B * Co : (gauss ? 3 : 4) * gemmFlops(B, Ci, Co, F) + (gauss ? 5 : 2) * F * B * Co,
    { inner: Ci, ...(Ci === 1 && right ? { passes: 3 } : {}) }));
  const outShape = outputShape(spec, g);
  if (right) {
    if (Ci > 1) steps.push(st('transpose-freq', 'copy', [[2, V, U, B, Co]], [B, Co, V, 2, U], 0, outside));
    steps.push(st('ifft-h', 'gemm', [[B, Co, V, 2, U]], [B, Co, V, 2, oh], gemmFlops(B * Co * V, 2 * P, 2 * oh), outside));
    steps.push(st('transpose-rows', 'copy', [[B, Co, V, 2, oh]], [B, Co, oh, V, 2], 0, outside));
    steps.push(st('irfft-w', 'gemm', [[B, Co, oh, V, 2]], [B, Co, oh, ow], gemmFlops(B * Co * oh, 2 * V, ow), outside));
    if (nhwc) steps.push(st('transpose-out', 'copy', [[B, Co, oh, ow]], outShape, 0, outside));
  } else {
    steps.push(st('ifft-h', 'bmm', [[V, 2, U, B, Co]], [V, 2, oh, B, Co], gemmFlops(2 * oh, 2 * P, B * Co, V), { ...outside, inner: 2 * P }));
    steps.push(st('irfft-w', 'gemm', [[V, 2, oh, B, Co]], [ow, oh, B, Co], gemmFlops(ow, 2 * V, oh * B * Co), outside));
    steps.push(st('transpose-out', 'copy', [[ow, oh, B, Co]], outShape, 0, outside));
  }
  return steps;
}
