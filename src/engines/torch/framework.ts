/**
 * PyTorch as a Python engine's framework: torch ≥ 1.8 (torch.fft), executors in python/fconv_torch*.py, CUDA
 * events on a GPU and perf_counter on a CPU, cuDNN's algorithm named from the kernels a convolution ran.
 * The engine itself is the generic one (src/engines/python/engine.ts). Worker side.
 */
import { fmtCudnn } from '../../core/units';
import { GPU_WARMUP_MIN_MS } from '../python/engine';
import { torchTraits } from '../../core/variants';
import type { EngineOptions } from '../engine';
import { PythonEngine } from '../python/engine';
import type { PythonFramework } from '../python/framework';
import { cudnnAlgorithmOf } from './cudnn';

export const TORCH: PythonFramework = {
  id: 'torch',
  label: 'PyTorch',
  pipPackage: 'torch',
  minVersion: [1, 8],
  minVersionWhy: 'no torch.fft',
  train: true,
  compile: true,
  extraProblem: (h) => (h.hasFft === false ? `torch ${h.version} has no torch.fft.rfft2` : undefined),
  traits: (backend) => torchTraits(backend),
  deviceName: (h, device, threads) => {
    if (device.startsWith('cuda')) {
      const idx = device === 'cuda' ? 0 : Number(device.split(':')[1] ?? 0);
      return `GPU ${h.gpus[idx] ?? device} via PyTorch ${h.version} (CUDA ${h.cudaVersion}, cuDNN ${h.cudnn ? fmtCudnn(h.cudnn) : 'none'})`;
    }
    const n = threads ?? h.threads ?? 1;
    return `CPU via PyTorch ${h.version} (${n} thread${n === 1 ? '' : 's'})`;
  },
  timingNote: (backend, allocator) =>
    backend === 'cuda'
      ? `torch.cuda.Event pairs around every step, the end-to-end and the layer-only runs (synchronized before reading); cudnn.benchmark on, its autotuning and cuFFT plan creation happen in the warm-up runs, which last at least ${GPU_WARMUP_MIN_MS} ms (the GPU's clock ramps up) and until stable`
      : `time.perf_counter around every step on the Python side (torch's CPU ops run to completion before they return), end to end and layer-only likewise; the loop runs in Python, so no time crosses the pipe${allocator ? `; ${allocator}, so a call's large outputs are not faulted in from the OS again on every call` : ''}`,
  annotate: (implementations, kernels, backend) => {
    // On a GPU, the cuDNN algorithm the convolution ran, as its kernel names tell (cudnn.benchmark picked it).
    if (backend !== 'cuda') return implementations;
    for (const [id, ks] of Object.entries(kernels)) {
      const algo = /conv/.test(id) ? cudnnAlgorithmOf(ks) : undefined;
      if (algo && implementations[id])
        implementations[id] += `; cuDNN ran ${algo} (from its kernels: ${ks
          .filter((k) => k.device === 'cuda')
          .slice(0, 2)
          .map((k) => k.name.slice(0, 60))
          .join(', ')})`;
    }
    return implementations;
  },
};

/** The PyTorch engine: the generic Python engine with the torch framework. */
export const TorchEngine = {
  create: (o: EngineOptions) => PythonEngine.create(TORCH, o),
  interpreters: (asked: EngineOptions['python']) => PythonEngine.interpreters(TORCH, asked),
};
