/** tfjs executors of the question's recipe, with the ops its code maps to on each backend. Worker side. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerData } from '../../../core/data';
import { type LayerSpec, geometry } from '../../../core/spec';
import type { Executors } from '../../executor';
import { type Cx, PlanarComplex } from '../complex';
import {
  type BuildContext,
  OUTSIDE_FORWARD,
  OUTSIDE_INVERSE,
  disposeCx,
  exec,
  get,
  padInputExecutor,
  transformMatrices,
  zeroPad,
} from './common';

export function seedExecutors(spec: LayerSpec, data: LayerData, ctx: BuildContext) {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH,
    Q = g.fftW,
    V = g.freqW;
  const kit = ctx.kit;
  const mats: tf.Tensor[] = [];
  // The seed stores its kernel as (in, H, W, out).
  const kSeed = tf.tidy(() => tf.transpose(tf.tensor4d(data.kernel, [kh, kw, Ci, Co]), [2, 0, 1, 3]));
  const persistent = { x: tf.tensor(data.input, data.inputShape), kernel: kSeed };
  const nhwc = spec.layout === 'NHWC';
  const padded = P !== H || Q !== W;
  const xKey = padded ? 'xp' : 'x';
  const transformLabel = kit instanceof PlanarComplex ? `rfft over W + complex DFT over H, ${kit.label}` : kit.label;
  const executors: Executors = {};
  if (padded) executors['pad-input'] = padInputExecutor(P, Q, H, W, nhwc, spec.padding === 'linear');
  // Outside the layer: the engine's fastest transform, the same in every spectral variant of the run
  // (optimized uses it too), so end-to-end differences between them are their layers' differences.
  const { r2c, fwdH, invH, c2r } = transformMatrices(P, Q, V, g, mats);
  const toKit = (re: tf.Tensor, im: tf.Tensor): Cx => (kit instanceof PlanarComplex ? { re, im } : tf.complex(re, im));
  executors['rfft2d-input'] = exec(
    `${OUTSIDE_FORWARD}; outside the question's layer (it fed spectra in), laid out (batch, W/2+1, H, in) as its transposed kernel expects`,
    [xKey],
    'X',
    (env) => {
      const x = get(env, xKey);
      const maps = nhwc ? tf.transpose(x, [0, 3, 1, 2]) : x; // (B, Ci, P, Q)
      const a = tf.matMul(tf.reshape(maps, [B * Ci * P, Q]), r2c); // (B·Ci·P, [ri, v])
      const b = tf.reshape(tf.transpose(tf.reshape(a, [B * Ci, P, 2, V]), [0, 3, 2, 1]), [B * Ci * V, 2 * P]);
      const c = tf.reshape(tf.matMul(b, fwdH), [B * Ci * V, 2, P]); // ≤ 4-D: wasm's 5-D slices are slow
      const part = (ri: number) =>
        tf.transpose(tf.reshape(tf.slice(c, [0, ri, 0], [B * Ci * V, 1, P]), [B, Ci, V, P]), [0, 2, 3, 1]);
      return toKit(part(0), part(1)); // (B, V, U, Ci)
    },
  );
  let kKey = 'kernel';
  if (kh !== P || kw !== Q) {
    executors['pad-kernel'] = exec(
      `zero padding of the (in, ${kh}, ${kw}, out) kernel to ${P}×${Q}, every call`,
      ['kernel'],
      'kp',
      (env) =>
        zeroPad(get(env, 'kernel'), [
          [0, 0],
          [0, P - kh],
          [0, Q - kw],
          [0, 0],
        ]),
    );
    kKey = 'kp';
  }
  executors['rfft2d-kernel'] = exec(
    `every call; on the (in, H, W, out) kernel rfft2d's innermost two axes are (W, out), so it is transposed to run over (H, W); ${transformLabel}`,
    [kKey],
    'K',
    (env) => {
      const kt = tf.transpose(get(env, kKey), [0, 3, 1, 2]); // (Ci, Co, P, Q)
      const a = kit.rfftLast(kt);
      kt.dispose();
      const b = kit.transpose(a, [0, 1, 3, 2]);
      disposeCx(a);
      const c = kit.fftLast(b, false); // (Ci, Co, V, U)
      disposeCx(b);
      const d = kit.transpose(c, [0, 3, 2, 1]); // (Ci, U, V, Co)
      disposeCx(c);
      return d;
    },
  );
  executors['transpose-kernel'] = exec(
    `perm [2,1,0,3] of the complex kernel spectrum: ${kit.transposeLabel}`,
    ['K'],
    'Kt',
    (env) => kit.transpose(env.get('K') as Cx, [2, 1, 0, 3]),
  );
  executors.einsum = exec(
    `'ijkl,jklo->ijko': ${kit.einsumLabel}${Ci === 1 ? '; with in-channels = 1 every matmul is a K = 1 outer product' : ''}`,
    ['X', 'Kt'],
    'Y',
    (env) => kit.einsumSeed(env.get('X') as Cx, env.get('Kt') as Cx),
  );
  executors['transpose-y'] = exec(
    "the question's output spectrum (batch, W/2+1, H, out) to rows (batch·out·(W/2+1), re|im, H) for the inverse GEMMs",
    ['Y'],
    'Yr',
    (env) => {
      const y = env.get('Y') as Cx;
      const re = kit instanceof PlanarComplex ? (y as { re: tf.Tensor }).re : tf.real(y as tf.Tensor);
      const im = kit instanceof PlanarComplex ? (y as { im: tf.Tensor }).im : tf.imag(y as tf.Tensor);
      // (B, V, U, Co) → (B·Co·V, [ri, u]), every tensor ≤ 4-D
      const rows = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [B * Co * V, 1, P]);
      return tf.reshape(tf.concat([rows(re), rows(im)], 1), [B * Co * V, 2 * P]);
    },
  );
  executors.irfft2d = exec(
    `${OUTSIDE_INVERSE}, crop folded in, ${spec.layout}; back to the spatial domain for the check (the question's layer stayed in the Fourier domain)`,
    ['Yr'],
    'y',
    (env) => {
      const z = tf.matMul(get(env, 'Yr'), invH); // (B·Co·V, [ri, h])
      const zt = tf.reshape(tf.transpose(tf.reshape(z, [B * Co, V, 2, g.outH]), [0, 3, 2, 1]), [
        B * Co * g.outH,
        2 * V,
      ]);
      const out = tf.reshape(tf.matMul(zt, c2r), [B, Co, g.outH, g.outW]);
      return nhwc ? tf.transpose(out, [0, 2, 3, 1]) : out;
    },
  );
  // The seed's (in, H, W, out) kernel is the layer's (kh, kw, in, out) kernel permuted: its gradient permuted back.
  const params = {
    input: { keys: ['x'] },
    kernel: { keys: ['kernel'], canonical: ([g]: tf.Tensor[]) => tf.transpose(g!, [1, 2, 0, 3]) },
  };
  return { persistent, executors, output: 'y', constants: mats, params };
}
