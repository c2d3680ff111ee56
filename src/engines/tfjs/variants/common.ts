/** What the tfjs executors share: the build context, env helpers, tidy-wrapped steps. Worker side. */
import * as tf from '@tensorflow/tfjs-core';
import type { ExecutorTraits } from '../../../core/variants';
import type { Env } from '../../engine';
import type { Executors, StepExecutor } from '../../executor';
import type { ComplexKit } from '../complex';
import { c2rMatrix, complexRight, r2cMatrix } from '../dft';

export interface BuildContext {
  backend: string;
  kit: ComplexKit;
  traits: ExecutorTraits;
}

/** What a variant's builder returns: its persistent values, executors, output key, constants and parameters. */
export interface Built {
  persistent: Record<string, tf.Tensor>;
  executors: Executors;
  output: string;
  /** Constant tensors (DFT matrices) the variant owns. */
  constants?: tf.Tensor[];
  /** What the training step differentiates (PreparedVariant.trainable), on tensors. */
  params: Record<string, { keys: string[]; canonical?: (grads: tf.Tensor[]) => tf.Tensor }>;
}

export const get = (env: Env, key: string) => env.get(key) as tf.Tensor;

/** An executor whose run happens inside tf.tidy: intermediates (reshapes, partial products) never leak. */
export function exec(
  implementation: string,
  reads: string[],
  writes: string,
  run: (env: Env) => unknown,
): StepExecutor {
  return { implementation, reads, writes, run: (env) => tf.tidy(() => run(env) as tf.TensorContainer) };
}

/** tf.pad that refuses negative amounts (the wasm kernel does not check them and corrupts its heap). */
export function zeroPad(t: tf.Tensor, amounts: Array<[number, number]>): tf.Tensor {
  if (amounts.some(([a, b]) => a < 0 || b < 0))
    throw new Error(`internal: negative padding ${JSON.stringify(amounts)} for shape ${t.shape.join('×')}`);
  return tf.pad(t, amounts);
}

export function persistentEnv(values: Record<string, tf.Tensor>): Env {
  const env: Env = new Map();
  for (const [k, v] of Object.entries(values)) env.set(k, tf.keep(v));
  return env;
}

export function disposeEnv(env: Env): () => void {
  return () => {
    for (const v of env.values()) tf.dispose(v as tf.Tensor);
    env.clear();
  };
}

/** Every tensor inside a step value (a tensor, a (re, im) pair, or a record of cached tensors). */
export function tensorsOf(v: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (v instanceof tf.Tensor) out.push(v);
  else if (v && typeof v === 'object') for (const x of Object.values(v as Record<string, unknown>)) tensorsOf(x, out);
  return out;
}

export function disposeCx(c: unknown): void {
  tf.dispose(tensorsOf(c));
}

/** The executor of the input's zero padding to the transform size (bottom/right), in the spec's layout. */
export function padInputExecutor(
  fftH: number,
  fftW: number,
  H: number,
  W: number,
  nhwc: boolean,
  linear: boolean,
): StepExecutor {
  const padding: Array<[number, number]> = nhwc
    ? [
        [0, 0],
        [0, fftH - H],
        [0, fftW - W],
        [0, 0],
      ]
    : [
        [0, 0],
        [0, 0],
        [0, fftH - H],
        [0, fftW - W],
      ];
  return exec(
    `zero padding to ${fftH}×${fftW} (${linear ? 'n + k − 1' : "n + ⌈(k − 1)/2⌉, enough for the 'same' window"})`,
    ['x'],
    'xp',
    (env) => zeroPad(get(env, 'x'), padding),
  );
}

/** The transform every spectral variant's outside-the-layer steps use on tfjs: the engine's fastest. */
export const OUTSIDE_FORWARD = 'R2C GEMM over W + complex GEMM over H against cached DFT matrices';
export const OUTSIDE_INVERSE = 'complex GEMM over H + C2R GEMM over W against cached DFT matrices';

/** The cached DFT matrices of those transforms (right operands), kept in `owned` to be disposed with the variant. */
export function transformMatrices(
  P: number,
  Q: number,
  V: number,
  g: { cropTop: number; cropLeft: number; outH: number; outW: number },
  owned: tf.Tensor[],
): { r2c: tf.Tensor2D; fwdH: tf.Tensor2D; invH: tf.Tensor2D; c2r: tf.Tensor2D } {
  const mat = (m: Float32Array, rows: number, cols: number) => {
    const t = tf.keep(tf.tensor2d(m, [rows, cols]));
    owned.push(t);
    return t;
  };
  return {
    r2c: mat(r2cMatrix(Q, V), Q, 2 * V),
    fwdH: mat(complexRight(P, false), 2 * P, 2 * P),
    invH: mat(complexRight(P, true, g.cropTop, g.outH), 2 * P, 2 * g.outH),
    c2r: mat(c2rMatrix(Q, V, g.cropLeft, g.outW), 2 * V, g.outW),
  };
}
