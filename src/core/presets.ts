/**
 * The layers the extension offers before anything is typed: the seed's case and the shapes people
 * most often ask about. Host-free; the QuickPick and the tests read the same list.
 */
import { DEFAULT_SPEC, type LayerSpec, fnoSpec } from './spec';

export interface Preset {
  id: string;
  label: string;
  detail: string;
  spec: LayerSpec;
}

const base = { ...DEFAULT_SPEC };

export const PRESETS: readonly Preset[] = [
  {
    id: 'mnist-question',
    label: "MNIST — the question's layer",
    detail: 'The original question: a 28×28 kernel as a product of spectra, vs a 3×3 Conv2D.',
    spec: { ...base },
  },
  {
    id: 'cifar-k5',
    label: 'CIFAR-like, k = 5',
    detail: 'First layer of a small CNN: RGB in, 64 filters of 5×5, "same".',
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
    detail: 'A ResNet stage-1 conv: 64 → 64 at 56×56, 3×3 — where FFT should lose.',
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
    detail: "The same stage with 7×7 kernels: direct cost grows with k², FFT's does not.",
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
    detail: 'An FNO spectral convolution as FNO code writes it: batch 20, 12 modes per corner.',
    spec: fnoSpec({ batch: 20, height: 64, width: 64, inChannels: 32, outChannels: 32, modes: [12, 12] }),
  },
  {
    id: 'fno-128',
    label: 'FNO 2-D, 128 × 128, width 32, modes 16',
    detail: 'The same layer on a finer grid: batch 8, 16 modes per corner.',
    spec: fnoSpec({ batch: 8, height: 128, width: 128, inChannels: 32, outChannels: 32, modes: [16, 16] }),
  },
];

/** Ids a preset had before (a setting or a script may still name one): the old id of the question's layer. */
const RENAMED: Readonly<Record<string, string>> = { 'mnist-seed': 'mnist-question' };

export function presetById(id: string): Preset | undefined {
  const now = RENAMED[id] ?? id;
  return PRESETS.find((p) => p.id === now);
}

/**
 * A few words for a QuickPick description (the palette is narrow: the whole spec is in the detail line and the
 * status messages): batch × grid, channels, kernel or modes.
 */
export function presetDescription(p: Preset): string {
  const s = p.spec;
  const what =
    s.layer === 'fno'
      ? `modes ${s.modes?.join('×')}`
      : s.kernelH === s.height
        ? 'image-sized kernel'
        : `k ${s.kernelH}`;
  return `${s.batch} × ${s.height}×${s.width}, ${s.inChannels}→${s.outChannels}, ${what}`;
}

/** The longest line the palette shows without clipping at its default width (checked by a test). */
export const PALETTE_LINE = 80;
