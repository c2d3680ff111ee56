/**
 * The rules' catalogue: id, severity, a one-line title, the section of docs/rules.md that explains each
 * (anchor = the rule id, heading "### `<id>`: <title>") and the section of docs/ it rests on. Derived from
 * the rules (src/scan/rules). Host-free.
 */
import { RULE_LIST, type RuleId } from './rules';
import type { Severity } from './types';

export interface RuleInfo {
  id: RuleId;
  severity: Severity;
  title: string;
  /** Where the claim comes from: sections of docs/fft-convolution.md or docs/engines.md, and the paper. */
  source: string;
}

/** The catalogue, derived from the rules themselves (src/scan/rules/<id>.ts), in the order they run. */
export const RULES: readonly RuleInfo[] = RULE_LIST.map(({ id, severity, title, source }) => ({
  id,
  severity,
  title,
  source,
}));

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
