/**
 * A framework the profiler drives in the user's own Python: what to import, the oldest version that works,
 * how to install it, and the executor module the worker loads (python/fconv_<id>.py, with the shared
 * protocol and measuring loop of python/fconv_protocol.py), and what differs between frameworks on this side
 * (device names, timing notes, what kernel names tell). Adding a framework: its executor module, its entry
 * (src/engines/<id>/framework.ts, as torch's), a line in the registry. Worker side.
 */
import type { ExecutorTraits } from '../../core/variants';
import type { Hello } from '../../protocol/python-protocol';

export interface PythonFramework {
  /** The worker's argument: `python fconv_worker.py <id>` loads python/fconv_<id>.py; also the engine's name. */
  readonly id: string;
  /** How users call it ("PyTorch"). */
  readonly label: string;
  /** The pip package to install or upgrade. */
  readonly pipPackage: string;
  /** The oldest [major, minor] the executors work with, and why. */
  readonly minVersion: readonly [number, number];
  readonly minVersionWhy: string;
  /** Anything else that rules an interpreter out (a missing submodule), or undefined. */
  extraProblem?(h: Hello): string | undefined;
  /** How its executors build plans on a device kind (the cost model prices the same plans). */
  traits(backend: 'cpu' | 'cuda'): ExecutorTraits;
  /** The device in words, for the run ("CPU via PyTorch 2.13 (1 thread)"). */
  deviceName(h: Hello, device: string, threads: number | undefined, options?: Record<string, string>): string;
  /** How it times, for the run's timing note (`allocator`: how the worker set up the process's allocator). */
  timingNote(backend: 'cpu' | 'cuda', allocator: string | null, options?: Record<string, string>): string;
  /** Its executor module times the training step (forward + backward): `measure-train`. */
  readonly train?: boolean;
  /** Its executor module compiles a variant beside it run eagerly (`compiled`: torch.compile, `--compile`). */
  readonly compile?: boolean;
  /** What the kernels each step ran add to its implementation label (cuDNN's algorithm), by step id. */
  annotate?(
    implementations: Record<string, string>,
    kernels: Record<string, Array<{ name: string; device: 'cpu' | 'cuda'; ms: number }>>,
    backend: 'cpu' | 'cuda',
  ): Record<string, string>;
}

/** Parses "1.13.0a0+git" → [1, 13]. */
export function parseVersion(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Why an interpreter cannot run the framework's engine (with the command that fixes it), or undefined. */
export function frameworkProblem(fw: PythonFramework, h: Hello): string | undefined {
  if (h.framework !== fw.id) return `the worker answered for ${h.framework}, not ${fw.id}`;
  if (!h.version)
    return `no ${fw.id} (${h.importError ?? 'not installed'}); install it: ${h.executable} -m pip install ${fw.pipPackage}`;
  const [major, minor] = parseVersion(h.version);
  const [M, m] = fw.minVersion;
  if (major < M || (major === M && minor < m) || fw.extraProblem?.(h))
    return `${fw.id} ${h.version} is older than ${M}.${m} (${fw.minVersionWhy}); upgrade: ${h.executable} -m pip install -U ${fw.pipPackage}`;
  return undefined;
}
