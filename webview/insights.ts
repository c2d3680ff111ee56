/**
 * The "why" of a report: hints ranked, the roofline (log-log, steps against the device's roof), each
 * step's achieved share of its bound, model vs measured, and the kernel-size sweep with its crossover.
 * Clean SVG from validated data; text is always set as text.
 */
import { variantLabel } from '../src/core/glossary';
import { measuredCrossoverText } from '../src/core/sweep';
import { fnoAgreement, fnoCrossoverText } from '../src/core/fno-model';
import { fmtMs } from '../src/core/format';
import type { Analysis, FnoSweep, Hint, StepAnalysis, Sweep } from '../src/core/insight-schema';
import { formatBytes } from '../src/core/memory';
import { KIND_LABEL } from '../src/core/model';
import { h, s, tip } from './dom';
import { stepGroup } from './report';

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

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
}

function fmtNum(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k`;
  if (v >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(1)}`;
}

/** Log-log roofline: the device's roof and each step with FLOPs at (intensity, achieved GFLOP/s). */
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
    const g = s(
      'g',
      { class: 'pt' },
      tip(
        `${variantLabel(p.variant)} · ${p.name}\n${p.intensity.toFixed(2)} FLOP/byte, ${p.achievedGflops.toFixed(2)} GFLOP/s achieved of ${p.attainableGflops.toFixed(1)} attainable (${p.pctOfBound.toFixed(0)} %)\nmedian ${fmtMs(p.medianMs)}, model ${fmtMs(p.modelMs)} (${p.bound}-bound)\n${KIND_LABEL[p.kind]}`,
      ),
    );
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
  const maxPct = Math.min(300, Math.max(100, ...rows.map((r) => r.pctOfBound)));
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
    const pctv = Math.min(r.pctOfBound, axisMax);
    const unit =
      r.flops > 0
        ? `${r.achievedGflops.toFixed(1)} of ${r.attainableGflops.toFixed(1)} GFLOP/s`
        : `${r.achievedGBs.toFixed(1)} GB/s moved`;
    const g = s(
      'g',
      { class: 'row' },
      tip(
        `${variantLabel(r.variant)} · ${r.name}: ${fmtMs(r.medianMs)} measured, ${fmtMs(r.modelMs)} model\n${unit} (${r.pctOfBound.toFixed(0)} % of its bound, ${r.bound}-bound by the model)\n${formatBytes(r.bytes)} moved, ${KIND_LABEL[r.kind]}`,
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
        `${r.pctOfBound.toFixed(0)} %${r.pctOfBound > 100 ? ' (above the probe’s rate)' : ''} · ${fmtMs(r.medianMs)}`,
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
      h('td', {}, v.variant),
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
      'Dots: steps with arithmetic, coloured as in the timeline (faded: the seed); hover one for its numbers. Data movement (pads, transposes) has no FLOPs and appears only in the bars below.',
    ),
    h('h3', {}, 'Share of the bound each step reaches'),
    h(
      'p',
      { class: 'muted' },
      `Achieved FLOP/s over the roofline bound for the step's kind and intensity (GB/s over the measured bandwidth for pure data movement); longest steps first.${a.device.kind === 'cpu' ? " On a CPU the bound is the probe's measured rate for that kind of kernel at that size, so a step can exceed it — its working set stays in cache, or the library's kernel for that shape beats the probe's; such bars run past the dashed 100 % line, as measured." : ''}`,
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
export function sweepChart(sw: Sweep, config = sw.channels[0]!, width = 760): SVGElement {
  const cells = sw.cells
    .filter((c) => c.inChannels === config.inChannels && c.outChannels === config.outChannels)
    .sort((a, b) => a.kernel - b.kernel);
  const left = 64,
    right = 160,
    top = 14,
    bottom = 40,
    height = 300;
  const ks = cells.map((c) => c.kernel);
  const kmin = Math.min(...ks),
    kmax = Math.max(...ks);
  const vals = cells
    .flatMap((c) => [c.spatialMs, c.spectralMs, c.predictedSpatialMs, c.predictedSpectralMs])
    .filter((v): v is number => v !== null && v > 0);
  const ylo = 10 ** Math.floor(Math.log10(Math.min(...vals) / 1.2));
  const yhi = 10 ** Math.ceil(Math.log10(Math.max(...vals) * 1.2));
  const X = (k: number) => left + (kmax === kmin ? 0.5 : (k - kmin) / (kmax - kmin)) * (width - left - right);
  const Y = (v: number) =>
    top + (1 - (Math.log10(v) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo))) * (height - top - bottom);
  const svg = s('svg', {
    class: 'chart sweep',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'Time against kernel size, spatial and spectral',
  });
  for (const t of logTicks(ylo, yhi)) {
    svg.appendChild(s('line', { x1: left, x2: width - right, y1: Y(t), y2: Y(t), class: 'grid' }));
    svg.appendChild(s('text', { x: left - 6, y: Y(t) + 4, class: 'tick', 'text-anchor': 'end' }, fmtMs(t)));
  }
  for (const k of ks) {
    svg.appendChild(s('line', { x1: X(k), x2: X(k), y1: top, y2: height - bottom, class: 'grid' }));
    svg.appendChild(s('text', { x: X(k), y: height - bottom + 16, class: 'tick', 'text-anchor': 'middle' }, String(k)));
  }
  svg.appendChild(
    s(
      'text',
      { x: (left + width - right) / 2, y: height - 6, class: 'tick', 'text-anchor': 'middle' },
      `kernel size k (k×k), ${config.inChannels}→${config.outChannels} channels`,
    ),
  );
  const cross = sw.crossovers.find((c) => c.inChannels === config.inChannels && c.outChannels === config.outChannels);
  if (cross?.measured) {
    const x = X(cross.measured);
    svg.appendChild(
      s(
        'line',
        { x1: x, x2: x, y1: top, y2: height - bottom, class: 'crossover' },
        tip(`measured crossover: the spectral layer is faster from k = ${cross.measured}`),
      ),
    );
    svg.appendChild(
      s('text', { x: x + 4, y: top + 10, class: 'tick crossover-label' }, `FFT pays from k = ${cross.measured}`),
    );
  }
  if (cross?.predicted && cross.predicted !== cross.measured) {
    const x = X(cross.predicted);
    svg.appendChild(
      s(
        'line',
        { x1: x, x2: x, y1: top, y2: height - bottom, class: 'crossover model' },
        tip(`model crossover: k = ${cross.predicted}`),
      ),
    );
  }
  const series = [
    { key: 'spatial', label: 'spatial (measured)', get: (c: Sweep['cells'][number]) => c.spatialMs, cls: 'spatial' },
    {
      key: 'spectral',
      label: 'spectral (measured)',
      get: (c: Sweep['cells'][number]) => c.spectralMs,
      cls: 'spectral',
    },
    {
      key: 'm-spatial',
      label: 'spatial (model)',
      get: (c: Sweep['cells'][number]) => c.predictedSpatialMs,
      cls: 'spatial model',
    },
    {
      key: 'm-spectral',
      label: 'spectral (model)',
      get: (c: Sweep['cells'][number]) => c.predictedSpectralMs,
      cls: 'spectral model',
    },
  ];
  series.forEach((ser, si) => {
    const pts = cells
      .map((c) => [c.kernel, ser.get(c)] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null && p[1] > 0);
    if (pts.length > 1)
      svg.appendChild(
        s('path', {
          d: pts.map(([k, v], i) => `${i ? 'L' : 'M'} ${X(k)} ${Y(v)}`).join(' '),
          class: `series ${ser.cls}`,
        }),
      );
    if (!ser.cls.includes('model')) {
      for (const [k, v] of pts)
        svg.appendChild(
          s('circle', { cx: X(k), cy: Y(v), r: 4, class: `dot ${ser.cls}` }, tip(`k = ${k}: ${ser.label} ${fmtMs(v)}`)),
        );
    }
    const ly = top + 8 + si * 18;
    svg.appendChild(
      s('line', { x1: width - right + 12, x2: width - right + 34, y1: ly, y2: ly, class: `series ${ser.cls}` }),
    );
    svg.appendChild(s('text', { x: width - right + 40, y: ly + 4, class: 'tick' }, ser.label));
  });
  return svg;
}

export function sweepSection(sw: Sweep): HTMLElement {
  const rows = sw.cells.map((c) =>
    h(
      'tr',
      { class: c.measuredWinner && c.measuredWinner !== c.predictedWinner ? 'miss' : '' },
      h('td', { class: 'num' }, String(c.kernel)),
      h('td', {}, `${c.inChannels}→${c.outChannels}`),
      h('td', { class: 'num' }, c.spatialMs === null ? '—' : fmtMs(c.spatialMs)),
      h('td', { class: 'num' }, c.spectralMs === null ? '—' : fmtMs(c.spectralMs)),
      h('td', { class: 'num muted' }, fmtMs(c.predictedSpatialMs)),
      h('td', { class: 'num muted' }, fmtMs(c.predictedSpectralMs)),
      h('td', {}, c.measuredWinner ?? '—'),
      h('td', {}, c.predictedWinner),
      h('td', { class: 'muted' }, c.note ?? ''),
    ),
  );
  return h(
    'section',
    { class: 'card sweep-card', id: 'sweep' },
    h('h2', {}, 'Where FFT convolution starts to pay: kernel-size sweep'),
    h(
      'p',
      { class: 'muted' },
      `spatial-equivalent (the same function as a Conv2D) vs optimized, batch ${sw.base.batch}, ${sw.base.height}×${sw.base.width}, ${sw.base.padding}, ${sw.base.layout}; ${sw.engine}/${sw.backend}; ${sw.settings.warmup} warm-up, ${sw.settings.reps} reps per cell, end-to-end medians. Dashed: the calibrated model.${sw.status !== 'ok' ? ` Sweep ${sw.status}: the finished cells are shown.` : ''}`,
    ),
    ...sw.channels.map((c) => h('div', { class: 'chart-wrap' }, sweepChart(sw, c))),
    h(
      'p',
      {},
      ...sw.crossovers.map((x) =>
        h(
          'span',
          { class: 'crossover-note' },
          `${x.inChannels}→${x.outChannels}: ${measuredCrossoverText(sw, x)} (model: ${x.predicted === null ? 'never' : `from k = ${x.predicted}`}). `,
        ),
      ),
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
            'k',
            'channels',
            'spatial',
            'spectral',
            'model spatial',
            'model spectral',
            'winner',
            'model says',
            '',
          ].map((c) => h('th', {}, c)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

/** `fconv sweep`'s page: the sweep alone. */
export function renderSweepOnly(sw: Sweep, root: HTMLElement): void {
  root.replaceChildren(
    h(
      'header',
      { class: 'report-header' },
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, 'Fourier Conv Sweep'),
        h('span', { class: `badge status-${sw.status}` }, sw.status === 'ok' ? 'done' : sw.status),
      ),
      h(
        'p',
        { class: 'muted' },
        `Engine ${sw.engine}/${sw.backend} — ${sw.device} · ${new Date(sw.createdAt).toLocaleString()} · ${fmtMs(sw.wallMs)}`,
      ),
    ),
    sweepSection(sw),
  );
}

/** An FNO modes sweep: fno (as written) vs optimized per grid and modes, measured and modelled, with the crossover. */
export function fnoSweepSection(sw: FnoSweep): HTMLElement {
  const rows = sw.cells.map((c) =>
    h(
      'tr',
      { class: c.measuredWinner && c.measuredWinner !== c.predictedWinner ? 'miss' : '' },
      h('td', {}, `${c.height}×${c.width}`),
      h('td', { class: 'num' }, String(c.modes)),
      h('td', { class: 'num' }, c.fnoMs === null ? '—' : fmtMs(c.fnoMs)),
      h('td', { class: 'num' }, c.optimizedMs === null ? '—' : fmtMs(c.optimizedMs)),
      h(
        'td',
        { class: 'num' },
        c.fnoMs !== null && c.optimizedMs !== null && c.optimizedMs > 0
          ? `${(c.fnoMs / c.optimizedMs).toFixed(2)}x`
          : '—',
      ),
      h('td', { class: 'num muted' }, fmtMs(c.predictedFnoMs)),
      h('td', { class: 'num muted' }, fmtMs(c.predictedOptimizedMs)),
      h('td', {}, c.measuredWinner ?? '—'),
      h('td', {}, c.predictedWinner),
      h('td', { class: 'muted' }, c.note ?? ''),
    ),
  );
  const a = fnoAgreement(sw);
  return h(
    'section',
    { class: 'card sweep-card', id: 'fno-sweep' },
    h('h2', {}, 'Which formulation wins: FNO modes sweep'),
    h(
      'p',
      { class: 'muted' },
      `The layer as written (fno: full rfft2, einsum per corner, zero-filled out_ft) vs optimized (partial transforms, one batched GEMM), batch ${sw.base.batch}, ${sw.base.inChannels}→${sw.base.outChannels} channels, ${sw.base.modesConvention} modes; ${sw.engine}/${sw.backend}; ${sw.settings.warmup} warm-up, ${sw.settings.reps} reps per cell, end-to-end medians.${a.measured ? ` The model picked the measured winner in ${a.agree} of ${a.measured} cells (${a.agreeDecided} of the ${a.decided} that differ by more than 5 %).` : ''}${sw.status !== 'ok' ? ` Sweep ${sw.status}: the finished cells are shown.` : ''}`,
    ),
    h(
      'p',
      {},
      ...sw.crossovers.map((x) =>
        h(
          'span',
          { class: 'crossover-note' },
          `${x.height}×${x.width}: ${fnoCrossoverText(sw, x)} (model: ${x.predicted === null ? 'optimized throughout' : `fno from modes ${x.predicted}`}). `,
        ),
      ),
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
            'grid',
            'modes',
            'fno',
            'optimized',
            'speed-up',
            'model fno',
            'model optimized',
            'winner',
            'model says',
            '',
          ].map((c) => h('th', {}, c)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

/** `fconv sweep --layer fno`'s page: the modes sweep alone. */
export function renderFnoSweepOnly(sw: FnoSweep, root: HTMLElement): void {
  root.replaceChildren(
    h(
      'header',
      { class: 'report-header' },
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, 'Fourier Conv FNO Sweep'),
        h('span', { class: `badge status-${sw.status}` }, sw.status === 'ok' ? 'done' : sw.status),
      ),
      h(
        'p',
        { class: 'muted' },
        `Engine ${sw.engine}/${sw.backend} — ${sw.device} · ${new Date(sw.createdAt).toLocaleString()} · ${fmtMs(sw.wallMs)}`,
      ),
    ),
    fnoSweepSection(sw),
  );
}
