/**
 * "Profile this layer" on the user's own class (profile-layer.html, and the panel): forward() line by line
 * as they wrote it — each line's time as a bar, its ops on hover — and, for an FNO layer, the profiler's
 * formulations of the same spec beside it, with what the optimized one would save.
 */
import { type LayerProfile, allocatorFinding, compiledLayerLine, lineShare, wholeMs } from '../src/core/layer-profile';
import { fmtMs } from '../src/core/format';
import { h, s } from './dom';

/** A bar as SVG attributes (the panel's CSP refuses inline styles). */
function barOf(fraction: number, hot: boolean, backward = false): SVGElement {
  const w = Math.max(0.2, Math.min(100, 100 * fraction));
  return s(
    'svg',
    { class: 'line-bar-svg', width: '100%', height: 12, preserveAspectRatio: 'none', viewBox: '0 0 100 12' },
    s('rect', {
      class: `bar-fill${hot ? ' hot' : ''}${backward ? ' backward' : ''}`,
      x: 0,
      y: 0,
      width: w.toFixed(2),
      height: 12,
      rx: 1,
    }),
  );
}

const base = (f: string) => f.split(/[\\/]/).pop() ?? f;

function opsTitle(l: LayerProfile['lines'][number]): string {
  const ops = l.ops.map(
    (o) => `${o.name}(${o.shapes.join(', ')})${o.calls && o.calls > 1 ? ` ×${o.calls}` : ''}  ${fmtMs(o.ms)}`,
  );
  const kernels = l.kernels.map((k) => `${k.device === 'cuda' ? 'kernel' : 'op'} ${k.name}  ${fmtMs(k.ms)}`);
  return [...ops, ...(kernels.length ? ['—', ...kernels] : [])].join('\n') || 'no torch ops on this line';
}

export function renderLayerProfile(p: LayerProfile, root: HTMLElement): void {
  const tr = p.train;
  const alloc = allocatorFinding(p);
  // With the training step each line has a forward and a backward bar, on one scale; its share is of the step.
  const max = Math.max(
    ...p.lines.map((l) => Math.max(l.ms, l.backwardMs ?? 0)),
    p.notOnLineMs,
    tr?.notOnLineMs ?? 0,
    1e-9,
  );
  const row = (
    label: HTMLElement | string,
    text: string,
    ms: number,
    bwd: number | undefined,
    share: number,
    title: string,
    cls = '',
  ) =>
    h(
      'tr',
      { class: `line-row ${cls}`.trim(), 'data-tip': title },
      h('td', { class: 'num line-no' }, label),
      h('td', { class: 'code' }, h('code', {}, text)),
      h('td', { class: 'line-bar' }, barOf(ms / max, share >= 0.1)),
      h('td', { class: 'num' }, fmtMs(ms)),
      ...(tr
        ? [
            h('td', { class: 'line-bar' }, barOf((bwd ?? 0) / max, share >= 0.1, true)),
            h('td', { class: 'num' }, fmtMs(bwd ?? 0)),
          ]
        : []),
      h('td', { class: 'num' }, `${Math.round(share * 100)} %`),
    );
  const lines = p.lines.map((l) =>
    row(
      l.file === p.layer.file ? String(l.line) : `${base(l.file)}:${l.line}`,
      l.text + (l.hits > 1 ? `   (×${l.hits} per forward)` : ''),
      l.ms,
      l.backwardMs,
      lineShare(p, l),
      opsTitle(l),
    ),
  );
  const total = p.totalMs.median;
  const keras = p.engine === 'tensorflow';
  const call = keras ? 'call()' : 'forward()';
  const cmp = p.comparison;
  const cmpRows = cmp
    ? [
        { label: cmp.asWritten.label, ms: cmp.asWritten.ms.median, train: cmp.asWritten.trainMs?.median, mine: true },
        ...cmp.rows.map((r) => ({ label: r.label, ms: r.ms.median, train: r.trainMs?.median, mine: false })),
      ]
    : [];
  const cmpTrain = cmpRows.some((r) => r.train !== undefined);
  const cmpMax = Math.max(...cmpRows.map((r) => Math.max(r.ms, r.train ?? 0)), 1e-9);
  const bl = p.baseline;
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? `${(a / b).toFixed(1)}x` : '—');
  const baselineText = bl
    ? `Against ${bl.label}: yours takes ${ratio(total, bl.totalMs.median)} its forward${tr ? `, ${ratio(tr.totalMs.median, bl.trainMs?.median)} its training step, and ${ratio(tr.weightsOnlyMs?.median, bl.weightsOnlyMs?.median)} as a first layer (weights' gradients only, model.fit's step for a layer fed the data: ${fmtMs(tr.weightsOnlyMs?.median ?? 0)} vs ${fmtMs(bl.weightsOnlyMs?.median ?? 0)})` : ''}.`
    : '';
  const gainText = cmp?.gain
    ? cmp.gain.factor >= 1.05
      ? `The optimized formulation would run ${cmp.gain.factor.toFixed(2)}x faster than yours: ${fmtMs(cmp.gain.savedMs)} less per call. "Write the optimized version" above the class in the editor (or fconv optimize) writes a rewrite of your class, proven equal on your weights.`
      : cmp.gain.factor <= 0.95
        ? `Yours is already ${(1 / cmp.gain.factor).toFixed(2)}x faster than the profiler's optimized formulation.`
        : 'Yours and the optimized formulation are within 5 % of each other.'
    : '';
  const parts: Array<HTMLElement | null> = [
    h(
      'header',
      { class: 'report-header' },
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, `${p.layer.class} as written`),
        h('span', { class: 'badge status-ok' }, 'your code'),
      ),
      h(
        'p',
        { class: 'spec' },
        `${base(p.layer.file)}:${p.layer.line} · ${p.layer.class}(${p.init.args}) · input ${p.input.shape.join('×')} ${p.input.dtype}`,
      ),
      h('p', { class: 'muted' }, `${p.framework.name} ${p.framework.version} on ${p.device} · ${p.framework.python}`),
    ),
    h(
      'section',
      { class: 'card verdict', id: 'layer-total' },
      tr
        ? h(
            'p',
            { class: 'headline' },
            `A training step takes ${fmtMs(tr.totalMs.median)}: the backward ${fmtMs(tr.backwardMs.median)} (${Math.round((tr.backwardMs.median / tr.totalMs.median) * 100)} %), ${call} ${fmtMs(total)}`,
          )
        : h('p', { class: 'headline' }, `${call} takes ${fmtMs(total)} per call`),
      baselineText ? h('p', { id: 'layer-baseline' }, baselineText) : null,
      tr
        ? h(
            'p',
            { class: 'muted' },
            `training step p10 ${fmtMs(tr.totalMs.p10)} · p90 ${fmtMs(tr.totalMs.p90)} · ${tr.timing}`,
          )
        : null,
      h('p', { class: 'muted' }, `forward p10 ${fmtMs(p.totalMs.p10)} · p90 ${fmtMs(p.totalMs.p90)} · ${p.timing}`),
      alloc
        ? h('p', { id: 'layer-allocator', class: 'warn', title: alloc.detail }, `⚠ ${alloc.title}. `, alloc.detail)
        : null,
      compiledLayerLine(p) ? h('p', { id: 'layer-compiled' }, compiledLayerLine(p)!) : null,
      gainText ? h('p', {}, gainText) : null,
    ),
    h(
      'section',
      { class: 'card', id: 'layer-lines' },
      h(
        'h2',
        {},
        tr ? 'Where the training step spends its time, line by line' : 'Where forward() spends its time, line by line',
      ),
      h(
        'table',
        { class: 'steps lines' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { class: 'num' }, 'line'),
            h('th', {}, 'code'),
            h('th', {}, tr ? 'forward' : ''),
            h('th', { class: 'num' }, tr ? 'fwd' : 'time'),
            ...(tr ? [h('th', {}, 'backward'), h('th', { class: 'num' }, 'bwd')] : []),
            h('th', { class: 'num' }, 'share'),
          ),
        ),
        h(
          'tbody',
          {},
          ...lines,
          row(
            '—',
            keras
              ? `not on a line of yours (ops no line made${tr ? "; the loss's gradients" : ''})`
              : tr
                ? "not on a line of yours (nn.Module's call machinery; the loss's nodes, autograd between nodes)"
                : "not on a line of yours (nn.Module's call machinery)",
            p.notOnLineMs,
            tr?.notOnLineMs,
            wholeMs(p) ? (p.notOnLineMs + (tr?.notOnLineMs ?? 0)) / wholeMs(p) : 0,
            'time inside forward() (and its backward) outside your lines',
            'rest',
          ),
        ),
      ),
      h('p', { class: 'muted' }, `Hover a line for the ops it ran. ${p.attribution}.`),
      tr ? h('p', { class: 'muted' }, `Backward per line: ${tr.attribution}.`) : null,
    ),
    cmp
      ? h(
          'section',
          { class: 'card', id: 'layer-compare' },
          h('h2', {}, "Beside the profiler's formulations of the same layer"),
          h(
            'p',
            { class: 'muted' },
            `${cmp.what} · ${cmp.engine} · ${cmp.callOnly ? "per call: the spectral ones' call() alone (yours takes spectra), Conv2D end to end" : 'end to end per call'}${cmpTrain ? '; forward, then the training step' : ''}`,
          ),
          h(
            'table',
            { class: 'steps compare-bars' },
            h(
              'tbody',
              {},
              ...cmpRows.map((r) =>
                h(
                  'tr',
                  { class: r.mine ? 'mine' : '' },
                  h('td', {}, r.label),
                  h('td', { class: 'line-bar' }, barOf(r.ms / cmpMax, r.mine)),
                  h('td', { class: 'num' }, fmtMs(r.ms)),
                  ...(cmpTrain
                    ? [
                        h('td', { class: 'line-bar' }, barOf((r.train ?? 0) / cmpMax, r.mine, true)),
                        h('td', { class: 'num' }, r.train !== undefined ? fmtMs(r.train) : '—'),
                      ]
                    : []),
                ),
              ),
            ),
          ),
          cmp.caveat ? h('p', { class: 'muted', id: 'layer-caveat' }, `Note: ${cmp.caveat}.`) : null,
          gainText ? h('p', {}, gainText) : null,
        )
      : p.noComparison
        ? h(
            'section',
            { class: 'card', id: 'layer-compare' },
            h('p', { class: 'muted' }, `No comparison with the profiler's formulations: ${p.noComparison}.`),
          )
        : null,
    p.notes.length
      ? h(
          'section',
          { class: 'card', id: 'layer-notes' },
          h('h2', {}, 'Notes'),
          h('ul', {}, ...p.notes.map((n) => h('li', {}, n))),
        )
      : null,
  ];
  root.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
}
