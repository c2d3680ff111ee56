/** The kernel-size sweep and the FNO modes sweep: charts with their crossovers, tables, and the pages of their own. */

import { measuredCrossoverText } from '../src/core/sweep';
import { fnoAgreement, fnoCrossoverText } from '../src/core/fno-model';
import { fmtMs } from '../src/core/format';
import type { FnoSweep, Sweep } from '../src/core/insight-schema';
import { h, s, tip } from './dom';
import { logTicks } from './axes';

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
    h(
      'h2',
      {},
      `Where FFT convolution starts to pay: kernel-size sweep${sw.pass === 'train' ? ' of the training step (forward + backward)' : ''}`,
    ),
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
    h(
      'h2',
      {},
      `Which formulation wins: FNO modes sweep${sw.pass === 'train' ? ' of the training step (forward + backward)' : ''}`,
    ),
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
