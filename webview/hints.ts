/** The hints of a report, ranked: what to change, what it would save, and on which engine it was measured. */

import type { Hint } from '../src/core/insight-schema';
import { h } from './dom';

const SEVERITY_LABEL: Record<Hint['severity'], string> = { warning: 'warning', suggestion: 'suggestion', info: 'note' };

export function hintsSection(hints: Hint[], engine?: string): HTMLElement {
  return h(
    'section',
    { class: 'card hints', id: 'hints' },
    h(
      'h2',
      {},
      `What to change (${hints.length} hint${hints.length === 1 ? '' : 's'}${engine ? `, from this run on ${engine}` : ''})`,
    ),
    h(
      'p',
      { class: 'muted' },
      "Each hint fires only when this run's numbers back it. Warnings first (the comparison or the result is not what it seems), then by expected gain.",
    ),
    h(
      'ol',
      { class: 'hint-list' },
      ...hints.map((x) =>
        h(
          'li',
          { class: `hint hint-${x.severity}`, 'data-hint': x.id },
          h(
            'div',
            { class: 'hint-head' },
            h('span', { class: `sev sev-${x.severity}` }, SEVERITY_LABEL[x.severity]),
            h('strong', {}, x.title),
          ),
          h('p', {}, h('span', { class: 'k' }, 'Evidence: '), x.evidence),
          h('p', {}, h('span', { class: 'k' }, 'Change: '), x.suggestion),
          h(
            'p',
            {},
            h('span', { class: 'k' }, 'Expected gain: '),
            x.expectedGain.text,
            x.expectedGain.basis !== 'none' ? h('span', { class: 'muted' }, ` (${x.expectedGain.basis})`) : null,
          ),
          h('p', { class: 'muted small' }, `Source: ${x.source}`),
        ),
      ),
    ),
  );
}
