/**
 * The machine probe: about a second of representative kernels on the active tfjs backend, giving the
 * rates the cost model is calibrated with — 2-D GEMM; batched small GEMMs at two inner sizes (their
 * speed depends on it); conv2d at 1 input channel (two kernel sizes) and at 4 and 16; the backend's own rfft/irfft
 * composition; elementwise, pad and transpose bandwidth; the fixed cost of one op. Wall-clock between
 * syncs, first quartile of 9 repetitions after one warm-up.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dftComplexFlops, dftRealFlops } from '../../core/cost';
import type { Probe } from '../../core/model';
import { disposeCx } from './variants';
import type { ComplexKit } from './complex';

/** The first quartile: interference on a shared machine only ever slows a kernel down, so the faster
 * quarter of the samples is the better estimate of what the kernel costs. */
function lowerQuartile(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 4)]!;
}

/** Called before each measurement: reports it and lets a cancel in (throws to stop). */
export type ProbeTick = (what: string, index: number, count: number) => Promise<void>;

/** The measurements, in order (for progress). */
const MEASUREMENTS = 20;

/** First-quartile seconds of `f` (its result synced and disposed each time) after one warm-up. */
function timeOp(f: () => unknown, sync: (v: unknown) => void, reps: number): number {
  const warm = f();
  sync(warm);
  disposeCx(warm);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = f();
    sync(r);
    times.push((performance.now() - t0) / 1000);
    disposeCx(r);
  }
  return lowerQuartile(times);
}

const gflops = (flops: number, s: number) => flops / s / 1e9;

export async function runProbe(
  backend: string,
  device: string,
  kit: ComplexKit,
  sync: (v: unknown) => void,
  tick: ProbeTick = async () => {},
  reps = 9,
): Promise<Probe> {
  let done = 0;
  /** Times `f` after reporting `what`; between measurements a cancel can stop the probe. */
  const measure = async (what: string, f: () => unknown, n = reps) => {
    await tick(what, done++, MEASUREMENTS);
    return timeOp(f, sync, n);
  };
  const keep: tf.Tensor[] = [];
  const rnd = (shape: number[]) => {
    const t = tf.randomUniform(shape, -1, 1, 'float32', 7);
    keep.push(t);
    return t;
  };
  const started = performance.now();
  try {
    // 2-D GEMM: (4096×128)·(128×128), the class of the DFT-as-GEMM transforms (constant right operand).
    const a = rnd([4096, 128]) as tf.Tensor2D,
      b = rnd([128, 128]) as tf.Tensor2D;
    const gemmSec = await measure('2-D GEMM', () => tf.matMul(a, b));
    const gemm = gflops(2 * 4096 * 128 * 128, gemmSec);
    // Its backward (both operands' gradients: products with a transposed operand, twice the forward's FLOPs),
    // forward + backward through the tape with the forward's time taken off.
    const gemmBoth = await measure('2-D GEMM backward', () => {
      const { value, grads } = tf.engine().gradients(() => tf.matMul(a, b), [a, b], undefined, true);
      value.dispose();
      return grads;
    });
    const gemmBackward = gflops(4 * 4096 * 128 * 128, Math.max(gemmBoth - gemmSec, 0.05 * gemmBoth));
    // Batched GEMMs over 256 positions, (32×K)·(K×32): the complex product over frequencies, K = in-channels.
    const bmm: Probe['bmm'] = [];
    for (const k of [4, 32]) {
      const x = rnd([256, 32, k]) as tf.Tensor3D,
        y = rnd([256, k, 32]) as tf.Tensor3D;
      const sec = await measure(`batched GEMM, K = ${k}`, () => tf.matMul(x, y));
      bmm.push({ inner: k, gflops: gflops(2 * 256 * 32 * k * 32, sec) });
    }
    // conv2d 'same', 32×32 → 32 channels: with one input channel at 3×3 and 9×9 (XNNPACK's rate
    // grows with the kernel there), and 5×5 at 4 and 16 input channels (near-GEMM rates, set by the channels).
    const conv: Probe['conv'] = [];
    const convBackward: Probe['conv'] = [];
    for (const [cin, k] of [
      [1, 3],
      [1, 9],
      [4, 5],
      [16, 5],
    ] as const) {
      const b = cin === 1 ? 32 : 8; // the one-channel convs are cheap: more images for a stable time
      const x = rnd([b, 32, 32, cin]) as tf.Tensor4D,
        w = rnd([k, k, cin, 32]) as tf.Tensor4D;
      const sec = await measure(`conv2d ${k}×${k}, ${cin} in-channels`, () => tf.conv2d(x, w, 1, 'same'));
      conv.push({ inner: cin, kernel: k, gflops: gflops(2 * b * 32 * 32 * cin * 32 * k * k, sec) });
      // Its backward (the data and the filter gradients, twice the forward's FLOPs) through tfjs's tape: the
      // forward + backward timed, the forward's time taken off (the tape cannot run a backward alone).
      const both = await measure(`conv2d ${k}×${k} backward`, () => {
        const { value, grads } = tf.engine().gradients(() => tf.conv2d(x, w, 1, 'same'), [x, w], undefined, true);
        value.dispose();
        return grads;
      });
      convBackward.push({
        inner: cin,
        kernel: k,
        gflops: gflops(4 * b * 32 * 32 * cin * 32 * k * k, Math.max(both - sec, 0.05 * both)),
      });
    }
    // A 2-D rfft and its inverse made of the backend's own 1-D transforms, as tf.signal.rfft2d /
    // irfft2d are on tfjs (rfft over W, transpose, complex FFT over H), on 64 maps of 32×32; FLOPs
    // counted as the seed's steps count them (DFT-as-GEMM).
    const m = 64,
      n = 32,
      v = n / 2 + 1;
    const fx = rnd([m, n, n]);
    const forward = () => {
      const a = kit.rfftLast(fx);
      const b = kit.transpose(a, [0, 2, 1]);
      disposeCx(a);
      const c = kit.fftLast(b, false);
      disposeCx(b);
      return c;
    };
    const fft = gflops(dftRealFlops(m * n, n) + dftComplexFlops(m * v, n), await measure('rfft2d', forward));
    const spectrum = forward();
    const inverse = () => {
      const a = kit.fftLast(spectrum, true);
      const b = kit.transpose(a, [0, 2, 1]);
      disposeCx(a);
      const r = kit.irfftLast(b, n);
      disposeCx(b);
      return r;
    };
    const ifft = gflops(dftComplexFlops(m * v, n) + 2 * m * n * 2 * v * n, await measure('irfft2d', inverse));
    disposeCx(spectrum);
    // Elementwise: an outer broadcast multiply (32, 1, 840) ⊙ (1, 32, 840), as the product of spectra
    // with one in-channel; bytes = inputs + output.
    const e1 = rnd([32, 1, 840]),
      e2 = rnd([1, 32, 840]);
    const elementwiseGBs =
      (4 * (2 * 32 * 840 + 32 * 32 * 840)) / (await measure('elementwise', () => tf.mul(e1, e2))) / 1e9;
    // Zero padding (tf.pad) 28×28 → 35×35 with 1 and 16 elements in the innermost axis (short
    // contiguous rows copy slowly), bytes = input + output.
    const pad: Probe['pad'] = [];
    for (const c of [1, 16]) {
      const b = 64 / c;
      const px = rnd([b, 28, 28, c]);
      const amounts: Array<[number, number]> = [
        [0, 0],
        [0, 7],
        [0, 7],
        [0, 0],
      ];
      const sec = await measure(`pad, rows of ${c}`, () => tf.pad(px, amounts));
      pad.push({ inner: c, gflops: (4 * b * c * (28 * 28 + 35 * 35)) / sec / 1e9 });
    }
    // Transpose: (1024, 30, 28) swapping the last two axes (3.4 MB read and written), the size class of
    // the spectra the pipelines transpose.
    const tx = rnd([1024, 30, 28]);
    const copy3 = (2 * 4 * 1024 * 30 * 28) / (await measure('transpose', () => tf.transpose(tx, [0, 2, 1]))) / 1e9;
    // …and a 4-D permute that moves the innermost axis (NCHW → NHWC of 4 × 32 × 28 × 28, 0.4 MB), the other
    // kind the pipelines run; layout steps are priced at the geometric mean of the two.
    const t4 = rnd([4, 32, 28, 28]);
    const copy4 =
      (2 * 4 * 4 * 32 * 28 * 28) / (await measure('transpose 4-D', () => tf.transpose(t4, [0, 2, 3, 1]))) / 1e9;
    const copyGBs = Math.sqrt(copy3 * copy4);
    // Fixed cost of one small op (dispatch, allocation, sync).
    const s = rnd([8, 8]);
    const overheadUs = (await measure('per-op cost', () => tf.add(s, s), 50)) * 1e6;
    return {
      backend,
      device,
      gemmGflops: gemm,
      bmm,
      conv,
      convBackward,
      gemmBackwardGflops: gemmBackward,
      fftGflops: fft,
      ifftGflops: ifft,
      elementwiseGBs,
      copyGBs,
      pad,
      overheadUs,
      measuredAt: new Date().toISOString(),
      seconds: (performance.now() - started) / 1000,
      reps,
    };
  } finally {
    tf.dispose(keep);
  }
}
