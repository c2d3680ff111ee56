/** The report's closing sections: each variant's correctness check, how it was measured, cuDNN's algorithm tables. */
import { fmtMs } from '../src/core/format';
import { fmtCount } from '../src/core/units';
import { formatBytes } from '../src/core/memory';
import type { Run } from '../src/core/run';
import { variantExplained, variantLabel } from '../src/core/glossary';
import { h } from './dom';

export function correctness(run: Run): HTMLElement {
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
            h('td', { class: 'num' }, fmtCount(v.checkedPoints)),
            h('td', { class: v.correct ? 'ok' : 'bad' }, v.correct ? '✓ match' : '✗ MISMATCH'),
          ),
        ),
      ),
    ),
  );
}

export function method(run: Run): HTMLElement {
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
export function algorithmTables(run: Run): HTMLElement | null {
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
