/**
 * CUDA executors of both spatial variants: explicit zero / wrap padding, then a 'valid' cuDNN convolution. Worker
 * side.
 */
import { EngineUnavailableError } from '../../engine';
import type { Executors } from '../../executor';
import type { AlgorithmPerf, ConvOptions } from '../discovery';
import { type Builder, exec } from './builder';

function convExecutors(
  b: Builder,
  w: Float32Array,
  kh: number,
  kw: number,
  top: number,
  left: number,
  circular: boolean,
  convolution: boolean,
  valid: boolean,
  label: string,
) {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = b.spec;
  if (!b.hasCudnn)
    throw new EngineUnavailableError('engine cuda cannot run the spatial variants here: libcudnn was not found');
  const x = b.upload(b.data.input);
  const filter = b.upload(filterLayout(w, kh, kw, Ci, Co, b.nhwc));
  const ph = valid ? H : H + kh - 1,
    pw = valid ? W : W + kw - 1;
  const oh = ph - kh + 1,
    ow = pw - kw + 1;
  const executors: Executors = {};
  let src = x;
  if (!valid) {
    const padded = b.alloc(B * Ci * ph * pw);
    const mapBatch = b.nhwc ? B : B * Ci,
      c = b.nhwc ? Ci : 1;
    executors.pad = exec(`${circular ? 'wrap-around' : 'zero'} padding to ${ph}×${pw} (addon kernel fconv_pad)`, () => {
      b.a.pad({
        input: x.buf,
        output: padded.buf,
        batch: mapBatch,
        h: H,
        w: W,
        c,
        top,
        left,
        oh: ph,
        ow: pw,
        circular,
      });
      return padded;
    });
    src = padded;
  }
  const y = b.alloc(B * Co * oh * ow);
  const desc: ConvOptions = {
    n: B,
    c: Ci,
    h: ph,
    w: pw,
    k: Co,
    r: kh,
    s: kw,
    padH: 0,
    padW: 0,
    nhwc: b.nhwc,
    convolution,
  };
  // Descriptors, Find, the algorithm's math type and its workspace: all here, once; the timed step only launches.
  const conv = b.prepareConv(desc);
  const algorithms: AlgorithmPerf[] = b.a.convAlgorithms(conv);
  const best = algorithms.filter((p) => p.status === 'ok').sort((p, q) => p.ms - q.ms)[0];
  if (!best)
    throw new Error(
      `cuDNN has no algorithm for this convolution: ${algorithms.map((p) => `${p.algo} ${p.status}`).join(', ')}`,
    );
  b.a.convSelect(conv, best.algo, best.math);
  const math = best.math === 'FMA' ? 'FP32 FMA math, TF32 off' : `${best.math} math`;
  executors.conv2d = exec(
    `cuDNN ${best.algo} (the fastest of ${algorithms.length} by cudnnFindConvolutionForwardAlgorithm, ${math}), ${label}, ${b.spec.layout}`,
    () => {
      b.a.convRun(conv, src.buf, filter.buf, y.buf);
      return y;
    },
  );
  return { executors, algorithms };
}

export function spatialExecutors(b: Builder) {
  const k = b.spec.spatialKernel;
  const top = Math.floor((k - 1) / 2);
  return convExecutors(b, b.data.spatialKernel, k, k, top, top, false, false, false, "cross-correlation, 'same'");
}

export function spatialEquivalentExecutors(b: Builder) {
  const { kernelH: kh, kernelW: kw, padding } = b.spec;
  const circular = padding === 'circular';
  const top = circular ? kh - 1 : Math.floor((kh - 1) / 2),
    left = circular ? kw - 1 : Math.floor((kw - 1) / 2);
  return convExecutors(
    b,
    b.data.kernel,
    kh,
    kw,
    top,
    left,
    circular,
    true,
    padding === 'valid',
    'true convolution (CUDNN_CONVOLUTION)',
  );
}

/** HWIO (kh, kw, in, out) → KRSC (out, kh, kw, in) for NHWC or KCRS (out, in, kh, kw) for NCHW; optionally flipped. */
export function filterLayout(
  w: Float32Array,
  kh: number,
  kw: number,
  ci: number,
  co: number,
  nhwc: boolean,
): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < ci; c++)
        for (let o = 0; o < co; o++) {
          const v = w[((i * kw + j) * ci + c) * co + o]!;
          out[nhwc ? ((o * kh + i) * kw + j) * ci + c : ((o * ci + c) * kh + i) * kw + j] = v;
        }
  return out;
}
