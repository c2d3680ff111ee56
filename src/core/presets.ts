/**
 * The layers the extension offers before anything is typed: the seed's case and the shapes people
 * most often ask about. Host-free; the QuickPick and the tests read the same list.
 */
import { DEFAULT_SPEC, type LayerSpec, describeSpec, fnoSpec } from './spec';

export interface Preset {
  id: string;
  label: string;
  detail: string;
  spec: LayerSpec;
}

const base = { ...DEFAULT_SPEC };

export const PRESETS: readonly Preset[] = [
  {
    id: 'mnist-seed',
    label: "MNIST — the question's layer",
    detail: 'The original question: image-sized 28×28 kernel, product of spectra (circular), against a 3×3 Conv2D.',
    spec: { ...base },
  },
  {
    id: 'cifar-k5',
    label: 'CIFAR-like, k = 5',
    detail: 'First layer of a small CNN: RGB in, 64 filters of 5×5, zero-padded to "same".',
    spec: {
      ...base,
      batch: 32,
      height: 32,
      width: 32,
      inChannels: 3,
      outChannels: 64,
      kernelH: 5,
      kernelW: 5,
      spatialKernel: 5,
      padding: 'same',
    },
  },
  {
    id: 'imagenet-k3',
    label: 'ImageNet-like stage, k = 3',
    detail: 'A ResNet stage-1 conv: 64 → 64 channels at 56×56, 3×3 — where FFT should lose.',
    spec: {
      ...base,
      batch: 8,
      height: 56,
      width: 56,
      inChannels: 64,
      outChannels: 64,
      kernelH: 3,
      kernelW: 3,
      spatialKernel: 3,
      padding: 'same',
    },
  },
  {
    id: 'imagenet-k7',
    label: 'ImageNet-like stage, k = 7',
    detail: "The same stage with 7×7 kernels: the cost of the direct conv grows with k², the FFT's does not.",
    spec: {
      ...base,
      batch: 8,
      height: 56,
      width: 56,
      inChannels: 64,
      outChannels: 64,
      kernelH: 7,
      kernelW: 7,
      spatialKernel: 7,
      padding: 'same',
    },
  },
  {
    id: 'fno-64',
    label: 'FNO 2-D, 64 × 64, width 32, modes 12',
    detail:
      'A Fourier Neural Operator spectral convolution as the original code writes it: batch 20, 32 → 32 channels, 12 modes per corner (24 × 12 coefficients).',
    spec: fnoSpec({ batch: 20, height: 64, width: 64, inChannels: 32, outChannels: 32, modes: [12, 12] }),
  },
  {
    id: 'fno-128',
    label: 'FNO 2-D, 128 × 128, width 32, modes 16',
    detail:
      'The same layer on a finer grid: batch 8, 32 → 32 channels, 16 modes per corner — the kept fraction of the spectrum shrinks.',
    spec: fnoSpec({ batch: 8, height: 128, width: 128, inChannels: 32, outChannels: 32, modes: [16, 16] }),
  },
];

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** One line for a QuickPick description or a status message. */
export function presetDescription(p: Preset): string {
  return describeSpec(p.spec);
}
