/**
 * The rules: id, severity, a one-line title, the section of docs/rules.md that explains each (anchor =
 * the rule id, heading "### `<id>`: <title>") and the section of docs/ it rests on. Host-free.
 */
import { cite } from '../core/citations';
import type { RuleId, Severity } from './types';

export interface RuleInfo {
  id: RuleId;
  severity: Severity;
  title: string;
  /** Where the claim comes from: sections of docs/fft-convolution.md or docs/engines.md, and the paper. */
  source: string;
}

export const RULES: readonly RuleInfo[] = [
  { id: 'rfft-axes', severity: 'warning', title: 'rfft2d runs over the wrong axes', source: cite(['rfftAxes']) },
  {
    id: 'circular-convolution',
    severity: 'warning',
    title: 'product of unpadded spectra is a circular convolution',
    source: cite(['circular']),
  },
  {
    id: 'tfjs-complex-matmul',
    severity: 'warning',
    title: 'complex einsum/matMul is not supported by tfjs backends',
    source: cite(['kernelCoverage']),
  },
  {
    id: 'output-shape-mismatch',
    severity: 'warning',
    title: "declared output shape differs from the layer's",
    source: cite(['rfftAxes']),
  },
  {
    id: 'kernel-spectrum-per-call',
    severity: 'information',
    title: 'kernel spectrum recomputed on every call',
    source: cite(['kernelPerCall'], 'mathieu'),
  },
  {
    id: 'einsum-channel-mixing',
    severity: 'information',
    title: 'einsum channel mixing lowers to transposes + tiny BatchMatMuls',
    source: cite(['einsum']),
  },
  {
    id: 'complex-transpose',
    severity: 'information',
    title: 'transpose of a complex tensor in the per-call path',
    source: cite(['einsum', 'complexBytes']),
  },
  {
    id: 'uneven-comparison',
    severity: 'information',
    title: 'image-sized kernels compared with a small Conv2D',
    source: cite(['uneven']),
  },
  {
    id: 'conv2d-fft-payoff',
    severity: 'information',
    title: 'would FFT convolution pay for this Conv2D?',
    source: cite(['breakEven', 'rulesOfThumb'], 'mathieu'),
  },
  {
    id: 'fno-layer',
    severity: 'information',
    title: 'FNO spectral convolution: where its time goes',
    source: cite(['fnoTransforms', 'fnoEinsum', 'fnoZeroBuffer', 'fnoModes'], 'fno'),
  },
  {
    id: 'torch-rfft-removed',
    severity: 'warning',
    title: 'torch.rfft / torch.irfft were removed in PyTorch 1.8',
    source: cite(['torchFft']),
  },
];

export function ruleInfo(id: RuleId): RuleInfo {
  return RULES.find((r) => r.id === id)!;
}

/** The heading of a rule in docs/rules.md. */
export function ruleHeading(id: RuleId): string {
  return `### \`${id}\`: ${ruleInfo(id).title}`;
}

/** Where a rule is explained: docs/rules.md, at the anchor named after the rule. */
export function ruleDocs(id: RuleId): string {
  return `docs/rules.md#${id}`;
}
