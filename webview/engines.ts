/** The engines side by side (fconv profile --engine a,b: engines.html): times, verdicts, disagreements. */
import { variantExplained, variantLabel } from '../src/core/glossary';
import { type EnginesCompare, measuredVariants } from '../src/core/engines-compare';
import { engineLabel, fmtMs, fmtRatio } from '../src/core/format';
import { describeSpec } from '../src/core/spec';
import { h } from './dom';

export function renderEngines(c: EnginesCompare, root: HTMLElement): void {
  const names = c.runs.map((r) => engineLabel(r));
  const variants = measuredVariants(c.runs);
  root.replaceChildren(
    h(
      'header',
      { class: 'report-header' },
      h('div', { class: 'title-row' }, h('h1', {}, `Fourier Conv — ${c.runs.length} engines`)),
      h('p', { class: 'muted' }, `${describeSpec(c.spec)} · the same input and weights on each engine`),
    ),
    h(
      'section',
      { class: 'card', id: 'engine-verdicts' },
      h('h2', {}, 'Verdicts per engine'),
      ...c.verdicts.map((v) =>
        h(
          'div',
          { class: `engine-verdict${v.disagree ? ' disagree' : ''}` },
          h('p', {}, h('strong', {}, v.disagree ? 'The engines disagree: ' : 'The engines agree: '), v.label),
          h(
            'ul',
            {},
            ...v.answers.map((a) =>
              h(
                'li',
                {},
                `${a.engine}: ${a.winner === null ? 'not measured' : `${a.winner} wins, ${fmtRatio(a.factor!)}`}`,
              ),
            ),
          ),
        ),
      ),
      c.verdicts.some((v) => v.disagree)
        ? h(
            'p',
            { class: 'muted' },
            'Trust the engine your code runs on; each engine has its full report in its folder.',
          )
        : null,
    ),
    h(
      'section',
      { class: 'card', id: 'engine-times' },
      h('h2', {}, 'End to end, per variant and engine'),
      h(
        'table',
        { class: 'steps' },
        h('thead', {}, h('tr', {}, h('th', {}, 'variant'), ...names.map((n) => h('th', { class: 'num' }, n)))),
        h(
          'tbody',
          {},
          ...variants.map((name) =>
            h(
              'tr',
              {},
              h('td', { title: variantExplained(name) }, variantLabel(name)),
              ...c.runs.map((r) => {
                const v = r.variants.find((x) => x.name === name);
                return h('td', { class: `num${v && !v.correct ? ' wrong' : ''}` }, v ? fmtMs(v.totalMs.median) : '—');
              }),
            ),
          ),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        ...c.runs.map((r, i) => h('span', {}, `${names[i]}: ${r.device}; ${r.timingNote.split(';')[0]}. `)),
      ),
    ),
  );
}
