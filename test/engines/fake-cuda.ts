/**
 * A host implementation of the CUDA addon's interface: buffers are Float32Arrays, cuFFT is a naive
 * 2-D DFT with cuFFT's layouts and scaling (R2C half spectrum, unnormalised C2R), cuBLAS a complex
 * GEMM loop, cuDNN a direct convolution. It lets the CUDA engine's pipelines, timing bookkeeping and
 * error mapping be tested on a machine without a GPU.
 */
import type { AlgorithmPerf, ConvOptions, CudaAddon, Discovery } from '../../src/engines/cuda/discovery';

export interface FakeOptions {
  /** Device memory in bytes: an allocation beyond it fails as cudaErrorMemoryAllocation. */
  memory?: number;
  /** Milliseconds each launch advances the fake device clock. */
  msPerLaunch?: number;
  /** No usable cuDNN (openOps says so, as the addon does when libcudnn or a sub-library is missing). */
  noCudnn?: boolean;
}

export class FakeCuda implements CudaAddon {
  abi = '2';
  private bufs = new Map<number, Float32Array>();
  private events = new Map<number, number>();
  private plans = new Map<number, { r2c: boolean; batch: number; n0: number; n1: number }>();
  private convs = new Map<number, { d: ConvOptions; algo?: string; math?: string }>();
  /** Host work (descriptor, workspace, plan, allocation calls) made between the engine's two timing events. */
  hostWorkInTimed: string[] = [];
  /** The math types the convolutions ran with. */
  mathRun: string[] = [];
  private timedStart: number | undefined;
  private timing = false;
  private host(call: string): void {
    if (this.timing) this.hostWorkInTimed.push(call);
  }
  private next = 1;
  private used = 0;
  /** The fake device clock, advanced by every launch. */
  clock = 0;
  launches = 0;
  opened = false;

  constructor(private readonly o: FakeOptions = {}) {}

  private tick(): void {
    this.launches++;
    this.clock += this.o.msPerLaunch ?? 0.25;
  }

  private buf(id: number): Float32Array {
    const b = this.bufs.get(id);
    if (!b)
      throw Object.assign(new Error(`unknown buffer ${id} failed: invalid argument (-1)`), {
        name: 'CudaError',
        call: 'buffer',
        code: -1,
        codeName: 'invalid argument',
        outOfMemory: false,
      });
    return b;
  }

  discover(): Discovery {
    const lib = (name: string) => ({ name, tried: [`lib${name}.so`], path: `/fake/lib${name}.so`, error: '' });
    return {
      libraries: ['cuda', 'cudart', 'cufft', 'cublas', 'cudnn', 'nvrtc'].map(lib),
      driver: {
        ok: true,
        reason: '',
        version: 12040,
        devices: [
          { index: 0, name: 'Fake GPU', smCount: 8, computeCapability: '9.0', memoryTotal: this.o.memory ?? 2 ** 30 },
        ],
      },
    };
  }

  open() {
    this.opened = true;
    return { ok: true, reason: '', path: '/fake/libcudart.so.12' };
  }

  close(): void {
    this.freeAll();
    this.opened = false;
  }

  alloc(bytes: number): number {
    this.host('cudaMalloc');
    if (this.used + bytes > (this.o.memory ?? 2 ** 30)) {
      throw Object.assign(new Error(`cudaMalloc(${bytes} bytes) failed: cudaErrorMemoryAllocation (2)`), {
        name: 'CudaError',
        call: `cudaMalloc(${bytes} bytes)`,
        code: 2,
        codeName: 'cudaErrorMemoryAllocation',
        outOfMemory: true,
      });
    }
    const id = this.next++;
    this.bufs.set(id, new Float32Array(bytes / 4));
    this.used += bytes;
    return id;
  }

  free(id: number): void {
    this.host('cudaFree');
    this.used -= this.buf(id).length * 4;
    this.bufs.delete(id);
  }

  freeAll(): number {
    const n = this.bufs.size;
    this.bufs.clear();
    this.used = 0;
    return n;
  }

  allocated(): number {
    return this.bufs.size;
  }

  upload(id: number, data: Float32Array): void {
    this.buf(id).set(data);
  }

  download(id: number, length: number): Float32Array {
    return this.buf(id).slice(0, length);
  }

  memInfo() {
    const total = this.o.memory ?? 2 ** 30;
    return { free: total - this.used, total };
  }

  eventCreate(): number {
    const id = this.next++;
    this.events.set(id, 0);
    return id;
  }

  eventRecord(id: number): void {
    // The engine's first event opens a timed region, its second closes it.
    this.timedStart ??= id;
    this.timing = id === this.timedStart;
    this.events.set(id, this.clock);
  }

  elapsed(a: number, b: number): number {
    return this.events.get(b)! - this.events.get(a)!;
  }

  openOps() {
    return {
      ok: true,
      reason: '',
      notes: ['kernels: host implementation (tests)', ...(this.o.noCudnn ? ['libcudnn not found (tests)'] : [])],
      cudnn: !this.o.noCudnn,
    };
  }

  closeOps(): void {}

  synchronize(): void {}

  stats() {
    return { plans: this.plans.size, convs: this.convs.size, buffers: this.bufs.size };
  }

  fftPlan(o: { r2c: boolean; batch: number; n0: number; n1: number }): number {
    const id = this.next++;
    this.plans.set(id, o);
    return id;
  }

  /** Plans destroyed so far (the engine re-creates them in its one-off plans step). */
  destroyed = 0;

  fftDestroy(plan: number): void {
    if (!this.plans.delete(plan)) throw new Error(`unknown plan ${plan}`);
    this.destroyed++;
  }

  fftExec(o: { plan: number; input: number; output: number }): void {
    this.tick();
    const p = this.plans.get(o.plan);
    if (!p)
      throw Object.assign(new Error(`cufftExec failed: CUFFT_INVALID_PLAN (1)`), {
        name: 'CudaError',
        call: 'cufftExec',
        code: 1,
        codeName: 'CUFFT_INVALID_PLAN',
        outOfMemory: false,
      });
    const { n0: P, n1: Q } = p;
    const V = Math.floor(Q / 2) + 1;
    const src = this.buf(o.input),
      dst = this.buf(o.output);
    for (let b = 0; b < p.batch; b++) {
      if (p.r2c) {
        for (let u = 0; u < P; u++)
          for (let v = 0; v < V; v++) {
            let re = 0,
              im = 0;
            for (let h = 0; h < P; h++)
              for (let w = 0; w < Q; w++) {
                const a = -2 * Math.PI * ((u * h) / P + (v * w) / Q);
                const x = src[(b * P + h) * Q + w]!;
                re += x * Math.cos(a);
                im += x * Math.sin(a);
              }
            dst[((b * P + u) * V + v) * 2] = re;
            dst[((b * P + u) * V + v) * 2 + 1] = im;
          }
      } else {
        for (let h = 0; h < P; h++)
          for (let w = 0; w < Q; w++) {
            let acc = 0;
            for (let u = 0; u < P; u++)
              for (let v = 0; v < Q; v++) {
                // Hermitian: X[u, v] for v ≥ V is conj(X[−u, Q − v])
                const mirrored = v >= V;
                const uu = mirrored ? (P - u) % P : u,
                  vv = mirrored ? Q - v : v;
                const re = src[((b * P + uu) * V + vv) * 2]!,
                  im = (mirrored ? -1 : 1) * src[((b * P + uu) * V + vv) * 2 + 1]!;
                const a = 2 * Math.PI * ((u * h) / P + (v * w) / Q);
                acc += re * Math.cos(a) - im * Math.sin(a);
              }
            dst[(b * P + h) * Q + w] = acc;
          }
      }
    }
  }

  cgemm(o: {
    m: number;
    n: number;
    k: number;
    a: number;
    strideA: number;
    b: number;
    strideB: number;
    c: number;
    strideC: number;
    batch: number;
  }): void {
    this.tick();
    const A = this.buf(o.a),
      B = this.buf(o.b),
      C = this.buf(o.c);
    for (let t = 0; t < o.batch; t++)
      for (let i = 0; i < o.m; i++)
        for (let j = 0; j < o.n; j++) {
          let re = 0,
            im = 0;
          for (let l = 0; l < o.k; l++) {
            const ai = (t * o.strideA + i * o.k + l) * 2,
              bi = (t * o.strideB + l * o.n + j) * 2;
            re += A[ai]! * B[bi]! - A[ai + 1]! * B[bi + 1]!;
            im += A[ai]! * B[bi + 1]! + A[ai + 1]! * B[bi]!;
          }
          C[(t * o.strideC + i * o.n + j) * 2] = re;
          C[(t * o.strideC + i * o.n + j) * 2 + 1] = im;
        }
  }

  permute(o: {
    input: number;
    output: number;
    d0: number;
    d1: number;
    d2: number;
    d3: number;
    p0: number;
    p1: number;
    p2: number;
    p3: number;
    elem: number;
  }): void {
    this.tick();
    const d = [o.d0, o.d1, o.d2, o.d3],
      p = [o.p0, o.p1, o.p2, o.p3];
    const sin = [d[1]! * d[2]! * d[3]!, d[2]! * d[3]!, d[3]!, 1];
    const od = p.map((x) => d[x]!);
    const src = this.buf(o.input),
      dst = this.buf(o.output);
    const n = d[0]! * d[1]! * d[2]! * d[3]!;
    for (let i = 0; i < n; i++) {
      let rest = i,
        s = 0;
      for (let j = 3; j >= 0; j--) {
        const idx = rest % od[j]!;
        rest = Math.floor(rest / od[j]!);
        s += idx * sin[p[j]!]!;
      }
      for (let e = 0; e < o.elem; e++) dst[i * o.elem + e] = src[s * o.elem + e]!;
    }
  }

  copy2d(o: {
    input: number;
    output: number;
    batch: number;
    ih: number;
    iw: number;
    oh: number;
    ow: number;
    rh: number;
    rw: number;
    it: number;
    il: number;
    ot: number;
    ol: number;
  }): void {
    this.tick();
    const src = this.buf(o.input),
      dst = this.buf(o.output);
    if (o.it + o.rh > o.ih || o.il + o.rw > o.iw || o.ot + o.rh > o.oh || o.ol + o.rw > o.ow)
      throw new Error(`copy2d out of bounds: ${JSON.stringify(o)}`);
    if (src.length < o.batch * o.ih * o.iw || dst.length < o.batch * o.oh * o.ow)
      throw new Error(`copy2d buffers too small: ${JSON.stringify(o)}`);
    for (let b = 0; b < o.batch; b++)
      for (let i = 0; i < o.rh; i++)
        for (let j = 0; j < o.rw; j++)
          dst[(b * o.oh + o.ot + i) * o.ow + o.ol + j] = src[(b * o.ih + o.it + i) * o.iw + o.il + j]!;
  }

  pad(o: {
    input: number;
    output: number;
    batch: number;
    h: number;
    w: number;
    c: number;
    top: number;
    left: number;
    oh: number;
    ow: number;
    circular?: boolean;
  }): void {
    this.tick();
    const src = this.buf(o.input),
      dst = this.buf(o.output);
    for (let b = 0; b < o.batch; b++)
      for (let i = 0; i < o.oh; i++)
        for (let j = 0; j < o.ow; j++)
          for (let ch = 0; ch < o.c; ch++) {
            let si = i - o.top,
              sj = j - o.left;
            if (o.circular) {
              si = ((si % o.h) + o.h) % o.h;
              sj = ((sj % o.w) + o.w) % o.w;
            }
            const inside = si >= 0 && si < o.h && sj >= 0 && sj < o.w;
            dst[((b * o.oh + i) * o.ow + j) * o.c + ch] = inside ? src[((b * o.h + si) * o.w + sj) * o.c + ch]! : 0;
          }
  }

  crop(o: {
    input: number;
    output: number;
    batch: number;
    h: number;
    w: number;
    top: number;
    left: number;
    oh: number;
    ow: number;
    scale: number;
  }): void {
    this.tick();
    const src = this.buf(o.input),
      dst = this.buf(o.output);
    for (let b = 0; b < o.batch; b++)
      for (let i = 0; i < o.oh; i++)
        for (let j = 0; j < o.ow; j++)
          dst[(b * o.oh + i) * o.ow + j] = o.scale * src[(b * o.h + o.top + i) * o.w + o.left + j]!;
  }

  bcastCmul(o: { x: number; k: number; y: number; batch: number; out: number; freqs: number }): void {
    this.tick();
    const X = this.buf(o.x),
      K = this.buf(o.k),
      Y = this.buf(o.y);
    for (let b = 0; b < o.batch; b++)
      for (let c = 0; c < o.out; c++)
        for (let f = 0; f < o.freqs; f++) {
          const xi = (b * o.freqs + f) * 2,
            ki = (c * o.freqs + f) * 2,
            yi = ((b * o.out + c) * o.freqs + f) * 2;
          Y[yi] = X[xi]! * K[ki]! - X[xi + 1]! * K[ki + 1]!;
          Y[yi + 1] = X[xi]! * K[ki + 1]! + X[xi + 1]! * K[ki]!;
        }
  }

  convPrepare(d: ConvOptions): number {
    this.host('convPrepare');
    const id = this.next++;
    this.convs.set(id, { d });
    return id;
  }

  convSelect(id: number, algo: string, math: string): void {
    this.host('convSelect');
    const c = this.convs.get(id);
    if (!c) throw new Error(`unknown convolution ${id}`);
    c.algo = algo;
    c.math = math;
  }

  convRelease(id: number): void {
    if (!this.convs.delete(id)) throw new Error(`unknown convolution ${id}`);
  }

  convRun(id: number, xId: number, wId: number, yId: number): void {
    const c = this.convs.get(id);
    if (!c?.algo) throw new Error(`convolution ${id} not prepared`);
    this.mathRun.push(c.math!);
    this.tick();
    const d = c.d;
    const x = this.buf(xId),
      w = this.buf(wId),
      y = this.buf(yId);
    const oh = d.h + 2 * d.padH - d.r + 1,
      ow = d.w + 2 * d.padW - d.s + 1;
    const X = (n: number, c: number, i: number, j: number) =>
      i < 0 || j < 0 || i >= d.h || j >= d.w
        ? 0
        : x[d.nhwc ? ((n * d.h + i) * d.w + j) * d.c + c : ((n * d.c + c) * d.h + i) * d.w + j]!;
    const Wt = (k: number, c: number, r: number, s: number) =>
      w[d.nhwc ? ((k * d.r + r) * d.s + s) * d.c + c : ((k * d.c + c) * d.r + r) * d.s + s]!;
    for (let n = 0; n < d.n; n++)
      for (let k = 0; k < d.k; k++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) {
            let acc = 0;
            for (let c = 0; c < d.c; c++)
              for (let r = 0; r < d.r; r++)
                for (let s = 0; s < d.s; s++) {
                  const rr = d.convolution ? d.r - 1 - r : r,
                    ss = d.convolution ? d.s - 1 - s : s;
                  acc += X(n, c, i + r - d.padH, j + s - d.padW) * Wt(k, c, rr, ss);
                }
            y[d.nhwc ? ((n * oh + i) * ow + j) * d.k + k : ((n * d.k + k) * oh + i) * ow + j] = acc;
          }
  }

  /** As cuDNN with the descriptor's FMA math type: every algorithm is measured with FMA math. */
  convAlgorithms(id: number): AlgorithmPerf[] {
    this.host('convAlgorithms');
    if (!this.convs.has(id)) throw new Error(`unknown convolution ${id}`);
    return [
      { algo: 'IMPLICIT_PRECOMP_GEMM', status: 'ok', ms: 0.02, workspace: 4096, math: 'FMA' },
      { algo: 'FFT', status: 'CUDNN_STATUS_NOT_SUPPORTED', ms: -1, workspace: 0, math: 'FMA' },
      { algo: 'WINOGRAD', status: 'ok', ms: 0.05, workspace: 0, math: 'FMA' },
    ];
  }
}
