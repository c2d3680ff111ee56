/**
 * A framework the profiler drives in the user's own Python: what to import, the oldest version that works,
 * how to install it, and the executor module the worker loads (python/fconv_<id>.py, with the shared
 * protocol and measuring loop of python/fconv_protocol.py). Adding a framework: its executor module, an
 * entry here, and its engine (a folder under src/engines with a registry line). Worker side.
 */
import type { Hello } from '../../protocol/python-protocol';

export interface PythonFramework {
  /** The worker's argument: `python fconv_worker.py <id>` loads python/fconv_<id>.py. */
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
}

/** PyTorch ≥ 1.8: torch.fft (rfft2, irfft2) is what the executors use. */
export const TORCH: PythonFramework = {
  id: 'torch',
  label: 'PyTorch',
  pipPackage: 'torch',
  minVersion: [1, 8],
  minVersionWhy: 'no torch.fft',
  extraProblem: (h) => (h.hasFft === false ? `torch ${h.version} has no torch.fft.rfft2` : undefined),
};

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
