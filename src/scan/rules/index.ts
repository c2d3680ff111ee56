/**
 * The diagnostic rules, one file each (src/scan/rules/<id>.ts: id, severity, title, source, check). The order
 * here is the order they run in; the catalogue (src/scan/catalogue.ts) and the id list are derived from it.
 * Adding a rule: its file, a line here, its section in docs/rules.md, fixtures in test/scan. Host-free.
 */
import type { Finding } from '../types';
import { rangeOf } from '../text';
import { type ConvSites, type Rule, type RuleContext, layerOf } from './common';
import { rule as rfftAxes } from './rfft-axes';
import { rule as circularConvolution } from './circular-convolution';
import { rule as tfjsComplexMatmul } from './tfjs-complex-matmul';
import { rule as outputShapeMismatch } from './output-shape-mismatch';
import { rule as einsumAxisSizes } from './einsum-axis-sizes';
import { rule as kernelSpectrumPerCall } from './kernel-spectrum-per-call';
import { rule as einsumChannelMixing } from './einsum-channel-mixing';
import { rule as complexTranspose } from './complex-transpose';
import { rule as unevenComparison } from './uneven-comparison';
import { rule as conv2dFftPayoff } from './conv2d-fft-payoff';
import { rule as fnoLayer } from './fno-layer';
import { rule as torchRfftRemoved } from './torch-rfft-removed';
import { rule as tfSpectralRemoved } from './tf-spectral-removed';

export type { Rule, RuleContext, ConvSites };

export const RULE_LIST = [
  rfftAxes,
  circularConvolution,
  tfjsComplexMatmul,
  outputShapeMismatch,
  einsumAxisSizes,
  kernelSpectrumPerCall,
  einsumChannelMixing,
  complexTranspose,
  unevenComparison,
  conv2dFftPayoff,
  fnoLayer,
  torchRfftRemoved,
  tfSpectralRemoved,
] as const satisfies readonly Rule[];

export type RuleId = (typeof RULE_LIST)[number]['id'];
export const RULE_IDS = RULE_LIST.map((r) => r.id) as [RuleId, ...RuleId[]];

/** Every rule on the file, in order; a rule that throws is named in `errors` and the others still run. */
export function runRules(ctx: RuleContext, convSites: ConvSites, errors: string[]): Finding[] {
  const findings: Finding[] = [];
  for (const r of RULE_LIST) {
    try {
      r.check(
        ctx,
        (f) => {
          const { node, ...rest } = f;
          findings.push({
            ...rest,
            rule: r.id,
            layer: rest.layer ?? layerOf(ctx, node)?.site.id,
            severity: r.severity,
            range: rangeOf(node),
          });
        },
        convSites,
      );
    } catch (e) {
      errors.push(`rule ${r.id} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return findings.sort((a, b) => a.range.startOffset - b.range.startOffset || a.rule.localeCompare(b.rule));
}
