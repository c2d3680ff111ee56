/** tfjs executors of the spatial convolution that computes what the spectral layers compute. Worker side. */
import * as tf from '@tensorflow/tfjs-core';
import { type LayerData, flipKernel } from '../../../core/data';
import { type LayerSpec, geometry } from '../../../core/spec';
import type { Executors } from '../../executor';
import { type BuildContext, type Built, exec, get } from './common';
import { convOn, layoutExecutors } from './spatial';

export function spatialEquivalentExecutors(spec: LayerSpec, data: LayerData, ctx: BuildContext) {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const persistent = {
    x: tf.tensor(data.input, data.inputShape),
    w: tf.tensor4d(flipKernel(data.kernel, kh, kw, Ci, Co), [kh, kw, Ci, Co]),
  };
  const l = layoutExecutors(spec);
  const executors: Executors = { ...l.executors };
  let convIn = l.src;
  if (spec.padding === 'circular' && (kh > 1 || kw > 1)) {
    const ph = kh - 1,
      pw = kw - 1;
    executors['pad-wrap'] = exec(
      `wrap-around padding (${ph} rows, ${pw} cols) by slice + concat`,
      [l.src],
      'xw',
      (env) => {
        const x = get(env, l.src);
        const rows = ph > 0 ? tf.concat([tf.slice(x, [0, H - ph, 0, 0], [B, ph, W, Ci]), x], 1) : x;
        return pw > 0 ? tf.concat([tf.slice(rows, [0, 0, W - pw, 0], [B, H + ph, pw, Ci]), rows], 2) : rows;
      },
    );
    convIn = 'xw';
  }
  const pad = g.spatialPadding === 'circular' ? 'valid' : g.spatialPadding;
  executors.conv2d = exec(
    `tf.conv2d ${kh}×${kw} '${pad}' ${convOn(ctx.backend)}, kernel flipped (convolution, not correlation)`,
    [convIn, 'w'],
    l.dst,
    (env) => tf.conv2d(get(env, convIn) as tf.Tensor4D, get(env, 'w') as tf.Tensor4D, 1, pad),
  );
  // The kernel gradient in the layer's (unflipped) layout; an FNO layer's kernel is made from its mode weights,
  // which this variant does not train.
  const params: Built['params'] = { input: { keys: ['x'] } };
  if (spec.layer !== 'fno') params.kernel = { keys: ['w'], canonical: ([g]) => tf.reverse(g!, [0, 1]) };
  return { persistent, executors, output: 'y', params };
}
