/**
 * The native CUDA engine: the four variants on cuFFT, cuBLAS, cuDNN and the addon's kernels, every
 * step timed with CUDA events on one stream. Buffers are allocated while preparing and reused on every
 * call (no allocation in a timed region); weights are laid out on the host once. Host side of the
 * addon in native/; tested against a host implementation of the same interface (test/engines/fake-cuda.ts).
 */
import type { LayerData } from '../../core/data';
import type { TimingSource, VariantName } from '../../core/run';
import { type LayerSpec, geometry, outputShape } from '../../core/spec';
import type { Engine, EngineCapabilities, Env, PreparedVariant, StepDef } from '../engine';
import { EngineUnavailableError } from '../tfjs/backends';
import { type AlgorithmPerf, type ConvOptions, type CudaAddon, type SearchDir, describeDiscovery, unavailableReason } from './discovery';

/** A device buffer of `n` floats owned by a prepared variant (the profiler's dispose leaves it alone). */
interface Buf {
  buf: number;
  n: number;
}

const isBuf = (v: unknown): v is Buf => !!v && typeof v === 'object' && typeof (v as Buf).buf === 'number';
const F32 = 4;
const fft2dFlops = (batch: number, p: number, q: number) => batch * 2.5 * p * q * Math.log2(Math.max(2, p * q));
const io = (inputs: number[][], output: number[], complexOut = false) =>
  F32 * (inputs.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0) + output.reduce((x, y) => x * y, 1) * (complexOut ? 2 : 1));

/** HWIO (kh, kw, in, out) → KRSC (out, kh, kw, in) for NHWC or KCRS (out, in, kh, kw) for NCHW; optionally flipped. */
export function filterLayout(w: Float32Array, kh: number, kw: number, ci: number, co: number, nhwc: boolean): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < ci; c++)
        for (let o = 0; o < co; o++) {
          const v = w[((i * kw + j) * ci + c) * co + o]!;
          out[nhwc ? ((o * kh + i) * kw + j) * ci + c : ((o * ci + c) * kh + i) * kw + j] = v;
        }
  return out;
}

export class CudaEngine implements Engine {
  readonly name = 'cuda';
  readonly backend = 'cuda';
  readonly timing: TimingSource = 'gpu-events';
  readonly timingNote = 'CUDA events recorded around every step on the stream (cudaEventElapsedTime); warm-up runs build the cuFFT plans and cuDNN workspaces first';
  readonly capabilities: EngineCapabilities = { complexFft: true, complexEinsum: true, complexTranspose: true, asyncKernels: true };
  private readonly events: [number, number];

  private constructor(readonly addon: CudaAddon, readonly device: string, readonly notes: string[], readonly hasCudnn: boolean) {
    this.events = [addon.eventCreate(), addon.eventCreate()];
  }

  /** Finds the libraries and the GPU, opens the operations; EngineUnavailableError says what is missing. */
  static create(addon: CudaAddon, dirs: SearchDir[]): CudaEngine {
    const found = addon.discover(dirs.map((d) => d.dir));
    const notes = describeDiscovery(found, dirs);
    const reason = unavailableReason(found);
    if (reason) throw new EngineUnavailableError(`engine cuda is not available here: ${reason}`);
    const rt = addon.open(dirs.map((d) => d.dir));
    if (!rt.ok) throw new EngineUnavailableError(`engine cuda is not available here: ${rt.reason}`);
    const ops = addon.openOps(dirs.map((d) => d.dir));
    if (!ops.ok) {
      addon.close();
      throw new EngineUnavailableError(`engine cuda is not available here: ${ops.reason}`);
    }
    notes.push(...ops.notes);
    const gpu = found.driver.devices[0]!;
    let mem = '';
    try {
      const m = addon.memInfo();
      mem = `, ${(m.free / 2 ** 30).toFixed(1)} of ${(m.total / 2 ** 30).toFixed(1)} GiB free`;
    } catch {
      /* memory info is optional */
    }
    return new CudaEngine(addon, `GPU ${gpu.name} (sm ${gpu.computeCapability}, ${gpu.smCount} SMs${mem}) via cuFFT/cuBLAS/cuDNN`, notes, ops.cudnn);
  }

  measure<T>(launch: () => T): { value: T; ms: number } {
    const [a, b] = this.events;
    this.addon.eventRecord(a);
    const value = launch();
    this.addon.eventRecord(b);
    return { value, ms: this.addon.elapsed(a, b) };
  }

  sync(): void {
    this.addon.synchronize();
  }

  async read(value: unknown): Promise<Float32Array> {
    if (!isBuf(value)) throw new Error('no device buffer to read');
    this.addon.synchronize();
    return this.addon.download(value.buf, value.n);
  }

  /** Buffers belong to their prepared variant and are reused: freed by the variant's dispose. */
  dispose(): void {}

  memory(): { tensors: number; bytes: number } {
    return { tensors: this.addon.allocated(), bytes: 0 };
  }

  shutdown(): void {
    this.addon.close();
  }

  prepare(variant: VariantName, spec: LayerSpec, data: LayerData): PreparedVariant {
    const owned: number[] = [];
    const alloc = (n: number): Buf => {
      const b = { buf: this.addon.alloc(Math.max(1, n) * F32), n };
      owned.push(b.buf);
      return b;
    };
    const upload = (d: Float32Array): Buf => {
      const b = alloc(d.length);
      this.addon.upload(b.buf, d);
      return b;
    };
    const free = () => {
      for (const id of owned.splice(0)) {
        try {
          this.addon.free(id);
        } catch {
          /* freeing after a device error: freeAll in shutdown catches the rest */
        }
      }
    };
    try {
      const b = new Builder(this, spec, data, alloc, upload);
      const p = b.build(variant);
      return { ...p, dispose: free };
    } catch (e) {
      free();
      throw e;
    }
  }
}

type StepSpec = Omit<StepDef, 'reads' | 'writes' | 'run' | 'bytes'> & { bytes?: number; run: () => Buf };

/** Builds one variant's steps over preallocated buffers. */
class Builder {
  readonly g;
  readonly nhwc: boolean;
  /** cuFFT plans this variant needs: created by its one-off "cuFFT plans" step (timed on the host). */
  private readonly plans: Array<{ r2c: boolean; batch: number; n0: number; n1: number; id: number }> = [];

  constructor(
    private readonly e: CudaEngine,
    private readonly spec: LayerSpec,
    private readonly data: LayerData,
    private readonly alloc: (n: number) => Buf,
    private readonly upload: (d: Float32Array) => Buf,
  ) {
    this.g = geometry(spec);
    this.nhwc = spec.layout === 'NHWC';
  }

  private get a() {
    return this.e.addon;
  }

  /** A cuFFT plan handle to use at run time (created by the plans step, which runs first). */
  private plan(r2c: boolean, batch: number, n0: number, n1: number): { readonly id: number } {
    const p = { r2c, batch, n0, n1, id: -1 };
    this.plans.push(p);
    return p;
  }

  /** The one-off step that (re)creates every cuFFT plan of the variant: what cuFFT does on a first call. */
  private planStep(): StepSpec | undefined {
    if (!this.plans.length) return undefined;
    const { fftH: P, fftW: Q } = this.g;
    return {
      id: 'fft-plans', name: 'cuFFT plans', oneOff: true, inLayer: false, hostTimed: true,
      implementation: `cufftPlanMany: ${this.plans.map((p) => `${p.r2c ? 'R2C' : 'C2R'} ${p.batch} × ${p.n0}×${p.n1}`).join(', ')} — host time, once (cuFFT caches plans; frameworks pay this on the first call)`,
      inputShapes: [], outputShape: [P, Q], flops: 0, bytes: 0,
      run: () => {
        for (const p of this.plans) {
          if (p.id >= 0) this.a.fftDestroy(p.id);
          p.id = this.a.fftPlan({ r2c: p.r2c, batch: p.batch, n0: p.n0, n1: p.n1 });
        }
        return { buf: -1, n: 0 };
      },
    };
  }

  /** Steps run in order on fixed buffers; env keys are the step ids (each step writes its own). */
  private pipeline(steps: StepSpec[], oneOff: StepSpec[] = []): Pick<PreparedVariant, 'steps' | 'oneOff' | 'persistent' | 'output'> {
    const persistent: Env = new Map();
    const toDef = (s: StepSpec, prev: string | undefined): StepDef => ({
      ...s,
      bytes: s.bytes ?? io(s.inputShapes, s.outputShape),
      reads: prev ? [prev] : [],
      writes: s.id,
      run: () => s.run(),
    });
    const defs = steps.map((s, i) => toDef(s, steps[i - 1]?.id));
    const plans = this.planStep();
    return { steps: defs, oneOff: [...(plans ? [plans] : []), ...oneOff].map((s) => toDef(s, undefined)), persistent, output: steps[steps.length - 1]!.id };
  }

  build(name: VariantName): Omit<PreparedVariant, 'dispose'> {
    switch (name) {
      case 'spatial':
        return this.spatial();
      case 'spatial-equivalent':
        return this.spatialEquivalent();
      case 'seed':
        return this.seed();
      case 'optimized':
        return this.optimized();
    }
  }

  /** Explicit zero/circular padding then a 'valid' cuDNN convolution (any kernel size, any padding). */
  private convSteps(w: Float32Array, kh: number, kw: number, top: number, left: number, circular: boolean, convolution: boolean, valid: boolean, label: string) {
    const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = this.spec;
    if (!this.e.hasCudnn) throw new EngineUnavailableError('engine cuda cannot run the spatial variants here: libcudnn was not found');
    const x = this.upload(this.data.input);
    const filter = this.upload(filterLayout(w, kh, kw, Ci, Co, this.nhwc));
    const ph = valid ? H : H + kh - 1, pw = valid ? W : W + kw - 1;
    const oh = ph - kh + 1, ow = pw - kw + 1;
    const steps: StepSpec[] = [];
    let src = x;
    if (!valid) {
      const padded = this.alloc(B * Ci * ph * pw);
      const mapBatch = this.nhwc ? B : B * Ci, c = this.nhwc ? Ci : 1;
      steps.push({
        id: 'pad', name: 'pad', implementation: `${circular ? 'wrap-around' : 'zero'} padding to ${ph}×${pw} (addon kernel fconv_pad)`, inLayer: true,
        inputShapes: [this.nhwc ? [B, H, W, Ci] : [B, Ci, H, W]], outputShape: this.nhwc ? [B, ph, pw, Ci] : [B, Ci, ph, pw], flops: 0,
        run: () => {
          this.a.pad({ input: x.buf, output: padded.buf, batch: mapBatch, h: H, w: W, c, top, left, oh: ph, ow: pw, circular });
          return padded;
        },
      });
      src = padded;
    }
    const y = this.alloc(B * Co * oh * ow);
    const desc: ConvOptions = { n: B, c: Ci, h: ph, w: pw, k: Co, r: kh, s: kw, padH: 0, padW: 0, nhwc: this.nhwc, convolution, x: src.buf, filter: filter.buf, y: y.buf };
    const algorithms: AlgorithmPerf[] = this.a.convAlgorithms(desc);
    const best = algorithms.filter((p) => p.status === 'ok').sort((p, q) => p.ms - q.ms)[0];
    if (!best) throw new Error(`cuDNN has no algorithm for this convolution: ${algorithms.map((p) => `${p.algo} ${p.status}`).join(', ')}`);
    steps.push({
      id: 'conv2d', name: 'conv2d', implementation: `cuDNN ${best.algo} (the fastest of ${algorithms.length} by cudnnFindConvolutionForwardAlgorithm, ${best.math} math), ${label}, ${this.spec.layout}`,
      inLayer: true, inputShapes: [this.nhwc ? [B, ph, pw, Ci] : [B, Ci, ph, pw], [kh, kw, Ci, Co]], outputShape: this.nhwc ? [B, oh, ow, Co] : [B, Co, oh, ow],
      flops: 2 * B * oh * ow * Ci * Co * kh * kw,
      run: () => {
        this.a.conv(desc, [best.algo]);
        return y;
      },
    });
    return { ...this.pipeline(steps), algorithms };
  }

  private spatial(): Omit<PreparedVariant, 'dispose'> {
    const k = this.spec.spatialKernel;
    const top = Math.floor((k - 1) / 2);
    return {
      name: 'spatial', title: `Conv2D ${k}×${k}`, kind: 'spatial', reference: 'naive direct convolution',
      description: `The Conv2D the layer is compared against: ${k}×${k}, 'same' padding, cross-correlation as Conv2D computes.`,
      ...this.convSteps(this.data.spatialKernel, k, k, top, top, false, false, false, "cross-correlation, 'same'"),
    };
  }

  private spatialEquivalent(): Omit<PreparedVariant, 'dispose'> {
    const { kernelH: kh, kernelW: kw, padding } = this.spec;
    const circular = padding === 'circular';
    const top = circular ? kh - 1 : Math.floor((kh - 1) / 2), left = circular ? kw - 1 : Math.floor((kw - 1) / 2);
    return {
      name: 'spatial-equivalent', title: `Conv2D ${kh}×${kw} (${padding})`, kind: 'spatial', reference: 'naive direct convolution',
      description: `The spatial convolution that computes exactly what the spectral layers compute: ${this.g.describes}.`,
      ...this.convSteps(this.data.kernel, kh, kw, top, left, circular, true, padding === 'valid', 'true convolution (CUDNN_CONVOLUTION)'),
    };
  }

  /** Input → channels-first, zero-padded to P×Q, R2C: (B·Ci, P, V) complex. Returns the steps' closures. */
  private inputSpectrum(id: string, implementationExtra: string): { step: StepSpec; X: Buf } {
    const { batch: B, height: H, width: W, inChannels: Ci } = this.spec;
    const { fftH: P, fftW: Q, freqW: V } = this.g;
    const x = this.upload(this.data.input);
    const cf = this.nhwc ? this.alloc(B * Ci * H * W) : x;
    const needPad = P !== H || Q !== W;
    const padded = needPad ? this.alloc(B * Ci * P * Q) : cf;
    const X = this.alloc(B * Ci * P * V * 2);
    const plan = this.plan(true, B * Ci, P, Q);
    return {
      X,
      step: {
        id, name: 'rfft2d(input)', inLayer: false,
        implementation: `${this.nhwc ? 'NHWC → NCHW (fconv_permute4), ' : ''}${needPad ? `zero padding to ${P}×${Q}, ` : ''}cuFFT R2C, ${B * Ci} transforms of ${P}×${Q}${implementationExtra}`,
        inputShapes: [this.nhwc ? [B, H, W, Ci] : [B, Ci, H, W]], outputShape: [B, Ci, P, V, 2], flops: fft2dFlops(B * Ci, P, Q),
        run: () => {
          if (this.nhwc) this.a.permute({ input: x.buf, output: cf.buf, d0: B, d1: H, d2: W, d3: Ci, p0: 0, p1: 3, p2: 1, p3: 2, elem: 1 });
          if (needPad) this.a.pad({ input: cf.buf, output: padded.buf, batch: B * Ci, h: H, w: W, c: 1, top: 0, left: 0, oh: P, ow: Q });
          this.a.fftExec({ plan: plan.id, input: padded.buf, output: X.buf });
          return X;
        },
      },
    };
  }

  /** (B·Co, P, V) complex → C2R → crop (and 1/(P·Q)) → the spec's layout. */
  private inverse(Y: Buf, implementationExtra: string): StepSpec {
    const { batch: B, outChannels: Co } = this.spec;
    const { fftH: P, fftW: Q, freqW: V, outH: oh, outW: ow, cropTop, cropLeft } = this.g;
    const r = this.alloc(B * Co * P * Q);
    const c = this.alloc(B * Co * oh * ow);
    const out = this.nhwc ? this.alloc(B * Co * oh * ow) : c;
    const plan = this.plan(false, B * Co, P, Q);
    return {
      id: 'irfft2d', name: 'irfft2d', inLayer: false,
      implementation: `cuFFT C2R, ${B * Co} transforms of ${P}×${Q}, then crop ${oh}×${ow} at (${cropTop}, ${cropLeft}) with the 1/(P·Q) scale (fconv_crop)${this.nhwc ? ', NCHW → NHWC' : ''}${implementationExtra}`,
      inputShapes: [[B, Co, P, V, 2]], outputShape: outputShape(this.spec, this.g), flops: fft2dFlops(B * Co, P, Q),
      run: () => {
        this.a.fftExec({ plan: plan.id, input: Y.buf, output: r.buf });
        this.a.crop({ input: r.buf, output: c.buf, batch: B * Co, h: P, w: Q, top: cropTop, left: cropLeft, oh, ow, scale: 1 / (P * Q) });
        if (this.nhwc) this.a.permute({ input: c.buf, output: out.buf, d0: B, d1: Co, d2: oh, d3: ow, p0: 0, p1: 2, p2: 3, p3: 1, elem: 1 });
        return out;
      },
    };
  }

  /** Kernel (Ci, Co, kh, kw) maps → zero-padded P×Q → R2C: (Ci·Co, P, V) complex, unscaled. */
  private kernelSpectrum(k: Buf): { run: () => Buf; K: Buf } {
    const { inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = this.spec;
    const { fftH: P, fftW: Q, freqW: V } = this.g;
    const maps = this.alloc(Ci * Co * kh * kw);
    const padded = this.alloc(Ci * Co * P * Q);
    const K = this.alloc(Ci * Co * P * V * 2);
    const plan = this.plan(true, Ci * Co, P, Q);
    return {
      K,
      run: () => {
        // stored HWIO (kh, kw, Ci, Co) → (Ci, Co, kh, kw)
        this.a.permute({ input: k.buf, output: maps.buf, d0: kh, d1: kw, d2: Ci, d3: Co, p0: 2, p1: 3, p2: 0, p3: 1, elem: 1 });
        this.a.pad({ input: maps.buf, output: padded.buf, batch: Ci * Co, h: kh, w: kw, c: 1, top: 0, left: 0, oh: P, ow: Q });
        this.a.fftExec({ plan: plan.id, input: padded.buf, output: K.buf });
        return K;
      },
    };
  }

  private optimized(): Omit<PreparedVariant, 'dispose'> {
    const { batch: B, inChannels: Ci, outChannels: Co } = this.spec;
    const { fftH: P, freqW: V } = this.g;
    const F = P * V;
    const gauss = Ci >= 8;
    const w = this.upload(this.data.kernel);
    const ks = this.kernelSpectrum(w);
    const Kf = Ci > 1 ? this.alloc(F * Ci * Co * 2) : ks.K;
    const oneOff: StepSpec = {
      id: 'rfft2d-kernel-cached', name: 'rfft2d(kernel)', oneOff: true, inLayer: true,
      implementation: `once per weight update, cached: cuFFT R2C of the ${Ci * Co} kernel maps${Ci > 1 ? ', laid out frequency-major (F, in, out)' : ''}`,
      inputShapes: [[this.spec.kernelH, this.spec.kernelW, Ci, Co]], outputShape: Ci > 1 ? [F, Ci, Co, 2] : [Co, F, 2], flops: fft2dFlops(Ci * Co, P, this.g.fftW),
      run: () => {
        ks.run();
        if (Ci > 1) this.a.permute({ input: ks.K.buf, output: Kf.buf, d0: Ci, d1: Co, d2: F, d3: 1, p0: 2, p1: 0, p2: 1, p3: 3, elem: 2 });
        return Kf;
      },
    };
    const xin = this.inputSpectrum('rfft2d-input', '');
    const steps: StepSpec[] = [xin.step];
    const Y = this.alloc(B * Co * F * 2);
    if (Ci === 1) {
      steps.push({
        id: 'multiply', name: 'multiply', inLayer: true,
        implementation: `broadcast multiply (in-channels = 1): y[b, o, f] = x[b, f]·k[o, f], one kernel (fconv_bcast_cmul), no transposes, no GEMM`,
        inputShapes: [[B, F, 2], [Co, F, 2]], outputShape: [B, Co, F, 2], flops: 6 * B * Co * F,
        run: () => {
          this.a.bcastCmul({ x: xin.X.buf, k: Kf.buf, y: Y.buf, batch: B, out: Co, freqs: F });
          return Y;
        },
      });
    } else {
      const Xf = this.alloc(F * B * Ci * 2), Yf = this.alloc(F * B * Co * 2);
      steps.push({
        id: 'transpose-x', name: 'transpose', inLayer: true, implementation: '(batch, in, F) → (F, batch, in): frequency-major for the batched GEMM (fconv_permute4)',
        inputShapes: [[B, Ci, F, 2]], outputShape: [F, B, Ci, 2], flops: 0,
        run: () => {
          this.a.permute({ input: xin.X.buf, output: Xf.buf, d0: B, d1: Ci, d2: F, d3: 1, p0: 2, p1: 0, p2: 1, p3: 3, elem: 2 });
          return Xf;
        },
      });
      steps.push({
        id: 'multiply', name: 'complex matmul', inLayer: true,
        implementation: `${gauss ? 'cublasCgemm3mStridedBatched (Gauss\'s 3-multiplication form)' : 'cublasCgemmStridedBatched'} over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co})`,
        inputShapes: [[F, B, Ci, 2], [F, Ci, Co, 2]], outputShape: [F, B, Co, 2], flops: 8 * F * B * Ci * Co,
        run: () => {
          this.a.cgemm({ m: B, n: Co, k: Ci, a: Xf.buf, strideA: B * Ci, b: Kf.buf, strideB: Ci * Co, c: Yf.buf, strideC: B * Co, batch: F, gauss });
          return Yf;
        },
      });
      steps.push({
        id: 'transpose-y', name: 'transpose', inLayer: false, implementation: '(F, batch, out) → (batch, out, F) for the inverse transform (fconv_permute4)',
        inputShapes: [[F, B, Co, 2]], outputShape: [B, Co, F, 2], flops: 0,
        run: () => {
          this.a.permute({ input: Yf.buf, output: Y.buf, d0: F, d1: B, d2: Co, d3: 1, p0: 1, p1: 2, p2: 0, p3: 3, elem: 2 });
          return Y;
        },
      });
    }
    steps.push(this.inverse(Y, ''));
    return {
      name: 'optimized', title: 'Optimized spectral layer', kind: 'spectral', reference: 'spatial-equivalent output',
      description: `Kernel spectrum computed once and cached; ${Ci === 1 ? 'one broadcast-multiply kernel since in-channels = 1' : `frequency-major product as one ${gauss ? '3m ' : ''}strided-batched complex GEMM`}; cuFFT transforms; ${this.spec.padding === 'circular' ? 'no padding (circular, as the seed)' : 'zero padding, crop after the inverse'}.`,
      ...this.pipeline(steps, [oneOff]),
    };
  }

  private seed(): Omit<PreparedVariant, 'dispose'> {
    const { batch: B, inChannels: Ci, outChannels: Co, kernelH: kh, kernelW: kw } = this.spec;
    const { fftH: P, fftW: Q, freqW: V } = this.g;
    const F = P * V;
    // The seed keeps its kernel as (in, H, W, out); on the device it is stored as given (HWIO here) and
    // transformed on every call.
    const w = this.upload(this.data.kernel);
    const ks = this.kernelSpectrum(w);
    const xin = this.inputSpectrum('rfft2d-input', "; outside the seed's layer (it fed spectra in)");
    const Xs = this.alloc(B * F * Ci * 2), Kt = this.alloc(F * Ci * Co * 2), Xt = this.alloc(F * B * Ci * 2), Yt = this.alloc(F * B * Co * 2), Ys = this.alloc(B * F * Co * 2), Yc = this.alloc(B * Co * F * 2);
    const steps: StepSpec[] = [
      {
        ...xin.step,
        implementation: `${xin.step.implementation}; laid out (batch, F, in) as the seed's einsum expects`,
        outputShape: [B, F, Ci, 2],
        run: () => {
          const X = xin.step.run();
          this.a.permute({ input: X.buf, output: Xs.buf, d0: B, d1: Ci, d2: F, d3: 1, p0: 0, p1: 2, p2: 1, p3: 3, elem: 2 });
          return Xs;
        },
      },
      {
        id: 'rfft2d-kernel', name: 'rfft2d(kernel)', inLayer: true,
        implementation: `every call: kernel maps moved to (in, out, H, W), zero-padded to ${P}×${Q}, cuFFT R2C of ${Ci * Co} maps`,
        inputShapes: [[Ci, kh, kw, Co]], outputShape: [Ci, Co, F, 2], flops: fft2dFlops(Ci * Co, P, Q),
        run: ks.run,
      },
      {
        id: 'transpose-kernel', name: 'transpose', inLayer: true, implementation: 'the complex kernel spectrum to (F, in, out) (fconv_permute4), as perm [2,1,0,3] does',
        inputShapes: [[Ci, Co, F, 2]], outputShape: [F, Ci, Co, 2], flops: 0,
        run: () => {
          this.a.permute({ input: ks.K.buf, output: Kt.buf, d0: Ci, d1: Co, d2: F, d3: 1, p0: 2, p1: 0, p2: 1, p3: 3, elem: 2 });
          return Kt;
        },
      },
      {
        id: 'einsum', name: 'einsum', inLayer: true,
        implementation: `'ijkl,jklo->ijko' as TensorFlow lowers it: transpose to (F, batch, in), cublasCgemmStridedBatched over ${F} frequencies of (${B}×${Ci})·(${Ci}×${Co}), transpose back${Ci === 1 ? '; with in-channels = 1 every GEMM is a K = 1 outer product' : ''}`,
        inputShapes: [[B, F, Ci, 2], [F, Ci, Co, 2]], outputShape: [B, F, Co, 2], flops: 8 * F * B * Ci * Co,
        run: () => {
          this.a.permute({ input: Xs.buf, output: Xt.buf, d0: B, d1: F, d2: Ci, d3: 1, p0: 1, p1: 0, p2: 2, p3: 3, elem: 2 });
          this.a.cgemm({ m: B, n: Co, k: Ci, a: Xt.buf, strideA: B * Ci, b: Kt.buf, strideB: Ci * Co, c: Yt.buf, strideC: B * Co, batch: F });
          this.a.permute({ input: Yt.buf, output: Ys.buf, d0: F, d1: B, d2: Co, d3: 1, p0: 1, p1: 0, p2: 2, p3: 3, elem: 2 });
          return Ys;
        },
      },
    ];
    const inv = this.inverse(Yc, '; the seed stayed in the Fourier domain, this is for the check');
    steps.push({
      ...inv,
      implementation: `(batch, F, out) → (batch, out, F) (fconv_permute4), ${inv.implementation}`,
      inputShapes: [[B, F, Co, 2]],
      run: () => {
        this.a.permute({ input: Ys.buf, output: Yc.buf, d0: B, d1: F, d2: Co, d3: 1, p0: 0, p1: 2, p2: 1, p3: 3, elem: 2 });
        return inv.run();
      },
    });
    return {
      name: 'seed', title: "The seed's layer", kind: 'spectral', reference: 'spatial-equivalent output',
      description: "The question's recipe on the GPU: rfft2d of the input outside the layer; inside it rfft2d of the kernel on every call, a transpose of the complex kernel, the einsum as transposes + batched complex GEMM; irfft2d back for the check.",
      ...this.pipeline(steps),
    };
  }
}
