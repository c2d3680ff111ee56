/**
 * The rules: id, severity, a one-line title, the README section that explains each (its heading is
 * "### `<id>`: <title>") and the fact in ../shared/notes/fft-conv-facts.md it rests on. Host-free.
 */
import type { RuleId, Severity } from './types';

export interface RuleInfo {
  id: RuleId;
  severity: Severity;
  title: string;
  /** Where the claim comes from: fft-conv-facts.md section (and item), or engines.md. */
  source: string;
}

const FACTS = 'fft-conv-facts.md';
const SLOW = `${FACTS}, "Why the seed's layer is slow"`;

export const RULES: readonly RuleInfo[] = [
  { id: 'rfft-axes', severity: 'warning', title: 'rfft2d runs over the wrong axes', source: `${SLOW} 3` },
  { id: 'circular-convolution', severity: 'warning', title: 'product of unpadded spectra is a circular convolution', source: `${SLOW} 6` },
  { id: 'tfjs-complex-matmul', severity: 'warning', title: 'complex einsum/matMul is not supported by tfjs backends', source: 'engines.md, "tfjs kernel coverage" (cpu, wasm, webgl, webgpu)' },
  { id: 'output-shape-mismatch', severity: 'warning', title: 'declared output shape differs from the layer\'s', source: `${SLOW} 3` },
  { id: 'kernel-spectrum-per-call', severity: 'information', title: 'kernel spectrum recomputed on every call', source: `${SLOW} 7` },
  { id: 'einsum-channel-mixing', severity: 'information', title: 'einsum channel mixing lowers to transposes + tiny BatchMatMuls', source: `${SLOW} 2` },
  { id: 'complex-transpose', severity: 'information', title: 'transpose of a complex tensor in the per-call path', source: `${SLOW} 2 and 4` },
  { id: 'uneven-comparison', severity: 'information', title: 'image-sized kernels compared with a small Conv2D', source: `${SLOW} 1` },
  { id: 'conv2d-fft-payoff', severity: 'information', title: 'would FFT convolution pay for this Conv2D?', source: `${FACTS}, "Cost models" (Mathieu et al.) and "Rules of thumb"` },
];

export function ruleInfo(id: RuleId): RuleInfo {
  return RULES.find((r) => r.id === id)!;
}

/** The README heading of a rule; the anchor GitHub and VS Code's preview derive from it. */
export function ruleHeading(id: RuleId): string {
  return `### \`${id}\`: ${ruleInfo(id).title}`;
}

/** GitHub-style anchor of the heading (lower case, punctuation dropped, spaces to dashes). */
export function ruleAnchor(id: RuleId): string {
  return ruleHeading(id)
    .replace(/^#+\s*/, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}
