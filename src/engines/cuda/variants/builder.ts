/**
 * What the CUDA executors share: preallocated device buffers, the variant's cuFFT plans, and the
 * transforms every spectral variant uses. Worker side.
 */
import type { LayerData } from '../../../core/data';
import { type LayerSpec, geometry } from '../../../core/spec';
import type { StepExecutor } from '../../executor';
import type { CudaAddon } from '../discovery';

/** A device buffer of `n` floats owned by a prepared variant (the profiler's dispose leaves it alone). */
export interface Buf {
  buf: number;
  n: number;
}

export const isBuf = (v: unknown): v is Buf => !!v && typeof v === 'object' && typeof (v as Buf).buf === 'number';

/** A CUDA executor: its run enqueues work on the stream and returns the buffer it wrote. */
export function exec(implementation: string, run: () => Buf): StepExecutor {
  return { implementation, run };
}

export class Builder {
  readonly g;
  readonly nhwc: boolean;
  /** cuFFT plans this variant needs: created by its one-off "fft-plans" step (timed on the host). */
  private readonly plans: Array<{ r2c: boolean; batch: number; n0: number; n1: number; id: number }> = [];

  constructor(
    readonly a: CudaAddon,
    readonly spec: LayerSpec,
    readonly data: LayerData,
    readonly alloc: (n: number) => Buf,
    readonly upload: (d: Float32Array) => Buf,
    readonly hasCudnn: boolean,
  ) {
    this.g = geometry(spec);
    this.nhwc = spec.layout === 'NHWC';
  }

  /** Convolutions prepared for this variant (cuDNN descriptors and workspace): released with it. */
  private readonly convs: number[] = [];

  /** A cuDNN convolution prepared once: its descriptors, FMA math, and later its algorithm and workspace. */
  prepareConv(d: Parameters<CudaAddon['convPrepare']>[0]): number {
    const id = this.a.convPrepare(d);
    this.convs.push(id);
    return id;
  }

  /**
   * Releases what the variant holds besides its buffers: its cuFFT plans (and their work areas) and its prepared
   * convolutions. Without it a long-lived worker leaks 2–3 plans per profile and sweep cell until out of memory.
   */
  release(): void {
    for (const p of this.plans) {
      if (p.id < 0) continue;
      try {
        this.a.fftDestroy(p.id);
      } catch {
        /* after a device error: closeOps destroys what is left */
      }
      p.id = -1;
    }
    for (const id of this.convs.splice(0)) {
      try {
        this.a.convRelease(id);
      } catch {
        /* likewise */
      }
    }
  }

  /** A cuFFT plan handle to use at run time (created by the plans step, which runs first). */
  plan(r2c: boolean, batch: number, n0: number, n1: number): { readonly id: number } {
    const p = { r2c, batch, n0, n1, id: -1 };
    this.plans.push(p);
    return p;
  }

  /** The one-off step that (re)creates every cuFFT plan of the variant: what cuFFT does on a first call. */
  planExecutor(): StepExecutor {
    return exec(
      `cufftPlanMany: ${this.plans.map((p) => `${p.r2c ? 'R2C' : 'C2R'} ${p.batch} × ${p.n0}×${p.n1}`).join(', ')} — host time, once (cuFFT caches plans; frameworks pay this on the first call)`,
      () => {
        for (const p of this.plans) {
          if (p.id >= 0) this.a.fftDestroy(p.id);
          p.id = this.a.fftPlan({ r2c: p.r2c, batch: p.batch, n0: p.n0, n1: p.n1 });
        }
        return { buf: -1, n: 0 };
      },
    );
  }

  /** Complex (a, c, F) → (F, a, c): the frequency axis leading, as the batched products want it. */
  freqMajor(src: Buf, dst: Buf, a: number, c: number, F: number): void {
    this.a.permute({
      input: src.buf,
      output: dst.buf,
      d0: a,
      d1: c,
      d2: F,
      d3: 1,
      p0: 2,
      p1: 0,
      p2: 1,
      p3: 3,
      elem: 2,
    });
  }

  /** (F, a, c) complex → (a, c, F): back from frequency-major. */
  fromFreqMajor(src: Buf, dst: Buf, F: number, a: number, c: number): void {
    this.a.permute({
      input: src.buf,
      output: dst.buf,
      d0: F,
      d1: a,
      d2: c,
      d3: 1,
      p0: 1,
      p1: 2,
      p2: 0,
      p3: 3,
      elem: 2,
    });
  }

  /**
   * For each of F frequencies (or modes): y (batch × out) = x (batch × in) · w (in × out), complex, one
   * strided-batched GEMM.
   */
  modeGemm(x: Buf, w: Buf, y: Buf, F: number, gauss: boolean): void {
    const { batch: B, inChannels: Ci, outChannels: Co } = this.spec;
    this.a.cgemm({
      m: B,
      n: Co,
      k: Ci,
      a: x.buf,
      strideA: B * Ci,
      b: w.buf,
      strideB: Ci * Co,
      c: y.buf,
      strideC: B * Co,
      batch: F,
      gauss,
    });
  }

  /** Input → channels-first, zero-padded to P×Q, R2C: (B·Ci, P, V) complex. */
  inputSpectrum(implementationExtra: string): { exec: StepExecutor; X: Buf; run: () => Buf } {
    const { batch: B, height: H, width: W, inChannels: Ci } = this.spec;
    const { fftH: P, fftW: Q, freqW: V } = this.g;
    const x = this.upload(this.data.input);
    const cf = this.nhwc ? this.alloc(B * Ci * H * W) : x;
    const needPad = P !== H || Q !== W;
    const padded = needPad ? this.alloc(B * Ci * P * Q) : cf;
    const X = this.alloc(B * Ci * P * V * 2);
    const plan = this.plan(true, B * Ci, P, Q);
    const run = () => {
      if (this.nhwc)
        this.a.permute({
          input: x.buf,
          output: cf.buf,
          d0: B,
          d1: H,
          d2: W,
          d3: Ci,
          p0: 0,
          p1: 3,
          p2: 1,
          p3: 2,
          elem: 1,
        });
      if (needPad)
        this.a.pad({
          input: cf.buf,
          output: padded.buf,
          batch: B * Ci,
          h: H,
          w: W,
          c: 1,
          top: 0,
          left: 0,
          oh: P,
          ow: Q,
        });
      this.a.fftExec({ plan: plan.id, input: padded.buf, output: X.buf });
      return X;
    };
    const implementation = `${this.nhwc ? 'NHWC → NCHW (fconv_permute4), ' : ''}${needPad ? `zero padding to ${P}×${Q}, ` : ''}cuFFT R2C, ${B * Ci} transforms of ${P}×${Q}${implementationExtra}`;
    return { X, run, exec: exec(implementation, run) };
  }

  /** (B·Co, P, V) complex → C2R → crop (and 1/(P·Q)) → the spec's layout. */
  inverse(Y: Buf, implementationExtra: string): { exec: StepExecutor; run: () => Buf } {
    const { batch: B, outChannels: Co } = this.spec;
    const { fftH: P, fftW: Q, outH: oh, outW: ow, cropTop, cropLeft } = this.g;
    const r = this.alloc(B * Co * P * Q);
    const c = this.alloc(B * Co * oh * ow);
    const out = this.nhwc ? this.alloc(B * Co * oh * ow) : c;
    const plan = this.plan(false, B * Co, P, Q);
    const run = () => {
      this.a.fftExec({ plan: plan.id, input: Y.buf, output: r.buf });
      this.a.crop({
        input: r.buf,
        output: c.buf,
        batch: B * Co,
        h: P,
        w: Q,
        top: cropTop,
        left: cropLeft,
        oh,
        ow,
        scale: 1 / (P * Q),
      });
      if (this.nhwc)
        this.a.permute({
          input: c.buf,
          output: out.buf,
          d0: B,
          d1: Co,
          d2: oh,
          d3: ow,
          p0: 0,
          p1: 2,
          p2: 3,
          p3: 1,
          elem: 1,
        });
      return out;
    };
    const implementation = `cuFFT C2R, ${B * Co} transforms of ${P}×${Q}, then crop ${oh}×${ow} at (${cropTop}, ${cropLeft}) with the 1/(P·Q) scale (fconv_crop)${this.nhwc ? ', NCHW → NHWC' : ''}${implementationExtra}`;
    return { run, exec: exec(implementation, run) };
  }

  /** Kernel (Ci, Co, kh, kw) maps → zero-padded P×Q → R2C: (Ci·Co, P, V) complex, unscaled. */
  kernelSpectrum(k: Buf): { run: () => Buf; K: Buf } {
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
        this.a.permute({
          input: k.buf,
          output: maps.buf,
          d0: kh,
          d1: kw,
          d2: Ci,
          d3: Co,
          p0: 2,
          p1: 3,
          p2: 0,
          p3: 1,
          elem: 1,
        });
        this.a.pad({
          input: maps.buf,
          output: padded.buf,
          batch: Ci * Co,
          h: kh,
          w: kw,
          c: 1,
          top: 0,
          left: 0,
          oh: P,
          ow: Q,
        });
        this.a.fftExec({ plan: plan.id, input: padded.buf, output: K.buf });
        return K;
      },
    };
  }
}
