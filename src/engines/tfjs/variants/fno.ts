/**
 * tfjs executors of the FNO layers: `fno` as the reference code writes it (full rfft2, one einsum per
 * block of kept modes, zero-filled out_ft, irfft2) and `optimized` (truncated DFTs, one batched GEMM over
 * the modes, no out_ft). Transforms are real GEMMs against DFT matrices on every tfjs backend (wasm has
 * no complex kernels), so both variants do the same kind of arithmetic. Worker side.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerData } from '../../../core/data';
import { keptRows } from '../../../core/fno';
import { type LayerSpec, keptModes } from '../../../core/spec';
import type { Executors } from '../../executor';
import { c2rMatrix, complexRight, keptForwardRight, keptInverseRight, r2cMatrix } from '../dft';
import { type BuildContext, exec, get } from './common';

/** Mode weights (in, out, rows, cols, 2) → real and imaginary parts, (in, out, rows, cols) each. */
function weightParts(spec: LayerSpec, data: LayerData): { re: tf.Tensor4D; im: tf.Tensor4D } {
  const { inChannels: Ci, outChannels: Co } = spec;
  const { rows: R, cols: C } = keptModes(spec);
  const w = data.modeWeights;
  if (!w) throw new Error('internal: an FNO layer without mode weights');
  const re = new Float32Array(Ci * Co * R * C),
    im = new Float32Array(re.length);
  for (let i = 0; i < re.length; i++) {
    re[i] = w[2 * i]!;
    im[i] = w[2 * i + 1]!;
  }
  return { re: tf.tensor4d(re, [Ci, Co, R, C]), im: tf.tensor4d(im, [Ci, Co, R, C]) };
}

function constants() {
  const mats: tf.Tensor[] = [];
  const mat = (m: Float32Array, shape: [number, number]) => {
    const t = tf.keep(tf.tensor2d(m, shape));
    mats.push(t);
    return t;
  };
  return { mats, mat };
}

export function fnoExecutors(spec: LayerSpec, data: LayerData, _ctx: BuildContext) {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const V = Math.floor(W / 2) + 1;
  const { top, bottom, cols: C, rows: R } = keptModes(spec);
  const { mats, mat } = constants();
  const r2c = mat(r2cMatrix(W, V), [W, 2 * V]);
  const fwdH = mat(complexRight(H, false), [2 * H, 2 * H]);
  const invH = mat(complexRight(H, true), [2 * H, 2 * H]);
  const c2r = mat(c2rMatrix(W, V), [2 * V, W]);
  const w = weightParts(spec, data);
  // The original code's two parameters, weights1 (top rows) and weights2 (bottom rows).
  const persistent: Record<string, tf.Tensor> = {
    x: tf.tensor(data.input, data.inputShape),
    w1re: tf.slice(w.re, [0, 0, 0, 0], [Ci, Co, top, C]),
    w1im: tf.slice(w.im, [0, 0, 0, 0], [Ci, Co, top, C]),
  };
  if (bottom > 0) {
    persistent.w2re = tf.slice(w.re, [0, 0, top, 0], [Ci, Co, bottom, C]);
    persistent.w2im = tf.slice(w.im, [0, 0, top, 0], [Ci, Co, bottom, C]);
  }
  tf.dispose([w.re, w.im]);
  const executors: Executors = {};
  executors['rfft2d-input'] = exec(
    `x_ft = rfft2(x): R2C GEMM over W (${W} → ${V} frequencies), a transpose, a complex ${H}-point DFT GEMM over H; kept as (batch·in, W/2+1, re|im, H)`,
    ['x'],
    'xft',
    (env) => {
      const a = tf.matMul(tf.reshape(get(env, 'x'), [B * Ci * H, W]), r2c); // (B·Ci·H, [ri, v])
      const b = tf.reshape(tf.transpose(tf.reshape(a, [B * Ci, H, 2, V]), [0, 3, 2, 1]), [B * Ci * V, 2 * H]);
      return tf.reshape(tf.matMul(b, fwdH), [B * Ci, V, 2, H]);
    },
  );
  /** 'bixy,ioxy->boxy' on one block of rows, lowered as TF lowers einsum: transposes + 4 real batched matmuls. */
  const einsum = (first: number, rows: number, wr: string, wi: string) =>
    exec(
      `einsum('bixy,ioxy->boxy') on the ${rows}×${C} block at rows ${first === 0 ? `0..${rows - 1}` : `${first}..${H - 1}`}: a slice of x_ft, both operands permuted mode-major on every call, 4 real batchMatMuls over ${rows * C} modes of (${B}×${Ci})·(${Ci}×${Co}), the result permuted back`,
      ['xft', wr, wi],
      `y${first}`,
      (env) => {
        const part = (ri: number) =>
          tf.transpose(
            tf.reshape(tf.slice(get(env, 'xft'), [0, 0, ri, first], [B * Ci, C, 1, rows]), [B, Ci, C * rows]),
            [2, 0, 1],
          ) as tf.Tensor3D; // (C·rows, B, Ci)
        const wpart = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [3, 2, 0, 1]), [C * rows, Ci, Co]) as tf.Tensor3D;
        const xr = part(0),
          xi = part(1),
          kr = wpart(get(env, wr)),
          ki = wpart(get(env, wi));
        const yr = tf.sub(tf.matMul(xr, kr), tf.matMul(xi, ki));
        const yi = tf.add(tf.matMul(xr, ki), tf.matMul(xi, kr));
        const back = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [1, 2, 0]), [B * Co, C, 1, rows]);
        return tf.concat([back(yr), back(yi)], 2); // (B·Co, C, 2, rows)
      },
    );
  executors['einsum-top'] = einsum(0, top, 'w1re', 'w1im');
  if (bottom > 0) executors['einsum-bottom'] = einsum(H - bottom, bottom, 'w2re', 'w2im');
  executors['zeros-out-ft'] = exec(
    `out_ft = zeros(batch, out, ${H}, ${V}) complex: tfjs has no slice-assignment, so the zeros are made as the blocks the modes do not fill (${H - R} rows × ${C} columns${V > C ? ` and ${V - C} columns × ${H} rows` : ''})`,
    [],
    'zeros',
    () => ({
      mid: tf.zeros([B * Co, C, 2, H - R]),
      ...(V > C ? { right: tf.zeros([B * Co, V - C, 2, H]) } : {}),
    }),
  );
  executors['assign-modes'] = exec(
    'out_ft[:, :, rows, :cols] = …: the blocks and the zeros concatenated into the full half spectrum',
    ['zeros', 'y0', ...(bottom > 0 ? [`y${H - bottom}`] : [])],
    'outft',
    (env) => {
      const z = env.get('zeros') as { mid: tf.Tensor; right?: tf.Tensor };
      const parts = [get(env, 'y0'), z.mid, ...(bottom > 0 ? [get(env, `y${H - bottom}`)] : [])];
      const cols = tf.concat(parts, 3); // (B·Co, C, 2, H)
      return z.right ? tf.concat([cols, z.right], 1) : cols;
    },
  );
  executors.irfft2d = exec(
    `irfft2(out_ft, s=(${H}, ${W})): inverse complex ${H}-point DFT GEMM over H, a transpose, C2R GEMM over W (${V} → ${W})`,
    ['outft'],
    'y',
    (env) => {
      const a = tf.matMul(tf.reshape(get(env, 'outft'), [B * Co * V, 2 * H]), invH); // (B·Co·V, [ri, h])
      const b = tf.reshape(tf.transpose(tf.reshape(a, [B * Co, V, 2, H]), [0, 3, 2, 1]), [B * Co * H, 2 * V]);
      return tf.reshape(tf.matMul(b, c2r), [B, Co, H, W]);
    },
  );
  // weights1 and weights2 are the mode weights' top and bottom rows: their gradients stacked back, as (re, im) pairs.
  const keys = bottom > 0 ? ['w1re', 'w1im', 'w2re', 'w2im'] : ['w1re', 'w1im'];
  const modeWeights = {
    keys,
    canonical: (g: tf.Tensor[]) =>
      bottom > 0
        ? tf.stack([tf.concat([g[0]!, g[2]!], 2), tf.concat([g[1]!, g[3]!], 2)], 4)
        : tf.stack([g[0]!, g[1]!], 4),
  };
  return { persistent, executors, output: 'y', constants: mats, params: { input: { keys: ['x'] }, modeWeights } };
}

export function optimizedFnoExecutors(spec: LayerSpec, data: LayerData, _ctx: BuildContext) {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const { cols: C, rows: R, count: M } = keptModes(spec);
  const freqs = keptRows(spec);
  const { mats, mat } = constants();
  const r2c = mat(r2cMatrix(W, C), [W, 2 * C]);
  const fwdH = mat(keptForwardRight(H, freqs), [2 * H, 2 * R]);
  const invH = mat(keptInverseRight(H, freqs), [2 * R, 2 * H]);
  const c2r = mat(c2rMatrix(W, C), [2 * C, W]);
  const w = weightParts(spec, data);
  const persistent = { x: tf.tensor(data.input, data.inputShape), wre: w.re, wim: w.im };
  const executors: Executors = {};
  executors['weights-cached'] = exec(
    `once per weight update, cached: (in, out, rows, cols) → ${M} real (2·in × 2·out) blocks [[Wr, Wi], [−Wi, Wr]], interleaved per channel, mode-major`,
    ['wre', 'wim'],
    'wf',
    (env) => {
      // (Ci, Co, R, C) → (M = (c, r), Ci, Co)
      const mm = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [3, 2, 0, 1]), [M, Ci, 1, Co, 1]);
      const re = mm(get(env, 'wre')),
        im = mm(get(env, 'wim'));
      // rows (i, re|im of x), columns (o, re|im of y): yr = Σ xr·wr − xi·wi, yi = Σ xr·wi + xi·wr.
      const fromRe = tf.concat([re, im], 4); // (M, Ci, 1, Co, 2)
      const fromIm = tf.concat([tf.neg(im), re], 4);
      return tf.reshape(tf.concat([fromRe, fromIm], 2), [M, 2 * Ci, 2 * Co]);
    },
  );
  executors['rfft-w'] = exec(
    `R2C GEMM over W against the ${W}×${2 * C} matrix of the ${C} kept columns only (not all ${Math.floor(W / 2) + 1})`,
    ['x'],
    'xw',
    (env) => tf.matMul(tf.reshape(get(env, 'x'), [B * Ci * H, W]), r2c),
  );
  executors['transpose-w'] = exec('(batch·in, H, re|im, cols) → (batch·in, cols, re|im, H)', ['xw'], 'xwt', (env) =>
    tf.transpose(tf.reshape(get(env, 'xw'), [B * Ci, H, 2, C]), [0, 3, 2, 1]),
  );
  executors['dft-h'] = exec(
    `complex DFT over H at the ${R} kept rows only: one GEMM against the ${2 * H}×${2 * R} matrix (a full DFT would be ${2 * H}×${2 * H}), modes and re|im interleaved`,
    ['xwt'],
    'xh',
    (env) => tf.matMul(tf.reshape(get(env, 'xwt'), [B * Ci * C, 2 * H]), fwdH),
  );
  executors['transpose-x'] = exec(
    '(batch, in, modes, re|im) → (modes, batch, in·re|im): mode-major for the batched product',
    ['xh'],
    'xf',
    (env) => tf.reshape(tf.transpose(tf.reshape(get(env, 'xh'), [B, Ci, M, 2]), [2, 0, 1, 3]), [M, B, 2 * Ci]),
  );
  executors.multiply = exec(
    `one batched GEMM for every kept mode (both corners at once): ${M} × (${B}×${2 * Ci})·(${2 * Ci}×${2 * Co}), the complex product as one real block product`,
    ['xf', 'wf'],
    'yf',
    (env) => tf.matMul(get(env, 'xf') as tf.Tensor3D, get(env, 'wf') as tf.Tensor3D),
  );
  executors['transpose-y'] = exec('(modes, batch·out, re|im) → (batch·out, modes, re|im)', ['yf'], 'yt', (env) =>
    tf.transpose(tf.reshape(get(env, 'yf'), [M, B * Co, 2]), [1, 0, 2]),
  );
  executors['idft-h'] = exec(
    `inverse DFT over H from the ${R} kept rows straight to all ${H}: one GEMM against the ${2 * R}×${2 * H} matrix (no zero-filled out_ft)`,
    ['yt'],
    'yh',
    (env) => tf.matMul(tf.reshape(get(env, 'yt'), [B * Co * C, 2 * R]), invH),
  );
  executors['transpose-h'] = exec('(batch·out, cols, re|im, H) → (batch·out, H, re|im, cols)', ['yh'], 'yht', (env) =>
    tf.transpose(tf.reshape(get(env, 'yh'), [B * Co, C, 2, H]), [0, 3, 2, 1]),
  );
  executors['c2r-w'] = exec(
    `C2R GEMM over W from the ${C} kept columns only (${2 * C}×${W} matrix; the rest of the half spectrum is zero)`,
    ['yht'],
    'y',
    (env) => tf.reshape(tf.matMul(tf.reshape(get(env, 'yht'), [B * Co * H, 2 * C]), c2r), [B, Co, H, W]),
  );
  const modeWeights = { keys: ['wre', 'wim'], canonical: (g: tf.Tensor[]) => tf.stack([g[0]!, g[1]!], 4) };
  return { persistent, executors, output: 'y', constants: mats, params: { input: { keys: ['x'] }, modeWeights } };
}
