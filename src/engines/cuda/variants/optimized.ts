/**
 * CUDA executors of the optimized spectral layer: cached kernel spectrum, frequency-major product, cuFFT. Worker
 * side.
 */
import type { Executors } from '../../executor';
import { type Builder, exec } from './builder';

export function optimizedExecutors(b: Builder, gaussMinInChannels: number): { executors: Executors } {
  const { batch: B, inChannels: Ci, outChannels: Co } = b.spec;
  const { fftH: P, freqW: V } = b.g;
  const F = P * V;
  const gauss = Ci >= gaussMinInChannels;
  const w = b.upload(b.data.kernel);
  const ks = b.kernelSpectrum(w);
  const Kf = Ci > 1 ? b.alloc(F * Ci * Co * 2) : ks.K;
  const xin = b.inputSpectrum('');
  const Y = b.alloc(B * Co * F * 2);
  const executors: Executors = {
    'rfft2d-kernel-cached': exec(
      `once per weight update, cached: cuFFT R2C of the ${Ci * Co} kernel maps${Ci > 1 ? ', laid out frequency-major (F, in, out)' : ''}`,
      () => {
        ks.run();
        if (Ci > 1) b.freqMajor(ks.K, Kf, Ci, Co, F);
        return Kf;
      },
    ),
    'rfft2d-input': xin.exec,
  };
  if (Ci === 1) {
    executors.multiply = exec(
      'broadcast multiply (in-channels = 1): y[b, o, f] = x[b, f]·k[o, f], one kernel (fconv_bcast_cmul), no transposes, no GEMM',
      () => {
        b.a.bcastCmul({ x: xin.X.buf, k: Kf.buf, y: Y.buf, batch: B, out: Co, freqs: F });
        return Y;
      },
    );
  } else {
    const Xf = b.alloc(F * B * Ci * 2),
      Yf = b.alloc(F * B * Co * 2);
    executors['transpose-x'] = exec(
      '(batch, in, F) → (F, batch, in): frequency-major for the batched GEMM (fconv_permute4)',
      () => {
        b.freqMajor(xin.X, Xf, B, Ci, F);
        return Xf;
      },
    );
    executors.multiply = exec(
      `${gauss ? "cublasCgemm3mStridedBatched (Gauss's 3-multiplication form)" : 'cublasCgemmStridedBatched'} over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co})`,
      () => {
        b.modeGemm(Xf, Kf, Yf, F, gauss);
        return Yf;
      },
    );
    executors['transpose-y'] = exec(
      '(F, batch, out) → (batch, out, F) for the inverse transform (fconv_permute4)',
      () => {
        b.fromFreqMajor(Yf, Y, F, B, Co);
        return Y;
      },
    );
  }
  executors.irfft2d = b.inverse(Y, '').exec;
  executors['fft-plans'] = b.planExecutor();
  return { executors };
}
