/**
 * The report: verdict, end-to-end chart, per-variant timelines, step tables, correctness, method.
 * Pure rendering from a validated Run; used by the CLI's standalone HTML and the extension's panel.
 */
import {
  compiledRunLine,
  engineLabel,
  fmtFaults,
  fmtMs,
  peakMemoryText,
  recreatedNote,
  verdict,
  wideSpread,
} from '../src/core/format';
import { COMPILED_TIMING } from '../src/core/compiled';
import { formatBytes } from '../src/core/memory';
import { fmtCount } from '../src/core/units';
import { type Run, type StepResult, TIMING_LABELS, type VariantResult } from '../src/core/run';
import { describeSpec } from '../src/core/spec';
import { variantExplained, variantLabel } from '../src/core/glossary';
import { h, s, tip } from './dom';
import { type ColourGroup, stepGroup } from './colours';
import { hintsSection } from './hints';
import { analysisSection } from './roofline';
import { fnoSweepSection, sweepSection } from './sweeps';
import { niceTicks, timelineSvg } from './axes';
import { gainsSection } from './gains';
import { trainingSection } from './training';
import { algorithmTables, correctness, method } from './method';

const CATEGORY_LABEL: Record<ColourGroup, string> = {
  transform: 'FFT / DFT',
  transpose: 'transpose',
  product: 'product / einsum',
  conv: 'convolution',
  pad: 'pad / crop',
  other: 'other',
};

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
      ? `${fmtCount(step.flops)} FLOP, ${formatBytes(step.bytes)} moved, ${gflops(step)} GFLOP/s achieved`
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

interface TotalsRow {
  label: string;
  explained: string;
  kind: string;
  correct: boolean;
  totalMs: { median: number; p10: number; p90: number };
  /** The thin bar beneath: the layer alone (a spectral variant), or eager in the compiled row's own rounds. */
  sub?: { ms: number; text: string; tip: string };
  barTip: string;
}

/**
 * The chart's rows: each variant's end to end, and after a variant as written its torch.compile row (`--compile`),
 * which was timed in rounds of its own against the same function run eagerly (said in its hover).
 */
function totalsRows(run: Run): TotalsRow[] {
  return run.variants.flatMap((v): TotalsRow[] => {
    const row: TotalsRow = {
      label: variantLabel(v.name),
      explained: variantExplained(v.name),
      kind: v.kind,
      correct: v.correct,
      totalMs: v.totalMs,
      ...(v.layerMs
        ? {
            sub: {
              ms: v.layerMs.median,
              text: `layer ${fmtMs(v.layerMs.median)}`,
              tip: `${variantLabel(v.name)}: layer only ${fmtMs(v.layerMs.median)} (input already in the Fourier domain, as the question timed it)`,
            },
          }
        : {}),
      barTip: `${variantLabel(v.name)}: end to end ${fmtMs(v.totalMs.median)} (p10–p90 ${fmtMs(v.totalMs.p10)}–${fmtMs(v.totalMs.p90)}, ${v.totalMs.reps} reps, ${TIMING_LABELS[v.totalMs.timing]}, no per-step syncs)`,
    };
    const c = v.compiled;
    if (!c?.forward || !c.eagerForward) return [row];
    return [
      row,
      {
        label: `${variantLabel(v.name)}, compiled`,
        explained: `torch.compile of the layer as written (its ops as one function), after ${fmtMs((c.compileMs ?? 0) + (c.compileTrainMs ?? 0))} of compiling`,
        kind: `${v.kind} compiled`,
        correct: true,
        totalMs: c.forward,
        // Compare within the row: its rounds ran apart from the profile's pass, the machine may have been busier.
        sub: {
          ms: c.eagerForward.median,
          text: `eager ${fmtMs(c.eagerForward.median)}`,
          tip: `the same function run eagerly, alternated call by call with the compiled one in the same rounds: ${fmtMs(c.eagerForward.median)} (p10–p90 ${fmtMs(c.eagerForward.p10)}–${fmtMs(c.eagerForward.p90)}) — compare the compiled bar with this one`,
        },
        barTip: `torch.compile of the layer as written: ${fmtMs(c.forward.median)} (p10–p90 ${fmtMs(c.forward.p10)}–${fmtMs(c.forward.p90)}) against ${fmtMs(c.eagerForward.median)} eager in the same rounds — ${COMPILED_TIMING}`,
      },
    ];
  });
}

/** Horizontal bars: end-to-end median per variant with its p10–p90 spread, layer-only beneath. */
export function totalsChart(run: Run, width = 760): SVGElement {
  const rows = totalsRows(run);
  const labelW = 170;
  const valueW = 90;
  const plotW = width - labelW - valueW;
  const rowH = 34;
  const top = 8;
  const height = top + rows.length * rowH + 28;
  const max = Math.max(...rows.flatMap((v) => [v.totalMs.p90, v.sub?.ms ?? 0]), 1e-6);
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
        s('text', { x: labelW - 10, y: y + 15, class: 'label', 'text-anchor': 'end' }, v.label),
        tip(v.explained),
      ),
    );
    const bw = Math.max(1, x(v.totalMs.median) - labelW);
    g.appendChild(
      s('rect', { x: labelW, y: y + 4, width: bw, height: 14, rx: 2, class: `bar total ${v.kind}` }, tip(v.barTip)),
    );
    g.appendChild(s('line', { x1: x(v.totalMs.p10), x2: x(v.totalMs.p90), y1: y + 11, y2: y + 11, class: 'whisker' }));
    if (v.sub) {
      const lw = Math.max(1, x(v.sub.ms) - labelW);
      g.appendChild(
        s('rect', { x: labelW, y: y + 20, width: lw, height: 6, rx: 1, class: 'bar layer' }, tip(v.sub.tip)),
      );
    }
    const wide = wideSpread(v.totalMs);
    g.appendChild(
      s(
        'text',
        { x: width - valueW + 6, y: y + 15, class: `value${wide ? ' warn' : ''}` },
        `${fmtMs(v.totalMs.median)}${wide ? ' ⚠' : ''}`,
        ...(wide ? [tip(`Wide spread: ${wide}`)] : []),
      ),
    );
    if (v.sub) g.appendChild(s('text', { x: width - valueW + 6, y: y + 28, class: 'value small' }, v.sub.text));
    svg.appendChild(g);
  });
  if (log) svg.appendChild(s('text', { x: width - valueW + 6, y: height - 8, class: 'tick note' }, 'log scale'));
  return svg;
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
  const svg = timelineSvg({
    width,
    height,
    labelW,
    plotW,
    span,
    cls: 'chart timelines',
    label: 'Per-step timeline per variant',
  });
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

function stepTable(v: VariantResult, run: Pick<Run, 'engine' | 'backend' | 'framework'>): HTMLElement {
  const total = v.stepSumMs;
  const body = v.steps.map((st) =>
    h(
      'tr',
      { class: st.oneOff ? 'one-off' : st.inLayer ? '' : 'outside' },
      h('td', {}, h('span', { class: `swatch cat-${stepGroup(st)}` }), st.name),
      h('td', { class: 'num' }, fmtMs(st.median)),
      h('td', { class: 'num muted' }, `${fmtMs(st.p10)}–${fmtMs(st.p90)}`),
      h('td', { class: 'num' }, st.oneOff ? 'once' : `${((100 * st.median) / total).toFixed(0)}%`),
      h('td', { class: 'num' }, st.flops ? `${fmtCount(st.flops)}` : '—'),
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
    recreatedNote(run, v.name) ? h('p', { class: 'muted recreated' }, `This is ${recreatedNote(run, v.name)}.`) : null,
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
      v.minorFaultsPerCall !== undefined
        ? h(
            'span',
            {
              title:
                'Minor page faults per end-to-end call in the timed runs (getrusage of the engine process): memory the OS had to map in again because the allocator had handed it back. Near 0 here, where freed memory is kept; a default process can pay thousands per call — see docs/allocator.md.',
            },
            ` · ${fmtFaults(v.minorFaultsPerCall)} page faults per call`,
          )
        : '',
      v.peakMemoryBytes !== undefined
        ? h(
            'span',
            {
              title:
                'Device memory the timed runs allocated at their peak, above what was allocated when they began (torch.cuda.max_memory_allocated after a synced reset, less memory_allocated then); the warm-up and one-off steps (plans, cuDNN autotuning workspaces) apart.',
            },
            ` · ${peakMemoryText(v)}`,
          )
        : '',
    ),
    compiledRunLine(v)
      ? h(
          'p',
          { class: 'compiled' },
          compiledRunLine(v)!,
          v.compiled?.forward ? h('span', { class: 'muted' }, ` (${COMPILED_TIMING}).`) : '.',
        )
      : null,
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
    ...[trainingSection(run), gainsSection(run)].filter((x): x is HTMLElement => !!x),
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
    ...run.variants.map((v) => stepTable(v, run)),
    correctness(run),
    method(run),
  );
}
