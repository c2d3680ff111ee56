/**
 * The devices report (`fconv devices`): which GPU and CUDA libraries this machine has, where they were
 * found, why the CUDA engine is (un)available, and every Python tried for the PyTorch engine. Built in
 * the worker, where the native addon loads.
 */
import type { DevicesReport } from '../protocol/worker-protocol';
import { type Discovery, describeDiscovery, loadAddon, searchDirs, unavailableReason } from './cuda/discovery';
import { gpuName } from './tfjs/backends';
import type { Candidate } from './python/discovery';
import { TensorflowEngine } from './tensorflow/framework';
import { TorchEngine } from './torch/framework';

export async function devicesReport(cudaLibDirs: string[], python: Candidate[] = []): Promise<DevicesReport> {
  const dirs = searchDirs({ setting: cudaLibDirs });
  let discovery: Discovery | undefined;
  let reason: string | undefined;
  try {
    discovery = loadAddon().discover(dirs.map((d) => d.dir));
    reason = unavailableReason(discovery);
  } catch (e) {
    reason = (e as Error).message;
  }
  // Both frameworks' interpreters are asked at once: each import takes seconds.
  const [torch, tensorflow] = await Promise.all([
    TorchEngine.interpreters(python),
    TensorflowEngine.interpreters(python),
  ]);
  return {
    cuda: {
      available: !reason,
      reason: reason ?? null,
      searchDirs: dirs,
      discovery: discovery ? (JSON.parse(JSON.stringify(discovery)) as Record<string, unknown>) : null,
      lines: discovery ? describeDiscovery(discovery, dirs) : [],
    },
    nvidiaSmi: gpuName() ?? null,
    python: torch.map((t) => ({
      path: t.path,
      from: t.from,
      python: t.hello?.python ?? null,
      torch: t.hello?.version ?? null,
      cuda: t.hello?.cuda ?? false,
      cudaVersion: t.hello?.cudaVersion ?? null,
      gpus: t.hello?.gpus ?? [],
      cudnn: t.hello?.cudnn ?? null,
      problem: t.problem ?? null,
    })),
    tensorflow: tensorflow.map((t) => ({
      path: t.path,
      from: t.from,
      python: t.hello?.python ?? null,
      tensorflow: t.hello?.version ?? null,
      gpus: t.hello?.gpus ?? [],
      problem: t.problem ?? null,
    })),
  };
}
