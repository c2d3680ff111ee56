/**
 * The roofline (log-log, steps against the device's roof), each step's achieved share of its bound, and model vs
 * measured. Clean SVG from validated data; text is always set as text.
 */

import { variantExplained, variantLabel } from '../src/core/glossary';
import { fmtMs } from '../src/core/format';
import type { Analysis, StepAnalysis } from '../src/core/insight-schema';
import { formatBytes } from '../src/core/memory';
import { KIND_LABEL } from '../src/core/model';
import { h, s, tip } from './dom';
import { fmtNum, logTicks } from './axes';
import { stepGroup } from './colours';

export function rooflineChart(a: Analysis, width = 760): SVGElement {
  const pts = a.steps.filter((x) => x.flops > 0 && x.medianMs > 0 && x.achievedGflops > 0);
  const peak = a.device.fp32Gflops;
  const bw = a.device.bandwidthGBs;
  const left = 64,
    right = 20,
    top = 14,
    bottom = 40;
  const height = 330;
  const xs = pts.map((p) => p.intensity).concat([a.ridge]);
  const xlo = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...xs) / 2)));
  const xhi = 10 ** Math.ceil(Math.log10(Math.max(...xs) * 2));
  const ys = pts.map((p) => p.achievedGflops).concat([peak]);
  const ylo = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...ys, bw * xlo) / 2)));
  const yhi = 10 ** Math.ceil(Math.log10(Math.max(...ys) * 1.5));
  const X = (v: number) =>
    left + ((Math.log10(v) - Math.log10(xlo)) / (Math.log10(xhi) - Math.log10(xlo))) * (width - left - right);
  const Y = (v: number) =>
    top + (1 - (Math.log10(v) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo))) * (height - top - bottom);
  const svg = s('svg', {
    class: 'chart roofline',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'Roofline: achieved GFLOP/s against arithmetic intensity',
  });
  for (const t of logTicks(xlo, xhi)) {
    svg.appendChild(s('line', { x1: X(t), x2: X(t), y1: top, y2: height - bottom, class: 'grid' }));
    svg.appendChild(s('text', { x: X(t), y: height - bottom + 16, class: 'tick', 'text-anchor': 'middle' }, fmtNum(t)));
  }
  for (const t of logTicks(ylo, yhi)) {
    svg.appendChild(s('line', { x1: left, x2: width - right, y1: Y(t), y2: Y(t), class: 'grid' }));
    svg.appendChild(s('text', { x: left - 6, y: Y(t) + 4, class: 'tick', 'text-anchor': 'end' }, fmtNum(t)));
  }
  svg.appendChild(
    s(
      'text',
      { x: (left + width - right) / 2, y: height - 6, class: 'tick', 'text-anchor': 'middle' },
      'arithmetic intensity (FLOP / byte moved)',
    ),
  );
  svg.appendChild(
    s(
      'text',
      {
        x: 14,
        y: (top + height - bottom) / 2,
        class: 'tick',
        'text-anchor': 'middle',
        transform: `rotate(-90 14 ${(top + height - bottom) / 2})`,
      },
      'GFLOP/s achieved',
    ),
  );
  // roof: bandwidth slope up to the ridge, then the peak
  const x0 = xlo,
    xr = Math.min(a.ridge, xhi);
  const path = `M ${X(x0)} ${Y(Math.max(bw * x0, ylo))} L ${X(xr)} ${Y(Math.min(peak, bw * xr))} L ${X(xhi)} ${Y(peak)}`;
  svg.appendChild(
    s(
      'path',
      { d: path, class: 'roof' },
      tip(
        `roof: min(${fmtNum(peak)} GFLOP/s, ${fmtNum(bw)} GB/s × intensity); ridge at ${a.ridge.toFixed(1)} FLOP/byte\n${a.device.name} — ${a.device.citation}`,
      ),
    ),
  );
  svg.appendChild(
    s(
      'text',
      { x: X(xhi) - 4, y: Y(peak) - 6, class: 'tick', 'text-anchor': 'end' },
      `${a.device.kind === 'cpu' ? 'GEMM' : 'FP32'} peak ${fmtNum(peak)} GFLOP/s`,
    ),
  );
  if (a.device.tf32Gflops && a.device.tf32Gflops > peak) {
    const yt = Y(Math.min(a.device.tf32Gflops, yhi));
    svg.appendChild(s('line', { x1: X(a.device.tf32Gflops / bw), x2: X(xhi), y1: yt, y2: yt, class: 'roof tf32' }));
    svg.appendChild(
      s(
        'text',
        { x: X(xhi) - 4, y: yt - 6, class: 'tick', 'text-anchor': 'end' },
        `TF32 tensor cores ${fmtNum(a.device.tf32Gflops)}`,
      ),
    );
  }
  svg.appendChild(
    s('text', { x: X(xlo) + 6, y: Y(Math.max(bw * xlo * 3, ylo)) - 8, class: 'tick' }, `${fmtNum(bw)} GB/s`),
  );
  for (const p of pts) {
    const cat = stepGroup({ id: p.stepId, name: p.name, category: p.category });
    const g = s('g', { class: 'pt' }, tip(dotTip(p, Math.min(peak, bw * p.intensity))));
    g.appendChild(
      s('circle', {
        cx: X(Math.max(p.intensity, xlo)),
        cy: Y(Math.max(p.achievedGflops, ylo)),
        r: p.variant === 'seed' ? 4.5 : 5.5,
        class: `dot cat-${cat} v-${p.variant}`,
      }),
    );
    svg.appendChild(g);
  }
  return svg;
}

/** Each timed step's achieved share of its roofline bound, longest steps first. */
/** "variant · name", with the step id added where a variant has two steps of that name. */
function stepLabel(a: Analysis, r: StepAnalysis): string {
  const twin = a.steps.some((x) => x !== r && x.variant === r.variant && x.name === r.name);
  return `${variantLabel(r.variant)} · ${r.name}${twin ? ` (${r.stepId})` : ''}`;
}

/**
 * A dot's hover card. Its share is of the bound for its kind of step (on a CPU, the probe's measured rate for an
 * FFT or a GEMM of that size), which can sit below the roof drawn (the GEMM peak): then the card says so, since a
 * dot under the roof at "162 %" reads as a contradiction otherwise. A step too short to time gets no share.
 */
function dotTip(p: StepAnalysis, roof: number): string {
  const head = `${variantLabel(p.variant)} · ${p.name}\n${p.intensity.toFixed(2)} FLOP/byte, ${p.achievedGflops.toFixed(2)} GFLOP/s achieved`;
  const share =
    p.medianMs < TIMER_RESOLUTION_MS
      ? `shorter than the ${fmtMs(TIMER_RESOLUTION_MS)} the timer resolves: no share of its bound`
      : p.attainableGflops < roof * 0.99
        ? `${p.pctOfBound.toFixed(0)} % of ${p.attainableGflops.toFixed(1)} GFLOP/s, the rate measured for ${KIND_LABEL[p.kind]} at this size — its own bound, below the roof drawn here (${roof.toFixed(1)} GFLOP/s at this intensity)`
        : `${p.pctOfBound.toFixed(0)} % of the ${p.attainableGflops.toFixed(1)} GFLOP/s attainable at this intensity`;
  return `${head}\n${share}\nmedian ${fmtMs(p.medianMs)}, model ${fmtMs(p.modelMs)} (${p.bound}-bound)\n${KIND_LABEL[p.kind]}`;
}

/** Below this a step's time is the timer's resolution, not a rate (10 µs: wall clock between syncs, per call). */
const TIMER_RESOLUTION_MS = 0.01;

export function boundBars(a: Analysis, width = 760, limit = 14): SVGElement {
  const rows = a.steps
    .filter((x) => !x.oneOff && x.medianMs > 0)
    .sort((p, q) => q.medianMs - p.medianMs)
    .slice(0, limit);
  const labelW = 250,
    valueW = 200,
    rowH = 22,
    top = 6;
  const plotW = width - labelW - valueW;
  const height = top + rows.length * rowH + 24;
  const svg = s('svg', {
    class: 'chart bounds',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'Achieved share of the roofline bound per step',
  });
  // The axis reaches past 100 % when a step does (up to 300 %): on a CPU a step can beat the rates the probe
  // measured (its working set stays in cache, or the library's kernel for that shape is better than the probe's
  // GEMM/copy) — drawn as measured, with the 100 % line marked, never clipped.
  // A step shorter than the timer resolves has no meaningful share (a 3 µs transpose read as 10000 %).
  const resolved = (r: StepAnalysis) => r.medianMs >= TIMER_RESOLUTION_MS;
  const maxPct = Math.min(300, Math.max(100, ...rows.filter(resolved).map((r) => r.pctOfBound)));
  const tick = maxPct > 150 ? 50 : 25;
  const axisMax = Math.ceil(maxPct / tick) * tick;
  for (let t = 0; t <= axisMax; t += tick) {
    const x = labelW + (plotW * t) / axisMax;
    svg.appendChild(
      s('line', { x1: x, x2: x, y1: top, y2: height - 20, class: t === 100 ? 'grid bound-line' : 'grid' }),
    );
    svg.appendChild(s('text', { x, y: height - 6, class: 'tick', 'text-anchor': 'middle' }, `${t} %`));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const pctv = resolved(r) ? Math.min(r.pctOfBound, axisMax) : 0;
    const unit =
      r.flops > 0
        ? `${r.achievedGflops.toFixed(1)} of ${r.attainableGflops.toFixed(1)} GFLOP/s`
        : `${r.achievedGBs.toFixed(1)} GB/s moved`;
    const g = s(
      'g',
      { class: 'row' },
      tip(
        `${variantLabel(r.variant)} · ${r.name}: ${fmtMs(r.medianMs)} measured, ${fmtMs(r.modelMs)} model\n${resolved(r) ? `${unit} (${r.pctOfBound.toFixed(0)} % of its bound${r.pctOfBound > 100 ? ", above the rate the probe measured for this kind of step: its working set stays in cache, or the library's kernel beats the probe's" : ''}, ${r.bound}-bound by the model)` : `shorter than the ${fmtMs(TIMER_RESOLUTION_MS)} the timer resolves: no share of its bound`}\n${formatBytes(r.bytes)} moved, ${KIND_LABEL[r.kind]}`,
      ),
    );
    g.appendChild(s('text', { x: labelW - 8, y: y + 14, class: 'label small', 'text-anchor': 'end' }, stepLabel(a, r)));
    g.appendChild(s('rect', { x: labelW, y: y + 4, width: plotW, height: 12, class: 'track' }));
    g.appendChild(
      s('rect', {
        x: labelW,
        y: y + 4,
        width: Math.max(1, (plotW * pctv) / axisMax),
        height: 12,
        class: `bar cat-${stepGroup({ id: r.stepId, name: r.name, category: r.category })}`,
      }),
    );
    g.appendChild(
      s(
        'text',
        { x: labelW + plotW + 8, y: y + 14, class: 'value small' },
        resolved(r)
          ? `${r.pctOfBound.toFixed(0)} %${r.pctOfBound > 100 ? ' ↑ probe' : ''} · ${fmtMs(r.medianMs)}`
          : `— · ${fmtMs(r.medianMs)} (below the timer)`,
      ),
    );
    svg.appendChild(g);
  });
  return svg;
}

export function analysisSection(a: Analysis, fno = false): HTMLElement {
  const modelRows = a.variants.map((v) =>
    h(
      'tr',
      {},
      h('td', { title: variantExplained(v.variant) }, variantLabel(v.variant)),
      h('td', { class: 'num' }, fmtMs(v.measuredMs)),
      h('td', { class: 'num' }, fmtMs(v.modelMs)),
      h('td', { class: 'num' }, v.modelMs > 0 ? `${(v.measuredMs / v.modelMs).toFixed(2)}x` : '—'),
    ),
  );
  const be = a.breakEven;
  const d = a.device;
  return h(
    'section',
    { class: 'card analysis', id: 'analysis' },
    h('h2', {}, 'Against the hardware: roofline and cost model'),
    h(
      'p',
      { class: 'muted' },
      `Device: ${d.name} — ${d.kind === 'cpu' ? `rates from the probe (${d.citation}): GEMM ${d.fp32Gflops.toFixed(1)} GFLOP/s, ${d.bandwidthGBs.toFixed(1)} GB/s, ${d.overheadUs.toFixed(1)} µs per op` : `${d.fp32Gflops / 1000} TFLOP/s FP32${d.tf32Gflops ? `, ${d.tf32Gflops / 1000} TFLOP/s TF32` : ''}, ${d.bandwidthGBs} GB/s (${d.citation})`}. Ridge point ${a.ridge.toFixed(1)} FLOP/byte: steps left of it are bound by memory, not arithmetic.`,
    ),
    h('div', { class: 'chart-wrap' }, rooflineChart(a)),
    h(
      'p',
      { class: 'muted small' },
      'Dots: steps with arithmetic, coloured as in the timeline (faded: the layer as written); hover one for its numbers. Data movement (pads, transposes) has no FLOPs and appears only in the bars below.',
    ),
    h('h3', {}, 'Share of the bound each step reaches'),
    h(
      'p',
      { class: 'muted' },
      `Achieved FLOP/s over the roofline bound for the step's kind and intensity (GB/s over the measured bandwidth for pure data movement); longest steps first.${a.device.kind === 'cpu' ? " On a CPU the bound is the probe's measured rate for that kind of kernel at that size, so a step can exceed it — its working set stays in cache, or the library's kernel for that shape beats the probe's; such bars run past the dashed 100 % line, as measured, marked ↑ probe. A step shorter than 10 µs gets no share: the timer does not resolve it." : ''}`,
    ),
    h('div', { class: 'chart-wrap' }, boundBars(a)),
    h('h3', {}, 'Model vs measured, end to end'),
    h(
      'table',
      { class: 'steps compact' },
      h('thead', {}, h('tr', {}, ...['variant', 'measured', 'model', 'measured / model'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...modelRows),
    ),
    // An FNO layer has no spatial kernel to weigh the FFT against: the break-even does not apply.
    ...(fno
      ? []
      : [
          h(
            'p',
            { class: 'muted' },
            `Break-even (Mathieu et al., arXiv 1312.5851): k²(n′/n)² = ${be.lhs.toFixed(1)} against ${be.thresholdHalf.toFixed(1)} with half spectra (${be.threshold.toFixed(1)} with full ones): by arithmetic alone the FFT ${be.fftPays ? 'does less work' : 'does more work'} here.`,
          ),
        ]),
  );
}

/** Time vs kernel size, log time axis: measured points and lines, the model dashed, the crossover marked. */
