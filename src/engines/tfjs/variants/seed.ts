/** tfjs executors of the question's recipe, with the ops its code maps to on each backend. Worker side. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerData } from '../../../core/data';
import { type LayerSpec, geometry } from '../../../core/spec';
import type { Executors } from '../../executor';
import { type Cx, PlanarComplex } from '../complex';
import { type BuildContext, disposeCx, exec, get, padInputExecutor, zeroPad } from './common';

export function seedExecutors(spec: LayerSpec, data: LayerData, ctx: BuildContext) {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH,
    Q = g.fftW;
  const kit = ctx.kit;
  // The seed stores its kernel as (in, H, W, out).
  const kSeed = tf.tidy(() => tf.transpose(tf.tensor4d(data.kernel, [kh, kw, Ci, Co]), [2, 0, 1, 3]));
  const persistent = { x: tf.tensor(data.input, data.inputShape), kernel: kSeed };
  const nhwc = spec.layout === 'NHWC';
  const padded = P !== H || Q !== W;
  const xKey = padded ? 'xp' : 'x';
  const transformLabel = kit instanceof PlanarComplex ? `rfft over W + complex DFT over H, ${kit.label}` : kit.label;
  const executors: Executors = {};
  if (padded) executors['pad-input'] = padInputExecutor(P, Q, H, W, nhwc, spec.padding === 'linear');
  executors['rfft2d-input'] = exec(
    `outside the seed's layer (it fed spectra in); laid out (batch, W/2+1, H, in) as its transposed kernel expects; ${transformLabel}`,
    [xKey],
    'X',
    (env) => {
      const x = get(env, xKey);
      const xc = nhwc ? tf.transpose(x, [0, 3, 1, 2]) : x;
      const a = kit.rfftLast(xc); // (B, Ci, P, V)
      if (xc !== x) xc.dispose();
      const b = kit.transpose(a, [0, 1, 3, 2]); // (B, Ci, V, P)
      disposeCx(a);
      const c = kit.fftLast(b, false); // (B, Ci, V, U)
      disposeCx(b);
      const d = kit.transpose(c, [0, 2, 3, 1]); // (B, V, U, Ci)
      disposeCx(c);
      return d;
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
  executors.irfft2d = exec(
    `back to the spatial domain for the check (the seed stayed in the Fourier domain), crop, ${spec.layout}; ${kit instanceof PlanarComplex ? `inverse complex DFT over H + C2R over W, ${kit.label}` : kit.label}`,
    ['Y'],
    'y',
    (env) => {
      const y = env.get('Y') as Cx;
      const a = kit.transpose(y, [0, 3, 1, 2]); // (B, Co, V, U)
      const b = kit.fftLast(a, true); // (B, Co, V, P)
      disposeCx(a);
      const c = kit.transpose(b, [0, 1, 3, 2]); // (B, Co, P, V)
      disposeCx(b);
      const r = kit.irfftLast(c, Q); // (B, Co, P, Q)
      disposeCx(c);
      const cropped = tf.slice(r, [0, 0, g.cropTop, g.cropLeft], [B, Co, g.outH, g.outW]);
      if (cropped !== r) r.dispose();
      if (nhwc) {
        const out = tf.transpose(cropped, [0, 2, 3, 1]);
        cropped.dispose();
        return out;
      }
      return cropped;
    },
  );
  return { persistent, executors, output: 'y' };
}
