/**
 * The devices report (`fconv devices`): which GPU and CUDA libraries this machine has, where they were
 * found, and why the CUDA engine is (un)available. Built in the worker, where the native addon loads.
 */
import type { DevicesReport } from '../protocol/worker-protocol';
import { type Discovery, describeDiscovery, loadAddon, searchDirs, unavailableReason } from './cuda/discovery';
import { gpuName } from './tfjs/backends';

export function devicesReport(cudaLibDirs: string[]): DevicesReport {
  const dirs = searchDirs({ setting: cudaLibDirs });
  let discovery: Discovery | undefined;
  let reason: string | undefined;
  try {
    discovery = loadAddon().discover(dirs.map((d) => d.dir));
    reason = unavailableReason(discovery);
  } catch (e) {
    reason = (e as Error).message;
  }
  return {
    cuda: {
      available: !reason,
      reason: reason ?? null,
      searchDirs: dirs,
      discovery: discovery ? (JSON.parse(JSON.stringify(discovery)) as Record<string, unknown>) : null,
      lines: discovery ? describeDiscovery(discovery, dirs) : [],
    },
    nvidiaSmi: gpuName() ?? null,
  };
}
