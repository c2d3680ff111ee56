/**
 * CUDA executors of the FNO layers: `fno` as PyTorch runs the reference code on a GPU (cuFFT R2C, per
 * corner a slice, the einsum's permutes and a strided-batched CGEMM, a zeroed out_ft and slice-assignment,
 * C2R) and `optimized` (both corners' modes gathered mode-major, one CGEMM on cached weights). Worker side.
 */
import { keptModes } from '../../../core/spec';
import type { Executors } from '../../executor';
import { type Buf, type Builder, exec } from './builder';

/** Mode weights (in, out, rows, cols, 2) → the rows [first, first + n) of each (in, out) pair. */
function weightRows(w: Float32Array, pairs: number, R: number, C: number, first: number, n: number): Float32Array {
  const out = new Float32Array(pairs * n * C * 2);
  for (let p = 0; p < pairs; p++)
    out.set(w.subarray((p * R + first) * C * 2, (p * R + first + n) * C * 2), p * n * C * 2);
  return out;
}

/** out_ft (maps of H × 2V floats) set to zero: fconv_pad reading nothing (every source row out of range). */
function zeroFill(b: Builder, dst: Buf, maps: number, H: number, V: number, any: Buf): void {
  b.a.pad({ input: any.buf, output: dst.buf, batch: maps, h: 1, w: 1, c: 1, top: H, left: 0, oh: H, ow: 2 * V });
}

export function fnoExecutors(b: Builder): { executors: Executors } {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = b.spec;
  const V = Math.floor(W / 2) + 1;
  const { top, bottom, cols: C, rows: R } = keptModes(b.spec);
  const mw = b.data.modeWeights!;
  const xin = b.inputSpectrum('');
  const outFt = b.alloc(B * Co * H * V * 2);
  const executors: Executors = { 'rfft2d-input': exec(`x_ft = rfft2(x): ${xin.exec.implementation}`, xin.run) };
  const corner = (id: string, first: number, wRow: number, n: number, which: string) => {
    const w = b.upload(weightRows(mw, Ci * Co, R, C, wRow, n));
    const M = n * C;
    const blk = b.alloc(B * Ci * M * 2),
      xf = b.alloc(M * B * Ci * 2),
      wf = b.alloc(M * Ci * Co * 2),
      yf = b.alloc(M * B * Co * 2),
      y = b.alloc(B * Co * M * 2);
    executors[id] = exec(
      `einsum('bixy,ioxy->boxy') on ${which} as PyTorch lowers it on a GPU: the ${n}×${C} slice of x_ft copied out (fconv_crop), both operands permuted mode-major on every call (fconv_permute4), cublasCgemmStridedBatched over ${M} modes of (${B}×${Ci})·(${Ci}×${Co}), permuted back`,
      () => {
        b.a.crop({
          input: xin.X.buf,
          output: blk.buf,
          batch: B * Ci,
          h: H,
          w: 2 * V,
          top: first,
          left: 0,
          oh: n,
          ow: 2 * C,
          scale: 1,
        });
        b.freqMajor(blk, xf, B, Ci, M);
        b.freqMajor(w, wf, Ci, Co, M);
        b.modeGemm(xf, wf, yf, M, false);
        b.fromFreqMajor(yf, y, M, B, Co);
        return y;
      },
    );
    return y;
  };
  const yTop = corner('einsum-top', 0, 0, top, 'corner 1');
  const yBottom = bottom > 0 ? corner('einsum-bottom', H - bottom, top, bottom, 'corner 2') : undefined;
  executors['zeros-out-ft'] = exec(
    `out_ft = zeros(${B}, ${Co}, ${H}, ${V}) complex, every call (a fill kernel)`,
    () => {
      zeroFill(b, outFt, B * Co, H, V, yTop);
      return outFt;
    },
  );
  executors['assign-modes'] = exec(
    'out_ft[:, :, rows, :cols] = … for each corner (fconv_copy2d into strided views)',
    () => {
      b.a.copy2d({
        input: yTop.buf,
        output: outFt.buf,
        batch: B * Co,
        ih: top,
        iw: 2 * C,
        oh: H,
        ow: 2 * V,
        rh: top,
        rw: 2 * C,
        it: 0,
        il: 0,
        ot: 0,
        ol: 0,
      });
      if (yBottom)
        b.a.copy2d({
          input: yBottom.buf,
          output: outFt.buf,
          batch: B * Co,
          ih: bottom,
          iw: 2 * C,
          oh: H,
          ow: 2 * V,
          rh: bottom,
          rw: 2 * C,
          it: 0,
          il: 0,
          ot: H - bottom,
          ol: 0,
        });
      return outFt;
    },
  );
  const inv = b.inverse(outFt, '');
  executors.irfft2d = exec(`irfft2(out_ft, s=(${H}, ${W})): ${inv.exec.implementation}`, inv.run);
  executors['fft-plans'] = b.planExecutor();
  return { executors };
}

export function optimizedFnoExecutors(b: Builder, gaussMinInChannels: number): { executors: Executors } {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = b.spec;
  const V = Math.floor(W / 2) + 1;
  const { top, bottom, cols: C, rows: R, count: M } = keptModes(b.spec);
  const gauss = Ci >= gaussMinInChannels;
  const w = b.upload(b.data.modeWeights!);
  const wf = b.alloc(M * Ci * Co * 2);
  const xin = b.inputSpectrum('');
  const g = b.alloc(B * Ci * M * 2),
    xf = b.alloc(M * B * Ci * 2),
    yf = b.alloc(M * B * Co * 2),
    y = b.alloc(B * Co * M * 2),
    outFt = b.alloc(B * Co * H * V * 2);
  const inv = b.inverse(outFt, '');
  const block = (
    input: Buf,
    output: Buf,
    maps: number,
    ih: number,
    oh: number,
    iw: number,
    ow: number,
    rh: number,
    it: number,
    ot: number,
  ) =>
    b.a.copy2d({
      input: input.buf,
      output: output.buf,
      batch: maps,
      ih,
      iw,
      oh,
      ow,
      rh,
      rw: 2 * C,
      it,
      il: 0,
      ot,
      ol: 0,
    });
  const executors: Executors = {
    'weights-cached': exec(
      `once per weight update, cached: (in, out, ${R}×${C} modes) → (${M} modes, in, out) (fconv_permute4)`,
      () => {
        b.freqMajor(w, wf, Ci, Co, M);
        return wf;
      },
    ),
    'rfft2d-input': exec(`x_ft = rfft2(x): ${xin.exec.implementation}`, xin.run),
    'gather-modes': exec(
      `the ${top}${bottom ? ` + ${bottom}` : ''} kept rows × ${C} columns of both corners gathered into one block (fconv_copy2d), then mode-major (${M}, batch, in) (fconv_permute4)`,
      () => {
        block(xin.X, g, B * Ci, H, R, 2 * V, 2 * C, top, 0, 0);
        if (bottom) block(xin.X, g, B * Ci, H, R, 2 * V, 2 * C, bottom, H - bottom, top);
        b.freqMajor(g, xf, B, Ci, M);
        return xf;
      },
    ),
    multiply: exec(
      `one ${gauss ? 'cublasCgemm3mStridedBatched (Gauss)' : 'cublasCgemmStridedBatched'} over all ${M} kept modes of (${B}×${Ci})·(${Ci}×${Co}), weights cached mode-major`,
      () => {
        b.modeGemm(xf, wf, yf, M, gauss);
        return yf;
      },
    ),
    'scatter-modes': exec(
      '(modes, batch, out) → (batch, out, modes) (fconv_permute4), out_ft zeroed and both blocks written (fconv_copy2d)',
      () => {
        b.fromFreqMajor(yf, y, M, B, Co);
        zeroFill(b, outFt, B * Co, H, V, y);
        block(y, outFt, B * Co, R, H, 2 * C, 2 * V, top, 0, 0);
        if (bottom) block(y, outFt, B * Co, R, H, 2 * C, 2 * V, bottom, top, H - bottom);
        return outFt;
      },
    ),
    irfft2d: exec(`irfft2(out_ft, s=(${H}, ${W})): ${inv.exec.implementation}`, inv.run),
    'fft-plans': b.planExecutor(),
  };
  return { executors };
}
