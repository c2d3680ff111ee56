/**
 * The report: verdict, end-to-end chart, per-variant timelines, step tables, correctness, method.
 * Pure rendering from a validated Run; used by the CLI's standalone HTML and the extension's panel.
 */
import { engineLabel, fmtMs, verdict } from '../src/core/format';
import { formatBytes } from '../src/core/memory';
import { type Run, type StepResult, TIMING_LABELS, type VariantResult } from '../src/core/run';
import { describeSpec } from '../src/core/spec';
import { variantExplained, variantLabel } from '../src/core/glossary';
import { h, s, tip } from './dom';
import { type ColourGroup, stepGroup } from './colours';
import { hintsSection } from './hints';
import { analysisSection } from './roofline';
import { fnoSweepSection, sweepSection } from './sweeps';
import { type Gain, gainsOf, partLabel } from '../src/core/gains';

const CATEGORY_LABEL: Record<ColourGroup, string> = {
  transform: 'FFT / DFT',
  transpose: 'transpose',
  product: 'product / einsum',
  conv: 'convolution',
  pad: 'pad / crop',
  other: 'other',
};

function fmtNum(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return `${n}`;
}

function gflops(step: StepResult): string {
  if (!step.flops || !(step.median > 0)) return '—';
  return `${(step.flops / (step.median * 1e6)).toFixed(1)}`;
}

function stepTooltip(step: StepResult): string {
  return [
    `${step.name}${step.oneOff ? ' (one-off, cached)' : step.inLayer ? '' : ' (outside the layer)'}`,
    `median ${fmtMs(step.median)}, p10–p90 ${fmtMs(step.p10)}–${fmtMs(step.p90)} (${step.reps} reps after ${step.warmup} warm-up)`,
    `timing: ${TIMING_LABELS[step.timing]}`,
    `implementation: ${step.implementation}`,
    step.flops
      ? `${fmtNum(step.flops)} FLOP, ${formatBytes(step.bytes)} moved, ${gflops(step)} GFLOP/s achieved`
      : `no FLOPs (data movement), ${formatBytes(step.bytes)} moved`,
    `in ${step.inputShapes.map((x) => x.join('×')).join(', ')} → out ${step.outputShape.join('×')}`,
    ...(step.kernels?.length
      ? [
          `ran (one profiled pass): ${step.kernels
            .slice(0, 5)
            .map((k) => `${k.name}${k.device === 'cuda' ? ' [GPU]' : ''} ${fmtMs(k.ms)}`)
            .join(', ')}`,
        ]
      : []),
  ].join('\n');
}

function header(run: Run): HTMLElement {
  const status = run.status === 'ok' ? 'checked ✓' : run.status;
  return h(
    'header',
    { class: 'report-header' },
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Fourier Conv Profile'),
      h('span', { class: `badge status-${run.status}` }, status),
    ),
    h('p', { class: 'spec' }, describeSpec(run.spec)),
    h('p', { class: 'muted' }, `Spectral layers compute: ${run.geometry.describes}.`),
    h(
      'p',
      { class: 'muted' },
      `Engine ${run.engine}/${run.backend} — ${run.device} · ${new Date(run.createdAt).toLocaleString()}`,
    ),
  );
}

function verdictCard(run: Run): HTMLElement {
  const v = verdict(run);
  return h(
    'section',
    { class: 'card verdict' },
    h('h2', {}, 'Verdict'),
    h('p', { class: 'headline' }, v.headline),
    h('ul', {}, ...v.lines.map((l) => h('li', {}, l))),
  );
}

/** Horizontal bars: end-to-end median per variant with its p10–p90 spread, layer-only beneath. */
export function totalsChart(run: Run, width = 760): SVGElement {
  const rows = run.variants;
  const labelW = 170;
  const valueW = 90;
  const plotW = width - labelW - valueW;
  const rowH = 34;
  const top = 8;
  const height = top + rows.length * rowH + 28;
  const max = Math.max(...rows.flatMap((v) => [v.totalMs.p90, v.layerMs?.p90 ?? 0]), 1e-6);
  const min = Math.min(...rows.map((v) => v.totalMs.median).filter((x) => x > 0), max);
  const log = max / min > 1000; // linear unless a bar would vanish: log scales mislead at a glance
  const lo = log ? Math.pow(10, Math.floor(Math.log10(min / 2))) : 0;
  const x = (ms: number) => {
    if (!log) return labelW + (plotW * ms) / max;
    const a = Math.log10(Math.max(ms, lo));
    return labelW + (plotW * (a - Math.log10(lo))) / (Math.log10(max) - Math.log10(lo));
  };
  const svg = s('svg', {
    class: 'chart totals',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'End-to-end time per variant',
  });
  // grid
  const ticks = log
    ? Array.from({ length: Math.ceil(Math.log10(max / lo)) + 1 }, (_, i) => lo * Math.pow(10, i)).filter(
        (t) => t <= max * 1.01,
      )
    : niceTicks(max, 5);
  for (const t of ticks) {
    const gx = x(t);
    svg.appendChild(s('line', { x1: gx, x2: gx, y1: top, y2: height - 22, class: 'grid' }));
    svg.appendChild(s('text', { x: gx, y: height - 8, class: 'tick', 'text-anchor': 'middle' }, fmtMs(t)));
  }
  rows.forEach((v, i) => {
    const y = top + i * rowH;
    const g = s('g', { class: `row kind-${v.kind}${v.correct ? '' : ' wrong'}` });
    g.appendChild(
      s(
        'g',
        { class: 'label-wrap' },
        s('text', { x: labelW - 10, y: y + 15, class: 'label', 'text-anchor': 'end' }, variantLabel(v.name)),
        tip(variantExplained(v.name)),
      ),
    );
    const bw = Math.max(1, x(v.totalMs.median) - labelW);
    g.appendChild(
      s(
        'rect',
        { x: labelW, y: y + 4, width: bw, height: 14, rx: 2, class: `bar total ${v.kind}` },
        tip(
          `${variantLabel(v.name)}: end to end ${fmtMs(v.totalMs.median)} (p10–p90 ${fmtMs(v.totalMs.p10)}–${fmtMs(v.totalMs.p90)}, ${v.totalMs.reps} reps, ${TIMING_LABELS[v.totalMs.timing]}, no per-step syncs)`,
        ),
      ),
    );
    g.appendChild(s('line', { x1: x(v.totalMs.p10), x2: x(v.totalMs.p90), y1: y + 11, y2: y + 11, class: 'whisker' }));
    if (v.layerMs) {
      const lw = Math.max(1, x(v.layerMs.median) - labelW);
      g.appendChild(
        s(
          'rect',
          { x: labelW, y: y + 20, width: lw, height: 6, rx: 1, class: 'bar layer' },
          tip(
            `${variantLabel(v.name)}: layer only ${fmtMs(v.layerMs.median)} (input already in the Fourier domain, as the question timed it)`,
          ),
        ),
      );
    }
    g.appendChild(s('text', { x: width - valueW + 6, y: y + 15, class: 'value' }, fmtMs(v.totalMs.median)));
    if (v.layerMs)
      g.appendChild(
        s('text', { x: width - valueW + 6, y: y + 28, class: 'value small' }, `layer ${fmtMs(v.layerMs.median)}`),
      );
    svg.appendChild(g);
  });
  if (log) svg.appendChild(s('text', { x: width - valueW + 6, y: height - 8, class: 'tick note' }, 'log scale'));
  return svg;
}

export function niceTicks(max: number, n: number): number[] {
  const raw = max / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((m) => m >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= max + 1e-12; t += step) out.push(t);
  return out;
}

/** One timeline per variant on a shared time axis: steps as bars at their medians, one-off steps apart. */
export function timelines(run: Run, width = 760): SVGElement {
  const labelW = 170;
  const plotW = width - labelW - 20;
  const rowH = 40;
  const rows = run.variants;
  const span = Math.max(
    ...rows.map((v) => v.steps.filter((st) => !st.oneOff).reduce((a, st) => a + st.median, 0)),
    1e-6,
  );
  const height = rows.length * rowH + 30;
  const svg = s('svg', {
    class: 'chart timelines',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'Per-step timeline per variant',
  });
  for (const t of niceTicks(span, 6)) {
    const gx = labelW + (plotW * t) / span;
    svg.appendChild(s('line', { x1: gx, x2: gx, y1: 0, y2: height - 22, class: 'grid' }));
    svg.appendChild(s('text', { x: gx, y: height - 8, class: 'tick', 'text-anchor': 'middle' }, fmtMs(t)));
  }
  rows.forEach((v, i) => {
    const y = i * rowH + 6;
    svg.appendChild(
      s(
        'g',
        { class: 'label-wrap' },
        s('text', { x: labelW - 10, y: y + 17, class: 'label', 'text-anchor': 'end' }, variantLabel(v.name)),
        tip(variantExplained(v.name)),
      ),
    );
    let t = 0;
    for (const st of v.steps.filter((x) => !x.oneOff)) {
      const x0 = labelW + (plotW * t) / span;
      const w = Math.max(0.8, (plotW * st.median) / span);
      const cat = stepGroup(st);
      const g = s('g', { class: 'step' }, tip(stepTooltip(st)));
      g.appendChild(
        s('rect', { x: x0, y, width: w, height: 24, class: `seg cat-${cat}${st.inLayer ? '' : ' outside'}` }),
      );
      if (w > 46) {
        g.appendChild(
          s(
            'text',
            { x: x0 + 4, y: y + 16, class: 'seg-label' },
            truncate(st.name.replace('irfft2d · ', ''), Math.floor(w / 6.2)),
          ),
        );
      }
      svg.appendChild(g);
      t += st.median;
    }
    const oneOff = v.steps.filter((x) => x.oneOff);
    if (oneOff.length) {
      const note = oneOff.map((o) => `${o.name} ${fmtMs(o.median)} once (cached)`).join(', ');
      svg.appendChild(s('text', { x: labelW, y: y + 35, class: 'tick note' }, `+ ${note}`));
    }
  });
  return svg;
}

function truncate(text: string, n: number): string {
  return text.length <= n ? text : `${text.slice(0, Math.max(1, n - 1))}…`;
}

function legend(): HTMLElement {
  const cats: ColourGroup[] = ['transform', 'transpose', 'product', 'conv', 'pad'];
  return h(
    'div',
    { class: 'legend' },
    ...cats.map((c) => h('span', { class: 'legend-item' }, h('span', { class: `swatch cat-${c}` }), CATEGORY_LABEL[c])),
    h(
      'span',
      { class: 'legend-item' },
      h('span', { class: 'swatch outside' }),
      'outside the layer (input transform, inverse for the check)',
    ),
  );
}

function stepTable(v: VariantResult): HTMLElement {
  const total = v.stepSumMs;
  const body = v.steps.map((st) =>
    h(
      'tr',
      { class: st.oneOff ? 'one-off' : st.inLayer ? '' : 'outside' },
      h('td', {}, h('span', { class: `swatch cat-${stepGroup(st)}` }), st.name),
      h('td', { class: 'num' }, fmtMs(st.median)),
      h('td', { class: 'num muted' }, `${fmtMs(st.p10)}–${fmtMs(st.p90)}`),
      h('td', { class: 'num' }, st.oneOff ? 'once' : `${((100 * st.median) / total).toFixed(0)}%`),
      h('td', { class: 'num' }, st.flops ? `${fmtNum(st.flops)}` : '—'),
      h('td', { class: 'num' }, gflops(st)),
      h('td', { class: 'num' }, formatBytes(st.bytes)),
      h('td', { class: 'impl' }, st.implementation),
    ),
  );
  const e2e = v.totalMs;
  const drift = total > 0 ? ((total - e2e.median) / e2e.median) * 100 : 0;
  return h(
    'section',
    { class: 'card variant' },
    h(
      'h3',
      { title: variantExplained(v.name) },
      variantLabel(v.name),
      h('span', { class: 'muted' }, ` — ${v.title} (variant ${v.name})`),
    ),
    h('p', { class: 'muted' }, v.description),
    h(
      'p',
      {},
      h('strong', {}, `End to end ${fmtMs(e2e.median)}`),
      ` (p10–p90 ${fmtMs(e2e.p10)}–${fmtMs(e2e.p90)}, ${e2e.reps} reps, no per-step syncs)`,
      v.layerMs ? ` · layer only ${fmtMs(v.layerMs.median)}` : '',
      ` · Σ step medians ${fmtMs(total)} (${drift >= 0 ? '+' : ''}${drift.toFixed(0)}% vs end to end)`,
      v.firstCallMs !== undefined
        ? h(
            'span',
            {
              title:
                'The first call, synced: the one-off work the warm-up absorbs before the timed runs — cuDNN autotuning (cudnn.benchmark), cuFFT plan creation, lazy CUDA or oneDNN initialisation. Your first training step pays it once.',
            },
            ` · first call ${fmtMs(v.firstCallMs)} (one-off: autotuning, plans, initialisation)`,
          )
        : '',
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
          ...['step', 'median', 'p10–p90', 'share', 'FLOP', 'GFLOP/s', 'bytes', 'implementation'].map((c) =>
            h('th', {}, c),
          ),
        ),
      ),
      h('tbody', {}, ...body),
    ),
  );
}

function correctness(run: Run): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Correctness'),
    h(
      'p',
      { class: 'muted' },
      'Every variant is compared with the spatial reference of the function it computes; a mismatch fails the run.',
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
          ...['variant', 'compared with', 'max |error|', 'tolerance', 'values checked', ''].map((c) => h('th', {}, c)),
        ),
      ),
      h(
        'tbody',
        {},
        ...run.variants.map((v) =>
          h(
            'tr',
            { class: v.correct ? '' : 'wrong' },
            h('td', { title: variantExplained(v.name) }, variantLabel(v.name)),
            h('td', {}, v.reference),
            h('td', { class: 'num' }, v.maxAbsError >= Number.MAX_VALUE ? 'NaN/∞' : v.maxAbsError.toExponential(2)),
            h('td', { class: 'num muted' }, v.tolerance.toExponential(1)),
            h('td', { class: 'num' }, fmtNum(v.checkedPoints)),
            h('td', { class: v.correct ? 'ok' : 'bad' }, v.correct ? '✓ match' : '✗ MISMATCH'),
          ),
        ),
      ),
    ),
  );
}

function method(run: Run): HTMLElement {
  return h(
    'section',
    { class: 'card method' },
    h('h2', {}, 'How this was measured'),
    h(
      'ul',
      {},
      h('li', {}, `Timing: ${run.timingNote}.`),
      h(
        'li',
        {},
        `Each variant: ${run.settings.warmup} warm-up runs, then ≥ ${run.settings.reps} timed repetitions (more for fast pipelines); medians with p10–p90.`,
      ),
      h(
        'li',
        {},
        'Per-step times come from runs with a sync after every step; the end-to-end time from separate runs without per-step syncs.',
      ),
      h('li', {}, `Input and weights: seeded random (seed ${run.settings.seed}); every variant sees the same data.`),
      ...run.engineNotes.map((n) => h('li', { class: 'muted' }, `engine: ${n}`)),
      h(
        'li',
        { class: 'muted' },
        `Total wall time ${fmtMs(run.wallMs)} · schema v${run.schemaVersion} · ${run.tool.name} ${run.tool.version} · trace.json opens in Perfetto (ui.perfetto.dev) · the terms (as written, spatial-equivalent, K = 1, R2C/C2R, ridge point, DFT-as-GEMM) are explained on hover and in docs/glossary.md.`,
      ),
    ),
  );
}

/** cuDNN's algorithm table (cudnnFindConvolutionForwardAlgorithm) for each variant that has one. */
function algorithmTables(run: Run): HTMLElement | null {
  const withTables = run.variants.filter((v) => v.algorithms?.length);
  if (!withTables.length) return null;
  return h(
    'section',
    { class: 'card algorithms', id: 'cudnn-algorithms' },
    h('h2', {}, "cuDNN's own algorithms for the same convolution"),
    h(
      'p',
      { class: 'muted' },
      "cudnnFindConvolutionForwardAlgorithm runs every forward algorithm on this shape. FFT and FFT_TILING are cuDNN's own FFT convolutions — the most direct answer to whether FFT pays here; 'not supported' is cuDNN saying the shape is outside that algorithm's limits.",
    ),
    ...withTables.map((v) => {
      const chosen = v.steps.find((s) => s.id === 'conv2d')?.implementation ?? '';
      return h(
        'div',
        { class: 'algo-table' },
        h(
          'h3',
          { title: variantExplained(v.name) },
          variantLabel(v.name),
          h('span', { class: 'muted' }, ` — ${v.title} (variant ${v.name})`),
        ),
        h(
          'table',
          { class: 'steps compact' },
          h(
            'thead',
            {},
            h('tr', {}, ...['algorithm', 'status', 'time', 'workspace', 'math'].map((c) => h('th', {}, c))),
          ),
          h(
            'tbody',
            {},
            ...v.algorithms!.map((a) =>
              h(
                'tr',
                {
                  class: `${a.status === 'ok' ? '' : 'unsupported'}${chosen.startsWith(`cuDNN ${a.algo} `) ? ' chosen' : ''}${/^FFT/.test(a.algo) ? ' fft' : ''}`,
                },
                h(
                  'td',
                  {},
                  a.algo,
                  /^FFT/.test(a.algo) ? h('span', { class: 'muted' }, ' (FFT)') : null,
                  chosen.startsWith(`cuDNN ${a.algo} `) ? h('span', { class: 'muted' }, ' ← used') : null,
                ),
                h(
                  'td',
                  {},
                  a.status === 'ok'
                    ? 'ok'
                    : a.status
                        .replace(/^CUDNN_STATUS_/, '')
                        .toLowerCase()
                        .replace(/_/g, ' '),
                ),
                h('td', { class: 'num' }, a.status === 'ok' && a.ms >= 0 ? fmtMs(a.ms) : '—'),
                h('td', { class: 'num' }, formatBytes(a.workspace)),
                h('td', { class: 'muted' }, a.math),
              ),
            ),
          ),
        ),
      );
    }),
  );
}

export function renderReport(run: Run, root: HTMLElement): void {
  root.replaceChildren(
    header(run),
    verdictCard(run),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'End to end, per variant'),
      h(
        'p',
        { class: 'muted' },
        run.spec.layer === 'fno'
          ? "Spatial input to spatial output: an FNO layer's forward, transforms included (it takes and returns spatial data). Whiskers: p10–p90."
          : 'Spatial input to spatial output, as Conv2D is timed. The thin bar is the spectral layer alone (its input already in the Fourier domain), what the question timed.',
      ),
      h('div', { class: 'chart-wrap' }, totalsChart(run)),
    ),
    ...[gainsSection(run)].filter((x): x is HTMLElement => !!x),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Where the time goes'),
      h(
        'p',
        { class: 'muted' },
        'Step medians laid end to end on one axis; hover a step for its implementation, timing source, spread, FLOPs and bytes.',
      ),
      legend(),
      h('div', { class: 'chart-wrap' }, timelines(run)),
    ),
    ...[algorithmTables(run)].filter((x): x is HTMLElement => x !== null),
    ...(run.hints?.length ? [hintsSection(run.hints, engineLabel(run))] : []),
    ...(run.sweep ? [sweepSection(run.sweep)] : []),
    ...(run.fnoSweep ? [fnoSweepSection(run.fnoSweep)] : []),
    ...(run.analysis ? [analysisSection(run.analysis)] : []),
    ...run.variants.map(stepTable),
    correctness(run),
    method(run),
  );
}

/**
 * Where the time between two variants goes: a waterfall from one variant's per-call step total to the
 * other's, one bar per step category (saved: green, added: red), with the inside-the-layer gain.
 */
export function gainChart(g: Gain, width = 760): SVGElement {
  const parts = [...g.parts]
    .filter((p) => Math.abs(p.deltaMs) > 0)
    .sort((a, b) => Math.abs(b.deltaMs) - Math.abs(a.deltaMs));
  const rows: Array<{ label: string; kind: 'total' | 'saved' | 'added'; a: number; b: number; text: string }> = [
    { label: g.from, kind: 'total', a: 0, b: g.fromMs, text: fmtMs(g.fromMs) },
  ];
  let level = g.fromMs;
  for (const p of parts) {
    const next = level - p.deltaMs;
    rows.push({
      label: partLabel(p),
      kind: p.deltaMs >= 0 ? 'saved' : 'added',
      a: Math.min(level, next),
      b: Math.max(level, next),
      text: `${p.deltaMs >= 0 ? '−' : '+'}${fmtMs(Math.abs(p.deltaMs))} (${fmtMs(p.fromMs)} → ${fmtMs(p.toMs)})`,
    });
    level = next;
  }
  rows.push({ label: g.to, kind: 'total', a: 0, b: g.toMs, text: fmtMs(g.toMs) });
  const rowH = 24,
    labelW = 190,
    textW = 190,
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
        `${variantLabel(g.from)} → ${variantLabel(g.to)}: ${g.deltaMs >= 0 ? 'saves' : 'adds'} ${fmtMs(Math.abs(g.deltaMs))} per call${g.from !== 'spatial-equivalent' ? ` — inside the layer ${fmtMs(g.layerFromMs)} → ${fmtMs(g.layerToMs)}${g.layerToMs > 0 ? ` (${(g.layerFromMs / g.layerToMs).toFixed(1)}x)` : ''}` : ''}`,
      ),
      h('div', { class: 'chart-wrap' }, gainChart(g)),
    ]),
  );
}
