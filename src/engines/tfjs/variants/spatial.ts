/** tfjs executors of the Conv2D the layer is compared with. Worker side. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerData } from '../../../core/data';
import type { LayerSpec } from '../../../core/spec';
import type { Executors } from '../../executor';
import { type BuildContext, exec, get } from './common';

/** NCHW ↔ NHWC around a Conv2D (tfjs conv2d runs NHWC): the executors and the env keys the conv reads and writes. */
export function layoutExecutors(spec: LayerSpec): { executors: Executors; src: string; dst: string } {
  if (spec.layout === 'NHWC') return { executors: {}, src: 'x', dst: 'y' };
  return {
    src: 'x_nhwc',
    dst: 'y_nhwc',
    executors: {
      'to-nhwc': exec('NCHW → NHWC (tfjs conv2d runs channels-last)', ['x'], 'x_nhwc', (env) =>
        tf.transpose(get(env, 'x'), [0, 2, 3, 1]),
      ),
      'to-nchw': exec('NHWC → NCHW', ['y_nhwc'], 'y', (env) => tf.transpose(get(env, 'y_nhwc'), [0, 3, 1, 2])),
    },
  };
}

export function convOn(backend: string): string {
  return `on ${backend}${backend === 'wasm' ? ' (XNNPACK)' : ''}`;
}

export function spatialExecutors(spec: LayerSpec, data: LayerData, ctx: BuildContext) {
  const { inChannels: Ci, outChannels: Co, spatialKernel: k } = spec;
  const persistent = { x: tf.tensor(data.input, data.inputShape), w: tf.tensor4d(data.spatialKernel, [k, k, Ci, Co]) };
  const l = layoutExecutors(spec);
  const executors: Executors = {
    ...l.executors,
    conv2d: exec(`tf.conv2d ${k}×${k} 'same' ${convOn(ctx.backend)}`, [l.src, 'w'], l.dst, (env) =>
      tf.conv2d(get(env, l.src) as tf.Tensor4D, get(env, 'w') as tf.Tensor4D, 1, 'same'),
    ),
  };
  return { persistent, executors, output: 'y', params: { input: { keys: ['x'] }, spatialKernel: { keys: ['w'] } } };
}
