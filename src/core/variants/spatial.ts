/**
 * The two spatial variants: the Conv2D the layer is compared with (`spatial`) and the convolution that
 * computes exactly what the spectral layers compute (`spatial-equivalent`). Host-free.
 */
import { convFlops } from '../cost';
import { type LayerSpec, geometry, inputShape } from '../spec';
import { type ExecutorTraits, type PlannedStep, type VariantPlan, layoutStep, step } from './step';

interface ConvShape {
  kh: number;
  kw: number;
  /** Wrap-around padding (circular) rather than zeros. */
  circular: boolean;
  /** No padding at all. */
  valid: boolean;
  outH: number;
  outW: number;
}

/** Padding, convolution and the layout changes around it, as the executor's convolution needs them. */
function convSteps(spec: LayerSpec, c: ConvShape, t: ExecutorTraits): PlannedStep[] {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const { kh, kw } = c;
  const nhwc = spec.layout === 'NHWC';
  const weights = [kh, kw, Ci, Co];
  const conv = (input: number[], output: number[], oh: number, ow: number) =>
    step({
      id: 'conv2d',
      name: 'conv2d',
      category: 'convolution',
      kind: 'conv',
      inner: Ci,
      kernel: Math.max(kh, kw),
      inputShapes: [input, weights],
      outputShape: output,
      flops: convFlops(B, oh, ow, Ci, Co, kh, kw),
    });
  if (t.conv === 'explicit') {
    // Explicit zero / wrap padding to (H + kh − 1) × (W + kw − 1), then a 'valid' convolution in the spec's layout.
    const ph = c.valid ? H : H + kh - 1,
      pw = c.valid ? W : W + kw - 1;
    const oh = ph - kh + 1,
      ow = pw - kw + 1;
    const shape = (h: number, w: number, ch: number) => (nhwc ? [B, h, w, ch] : [B, ch, h, w]);
    const steps: PlannedStep[] = [];
    if (!c.valid) {
      const input = inputShape(spec);
      steps.push(
        step({
          id: 'pad',
          name: 'pad',
          category: 'padding',
          kind: 'pad',
          inner: input.at(-1),
          inputShapes: [input],
          outputShape: shape(ph, pw, Ci),
          flops: 0,
        }),
      );
    }
    steps.push(conv(shape(ph, pw, Ci), shape(oh, ow, Co), oh, ow));
    return steps;
  }
  // A convolution in one layout (NHWC on tfjs, NCHW on torch) with its own 'same' / 'valid' padding;
  // circular as a wrap-padding step; transposes around it when the spec's layout is the other one.
  const convNhwc = t.conv === 'nhwc-builtin';
  const shape = (h: number, w: number, ch: number) => (convNhwc ? [B, h, w, ch] : [B, ch, h, w]);
  const out = shape(c.outH, c.outW, Co);
  const steps: PlannedStep[] = [];
  const other = nhwc !== convNhwc;
  if (other) steps.push(layoutStep(convNhwc ? 'to-nhwc' : 'to-nchw', inputShape(spec), shape(H, W, Ci)));
  let convIn = shape(H, W, Ci);
  if (c.circular && (kh > 1 || kw > 1)) {
    const padded = shape(H + kh - 1, W + kw - 1, Ci);
    steps.push(
      step({
        id: 'pad-wrap',
        name: 'pad',
        category: 'padding',
        kind: 'pad',
        inner: convNhwc ? Ci : W,
        inputShapes: [convIn],
        outputShape: padded,
        flops: 0,
      }),
    );
    convIn = padded;
  }
  steps.push(conv(convIn, out, c.outH, c.outW));
  if (other) {
    const final = nhwc ? [B, c.outH, c.outW, Co] : [B, Co, c.outH, c.outW];
    steps.push(layoutStep(convNhwc ? 'to-nchw' : 'to-nhwc', out, final));
  }
  return steps;
}

export function planSpatial(spec: LayerSpec, t: ExecutorTraits): VariantPlan {
  const k = spec.spatialKernel;
  return {
    name: 'spatial',
    title: `Conv2D ${k}×${k}`,
    kind: 'spatial',
    description: `The Conv2D the layer is compared against: ${k}×${k} kernel, 'same' padding, cross-correlation as Conv2D computes — a different, much smaller function than the spectral layer's ${spec.kernelH}×${spec.kernelW} kernel.`,
    reference: 'naive direct convolution',
    oneOff: [],
    steps: convSteps(spec, { kh: k, kw: k, circular: false, valid: false, outH: spec.height, outW: spec.width }, t),
  };
}

export function planSpatialEquivalent(spec: LayerSpec, t: ExecutorTraits): VariantPlan {
  const { kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const circular = spec.padding === 'circular';
  return {
    name: 'spatial-equivalent',
    title: `Conv2D ${kh}×${kw} (${spec.padding})`,
    kind: 'spatial',
    description: `The spatial convolution that computes exactly what the spectral layers compute: ${g.describes}.`,
    reference: 'naive direct convolution',
    oneOff: [],
    steps: convSteps(spec, { kh, kw, circular, valid: spec.padding === 'valid', outH: g.outH, outW: g.outW }, t),
  };
}
