/**
 * tfjs executors of the optimized spectral layer: transforms as real GEMMs against cached DFT matrices,
 * oriented per backend (src/core/variants/step.ts, Orientation). Worker side.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerData } from '../../../core/data';
import { type LayerSpec, geometry } from '../../../core/spec';
import type { Executors } from '../../executor';
import { c2rInterleaved, complexBlock, complexRight, r2cMatrix, transposeOf } from '../dft';
import { type BuildContext, OUTSIDE_FORWARD, exec, get, padInputExecutor, zeroPad } from './common';

export function optimizedExecutors(spec: LayerSpec, data: LayerData, ctx: BuildContext) {
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
  const right = ctx.traits.orientation === 'right';
  const mats: tf.Tensor[] = [];
  const mat = (m: Float32Array, shape: number[]) => {
    const t = tf.keep(tf.tensor(m, shape));
    mats.push(t);
    return t;
  };
  const r2c = mat(r2cMatrix(Q, V), [Q, 2 * V]) as tf.Tensor2D;
  const persistent = { x: tf.tensor(data.input, data.inputShape), w: tf.tensor4d(data.kernel, [kh, kw, Ci, Co]) };
  const gauss = Ci >= ctx.traits.gaussMinInChannels;
  // Measured here: wasm batchMatMul with a batch > 1 runs tfjs's own loop (≈ 1–2 GFLOP/s), not XNNPACK (≈ 25).
  const bmmNote =
    ctx.backend === 'wasm'
      ? "; wasm's batchMatMul runs tfjs's own loop, not XNNPACK, so this step runs far below the 2-D GEMMs"
      : '';
  const where = right
    ? 'as cached right operands (XNNPACK packs a constant operand once)'
    : 'from the left, frequency axis leading';

  // Column blocks of the forward DFT over H: the real part, the imaginary part, and i·X (−Im, Re),
  // so that every layout the product needs comes straight out of a GEMM, with no split or concat.
  const fwdFull = complexRight(P, false);
  const fwdH = mat(fwdFull, [2 * P, 2 * P]) as tf.Tensor2D;
  const fwdRe = mat(columns(fwdFull, 2 * P, 2 * U, 0, U), [2 * P, U]) as tf.Tensor2D;
  const fwdIm = mat(columns(fwdFull, 2 * P, 2 * U, U, U), [2 * P, U]) as tf.Tensor2D;
  const fwdTimesI = mat(timesI(fwdFull, 2 * P, U), [2 * P, 2 * U]) as tf.Tensor2D;

  /** Real maps (M, P, Q) → (M·V, [ri, p]): the R2C GEMM over W and one transpose, ready for the GEMM over H. */
  const rowsOverW = (maps: tf.Tensor, m: number): tf.Tensor2D => {
    const a = tf.matMul(tf.reshape(maps, [m * P, Q]), r2c); // (M·P, [ri, v])
    return tf.reshape(tf.transpose(tf.reshape(a, [m, P, 2, V]), [0, 3, 2, 1]), [m * V, 2 * P]) as tf.Tensor2D;
  };
  /** (M·V, [ri, p]) → frequency-major real and imaginary parts, each (F, M) with F ordered (v, u). */
  const freqMajor = (b: tf.Tensor2D, m: number) => ({
    re: tf.reshape(tf.transpose(tf.reshape(tf.matMul(b, fwdRe), [m, F]), [1, 0]), [F, m]),
    im: tf.reshape(tf.transpose(tf.reshape(tf.matMul(b, fwdIm), [m, F]), [1, 0]), [F, m]),
  });
  /** (M, V, 2, U) → (2F, M) with F ordered (v, ri, u): the layout of the broadcast product's bmm form. */
  const positionsMajor = (t: tf.Tensor, m: number) => tf.transpose(tf.reshape(t, [m, 2 * F]), [1, 0]);

  const executors: Executors = {};
  executors['rfft2d-kernel-cached'] = exec(
    `once per weight update, cached: R2C GEMM over W + complex GEMM over H${Ci === 1 ? ', laid out for the broadcast product' : `, frequency-major ((W/2+1)·H, in, out)${gauss ? ", plus Kr + Ki for Gauss's product" : ''}`}`,
    ['w'],
    'kspec',
    (env) => {
      const maps = zeroPad(tf.transpose(get(env, 'w'), [2, 3, 0, 1]), [
        [0, 0],
        [0, 0],
        [0, P - kh],
        [0, Q - kw],
      ]);
      const b = rowsOverW(maps, Ci * Co);
      if (Ci === 1) {
        // Kr and Ki, each repeated at the re and im positions: Y = X ⊙ Kr2 + (i·X) ⊙ Ki2.
        const kr = tf.reshape(tf.matMul(b, fwdRe), [Co, V, 1, U]);
        const ki = tf.reshape(tf.matMul(b, fwdIm), [Co, V, 1, U]);
        const kr2 = tf.concat([kr, kr], 2);
        const ki2 = tf.concat([ki, ki], 2);
        if (right) return { kr2: tf.reshape(kr2, [1, Co, 2 * F]), ki2: tf.reshape(ki2, [1, Co, 2 * F]) };
        return { k: tf.stack([positionsMajor(kr2, Co), positionsMajor(ki2, Co)], 1) }; // (2F, 2, Co)
      }
      const { re, im } = freqMajor(b, Ci * Co);
      const kr = tf.reshape(re, [F, Ci, Co]);
      const ki = tf.reshape(im, [F, Ci, Co]);
      return gauss ? { kr, ki, ks: tf.add(kr, ki) } : { kr, ki };
    },
  );

  const padded = P !== H || Q !== W;
  if (padded) executors['pad-input'] = padInputExecutor(P, Q, H, W, nhwc, spec.padding === 'linear');
  const xKey = padded ? 'xp' : 'x';
  executors['rfft2d-input'] = exec(
    `${OUTSIDE_FORWARD} (R2C ${Q}×${2 * V}, one transpose, complex ${2 * P}×${2 * P})${Ci === 1 ? ', and i·X from a second GEMM (no split/concat in the product)' : '; real and imaginary parts transposed to frequency-major ((W/2+1)·H, batch, in)'}${nhwc && Ci > 1 ? '; NHWC → channels-first first' : ''}`,
    [xKey],
    'X',
    (env) => {
      const x = get(env, xKey);
      const maps = nhwc && Ci > 1 ? tf.transpose(x, [0, 3, 1, 2]) : x;
      const b = rowsOverW(maps, B * Ci);
      if (Ci === 1) return { x: tf.matMul(b, fwdH), ix: tf.matMul(b, fwdTimesI) }; // (B·V, [ri, u]) each
      const { re, im } = freqMajor(b, B * Ci);
      return { xr: tf.reshape(re, [F, B, Ci]), xi: tf.reshape(im, [F, B, Ci]) };
    },
  );
  // The product. Output layout: right → (B, Co, V, 2, U) rows for right-multiplies; left → (V, 2, U, B, Co).
  executors.multiply = exec(
    Ci === 1
      ? right
        ? 'broadcast multiply (in-channels = 1): (batch, 1, F·2) ⊙ (1, out, F·2), planar complex as 2 real multiplies + 1 add, no transposes'
        : `in-channels = 1 product as one batchMatMul over the ${2 * F} spectrum positions of (batch×2)·(2×out) — [X, swap(X)]·[Kr; Ki] — since broadcasting multiplies are slow on ${ctx.backend}`
      : gauss
        ? `Gauss's 3-multiplication complex product: 3 real batchMatMuls over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co}) + 5 adds, frequency-major, no transposes${bmmNote}`
        : `complex product as 4 real batchMatMuls over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co}) + 2 adds, frequency-major, no transposes${bmmNote}`,
    ['X', 'kspec'],
    'Y',
    (env) => {
      const K = env.get('kspec') as Record<string, tf.Tensor>;
      if (Ci === 1) {
        const { x, ix } = env.get('X') as { x: tf.Tensor; ix: tf.Tensor };
        if (right) {
          // (B, Co, [V, ri, U])
          return tf.add(tf.mul(tf.reshape(x, [B, 1, 2 * F]), K.kr2!), tf.mul(tf.reshape(ix, [B, 1, 2 * F]), K.ki2!));
        }
        const xc = tf.stack([positionsMajor(x, B), positionsMajor(ix, B)], 2) as tf.Tensor3D; // (2F, B, 2)
        return tf.matMul(xc, K.k as tf.Tensor3D); // (2F, B, Co) = (V, 2, U, B, Co)
      }
      const { xr, xi } = env.get('X') as { xr: tf.Tensor3D; xi: tf.Tensor3D };
      const kr = K.kr as tf.Tensor3D,
        ki = K.ki as tf.Tensor3D;
      let yr: tf.Tensor, yi: tf.Tensor;
      if (gauss) {
        const t1 = tf.matMul(xr, kr),
          t2 = tf.matMul(xi, ki),
          t3 = tf.matMul(tf.add(xr, xi) as tf.Tensor3D, K.ks as tf.Tensor3D);
        yr = tf.sub(t1, t2);
        yi = tf.sub(tf.sub(t3, t1), t2);
      } else {
        yr = tf.sub(tf.matMul(xr, kr), tf.matMul(xi, ki));
        yi = tf.add(tf.matMul(xr, ki), tf.matMul(xi, kr));
      }
      if (right) return tf.stack([yr, yi]); // (2, F, B, Co)
      return tf.stack([tf.reshape(yr, [V, U, B * Co]), tf.reshape(yi, [V, U, B * Co])], 1); // (V, 2, U, B·Co)
    },
  );
  if (right) {
    const invH = mat(complexRight(P, true, g.cropTop, oh), [2 * P, 2 * oh]) as tf.Tensor2D;
    const c2r = mat(c2rInterleaved(Q, V, g.cropLeft, ow), [2 * V, ow]) as tf.Tensor2D; // rows (v, ri)
    let yKey = 'Y';
    if (Ci > 1) {
      executors['transpose-freq'] = exec(
        '(2, (W/2+1)·H, batch·out) → (batch·out, W/2+1, 2, H): frequency-major product back to rows for the inverse GEMMs',
        ['Y'],
        'Yr',
        (env) => tf.transpose(tf.reshape(get(env, 'Y'), [2, V, U, B * Co]), [3, 1, 0, 2]),
      );
      yKey = 'Yr';
    }
    executors['ifft-h'] = exec(
      `complex GEMM (${2 * P}×${2 * oh}) over H against cached DFT matrices, ${where}${oh < P ? `, only the ${oh} output rows computed (crop folded in)` : ''}`,
      [yKey],
      'Z',
      (env) => tf.matMul(tf.reshape(get(env, yKey), [B * Co * V, 2 * U]), invH),
    );
    executors['transpose-rows'] = exec(
      '(batch·out, (W/2+1)·2, H) → (batch·out, H, (W/2+1)·2): the frequency axis last for the C2R GEMM',
      ['Z'],
      'Zt',
      (env) => tf.transpose(tf.reshape(get(env, 'Z'), [B * Co, 2 * V, oh]), [0, 2, 1]),
    );
    executors['irfft-w'] = exec(
      `C2R GEMM (${2 * V}×${ow}) from the half spectrum against cached DFT matrices, ${where}${ow < Q ? `, only the ${ow} output columns computed` : ''}; gives NCHW`,
      ['Zt'],
      nhwc ? 'R' : 'y',
      (env) => tf.reshape(tf.matMul(tf.reshape(get(env, 'Zt'), [B * Co * oh, 2 * V]), c2r), [B, Co, oh, ow]),
    );
    if (nhwc)
      executors['transpose-out'] = exec('NCHW → NHWC', ['R'], 'y', (env) => tf.transpose(get(env, 'R'), [0, 2, 3, 1]));
  } else {
    // Left orientation: (V, [ri, U], B·Co) → ifft over H per frequency column → C2R over (v, ri) → layout.
    const invHl = complexBlock(P, true, g.cropTop, oh); // (2oh, 2U)
    const invH = mat(tile(invHl, V), [V, 2 * oh, 2 * P]) as tf.Tensor3D;
    // cols (v, ri)
    const c2rl = mat(transposeOf(c2rInterleaved(Q, V, g.cropLeft, ow), 2 * V, ow), [ow, 2 * V]) as tf.Tensor2D;
    executors['ifft-h'] = exec(
      `complex GEMM (${2 * oh}×${2 * P}) over H against cached DFT matrices, batched over the ${V} frequency columns, ${where}${oh < P ? `, only the ${oh} output rows computed (crop folded in)` : ''}`,
      ['Y'],
      'Z',
      (env) => tf.matMul(invH, tf.reshape(get(env, 'Y'), [V, 2 * U, B * Co]) as tf.Tensor3D),
    );
    executors['irfft-w'] = exec(
      `C2R GEMM (${ow}×${2 * V}) from the half spectrum against cached DFT matrices, ${where}${ow < Q ? `, only the ${ow} output columns computed` : ''}`,
      ['Z'],
      'R',
      (env) => tf.matMul(c2rl, tf.reshape(get(env, 'Z'), [2 * V, oh * B * Co]) as tf.Tensor2D),
    );
    executors['transpose-out'] = exec(`(W, H, batch, out) → ${spec.layout}`, ['R'], 'y', (env) =>
      tf.transpose(tf.reshape(get(env, 'R'), [ow, oh, B, Co]), nhwc ? [2, 1, 0, 3] : [2, 3, 1, 0]),
    );
  }
  return {
    persistent,
    executors,
    output: 'y',
    constants: mats,
    params: { input: { keys: ['x'] }, kernel: { keys: ['w'] } },
  };
}

/** Columns [from, from + n) of a row-major (rows × cols) matrix. */
function columns(m: Float32Array, rows: number, cols: number, from: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols + from, r * cols + from + n), r * n);
  return out;
}

/** A complex right-multiply matrix with columns (re u…, im u…) turned into one that yields i·X = (−Im, Re). */
function timesI(m: Float32Array, rows: number, n: number): Float32Array {
  const out = new Float32Array(rows * 2 * n);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < n; k++) {
      out[r * 2 * n + k] = -m[r * 2 * n + n + k]!;
      out[r * 2 * n + n + k] = m[r * 2 * n + k]!;
    }
  return out;
}

function tile(m: Float32Array, times: number): Float32Array {
  const out = new Float32Array(m.length * times);
  for (let i = 0; i < times; i++) out.set(m, i * m.length);
  return out;
}
