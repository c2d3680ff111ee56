/**
 * TensorFlow as a Python engine's framework: TensorFlow ≥ 2.4 (tf.signal, tf.einsum on complex64, GradientTape)
 * in the user's Python, executors in python/fconv_tensorflow.py, each step a tf.function (traced once, as
 * model.fit runs a layer), perf_counter around each step with a device sync. The engine itself is the generic
 * one (src/engines/python/engine.ts). Worker side.
 */
import { tensorflowTraits } from '../../core/variants';
import type { EngineOptions } from '../engine';
import { PythonEngine } from '../python/engine';
import type { PythonFramework } from '../python/framework';

export const TENSORFLOW: PythonFramework = {
  id: 'tensorflow',
  label: 'TensorFlow',
  pipPackage: 'tensorflow-cpu',
  minVersion: [2, 4],
  minVersionWhy: 'TF 1.x has no eager tf.function / GradientTape workflow, and tf.signal.rfft2d needs 2.x',
  train: true,
  extraProblem: (h) => (h.hasFft === false ? `TensorFlow ${h.version} has no tf.signal.rfft2d` : undefined),
  traits: (backend) => tensorflowTraits(backend),
  deviceName: (h, device, threads, options) => {
    const eager = options?.mode === 'eager' ? ', eager' : '';
    if (device.startsWith('cuda')) {
      const idx = device === 'cuda' ? 0 : Number(device.split(':')[1] ?? 0);
      return `GPU ${h.gpus[idx] ?? device} via TensorFlow ${h.version}${eager ? ' (eager)' : ''}`;
    }
    const n = threads ?? h.threads ?? 1;
    return `CPU via TensorFlow ${h.version} (${n} intra-op thread${n === 1 ? '' : 's'}${eager})`;
  },
  timingNote: (backend, allocator, options) =>
    `time.perf_counter around every step on the Python side, ${options?.mode === 'eager' ? 'each step eager (--tf-mode eager: op by op, as a layer runs outside tf.function; model.fit would compile it)' : 'each step a tf.function (traced in the warm-up, as model.fit runs a layer; --tf-mode eager for op by op)'}, ${backend === 'cuda' ? 'tf.test.experimental.sync_devices() after it (GPU ops are asynchronous)' : "TF's CPU ops complete before the call returns"}; end to end and layer-only likewise; ${options?.mode === 'eager' ? 'the training step eager, its backward alone a tape.gradient after an untimed forward' : "the training step one tf.function (forward, loss and gradients, as model.fit's train step), its backward the step less the same forward as one tf.function"}; the loop runs in Python, so no time crosses the pipe${allocator ? `; ${allocator}` : ''}`,
};

/** The TensorFlow engine: the generic Python engine with the TensorFlow framework. */
export const TensorflowEngine = {
  create: (o: EngineOptions) => PythonEngine.create(TENSORFLOW, o),
  interpreters: (asked: EngineOptions['python']) => PythonEngine.interpreters(TENSORFLOW, asked),
};
