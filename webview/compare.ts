/** "Compare with the previous run": step medians side by side, faster/slower coloured beyond the noise. */
import { type RunDiff, diffRuns } from '../src/core/compare';
import { fmtMs } from '../src/core/format';
import { variantExplained, variantLabel } from '../src/core/glossary';
import type { Run } from '../src/core/run';
import { h } from './dom';

const CHANGE_LABEL: Record<RunDiff['rows'][number]['change'], string> = {
  faster: 'faster',
  slower: 'slower',
  same: 'within noise',
  added: 'new',
  removed: 'gone',
  'not comparable': '—',
};

export function compareSection(previous: Run, current: Run): HTMLElement {
  const d = diffRuns(previous, current);
  let lastVariant = '';
  const rows = d.rows.map((r) => {
    const first = r.variant !== lastVariant;
    lastVariant = r.variant;
    const ratio = r.ratio === undefined ? '—' : r.ratio >= 1 ? `${r.ratio.toFixed(2)}x` : `${r.ratio.toFixed(2)}x`;
    return h(
      'tr',
      { class: `diff-${r.change}${first ? ' variant-start' : ''}${r.step === 'end to end' ? ' total' : ''}` },
      h('td', first ? { title: variantExplained(r.variant) } : {}, first ? variantLabel(r.variant) : ''),
      h('td', {}, r.step),
      h('td', { class: 'num' }, r.previousMs === undefined ? '—' : fmtMs(r.previousMs)),
      h('td', { class: 'num' }, r.currentMs === undefined ? '—' : fmtMs(r.currentMs)),
      h('td', { class: 'num' }, ratio),
      h('td', { class: 'change' }, CHANGE_LABEL[r.change]),
    );
  });
  return h(
    'section',
    { class: 'card compare', id: 'compare' },
    h('h2', {}, 'Compared with the previous run'),
    h(
      'p',
      { class: 'muted' },
      `Previous: ${new Date(previous.createdAt).toLocaleString()} · now: ${new Date(current.createdAt).toLocaleString()}. ${d.basis === null ? 'The layers differ, so no step is called faster or slower.' : `"faster"/"slower" only when the p10–p90 ranges do not overlap and the medians differ by more than 5 %${d.basis === 'ms per sample' ? ' (per sample: the batch differs)' : ''}.`}`,
    ),
    ...d.notes.map((n) => h('p', { class: 'warn' }, n)),
    h(
      'table',
      { class: 'steps diff' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            'variant',
            'step',
            d.basis === 'ms per sample' ? 'previous, per sample' : 'previous',
            d.basis === 'ms per sample' ? 'now, per sample' : 'now',
            'now / previous',
            '',
          ].map((c) => h('th', {}, c)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}
