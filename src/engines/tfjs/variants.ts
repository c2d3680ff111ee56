/**
 * The four variants as pipelines of tfjs steps. Each step records what it computes (shapes, FLOPs,
 * bytes) and how (the implementation label that goes in the report).
 */
import { gaussMinInChannels, orientationFor } from '../../core/plan';
import * as tf from '@tensorflow/tfjs-core';
import { convFlops, gemmFlops, ioBytes } from '../../core/cost';
import { type LayerData, flipKernel } from '../../core/data';
import type { VariantName } from '../../core/run';
import { type LayerSpec, geometry, outputShape } from '../../core/spec';
import type { Env, PreparedVariant, StepDef } from '../engine';
import { type ComplexKit, type Cx, PlanarComplex } from './complex';
import { c2rInterleaved, complexBlock, complexRight, r2cMatrix, transposeOf } from './dft';

export interface BuildContext {
  backend: string;
  kit: ComplexKit;
  /** In-channels from which the optimized product uses Gauss's 3-multiplication form. */
  gaussMinInChannels?: number;
}

type StepInit = Omit<StepDef, 'bytes'> & { bytes?: number };
/** Every step runs inside tf.tidy: intermediates (reshapes, partial products) never leak. */
function step(s: StepInit): StepDef {
  return {
    ...s,
    bytes: s.bytes ?? ioBytes(s.inputShapes, s.outputShape),
    run: (env) => tf.tidy(() => s.run(env) as tf.TensorContainer),
  };
}

const get = (env: Env, key: string) => env.get(key) as tf.Tensor;

/** tf.pad that refuses negative amounts (the wasm kernel does not check them and corrupts its heap). */
function zeroPad(t: tf.Tensor, amounts: Array<[number, number]>): tf.Tensor {
  if (amounts.some(([a, b]) => a < 0 || b < 0)) throw new Error(`internal: negative padding ${JSON.stringify(amounts)} for shape ${t.shape.join('×')}`);
  return tf.pad(t, amounts);
}

export function buildVariant(name: VariantName, spec: LayerSpec, data: LayerData, ctx: BuildContext): PreparedVariant {
  const p = build(name, spec, data, ctx);
  // Every implementation label says which backend ran it.
  for (const st of [...p.oneOff, ...p.steps]) {
    if (!st.implementation.includes(` ${ctx.backend}`)) st.implementation += ` — on ${ctx.backend}`;
  }
  return p;
}

function build(name: VariantName, spec: LayerSpec, data: LayerData, ctx: BuildContext): PreparedVariant {
  switch (name) {
    case 'spatial':
      return spatial(spec, data, ctx);
    case 'spatial-equivalent':
      return spatialEquivalent(spec, data, ctx);
    case 'seed':
      return seed(spec, data, ctx);
    case 'optimized':
      return optimized(spec, data, ctx);
  }
}

function persistentEnv(values: Record<string, tf.Tensor>): Env {
  const env: Env = new Map();
  for (const [k, v] of Object.entries(values)) env.set(k, tf.keep(v));
  return env;
}

function disposeEnv(env: Env): () => void {
  return () => {
    for (const v of env.values()) tf.dispose(v as tf.Tensor);
    env.clear();
  };
}

/** NCHW ↔ NHWC steps around a Conv2D (tfjs conv2d runs NHWC). */
function layoutSteps(spec: LayerSpec, outShapeNhwc: number[]): { before: StepDef[]; after: StepDef[]; src: string; dst: string } {
  if (spec.layout === 'NHWC') return { before: [], after: [], src: 'x', dst: 'y' };
  const { batch: B, height: H, width: W, inChannels: Ci } = spec;
  const [, oh, ow, co] = outShapeNhwc as [number, number, number, number];
  return {
    src: 'x_nhwc',
    dst: 'y_nhwc',
    before: [step({
      id: 'to-nhwc', name: 'transpose', implementation: 'NCHW → NHWC (tfjs conv2d runs channels-last)', inLayer: true,
      reads: ['x'], writes: 'x_nhwc', inputShapes: [[B, Ci, H, W]], outputShape: [B, H, W, Ci], flops: 0,
      run: (env) => tf.transpose(get(env, 'x'), [0, 2, 3, 1]),
    })],
    after: [step({
      id: 'to-nchw', name: 'transpose', implementation: 'NHWC → NCHW', inLayer: true,
      reads: ['y_nhwc'], writes: 'y', inputShapes: [outShapeNhwc], outputShape: [B, co, oh, ow], flops: 0,
      run: (env) => tf.transpose(get(env, 'y_nhwc'), [0, 3, 1, 2]),
    })],
  };
}

function spatial(spec: LayerSpec, data: LayerData, ctx: BuildContext): PreparedVariant {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, spatialKernel: k } = spec;
  const persistent = persistentEnv({
    x: tf.tensor(data.input, data.inputShape),
    w: tf.tensor4d(data.spatialKernel, [k, k, Ci, Co]),
  });
  const outNhwc = [B, H, W, Co];
  const l = layoutSteps(spec, outNhwc);
  const conv = step({
    id: 'conv2d', name: 'conv2d', implementation: `tf.conv2d ${k}×${k} 'same' on ${ctx.backend}${ctx.backend === 'wasm' ? ' (XNNPACK)' : ''}`,
    inLayer: true, reads: [l.src, 'w'], writes: l.dst, inputShapes: [[B, H, W, Ci], [k, k, Ci, Co]], outputShape: outNhwc,
    flops: convFlops(B, H, W, Ci, Co, k, k),
    run: (env) => tf.conv2d(get(env, l.src) as tf.Tensor4D, get(env, 'w') as tf.Tensor4D, 1, 'same'),
  });
  return {
    name: 'spatial', title: `Conv2D ${k}×${k}`, kind: 'spatial',
    description: `The Conv2D the layer is compared against: ${k}×${k} kernel, 'same' padding — a different, much smaller function than the spectral layer's ${spec.kernelH}×${spec.kernelW} kernel.`,
    reference: 'naive direct convolution',
    oneOff: [], steps: [...l.before, conv, ...l.after], persistent, output: 'y', dispose: disposeEnv(persistent),
  };
}

function spatialEquivalent(spec: LayerSpec, data: LayerData, ctx: BuildContext): PreparedVariant {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const persistent = persistentEnv({
    x: tf.tensor(data.input, data.inputShape),
    w: tf.tensor4d(flipKernel(data.kernel, kh, kw, Ci, Co), [kh, kw, Ci, Co]),
  });
  const outNhwc = [B, g.outH, g.outW, Co];
  const l = layoutSteps(spec, outNhwc);
  const steps: StepDef[] = [...l.before];
  let convIn = l.src;
  let convInShape = [B, H, W, Ci];
  if (spec.padding === 'circular' && (kh > 1 || kw > 1)) {
    const ph = kh - 1, pw = kw - 1;
    const padded = [B, H + ph, W + pw, Ci];
    steps.push(step({
      id: 'pad-wrap', name: 'pad', implementation: `wrap-around padding (${ph} rows, ${pw} cols) by slice + concat`,
      inLayer: true, reads: [l.src], writes: 'xw', inputShapes: [convInShape], outputShape: padded, flops: 0,
      run: (env) => tf.tidy(() => {
        const x = get(env, l.src);
        const rows = ph > 0 ? tf.concat([tf.slice(x, [0, H - ph, 0, 0], [B, ph, W, Ci]), x], 1) : x;
        return pw > 0 ? tf.concat([tf.slice(rows, [0, 0, W - pw, 0], [B, H + ph, pw, Ci]), rows], 2) : rows;
      }),
    }));
    convIn = 'xw';
    convInShape = padded;
  }
  const pad = g.spatialPadding === 'circular' ? 'valid' : g.spatialPadding;
  steps.push(step({
    id: 'conv2d', name: 'conv2d',
    implementation: `tf.conv2d ${kh}×${kw} '${pad}' on ${ctx.backend}${ctx.backend === 'wasm' ? ' (XNNPACK)' : ''}, kernel flipped (convolution, not correlation)`,
    inLayer: true, reads: [convIn, 'w'], writes: l.dst, inputShapes: [convInShape, [kh, kw, Ci, Co]], outputShape: outNhwc,
    flops: convFlops(B, g.outH, g.outW, Ci, Co, kh, kw),
    run: (env) => tf.conv2d(get(env, convIn) as tf.Tensor4D, get(env, 'w') as tf.Tensor4D, 1, pad),
  }));
  steps.push(...l.after);
  return {
    name: 'spatial-equivalent', title: `Conv2D ${kh}×${kw} (${spec.padding})`, kind: 'spatial',
    description: `The spatial convolution that computes exactly what the spectral layers compute: ${g.describes}.`,
    reference: 'naive direct convolution',
    oneOff: [], steps, persistent, output: 'y', dispose: disposeEnv(persistent),
  };
}

/** Zero padding of the input up to the FFT size (bottom/right), in the spec's layout. */
function inputPadStep(spec: LayerSpec, id = 'pad-input'): StepDef | undefined {
  const g = geometry(spec);
  const { batch: B, height: H, width: W, inChannels: Ci } = spec;
  if (g.fftH === H && g.fftW === W) return undefined;
  const nhwc = spec.layout === 'NHWC';
  const padding: Array<[number, number]> = nhwc
    ? [[0, 0], [0, g.fftH - H], [0, g.fftW - W], [0, 0]]
    : [[0, 0], [0, 0], [0, g.fftH - H], [0, g.fftW - W]];
  return step({
    id, name: 'pad', implementation: `zero padding to ${g.fftH}×${g.fftW} (${spec.padding === 'linear' ? 'n + k − 1' : "n + ⌈(k − 1)/2⌉, enough for the 'same' window"})`,
    inLayer: false, reads: ['x'], writes: 'xp',
    inputShapes: [nhwc ? [B, H, W, Ci] : [B, Ci, H, W]],
    outputShape: nhwc ? [B, g.fftH, g.fftW, Ci] : [B, Ci, g.fftH, g.fftW], flops: 0,
    run: (env) => zeroPad(get(env, 'x'), padding),
  });
}

function seed(spec: LayerSpec, data: LayerData, ctx: BuildContext): PreparedVariant {
  const { batch: B, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH, Q = g.fftW, V = g.freqW, U = P;
  const kit = ctx.kit;
  // The seed stores its kernel as (in, H, W, out).
  const kSeed = tf.tidy(() => tf.transpose(tf.tensor4d(data.kernel, [kh, kw, Ci, Co]), [2, 0, 1, 3]));
  const persistent = persistentEnv({ x: tf.tensor(data.input, data.inputShape), kernel: kSeed });
  const steps: StepDef[] = [];
  const padIn = inputPadStep(spec);
  if (padIn) steps.push(padIn);
  const xKey = padIn ? 'xp' : 'x';
  const nhwc = spec.layout === 'NHWC';
  const realFft = (rows: number, n: number) => gemmFlops(rows, n, 2 * (Math.floor(n / 2) + 1));
  const cplxFft = (rows: number, n: number) => 4 * gemmFlops(rows, n, n) + 2 * rows * n;
  const transformLabel = kit instanceof PlanarComplex ? `rfft over W + complex DFT over H, ${kit.label}` : kit.label;

  steps.push(step({
    id: 'rfft2d-input', name: 'rfft2d(input)',
    implementation: `outside the seed's layer (it fed spectra in); laid out (batch, W/2+1, H, in) as its transposed kernel expects; ${transformLabel}`,
    inLayer: false, reads: [xKey], writes: 'X',
    inputShapes: [nhwc ? [B, P, Q, Ci] : [B, Ci, P, Q]], outputShape: [B, V, U, Ci, 2],
    flops: realFft(B * Ci * P, Q) + cplxFft(B * Ci * V, P),
    run: (env) => {
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
  }));
  let kKey = 'kernel';
  if (kh !== P || kw !== Q) {
    steps.push(step({
      id: 'pad-kernel', name: 'pad', implementation: `zero padding of the (in, ${kh}, ${kw}, out) kernel to ${P}×${Q}, every call`,
      inLayer: true, reads: ['kernel'], writes: 'kp', inputShapes: [[Ci, kh, kw, Co]], outputShape: [Ci, P, Q, Co], flops: 0,
      run: (env) => zeroPad(get(env, 'kernel'), [[0, 0], [0, P - kh], [0, Q - kw], [0, 0]]),
    }));
    kKey = 'kp';
  }
  steps.push(step({
    id: 'rfft2d-kernel', name: 'rfft2d(kernel)',
    implementation: `every call; on the (in, H, W, out) kernel rfft2d's innermost two axes are (W, out), so it is transposed to run over (H, W); ${transformLabel}`,
    inLayer: true, reads: [kKey], writes: 'K', inputShapes: [[Ci, P, Q, Co]], outputShape: [Ci, U, V, Co, 2],
    flops: realFft(Ci * Co * P, Q) + cplxFft(Ci * Co * V, P),
    run: (env) => {
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
  }));
  steps.push(step({
    id: 'transpose-kernel', name: 'transpose', implementation: `perm [2,1,0,3] of the complex kernel spectrum: ${kit.transposeLabel}`,
    inLayer: true, reads: ['K'], writes: 'Kt', inputShapes: [[Ci, U, V, Co, 2]], outputShape: [V, U, Ci, Co, 2], flops: 0,
    run: (env) => kit.transpose(env.get('K') as Cx, [2, 1, 0, 3]),
  }));
  steps.push(step({
    id: 'einsum', name: 'einsum', implementation: `'ijkl,jklo->ijko': ${kit.einsumLabel}${Ci === 1 ? '; with in-channels = 1 every matmul is a K = 1 outer product' : ''}`,
    inLayer: true, reads: ['X', 'Kt'], writes: 'Y', inputShapes: [[B, V, U, Ci, 2], [V, U, Ci, Co, 2]], outputShape: [B, V, U, Co, 2],
    flops: 8 * U * V * B * Ci * Co,
    run: (env) => kit.einsumSeed(env.get('X') as Cx, env.get('Kt') as Cx),
  }));
  const outShape = outputShape(spec, g);
  steps.push(step({
    id: 'irfft2d', name: 'irfft2d',
    implementation: `back to the spatial domain for the check (the seed stayed in the Fourier domain), crop, ${spec.layout}; ${kit instanceof PlanarComplex ? `inverse complex DFT over H + C2R over W, ${kit.label}` : kit.label}`,
    inLayer: false, reads: ['Y'], writes: 'y', inputShapes: [[B, V, U, Co, 2]], outputShape: outShape,
    flops: cplxFft(B * Co * V, U) + 2 * B * Co * P * 2 * V * Q,
    run: (env) => {
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
  }));
  return {
    name: 'seed', title: "The seed's layer", kind: 'spectral',
    description: "The question's recipe step by step: rfft2d of the input outside the layer; inside it rfft2d of the (in, H, W, out) kernel on every call, transpose perm [2,1,0,3], complex einsum 'ijkl,jklo->ijko'; irfft2d back for the check.",
    reference: 'spatial-equivalent output',
    oneOff: [], steps, persistent, output: 'y',
    dispose: () => {
      disposeEnv(persistent)();
    },
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

function optimized(spec: LayerSpec, data: LayerData, ctx: BuildContext): PreparedVariant {
  const { batch: B, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = spec;
  const g = geometry(spec);
  const P = g.fftH, Q = g.fftW, V = g.freqW, U = P, F = U * V;
  const oh = g.outH, ow = g.outW;
  const nhwc = spec.layout === 'NHWC';
  const orient = orientationFor(ctx.backend);
  const right = orient === 'right';
  const mats: tf.Tensor[] = [];
  const mat = (m: Float32Array, shape: number[]) => {
    const t = tf.keep(tf.tensor(m, shape));
    mats.push(t);
    return t;
  };
  const r2c = mat(r2cMatrix(Q, V), [Q, 2 * V]) as tf.Tensor2D;
  const persistent = persistentEnv({ x: tf.tensor(data.input, data.inputShape), w: tf.tensor4d(data.kernel, [kh, kw, Ci, Co]) });
  const gauss = Ci >= (ctx.gaussMinInChannels ?? gaussMinInChannels(ctx.backend));
  // Measured here: wasm batchMatMul with a batch > 1 runs tfjs's own loop (≈ 1–2 GFLOP/s), not XNNPACK (≈ 25).
  const bmmNote = ctx.backend === 'wasm' ? "; wasm's batchMatMul runs tfjs's own loop, not XNNPACK, so this step runs far below the 2-D GEMMs" : '';
  const where = right ? 'as cached right operands (XNNPACK packs a constant operand once)' : 'from the left, frequency axis leading';

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
  const transformFlops = (m: number) => gemmFlops(m * P, Q, 2 * V) + gemmFlops(m * V, 2 * P, 2 * P);

  const oneOff: StepDef[] = [step({
    id: 'rfft2d-kernel-cached', name: 'rfft2d(kernel)', oneOff: true, inLayer: true,
    implementation: `once per weight update, cached: R2C GEMM over W + complex GEMM over H${Ci === 1 ? ', laid out for the broadcast product' : `, frequency-major ((W/2+1)·H, in, out)${gauss ? ", plus Kr + Ki for Gauss's product" : ''}`}`,
    reads: ['w'], writes: 'kspec', inputShapes: [[kh, kw, Ci, Co]], outputShape: [2, V, U, Ci, Co], flops: transformFlops(Ci * Co),
    run: (env) => {
      const maps = zeroPad(tf.transpose(get(env, 'w'), [2, 3, 0, 1]), [[0, 0], [0, 0], [0, P - kh], [0, Q - kw]]);
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
  })];

  const steps: StepDef[] = [];
  const padIn = inputPadStep(spec);
  if (padIn) steps.push(padIn);
  const xKey = padIn ? 'xp' : 'x';
  steps.push(step({
    id: 'rfft2d-input', name: 'rfft2d(input)',
    implementation: `R2C GEMM over W (${Q}×${2 * V}) + one transpose + complex GEMM over H (${2 * P}×${2 * P})${Ci === 1 ? ', and i·X from a second GEMM (no split/concat in the product)' : '; real and imaginary parts transposed to frequency-major ((W/2+1)·H, batch, in)'}${nhwc && Ci > 1 ? '; NHWC → channels-first first' : ''}`,
    inLayer: false, reads: [xKey], writes: 'X', inputShapes: [nhwc ? [B, P, Q, Ci] : [B, Ci, P, Q]],
    outputShape: Ci === 1 ? [B, V, 2, U] : [2, V, U, B, Ci],
    flops: transformFlops(B * Ci) + (Ci === 1 ? gemmFlops(B * V, 2 * P, 2 * U) : 0),
    run: (env) => {
      const x = get(env, xKey);
      const maps = nhwc && Ci > 1 ? tf.transpose(x, [0, 3, 1, 2]) : x;
      const b = rowsOverW(maps, B * Ci);
      if (Ci === 1) return { x: tf.matMul(b, fwdH), ix: tf.matMul(b, fwdTimesI) }; // (B·V, [ri, u]) each
      const { re, im } = freqMajor(b, B * Ci);
      return { xr: tf.reshape(re, [F, B, Ci]), xi: tf.reshape(im, [F, B, Ci]) };
    },
  }));
  // The product. Output layout: right → (B, Co, V, 2, U) rows for right-multiplies; left → (V, 2, U, B, Co).
  steps.push(step({
    id: 'multiply', name: Ci === 1 ? 'multiply' : 'complex matmul',
    implementation: Ci === 1
      ? right
        ? 'broadcast multiply (in-channels = 1): (batch, 1, F·2) ⊙ (1, out, F·2), planar complex as 2 real multiplies + 1 add, no transposes'
        : `in-channels = 1 product as one batchMatMul over the ${2 * F} spectrum positions of (batch×2)·(2×out) — [X, swap(X)]·[Kr; Ki] — since broadcasting multiplies are slow on ${ctx.backend}`
      : gauss
        ? `Gauss's 3-multiplication complex product: 3 real batchMatMuls over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co}) + 5 adds, frequency-major, no transposes${bmmNote}`
        : `complex product as 4 real batchMatMuls over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co}) + 2 adds, frequency-major, no transposes${bmmNote}`,
    inLayer: true, reads: ['X', 'kspec'], writes: 'Y',
    inputShapes: [Ci === 1 ? [B, V, 2, U] : [2, V, U, B, Ci], [2, V, U, Ci, Co]],
    outputShape: Ci === 1 ? (right ? [B, Co, V, 2, U] : [V, 2, U, B, Co]) : right ? [2, V, U, B, Co] : [V, 2, U, B, Co],
    flops: Ci === 1 ? 6 * F * B * Co : (gauss ? 3 : 4) * gemmFlops(B, Ci, Co, F) + (gauss ? 5 : 2) * F * B * Co,
    run: (env) => {
      const K = env.get('kspec') as Record<string, tf.Tensor>;
      if (Ci === 1) {
        const { x, ix } = env.get('X') as { x: tf.Tensor; ix: tf.Tensor };
        if (right) {
          return tf.add(tf.mul(tf.reshape(x, [B, 1, 2 * F]), K.kr2!), tf.mul(tf.reshape(ix, [B, 1, 2 * F]), K.ki2!)); // (B, Co, [V, ri, U])
        }
        const xc = tf.stack([positionsMajor(x, B), positionsMajor(ix, B)], 2) as tf.Tensor3D; // (2F, B, 2)
        return tf.matMul(xc, K.k as tf.Tensor3D); // (2F, B, Co) = (V, 2, U, B, Co)
      }
      const { xr, xi } = env.get('X') as { xr: tf.Tensor3D; xi: tf.Tensor3D };
      const kr = K.kr as tf.Tensor3D, ki = K.ki as tf.Tensor3D;
      let yr: tf.Tensor, yi: tf.Tensor;
      if (gauss) {
        const t1 = tf.matMul(xr, kr), t2 = tf.matMul(xi, ki), t3 = tf.matMul(tf.add(xr, xi) as tf.Tensor3D, K.ks as tf.Tensor3D);
        yr = tf.sub(t1, t2);
        yi = tf.sub(tf.sub(t3, t1), t2);
      } else {
        yr = tf.sub(tf.matMul(xr, kr), tf.matMul(xi, ki));
        yi = tf.add(tf.matMul(xr, ki), tf.matMul(xi, kr));
      }
      if (right) return tf.stack([yr, yi]); // (2, F, B, Co)
      return tf.stack([tf.reshape(yr, [V, U, B * Co]), tf.reshape(yi, [V, U, B * Co])], 1); // (V, 2, U, B·Co)
    },
  }));
  const outShape = outputShape(spec, g);
  if (right) {
    const invH = mat(complexRight(P, true, g.cropTop, oh), [2 * P, 2 * oh]) as tf.Tensor2D;
    const c2r = mat(c2rInterleaved(Q, V, g.cropLeft, ow), [2 * V, ow]) as tf.Tensor2D; // rows (v, ri)
    let yKey = 'Y';
    if (Ci > 1) {
      steps.push(step({
        id: 'transpose-freq', name: 'transpose', implementation: '(2, (W/2+1)·H, batch·out) → (batch·out, W/2+1, 2, H): frequency-major product back to rows for the inverse GEMMs',
        inLayer: false, reads: ['Y'], writes: 'Yr', inputShapes: [[2, V, U, B, Co]], outputShape: [B, Co, V, 2, U], flops: 0,
        run: (env) => tf.transpose(tf.reshape(get(env, 'Y'), [2, V, U, B * Co]), [3, 1, 0, 2]),
      }));
      yKey = 'Yr';
    }
    steps.push(step({
      id: 'ifft-h', name: 'irfft2d · ifft over H',
      implementation: `complex GEMM (${2 * P}×${2 * oh}) over H ${where}${oh < P ? `, only the ${oh} output rows computed (crop folded in)` : ''}`,
      inLayer: false, reads: [yKey], writes: 'Z', inputShapes: [[B, Co, V, 2, U]], outputShape: [B, Co, V, 2, oh],
      flops: gemmFlops(B * Co * V, 2 * P, 2 * oh),
      run: (env) => tf.matMul(tf.reshape(get(env, yKey), [B * Co * V, 2 * U]), invH),
    }));
    steps.push(step({
      id: 'transpose-rows', name: 'transpose', implementation: '(batch·out, (W/2+1)·2, H) → (batch·out, H, (W/2+1)·2): the frequency axis last for the C2R GEMM',
      inLayer: false, reads: ['Z'], writes: 'Zt', inputShapes: [[B, Co, V, 2, oh]], outputShape: [B, Co, oh, V, 2], flops: 0,
      run: (env) => tf.transpose(tf.reshape(get(env, 'Z'), [B * Co, 2 * V, oh]), [0, 2, 1]),
    }));
    steps.push(step({
      id: 'irfft-w', name: 'irfft2d · C2R over W',
      implementation: `real GEMM (${2 * V}×${ow}) from the half spectrum ${where}${ow < Q ? `, only the ${ow} output columns computed` : ''}; gives NCHW`,
      inLayer: false, reads: ['Zt'], writes: nhwc ? 'R' : 'y', inputShapes: [[B, Co, oh, V, 2]], outputShape: [B, Co, oh, ow],
      flops: gemmFlops(B * Co * oh, 2 * V, ow),
      run: (env) => tf.reshape(tf.matMul(tf.reshape(get(env, 'Zt'), [B * Co * oh, 2 * V]), c2r), [B, Co, oh, ow]),
    }));
    if (nhwc) {
      steps.push(step({
        id: 'transpose-out', name: 'transpose', implementation: 'NCHW → NHWC',
        inLayer: false, reads: ['R'], writes: 'y', inputShapes: [[B, Co, oh, ow]], outputShape: outShape, flops: 0,
        run: (env) => tf.transpose(get(env, 'R'), [0, 2, 3, 1]),
      }));
    }
  } else {
    // Left orientation: (V, [ri, U], B·Co) → ifft over H per frequency column → C2R over (v, ri) → layout.
    const invHl = complexBlock(P, true, g.cropTop, oh); // (2oh, 2U)
    const invH = mat(tile(invHl, V), [V, 2 * oh, 2 * P]) as tf.Tensor3D;
    const c2rl = mat(transposeOf(c2rInterleaved(Q, V, g.cropLeft, ow), 2 * V, ow), [ow, 2 * V]) as tf.Tensor2D; // cols (v, ri)
    steps.push(step({
      id: 'ifft-h', name: 'irfft2d · ifft over H',
      implementation: `complex GEMM (${2 * oh}×${2 * P}) over H, batched over the ${V} frequency columns, ${where}${oh < P ? `, only the ${oh} output rows computed (crop folded in)` : ''}`,
      inLayer: false, reads: ['Y'], writes: 'Z', inputShapes: [[V, 2, U, B, Co]], outputShape: [V, 2, oh, B, Co],
      flops: gemmFlops(2 * oh, 2 * P, B * Co, V),
      run: (env) => tf.matMul(invH, tf.reshape(get(env, 'Y'), [V, 2 * U, B * Co]) as tf.Tensor3D),
    }));
    steps.push(step({
      id: 'irfft-w', name: 'irfft2d · C2R over W',
      implementation: `real GEMM (${ow}×${2 * V}) from the half spectrum ${where}${ow < Q ? `, only the ${ow} output columns computed` : ''}`,
      inLayer: false, reads: ['Z'], writes: 'R', inputShapes: [[V, 2, oh, B, Co]], outputShape: [ow, oh, B, Co],
      flops: gemmFlops(ow, 2 * V, oh * B * Co),
      run: (env) => tf.matMul(c2rl, tf.reshape(get(env, 'Z'), [2 * V, oh * B * Co]) as tf.Tensor2D),
    }));
    steps.push(step({
      id: 'transpose-out', name: 'transpose', implementation: `(W, H, batch, out) → ${spec.layout}`,
      inLayer: false, reads: ['R'], writes: 'y', inputShapes: [[ow, oh, B, Co]], outputShape: outShape, flops: 0,
      run: (env) => tf.transpose(tf.reshape(get(env, 'R'), [ow, oh, B, Co]), nhwc ? [2, 1, 0, 3] : [2, 3, 1, 0]),
    }));
  }
  return {
    name: 'optimized', title: 'Optimized spectral layer', kind: 'spectral',
    description: `Kernel spectrum computed once and cached; ${Ci === 1 ? 'a broadcast product since in-channels = 1 (no einsum, no transposes)' : `frequency-major layout, the complex product as ${gauss ? "Gauss's 3-multiplication" : '4-multiplication'} batched real matmuls with no transposes`}; transforms as real GEMMs against cached DFT matrices ${where}; ${spec.padding === 'circular' ? 'no padding (circular, as the seed)' : 'zero padding for the linear part, the crop folded into the inverse'}.`,
    reference: 'spatial-equivalent output',
    oneOff, steps, persistent, output: 'y',
    dispose: () => {
      disposeEnv(persistent)();
      tf.dispose(mats);
    },
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
