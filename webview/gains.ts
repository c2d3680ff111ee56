/** Where the time between two variants goes: the waterfalls of the gain decomposed by step category and pass. */
import { fmtMs } from '../src/core/format';
import { type Gain, gainsOf, partLabel } from '../src/core/gains';
import { variantLabel } from '../src/core/glossary';
import type { Run } from '../src/core/run';
import { h, s, tip } from './dom';

/**
 * Where the time between two variants goes: a waterfall from one variant's per-call step total to the
 * other's, one bar per step category (saved: green, added: red), with the inside-the-layer gain.
 */
export function gainChart(g: Gain, width = 760, endToEnd: { from?: number; to?: number } = {}): SVGElement {
  // The totals here are sums of per-call step medians (what the bars add up); the chart above shows end-to-end
  // medians, which differ a little: each total says which it is, and the end-to-end one beside it.
  const total = (ms: number, e2e: number | undefined) =>
    `${fmtMs(ms)} steps summed${e2e !== undefined ? ` (end to end ${fmtMs(e2e)})` : ''}`;
  const parts = [...g.parts]
    .filter((p) => Math.abs(p.deltaMs) > 0)
    .sort((a, b) => Math.abs(b.deltaMs) - Math.abs(a.deltaMs));
  const rows: Array<{ label: string; kind: 'total' | 'saved' | 'added'; a: number; b: number; text: string }> = [
    { label: variantLabel(g.from), kind: 'total', a: 0, b: g.fromMs, text: total(g.fromMs, endToEnd.from) },
  ];
  let level = g.fromMs;
  for (const p of parts) {
    const next = level - p.deltaMs;
    rows.push({
      label: partLabel(p),
      kind: p.deltaMs >= 0 ? 'saved' : 'added',
      a: Math.min(level, next),
      b: Math.max(level, next),
      // One convention: a step row is the change (− saved, + added), a total row the time.
      text: `${p.deltaMs >= 0 ? '−' : '+'}${fmtMs(Math.abs(p.deltaMs))} ${p.deltaMs >= 0 ? 'saved' : 'added'} (${fmtMs(p.fromMs)} → ${fmtMs(p.toMs)})`,
    });
    level = next;
  }
  rows.push({ label: variantLabel(g.to), kind: 'total', a: 0, b: g.toMs, text: total(g.toMs, endToEnd.to) });
  // Wide enough for the longest label ("channel mixing / product (backward)"), which was cut at 190 px.
  const rowH = 24,
    labelW = Math.min(300, Math.max(150, 16 + 7 * Math.max(...rows.map((r) => r.label.length)))),
    textW = 250,
    plotW = width - labelW - textW;
  const span = Math.max(g.fromMs, g.toMs, ...rows.map((r) => r.b), 1e-6);
  const height = rows.length * rowH + 8;
  const svg = s('svg', {
    class: 'chart waterfall',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': `Where the time between ${variantLabel(g.from)} and ${variantLabel(g.to)} goes`,
  });
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const x = labelW + (plotW * r.a) / span;
    const w = Math.max(1, (plotW * (r.b - r.a)) / span);
    svg.appendChild(s('text', { x: labelW - 8, y: y + 15, class: 'label', 'text-anchor': 'end' }, r.label));
    svg.appendChild(
      s('rect', { x, y, width: w, height: rowH - 6, class: `wf-${r.kind}` }, tip(`${r.label}: ${r.text}`)),
    );
    svg.appendChild(s('text', { x: labelW + plotW + 8, y: y + 15, class: 'tick' }, r.text));
  });
  return svg;
}

/** A variant's end-to-end median for the pass a waterfall decomposes (the number the chart above shows). */
function endToEndOf(run: Run, name: string, pass: Gain['pass']): number | undefined {
  const v = run.variants.find((x) => x.name === name);
  return pass === 'train' ? v?.train?.totalMs.median : v?.totalMs.median;
}

/** The gains card: one waterfall per comparison the verdict makes, with the layer's own gain. */
export function gainsSection(run: Run): HTMLElement | undefined {
  const gains = gainsOf(run);
  if (!gains.length) return undefined;
  return h(
    'section',
    { class: 'card gains', id: 'gains' },
    h('h2', {}, 'Where the difference comes from'),
    h(
      'p',
      { class: 'muted' },
      'Per-call step medians summed by what each step computes, from one variant to the other: green is time saved, red time added. Steps outside the layer (the input transform, the inverse transform back for the check) use the same transform method in every spectral variant of a run, so what remains between them is the layers’ own difference and the layout each leaves its spectrum in.',
    ),
    ...gains.flatMap((g) => [
      h(
        'h3',
        {},
        `${g.pass === 'train' ? 'Training step: ' : ''}${variantLabel(g.from)} → ${variantLabel(g.to)}: ${g.deltaMs >= 0 ? 'saves' : 'adds'} ${fmtMs(Math.abs(g.deltaMs))} ${g.pass === 'train' ? 'per training step (forward and backward parts)' : 'per call'}${g.from !== 'spatial-equivalent' ? ` — inside the layer ${fmtMs(g.layerFromMs)} → ${fmtMs(g.layerToMs)}${g.layerToMs > 0 ? ` (${(g.layerFromMs / g.layerToMs).toFixed(1)}x)` : ''}` : ''}`,
      ),
      h(
        'div',
        { class: 'chart-wrap' },
        gainChart(g, 760, {
          from: endToEndOf(run, g.from, g.pass),
          to: endToEndOf(run, g.to, g.pass),
        }),
      ),
    ]),
  );
}
