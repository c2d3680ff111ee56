/**
 * Backend detection for the tfjs engine. Order when not forced: tensorflow via tfjs-node-gpu (GPU),
 * tensorflow via tfjs-node (CPU), wasm (the embedded default), cpu. The optional packages are loaded
 * by guarded `require` and never bundled; when tfjs-node-gpu is there but its CUDA 11.2 / cuDNN 8.1
 * libraries are not, the notes say which library is missing and which backend ran instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { EngineUnavailableError } from '../engine';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKENDS)[number];

/** The shared libraries libtensorflow 2.9.1 GPU (tfjs-node-gpu 4.22) dlopens. */
export const TFJS_GPU_LIBS = [
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcudnn.so.8',
];

export interface DetectDeps {
  /** `require` for the optional packages (injected by tests). */
  requireFn: (id: string) => unknown;
  /** Returns the libraries of `names` that cannot be found. */
  missingLibs: (names: string[]) => string[];
  wasmDir: () => string | undefined;
}

export interface Detected {
  backend: 'tensorflow' | 'wasm' | 'cpu';
  flavour: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  notes: string[];
  wasmDir?: string;
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The package itself is absent (not: present but one of its files, e.g. its native binding, is). */
function isNotFound(e: unknown, id: string): boolean {
  return (
    (e as { code?: string })?.code === 'MODULE_NOT_FOUND' &&
    (errMessage(e).includes(`'${id}'`) || errMessage(e).includes(`'${id}/package.json'`))
  );
}

/** Decides which backend to use, loading the optional packages it tries. Pure apart from `deps`. */
export function detectBackend(requested: BackendRequest, deps: DetectDeps, inAuto = false): Detected {
  const notes: string[] = [];
  const forced = requested !== 'auto';
  const tryNode = (pkg: string, flavour: 'tensorflow-gpu' | 'tensorflow'): Detected | undefined => {
    if (flavour === 'tensorflow-gpu') {
      const missing = deps.missingLibs(TFJS_GPU_LIBS);
      try {
        // Resolve before loading: an installed package whose libraries are missing must not be loaded
        // (libtensorflow would log and silently run on the CPU).
        deps.requireFn(`${pkg}/package.json`);
      } catch (e) {
        const why = isNotFound(e, pkg)
          ? 'not installed (optional; needs CUDA 11.2 and cuDNN 8.1)'
          : `not loadable: ${errMessage(e)}`;
        notes.push(`${pkg}: ${why}`);
        return undefined;
      }
      if (missing.length) {
        notes.push(
          `${pkg} is installed but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (it needs CUDA 11.2 and cuDNN 8.1; no CUDA 12 build exists)`,
        );
        return undefined;
      }
    }
    try {
      deps.requireFn(pkg);
      notes.push(`${pkg}: loaded`);
      return { backend: 'tensorflow', flavour, notes };
    } catch (e) {
      const msg = errMessage(e);
      const lib = /(lib[\w.+-]+\.so[\w.]*)/.exec(msg)?.[1];
      notes.push(
        isNotFound(e, pkg)
          ? `${pkg}: not installed (optional)`
          : /tfjs_binding\.node/.test(msg)
            ? `${pkg}: installed without its native binding (its install script could not download libtensorflow; see the README)`
            : lib
              ? `${pkg}: cannot load ${lib}`
              : `${pkg}: failed to load: ${msg.split('\n')[0]}`,
      );
      return undefined;
    }
  };
  const order: Array<Detected['flavour']> = forced
    ? [requested as Detected['flavour']]
    : ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
  const chosen = (d: Detected): Detected => {
    const first = order[0]!;
    // One flavour tried by `auto`'s walk of the engine registry: the walk says which it used.
    if (inAuto) return d;
    d.notes.push(
      forced
        ? `using ${d.flavour} (forced with --engine)`
        : d.flavour === first
          ? `using ${d.flavour}`
          : `using ${d.flavour} instead${d.flavour === 'wasm' ? ' (the embedded engine)' : ''}`,
    );
    return d;
  };
  for (const f of order) {
    if (f === 'tensorflow-gpu') {
      const d = tryNode('@tensorflow/tfjs-node-gpu', f);
      if (d) return chosen(d);
    } else if (f === 'tensorflow') {
      const d = tryNode('@tensorflow/tfjs-node', f);
      if (d) return chosen(d);
    } else if (f === 'wasm') {
      const dir = deps.wasmDir();
      if (dir) {
        notes.push(`wasm: ${path.join(dir, 'tfjs-backend-wasm-simd.wasm')}`);
        return chosen({ backend: 'wasm', flavour: 'wasm', notes, wasmDir: dir });
      }
      notes.push('wasm: tfjs-backend-wasm .wasm files not found next to the bundle nor in node_modules');
    } else {
      return chosen({ backend: 'cpu', flavour: 'cpu', notes });
    }
  }
  // The engine ids of the tfjs-node flavours (their tfjs backend is 'tensorflow'; `--engine tensorflow` is TensorFlow).
  const id = requested === 'tensorflow-gpu' ? 'tfjs-node-gpu' : requested === 'tensorflow' ? 'tfjs-node' : requested;
  if (inAuto) throw EngineUnavailableError.of(id, notes.join('; '));
  throw new EngineUnavailableError(
    `engine ${id} is not available here: ${notes.join('; ')}. Without --engine the profile picks the best engine that is (the embedded wasm engine always is).`,
    notes.join('; '),
  );
}

/** Library search the way the dynamic loader does it: LD_LIBRARY_PATH, ldconfig's cache, the usual dirs. */
export function missingSharedLibs(names: string[]): string[] {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/local/cuda/lib64',
    '/usr/local/cuda-11.2/lib64',
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
  ];
  let ldcache = '';
  try {
    ldcache = execFileSync('ldconfig', ['-p'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    });
  } catch {
    /* no ldconfig: directories only */
  }
  return names.filter((n) => !ldcache.includes(n) && !dirs.some((d) => fs.existsSync(path.join(d, n))));
}

/** The wasm files: shipped next to the bundle (dist/wasm), else the package's own dist folder. */
export function locateWasmDir(): string | undefined {
  const candidates = [path.join(__dirname, 'wasm')];
  try {
    candidates.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')));
  } catch {
    /* not resolvable */
  }
  return candidates.find(
    (d) =>
      fs.existsSync(path.join(d, 'tfjs-backend-wasm-simd.wasm')) &&
      fs.existsSync(path.join(d, 'tfjs-backend-wasm.wasm')),
  );
}

/** The GPU's name from nvidia-smi, when there is one (undefined otherwise; never throws). */
export function gpuName(): string | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 3000,
    });
    const first = out
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean);
    return first || undefined;
  } catch {
    return undefined;
  }
}

export function cpuModel(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model?.trim() ?? 'unknown CPU'} (${cpus.length} logical cores)`;
}

/**
 * Where else tfjs-node may be: FCONV_TFJS_NODE_DIR, or `.tfjs-node/` next to dist/ — where
 * scripts/install-tfjs-node-from-wheel.sh builds it against a TensorFlow wheel's C library (its tfjs-core links to
 * ours, so the backend lands in the tfjs this engine runs).
 */
export function tfjsNodeDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.FCONV_TFJS_NODE_DIR, path.join(__dirname, '..', '.tfjs-node')].filter((d): d is string => !!d);
}

/** `require`, then for the tfjs-node packages the folders tfjsNodeDirs names. */
export function requireOptional(id: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id);
  } catch (e) {
    if (!id.startsWith('@tensorflow/tfjs-node') || !isNotFound(e, id.replace(/\/package\.json$/, ''))) throw e;
    for (const dir of tfjsNodeDirs()) {
      let resolved: string;
      try {
        resolved = require.resolve(id, { paths: [dir] });
      } catch {
        continue;
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(resolved);
    }
    throw e;
  }
}

export const defaultDetectDeps: DetectDeps = {
  requireFn: requireOptional,
  missingLibs: missingSharedLibs,
  wasmDir: locateWasmDir,
};
