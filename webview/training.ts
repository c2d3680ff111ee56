/**
 * The training step in the report: per variant the forward pass beside the training step (forward + backward
 * of a scalar loss, gradients materialised), the backward's share, the gradient checks, and a timeline with a
 * forward and a backward lane per variant (the backward's steps in the order they run: last step first).
 */
import { fmtMs, fmtRatio } from '../src/core/format';
import { variantExplained, variantLabel } from '../src/core/glossary';
import type { Run, StepResult, VariantResult } from '../src/core/run';
import { stepGroup } from './colours';
import { h, s, tip } from './dom';
import { timelineSvg } from './axes';

const trained = (run: Run) => run.variants.filter((v) => v.train);

function stepTip(st: StepResult): string {
  return `${st.name}\nmedian ${fmtMs(st.median)} (p10–p90 ${fmtMs(st.p10)}–${fmtMs(st.p90)}, ${st.reps} reps)\n${st.implementation}`;
}

/** Forward and backward lanes per trained variant, on one time axis. */
export function trainingTimelines(run: Run, width = 760): SVGElement {
  const labelW = 170;
  const plotW = width - labelW - 20;
  const laneH = 30;
  const vs = trained(run);
  const fwd = (v: VariantResult) =>
    v.steps.filter((x) => !x.oneOff || v.train!.steps.some((b) => b.id === `${x.id}.backward`));
  const lanes = vs.flatMap((v) => [
    { v, label: variantLabel(v.name), steps: fwd(v), backward: false },
    { v, label: '↩ backward', steps: [...v.train!.steps].reverse(), backward: true },
  ]);
  const span = Math.max(...lanes.map((l) => l.steps.reduce((a, st) => a + st.median, 0)), 1e-6);
  const height = lanes.length * laneH + vs.length * 8 + 30;
  const svg = timelineSvg({
    width,
    height,
    labelW,
    plotW,
    span,
    cls: 'chart timelines training',
    label: 'Forward and backward per variant',
  });
  let y = 6;
  lanes.forEach((l, i) => {
    if (i > 0 && !l.backward) y += 8;
    svg.appendChild(
      s(
        'g',
        { class: 'label-wrap' },
        s(
          'text',
          { x: labelW - 10, y: y + 15, class: `label${l.backward ? ' muted' : ''}`, 'text-anchor': 'end' },
          l.label,
        ),
        tip(
          l.backward
            ? `${variantLabel(l.v.name)}: each step's backward (its VJP), in the order it runs`
            : variantExplained(l.v.name),
        ),
      ),
    );
    let t = 0;
    for (const st of l.steps) {
      const x0 = labelW + (plotW * t) / span;
      const w = Math.max(0.8, (plotW * st.median) / span);
      svg.appendChild(
        s(
          'g',
          { class: 'step' },
          tip(stepTip(st)),
          s('rect', {
            x: x0,
            y,
            width: w,
            height: 20,
            class: `seg cat-${stepGroup(st)}${st.inLayer ? '' : ' outside'}${l.backward ? ' backward' : ''}`,
          }),
        ),
      );
      t += st.median;
    }
    y += laneH;
  });
  return svg;
}

/** The training step section, or undefined when the run measured the forward pass only. */
export function trainingSection(run: Run): HTMLElement | undefined {
  const vs = trained(run);
  if (!vs.length) return undefined;
  const rows = vs.flatMap((v) => [row(v), ...compiledRow(v)]);
  function row(v: VariantResult): HTMLElement {
    const t = v.train!;
    const grads = t.gradients.length
      ? t.gradients.map((g) => `${g.name} ${g.maxAbsError.toExponential(1)} ${g.correct ? '✓' : '✗'}`).join(', ')
      : '—';
    return h(
      'tr',
      {},
      h('td', { title: variantExplained(v.name) }, variantLabel(v.name)),
      h('td', { class: 'num' }, fmtMs(v.totalMs.median)),
      h('td', { class: 'num' }, h('strong', {}, fmtMs(t.totalMs.median))),
      h('td', { class: 'num muted' }, `${fmtMs(t.totalMs.p10)}–${fmtMs(t.totalMs.p90)}`),
      h('td', { class: 'num' }, fmtMs(t.backwardMs.median)),
      h('td', { class: 'num' }, fmtRatio(t.backwardMs.median / Math.max(v.totalMs.median, 1e-9))),
      h('td', { title: t.gradients[0]?.reference ?? t.notes.join('; ') }, grads),
    );
  }
  /** `--compile`: the layer as written compiled, timed in its own rounds against eager (its figures in the hover). */
  function compiledRow(v: VariantResult): HTMLElement[] {
    const c = v.compiled;
    if (!c?.train || !c.eagerTrain || !c.forward || !c.eagerForward) return [];
    return [
      h(
        'tr',
        {
          class: 'compiled',
          title: `torch.compile of the layer as written, timed in rounds of its own, alternated call by call with the same function run eagerly: eager ${fmtMs(c.eagerForward.median)} forward, ${fmtMs(c.eagerTrain.median)} training step there — compare with those`,
        },
        h('td', {}, `${variantLabel(v.name)}, compiled`),
        h('td', { class: 'num' }, fmtMs(c.forward.median)),
        h(
          'td',
          { class: 'num' },
          h('strong', {}, fmtMs(c.train.median)),
          h('span', { class: 'muted' }, ` (eager ${fmtMs(c.eagerTrain.median)})`),
        ),
        h('td', { class: 'num muted' }, `${fmtMs(c.train.p10)}–${fmtMs(c.train.p90)}`),
        h('td', { class: 'num' }, '—'),
        h('td', { class: 'num' }, '—'),
        h(
          'td',
          {},
          `vs eager ${(c.maxRelError ?? 0) === 0 ? 'identical' : `${(c.maxRelError ?? 0).toExponential(1)} rel.`} ✓`,
        ),
      ),
    ];
  }
  const notes = [...new Set(vs.flatMap((v) => v.train!.notes.map((n) => `${variantLabel(v.name)}: ${n}`)))];
  return h(
    'section',
    { class: 'card', id: 'training' },
    h('h2', {}, 'Training step (forward + backward)'),
    h(
      'p',
      { class: 'muted' },
      'What a training loop pays per call: the forward pass, then the backward of a scalar loss — the output weighted by fixed weights, so every output counts in the gradient check — with respect to the input and every parameter, gradients materialised. Each gradient is checked against the same function computed spatially (max |error|).',
    ),
    h(
      'table',
      { class: 'steps' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            'variant',
            'forward',
            'training step',
            'p10–p90',
            'backward',
            'backward / forward',
            'gradients (max |err|)',
          ].map((c) => h('th', {}, c)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
    ...notes.map((n) => h('p', { class: 'muted' }, n)),
    h('div', { class: 'chart-wrap' }, trainingTimelines(run)),
  );
}
