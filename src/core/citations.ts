/**
 * What user-facing text cites: sections of the docs shipped with the product (stable anchors) and the
 * papers and vendor pages behind them. Never a file outside the product. A test checks every anchor
 * here exists in docs/. Host-free.
 */

const FFT = 'docs/fft-convolution.md';

export const DOCS = {
  costModels: `${FFT}#cost-models`,
  mathieu: `${FFT}#mathieu`,
  breakEven: `${FFT}#break-even`,
  tensorCores: `${FFT}#tensor-cores`,
  cudnn: `${FFT}#cudnn-algorithms`,
  uneven: `${FFT}#slow-1-uneven-comparison`,
  einsum: `${FFT}#slow-2-einsum`,
  rfftAxes: `${FFT}#slow-3-rfft-axes`,
  complexBytes: `${FFT}#slow-4-complex-bytes`,
  launches: `${FFT}#slow-5-launches`,
  circular: `${FFT}#slow-6-circular`,
  kernelPerCall: `${FFT}#slow-7-kernel-per-call`,
  rulesOfThumb: `${FFT}#rules-of-thumb`,
  roofline: `${FFT}#roofline`,
  fnoTransforms: `${FFT}#fno-partial-transforms`,
  fnoEinsum: `${FFT}#fno-einsum`,
  fnoZeroBuffer: `${FFT}#fno-zero-buffer`,
  fnoHalf: `${FFT}#fno-half-precision`,
  fnoModes: `${FFT}#fno-modes`,
  torchFft: 'docs/engines.md#torch-fft-api',
  tfSignal: 'docs/engines.md#tensorflow',
  kernelCoverage: 'docs/engines.md#kernel-coverage',
  timing: 'docs/engines.md#timing',
  probe: 'docs/engines.md#probe',
} as const;

export const PAPERS = {
  mathieu: 'Mathieu, Henaff & LeCun, "Fast Training of Convolutional Networks through FFTs", arXiv 1312.5851',
  lavinGray: 'Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", arXiv 1509.09308',
  roofline: 'Williams, Waterman & Patterson, "Roofline", CACM 2009',
  fno: 'Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations", arXiv 2010.08895',
} as const;

/** The docs sections a rule or hint rests on, then the paper: "docs/…#a, docs/…#b; Mathieu et al. …". */
export function cite(sections: ReadonlyArray<keyof typeof DOCS>, paper?: keyof typeof PAPERS): string {
  const docs = sections.map((s) => DOCS[s]).join(', ');
  return paper ? `${docs}; ${PAPERS[paper]}` : docs;
}
