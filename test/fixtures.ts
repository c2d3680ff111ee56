import { type Run, SCHEMA_VERSION } from '../src/core/run';
import { geometry } from '../src/core/spec';
import { summarize } from '../src/core/stats';
import { SMALL } from './helpers';

function step(name: string, median: number, extra: Partial<Run['variants'][number]['steps'][number]> = {}) {
  return {
    id: name, name, implementation: `impl of ${name}`, inLayer: true, oneOff: false, inputShapes: [[1, 2]], outputShape: [1, 2],
    flops: 100, bytes: 16, timing: 'wall-clock-sync' as const, warmup: 1, reps: 3, ...summarize([median * 0.9, median, median * 1.1]), ...extra,
  };
}

/** A small hand-made run: three variants, one one-off step, steps inside and outside the layer. */
export function fakeRun(): Run {
  const variant = (name: 'spatial' | 'seed' | 'optimized', kind: 'spatial' | 'spectral', steps: ReturnType<typeof step>[], total: number) => ({
    name, title: name, description: `${name} description`, kind, reference: 'ref', steps,
    totalMs: { ...summarize([total, total, total]), timing: 'wall-clock-sync' as const, reps: 3 },
    ...(kind === 'spectral' ? { layerMs: { ...summarize([total / 2]), timing: 'wall-clock-sync' as const, reps: 3 } } : {}),
    stepSumMs: steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0),
    maxAbsError: 1e-6, refScale: 3, tolerance: 3e-3, correct: true, checkedPoints: 10, outputShape: [1, 2],
  });
  return {
    schemaVersion: SCHEMA_VERSION, tool: { name: 't', version: '1' }, createdAt: new Date(0).toISOString(), status: 'ok',
    engine: 'tfjs', backend: 'wasm', device: 'test cpu', engineNotes: ['note'], spec: SMALL, geometry: geometry(SMALL),
    settings: { warmup: 1, reps: 3, seed: 1 }, timingNote: 'wall', wallMs: 10,
    variants: [
      variant('spatial', 'spatial', [step('conv2d', 1)], 1),
      variant('seed', 'spectral', [step('rfft2d(input)', 2, { inLayer: false }), step('einsum', 5), step('irfft2d', 3, { inLayer: false })], 10),
      variant('optimized', 'spectral', [step('rfft2d(kernel)', 4, { oneOff: true }), step('multiply', 1), step('irfft2d · ifft over H', 1, { inLayer: false })], 2),
    ],
  };
}

