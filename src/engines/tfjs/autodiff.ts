/**
 * Reverse-mode differentiation on tfjs for the local loop's training step: tfjs's tape (the engine's
 * `gradients`, what `tf.grads` and `tf.variableGrads` run). A step value may be a tensor or a (re, im) pair:
 * a pair is stacked into one tensor for the tape (one output per VJP) and its gradient split back. An op
 * with no gradient on the backend (Einsum, FFT, complex64 ops on tfjs) is a NoGradientError naming the op.
 * Worker side.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the tfjs umbrella package imports them): the ones tf.grads needs.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { type Autodiff, NoGradientError } from '../engine';
import { tensorsOf } from './variants';
import { WASM_FILTER_GRAD_NOTE } from './wasm-grads';

/** One tensor for a value (a tensor as is; a pair or record stacked/flattened in tensorsOf's order). */
function packed(v: unknown): tf.Tensor {
  if (v instanceof tf.Tensor) return v;
  const ts = tensorsOf(v);
  if (!ts.length) throw new Error('internal: a step value without tensors');
  const same = ts.every((t) => t.shape.join() === ts[0]!.shape.join());
  return same ? tf.stack(ts) : tf.concat(ts.map((t) => tf.reshape(t, [-1])));
}

/** Tensors in tensorsOf's order put back into the structure of `like`. */
function rebuilt(like: unknown, parts: tf.Tensor[]): unknown {
  let i = 0;
  const walk = (v: unknown): unknown => {
    if (v instanceof tf.Tensor) return parts[i++]!;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x);
    return out;
  };
  return walk(like);
}

/** The inverse of `packed` on a gradient: the same structure as `like`. */
function unpacked(g: tf.Tensor, like: unknown): unknown {
  if (like instanceof tf.Tensor) return g;
  const ts = tensorsOf(like);
  const same = ts.every((t) => t.shape.join() === ts[0]!.shape.join());
  const parts = same
    ? tf.unstack(g)
    : tf
        .split(
          g,
          ts.map((t) => t.size),
        )
        .map((p, i) => tf.reshape(p, ts[i]!.shape));
  return rebuilt(like, parts);
}

/** tfjs's "gradient function not found for Einsum" / "Kernel 'FFT' not registered" as a NoGradientError. */
function noGradient(e: unknown, backend: string): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const op = /gradient function not found for (\w+)/.exec(msg)?.[1];
  if (op) return new NoGradientError(`tfjs has no gradient for ${op} (on ${backend})`);
  const kernel = /Kernel '(\w+)' not registered for backend/.exec(msg)?.[1];
  if (kernel && /Backprop|Grad/.test(kernel))
    return new NoGradientError(`tfjs's ${backend} backend has no ${kernel} kernel (a gradient)`);
  return e instanceof Error ? e : new Error(msg);
}

export function tfjsAutodiff(backend: string): Autodiff {
  return {
    label: `tfjs's tape (tf.grads) on ${backend}: every op's registered gradient, run op by op`,
    ...(backend === 'wasm' ? { convNote: WASM_FILTER_GRAD_NOTE } : {}),
    vjp(f, inputs, dy, onForward) {
      const groups = inputs.map((v) => tensorsOf(v));
      const xs = groups.flat();
      const dyT = dy === undefined ? undefined : packed(dy);
      const ownDy = dyT !== undefined && dyT !== dy;
      let result: { value: tf.Tensor; grads: tf.Tensor[] };
      try {
        result = tf.engine().gradients(
          () => {
            const y = packed(f());
            onForward?.(y);
            return y;
          },
          xs,
          dyT,
          true,
        );
      } catch (e) {
        throw noGradient(e, backend);
      } finally {
        if (ownDy) dyT!.dispose();
      }
      result.value.dispose();
      let at = 0;
      return inputs.map((v, i) => {
        const gs = result.grads.slice(at, (at += groups[i]!.length));
        if (gs.every((g) => g == null)) {
          tf.dispose(gs.filter((g) => g != null));
          return null;
        }
        const filled = gs.map((g, j) => g ?? tf.zerosLike(groups[i]![j]!));
        return v instanceof tf.Tensor ? filled[0]! : rebuilt(v, filled);
      });
    },
    constant(values, like) {
      const t = packed(like);
      const c = tf.tensor(values, t.shape, 'float32');
      if (t !== like) t.dispose();
      return like instanceof tf.Tensor ? c : tf.tidy(() => unpacked(c, like) as tf.TensorContainer);
    },
    weightedSum(out, r) {
      return tf.tidy(() => tf.sum(tf.mul(packed(out), packed(r))));
    },
    zerosLike(v) {
      return tf.tidy(() => unpacked(tf.zerosLike(packed(v)), v) as tf.TensorContainer);
    },
    add(a, b) {
      return tf.tidy(() => unpacked(tf.add(packed(a), packed(b)), a) as tf.TensorContainer);
    },
    size(v) {
      return tensorsOf(v).reduce((n, t) => n + t.size, 0);
    },
  };
}
