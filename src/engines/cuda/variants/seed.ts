/** CUDA executors of the question's recipe, as TensorFlow runs it on a GPU. Worker side. */
import type { Executors } from '../../executor';
import { type Builder, exec } from './builder';

export function seedExecutors(b: Builder): { executors: Executors } {
  const { batch: B, inChannels: Ci, outChannels: Co } = b.spec;
  const { fftH: P, fftW: Q, freqW: V } = b.g;
  const F = P * V;
  // The seed keeps its kernel as (in, H, W, out); on the device it is stored as given (HWIO here) and
  // transformed on every call.
  const w = b.upload(b.data.kernel);
  const ks = b.kernelSpectrum(w);
  const xin = b.inputSpectrum("; outside the question's layer as written (it is fed spectra)");
  const Xs = b.alloc(B * F * Ci * 2),
    Kt = b.alloc(F * Ci * Co * 2),
    Xt = b.alloc(F * B * Ci * 2);
  const Yt = b.alloc(F * B * Co * 2),
    Ys = b.alloc(B * F * Co * 2),
    Yc = b.alloc(B * Co * F * 2);
  const inv = b.inverse(Yc, "; the question's layer stayed in the Fourier domain, this is for the check");
  const executors: Executors = {
    'rfft2d-input': exec(`${xin.exec.implementation}; laid out (batch, F, in) as the question's einsum expects`, () => {
      const X = xin.run();
      b.a.permute({ input: X.buf, output: Xs.buf, d0: B, d1: Ci, d2: F, d3: 1, p0: 0, p1: 2, p2: 1, p3: 3, elem: 2 });
      return Xs;
    }),
    'rfft2d-kernel': exec(
      `every call: kernel maps moved to (in, out, H, W), zero-padded to ${P}×${Q}, cuFFT R2C of ${Ci * Co} maps`,
      ks.run,
    ),
    'transpose-kernel': exec(
      'the complex kernel spectrum to (F, in, out) (fconv_permute4), as perm [2,1,0,3] does',
      () => {
        b.freqMajor(ks.K, Kt, Ci, Co, F);
        return Kt;
      },
    ),
    einsum: exec(
      `'ijkl,jklo->ijko' as TensorFlow lowers it: transpose to (F, batch, in), cublasCgemmStridedBatched over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co}), transpose back${Ci === 1 ? '; with in-channels = 1 every GEMM is a K = 1 outer product' : ''}`,
      () => {
        b.a.permute({
          input: Xs.buf,
          output: Xt.buf,
          d0: B,
          d1: F,
          d2: Ci,
          d3: 1,
          p0: 1,
          p1: 0,
          p2: 2,
          p3: 3,
          elem: 2,
        });
        b.a.cgemm({
          m: B,
          n: Co,
          k: Ci,
          a: Xt.buf,
          strideA: B * Ci,
          b: Kt.buf,
          strideB: Ci * Co,
          c: Yt.buf,
          strideC: B * Co,
          batch: F,
        });
        b.a.permute({
          input: Yt.buf,
          output: Ys.buf,
          d0: F,
          d1: B,
          d2: Co,
          d3: 1,
          p0: 1,
          p1: 0,
          p2: 2,
          p3: 3,
          elem: 2,
        });
        return Ys;
      },
    ),
    irfft2d: exec(`(batch, F, out) → (batch, out, F) (fconv_permute4), ${inv.exec.implementation}`, () => {
      b.a.permute({ input: Ys.buf, output: Yc.buf, d0: B, d1: F, d2: Co, d3: 1, p0: 0, p1: 2, p2: 1, p3: 3, elem: 2 });
      return inv.run();
    }),
  };
  executors['fft-plans'] = b.planExecutor();
  return { executors };
}
