/**
 * The terms the report and the editor use, in plain words, once (docs/glossary.md holds the same, longer), and
 * the labels variants are shown with: the id `seed` (what `--variants` takes) is the layer "as written" in the
 * question the product started from, and `fno` an FNO layer as FNO code writes it. Host-free.
 */
import { type VariantName, variantEntry } from './variants/table';

export interface Term {
  term: string;
  /** One or two sentences: what a user hovering it needs. */
  short: string;
  /** Its section of docs/glossary.md. */
  anchor: string;
}

export const GLOSSARY: readonly Term[] = [
  {
    term: 'as written',
    short:
      "The spectral layer as the code writes it: for the question's Keras layer, rfft2d of the kernel on every call, a complex transpose and a complex einsum; for an FNO layer, rfft2, one einsum per corner block into a zero-filled spectrum, irfft2. Variant id: seed (fno for an FNO layer).",
    anchor: 'as-written',
  },
  {
    term: 'optimized',
    short:
      'The same function as the layer as written, formulated for speed: the kernel spectrum cached, one batched product or GEMM, no complex transposes (and for FNO, only the kept modes transformed).',
    anchor: 'optimized',
  },
  {
    term: 'spatial-equivalent',
    short:
      'The spectral layer computed as an ordinary convolution with its image-sized kernel (circular padding): the same output, the spatial way. What FFT convolution is fairly compared with.',
    anchor: 'spatial-equivalent',
  },
  {
    term: 'spatial',
    short: 'The small Conv2D (3×3 by default) the question compared with: a different function, timed as a baseline.',
    anchor: 'spatial',
  },
  {
    term: 'K = 1',
    short:
      'A matrix product whose inner dimension is 1 (one input channel): an outer product, all memory traffic and no reuse; a broadcast multiply does the same.',
    anchor: 'k-1',
  },
  {
    term: 'R2C / C2R',
    short:
      'Real-to-complex and complex-to-real FFTs: a real image has a half spectrum (W/2+1 columns), so they do half the work of a complex FFT.',
    anchor: 'r2c-c2r',
  },
  {
    term: 'ridge point',
    short:
      'On the roofline, the arithmetic intensity (FLOP per byte) where a device stops being limited by memory bandwidth and starts being limited by arithmetic.',
    anchor: 'ridge-point',
  },
  {
    term: 'DFT-as-GEMM',
    short:
      'A discrete Fourier transform written as a matrix product with a precomputed DFT matrix: more arithmetic than an FFT, but one fast GEMM where no FFT library is available (the embedded engine).',
    anchor: 'dft-as-gemm',
  },
  {
    term: 'XNNPACK packing',
    short:
      "XNNPACK (the embedded engine's CPU kernels) repacks convolution weights into its own layout on first use; for image-sized kernels that repacking is a large one-off cost.",
    anchor: 'xnnpack-packing',
  },
  {
    term: 'modes',
    short:
      'In an FNO layer, how many Fourier coefficients per axis are kept (the rest are dropped): with the corner convention, modes rows from each end and modes columns.',
    anchor: 'modes',
  },
];

export function term(name: string): Term | undefined {
  return GLOSSARY.find((t) => t.term === name);
}

/** How a variant is shown: `seed` and `fno` are "as written". */
export function variantLabel(name: VariantName | string): string {
  return variantEntry(name)?.label ?? name;
}

/** The hover text of a variant's label: what it is, in plain words. */
export function variantExplained(name: VariantName | string): string {
  const t = term(variantLabel(name));
  return t ? `${variantLabel(name)}: ${t.short}` : String(name);
}
