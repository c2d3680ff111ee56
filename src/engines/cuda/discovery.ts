/**
 * Where the native CUDA engine looks for its libraries, and what the addon found there. Search order:
 * the setting / FCONV_CUDA_LIB_DIRS, CUDA_HOME and CUDA_PATH, LD_LIBRARY_PATH, the usual system
 * folders, then the nvidia/<package>/lib folders of Python environments' site-packages (where the PyTorch and
 * TensorFlow wheels put cuFFT, cuBLAS and cuDNN). The addon (native/) dlopens from these folders and
 * then by soname; nothing links against CUDA.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SearchDir {
  dir: string;
  /** Why it is searched: "setting", "CUDA_HOME", "site-packages (…)", … */
  from: string;
}

export interface LibraryReport {
  name: string;
  tried: string[];
  path: string | null;
  error: string;
}

export interface DriverReport {
  ok: boolean;
  reason: string;
  version?: number;
  devices: Array<{ index: number; name: string; smCount: number; computeCapability: string; memoryTotal: number }>;
}

export interface Discovery {
  libraries: LibraryReport[];
  driver: DriverReport;
  /**
   * The CUDA toolkit family the libraries come from: the newest major whose libcudart is here and not newer
   * than the driver (null: none); newer runtimes passed over, and why.
   */
  toolkit?: { major: number | null; skipped: string[] };
}

/** The addon's interface (the fake addon in the tests implements the same). */
export interface CudaAddon {
  abi: string;
  discover(dirs: string[]): Discovery;
  /** Loads libcudart (search folders first). */
  open(dirs: string[]): { ok: boolean; reason: string; path: string };
  close(): void;
  /** Device buffers by id; every CUDA failure throws a CudaError naming the call. */
  alloc(bytes: number): number;
  free(id: number): void;
  /** Frees every buffer and event the engine still holds (after an error: the worker survives). */
  freeAll(): number;
  allocated(): number;
  upload(id: number, data: Float32Array): void;
  download(id: number, length: number): Float32Array;
  memInfo(): { free: number; total: number };
  eventCreate(): number;
  eventRecord(id: number): void;
  /** ms between two recorded events (waits for the second). */
  elapsed(start: number, stop: number): number;
  /** Loads cuFFT, cuBLAS, cuDNN (optional) and the kernels; needs open() first. */
  openOps(dirs: string[]): {
    ok: boolean;
    reason: string;
    notes: string[];
    cudnn: boolean;
    /** The CUDA major of the toolkit libraries, the driver's CUDA version (12040), NVRTC's ("12.4" or ""), cuDNN's. */
    toolkit?: number;
    driver?: number;
    nvrtc?: string;
    cudnnVersion?: number;
    /** How the kernels were loaded (embedded PTX JIT-compiled by the driver, or an NVRTC CUBIN for sm_XY). */
    kernels?: string;
  };
  /** What is alive: cuFFT plans, prepared convolutions, device buffers (a long-lived worker returns to 0). */
  stats(): { plans: number; convs: number; buffers: number };
  closeOps(): void;
  fftPlan(o: { r2c: boolean; batch: number; n0: number; n1: number }): number;
  fftExec(o: { plan: number; input: number; output: number }): void;
  fftDestroy(plan: number): void;
  /** Row-major C[b] (m×n) = A[b] (m×k) · B[b] (k×n), complex interleaved; strides in complex elements. */
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
    gauss?: boolean;
  }): void;
  /** out = in permuted: dims d0..d3 of `elem` floats each, output axis j = input axis p_j. */
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
  }): void;
  /** out[b, i, j, c] (oh×ow) = in[b, i − top, j − left, c] (h×w), zero outside or wrapped when circular. */
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
  }): void;
  /**
   * out[b, ot + i, ol + j] (oh×ow maps) = in[b, it + i, il + j] (ih×iw maps) for an rh×rw block; the rest of
   * out is left as it is.
   */
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
  }): void;
  /** out[b, i, j] (oh×ow) = scale · in[b, top + i, left + j] (h×w). */
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
  }): void;
  /** y[b, o, f] = x[b, f] · k[o, f], complex. */
  bcastCmul(o: { x: number; k: number; y: number; batch: number; out: number; freqs: number }): void;
  /** Descriptors built once per variant, FP32 FMA math (no TF32); returns the prepared convolution's id. */
  convPrepare(d: ConvOptions): number;
  /** cudnnFindConvolutionForwardAlgorithm on the prepared convolution (with its FMA math type). */
  convAlgorithms(id: number): AlgorithmPerf[];
  /** The algorithm to run and the math type Find measured it with; sizes its workspace once. */
  convSelect(id: number, algo: string, math: string): void;
  /** cudnnConvolutionForward only: no descriptor or workspace work (what the events time). */
  convRun(id: number, x: number, filter: number, y: number): void;
  convRelease(id: number): void;
  synchronize(): void;
}

/** A cuDNN convolution: input n×c×h×w, filters k×c×r×s (KRSC for NHWC, KCRS for NCHW), stride 1. */
export interface ConvOptions {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  s: number;
  padH: number;
  padW: number;
  nhwc: boolean;
  /** true: convolution (flipped filter); false: cross-correlation (what Conv2D computes). */
  convolution: boolean;
}

export interface AlgorithmPerf {
  algo: string;
  /** "ok" or cuDNN's reason (e.g. CUDNN_STATUS_NOT_SUPPORTED for this shape). */
  status: string;
  ms: number;
  workspace: number;
  math: string;
}

/** What the addon throws for a failed CUDA call. */
export interface CudaErrorShape extends Error {
  name: 'CudaError';
  call: string;
  code: number;
  codeName: string;
  outOfMemory: boolean;
  /** The error poisons the CUDA context for the rest of the process (illegal address, launch failure). */
  sticky?: boolean;
}

export function isCudaError(e: unknown): e is CudaErrorShape {
  return e instanceof Error && e.name === 'CudaError' && typeof (e as CudaErrorShape).call === 'string';
}

export const REQUIRED = ['cuda', 'cudart', 'cufft', 'cublas'] as const;

export class AddonUnavailableError extends Error {
  override name = 'AddonUnavailableError';
}

/** The built addon: next to the bundle (dist/native) or in native/build (development). */
export function loadAddon(
  candidates = [
    path.join(__dirname, 'native', 'fconv_cuda.node'),
    path.join(__dirname, '..', 'native', 'build', 'Release', 'fconv_cuda.node'),
  ],
): CudaAddon {
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found)
    throw new AddonUnavailableError(
      `the CUDA addon is not built (looked for ${candidates.join(', ')}): build it once with \`npm run build:native\` (a C++ toolchain; the VSIX carries it prebuilt)`,
    );
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(found) as CudaAddon;
  } catch (e) {
    throw new AddonUnavailableError(`the CUDA addon at ${found} does not load: ${(e as Error).message}`);
  }
}

/** site-packages folders of the Python environments we can see: VIRTUAL_ENV, CONDA_PREFIX, and python3's own. */
export function sitePackages(env: NodeJS.ProcessEnv = process.env, askPython = true): string[] {
  const out = new Set<string>();
  for (const prefix of [env.VIRTUAL_ENV, env.CONDA_PREFIX].filter((x): x is string => !!x)) {
    const lib = path.join(prefix, 'lib');
    try {
      for (const d of fs.readdirSync(lib)) if (/^python3(\.\d+)?$/.test(d)) out.add(path.join(lib, d, 'site-packages'));
    } catch {
      /* no lib folder */
    }
  }
  if (askPython) {
    try {
      const text = execFileSync(
        env.FCONV_PYTHON ?? 'python3',
        ['-c', 'import site, sys; print("\\n".join(site.getsitepackages() + [site.getusersitepackages()]))'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          timeout: 3000,
          env,
        },
      );
      for (const l of text
        .split('\n')
        .map((x) => x.trim())
        .filter(Boolean))
        out.add(l);
    } catch {
      /* no python3 */
    }
  }
  return [...out].filter((d) => fs.existsSync(d));
}

export function searchDirs(
  opts: { setting?: string[]; env?: NodeJS.ProcessEnv; sitePackages?: string[] } = {},
): SearchDir[] {
  const env = opts.env ?? process.env;
  const out: SearchDir[] = [];
  const add = (dir: string | undefined, from: string) => {
    if (dir && !out.some((d) => d.dir === dir)) out.push({ dir, from });
  };
  for (const d of opts.setting ?? []) add(d, 'setting');
  for (const d of (env.FCONV_CUDA_LIB_DIRS ?? '').split(':').filter(Boolean)) add(d, 'FCONV_CUDA_LIB_DIRS');
  for (const key of ['CUDA_HOME', 'CUDA_PATH'] as const) {
    const home = env[key];
    if (home) for (const sub of ['lib64', 'lib', 'targets/x86_64-linux/lib']) add(path.join(home, sub), key);
  }
  for (const d of (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) add(d, 'LD_LIBRARY_PATH');
  for (const d of [
    '/usr/local/cuda/lib64',
    '/usr/local/cuda/targets/x86_64-linux/lib',
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib/wsl/lib',
  ])
    add(d, 'system');
  for (const sp of opts.sitePackages ?? sitePackages(env)) {
    const nv = path.join(sp, 'nvidia');
    let subs: string[];
    try {
      subs = fs.readdirSync(nv);
    } catch {
      continue;
    }
    for (const s of subs.sort()) {
      const lib = path.join(nv, s, 'lib');
      if (fs.existsSync(lib)) add(lib, `site-packages (${sp})`);
    }
  }
  return out;
}

/** One line per library (found where, or what was tried), and the driver's answer. */
export function describeDiscovery(d: Discovery, dirs: SearchDir[]): string[] {
  const fromOf = (p: string) => dirs.find((x) => p.startsWith(`${x.dir}/`))?.from ?? 'the dynamic loader';
  const lines = d.libraries.map((l) =>
    l.path
      ? `${l.name}: ${l.path} (from ${fromOf(l.path)})`
      : `${l.name}: not found (${l.tried.length} places tried; ${l.error})`,
  );
  if (d.toolkit)
    lines.push(
      d.toolkit.major === null
        ? 'toolkit: no libcudart of a CUDA version this driver runs'
        : `toolkit: CUDA ${d.toolkit.major} libraries (one major, not newer than the driver)${d.toolkit.skipped.length ? `; passed over ${d.toolkit.skipped.join(', ')}` : ''}`,
    );
  lines.push(
    d.driver.ok
      ? `driver${d.driver.version ? ` ${Math.floor(d.driver.version / 1000)}.${(d.driver.version % 1000) / 10}` : ''}: ${d.driver.devices.map((x) => `GPU ${x.index} ${x.name} (sm ${x.computeCapability}, ${x.smCount} SMs, ${(x.memoryTotal / 2 ** 30).toFixed(0)} GiB)`).join('; ')}`
      : `driver: ${d.driver.reason}`,
  );
  return lines;
}

/** Why the CUDA engine cannot run here, or undefined when the driver, a GPU and the libraries it needs are there. */
export function unavailableReason(d: Discovery): string | undefined {
  if (!d.driver.ok) return d.driver.reason;
  const missing = REQUIRED.filter((n) => !d.libraries.find((l) => l.name === n)?.path);
  return missing.length
    ? `missing ${missing.map((m) => `lib${m}`).join(', ')} (install the CUDA toolkit or a PyTorch/TensorFlow wheel with its nvidia-* packages, or point FCONV_CUDA_LIB_DIRS at them)`
    : undefined;
}
