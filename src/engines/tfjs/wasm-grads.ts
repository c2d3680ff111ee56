/**
 * The gradient kernel tfjs's wasm backend lacks: Conv2DBackpropFilter (tfjs-backend-wasm 4.x registers
 * Conv2DBackpropInput but not the filter's, so `tf.grads` of a conv2d fails there). Registered for wasm as
 * what the filter gradient is — a convolution of the (padded) input with the output gradient, the batch as
 * the contracted channel — on the backend's own XNNPACK Conv2D, Transpose and PadV2 kernels. Stride 1,
 * dilation 1, NHWC (every convolution the profiler runs). Worker side.
 */
import * as tf from '@tensorflow/tfjs-core';

type Info = tf.TensorInfo;
type Run = (args: { inputs: Record<string, Info>; backend: unknown; attrs?: Record<string, unknown> }) => Info;

/** What the filter gradient runs as, in words (the training step's notes on wasm). */
export const WASM_FILTER_GRAD_NOTE =
  "tfjs's wasm backend has no Conv2DBackpropFilter kernel: the filter gradient runs as a convolution of the padded input with the output gradient (batch as the contracted channel) on XNNPACK";

function kernel(name: string): Run {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`internal: tfjs's wasm backend has no ${name} kernel`);
  return k.kernelFunc as unknown as Run;
}

function filterGrad(args: { inputs: Record<string, Info>; backend: unknown; attrs?: Record<string, unknown> }): Info {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const x = inputs.x!,
    dy = inputs.dy!;
  const strides = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
  if (strides[0] !== 1 || strides[1] !== 1 || attrs.dataFormat === 'NCHW')
    throw new Error('Conv2DBackpropFilter on wasm: only stride 1, NHWC is implemented here');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    1,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const dispose = (t: Info) => (backend as { disposeData(id: object): void }).disposeData(t.dataId);
  const padded =
    top || bottom || left || right
      ? kernel('PadV2')({
          inputs: { x },
          backend,
          attrs: {
            paddings: [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
            constantValue: 0,
          },
        })
      : x;
  // (B, Hp, Wp, Ci) → (Ci, Hp, Wp, B): Ci "images" of B channels; dy (B, Ho, Wo, Co) → (Ho, Wo, B, Co) as the filter.
  const xt = kernel('Transpose')({ inputs: { x: padded }, backend, attrs: { perm: [3, 1, 2, 0] } });
  if (padded !== x) dispose(padded);
  const dyt = kernel('Transpose')({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
  const g = kernel('Conv2D')({
    inputs: { x: xt, filter: dyt },
    backend,
    attrs: { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC' },
  }); // (Ci, kh, kw, Co)
  dispose(xt);
  dispose(dyt);
  const out = kernel('Transpose')({ inputs: { x: g }, backend, attrs: { perm: [1, 2, 0, 3] } });
  dispose(g);
  return out;
}

/** Registers the wasm backend's missing gradient kernels (once per process). */
export function registerWasmGradients(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: filterGrad as unknown as tf.KernelFunc,
  });
}
