import { type Run, SCHEMA_VERSION } from '../src/core/run';
import { geometry } from '../src/core/spec';
import { summarize } from '../src/core/stats';
import { SMALL } from './helpers';

function step(name: string, median: number, extra: Partial<Run['variants'][number]['steps'][number]> = {}) {
  return {
    id: name,
    name,
    implementation: `impl of ${name}`,
    inLayer: true,
    oneOff: false,
    inputShapes: [[1, 2]],
    outputShape: [1, 2],
    flops: 100,
    bytes: 16,
    timing: 'wall-clock-sync' as const,
    warmup: 1,
    reps: 3,
    ...summarize([median * 0.9, median, median * 1.1]),
    ...extra,
  };
}

/** A small hand-made run: three variants, one one-off step, steps inside and outside the layer. */
export function fakeRun(): Run {
  const variant = (
    name: 'spatial' | 'seed' | 'optimized',
    kind: 'spatial' | 'spectral',
    steps: ReturnType<typeof step>[],
    total: number,
  ) => ({
    name,
    // As the engines title them (src/core/variants): what a user reads, never the id `seed`.
    title: { spatial: 'Conv2D 3×3', seed: "The question's layer, as written", optimized: 'Optimized spectral layer' }[
      name
    ],
    description: `what the ${name === 'seed' ? 'layer as written' : name} variant computes`,
    kind,
    reference: 'ref',
    steps,
    totalMs: { ...summarize([total, total, total]), timing: 'wall-clock-sync' as const, reps: 3 },
    ...(kind === 'spectral'
      ? { layerMs: { ...summarize([total / 2]), timing: 'wall-clock-sync' as const, reps: 3 } }
      : {}),
    stepSumMs: steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0),
    maxAbsError: 1e-6,
    refScale: 3,
    tolerance: 3e-3,
    correct: true,
    checkedPoints: 10,
    outputShape: [1, 2],
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 't', version: '1' },
    createdAt: new Date(0).toISOString(),
    status: 'ok',
    engine: 'tfjs',
    backend: 'wasm',
    device: 'test cpu',
    engineNotes: ['note'],
    spec: SMALL,
    geometry: geometry(SMALL),
    settings: { warmup: 1, reps: 3, seed: 1 },
    timingNote: 'wall',
    wallMs: 10,
    variants: [
      variant('spatial', 'spatial', [step('conv2d', 1)], 1),
      variant(
        'seed',
        'spectral',
        [step('rfft2d(input)', 2, { inLayer: false }), step('einsum', 5), step('irfft2d', 3, { inLayer: false })],
        10,
      ),
      variant(
        'optimized',
        'spectral',
        [
          step('rfft2d(kernel)', 4, { oneOff: true }),
          step('multiply', 1),
          step('irfft2d · ifft over H', 1, { inLayer: false }),
        ],
        2,
      ),
    ],
  };
}

import { type DeviceProfile, type Probe, cpuProfile, estimateStep, ratesFor } from '../src/core/model';
import { type StepCost } from '../src/core/model';
import { planVariant, tfjsTraits } from '../src/core/variants';
import { type LayerSpec } from '../src/core/spec';
import type { VariantName } from '../src/core/run';

/** A probe with round numbers (wasm-like). */
export const PROBE: Probe = {
  backend: 'wasm',
  device: 'test CPU',
  gemmGflops: 25,
  bmm: [
    { inner: 4, gflops: 1 },
    { inner: 32, gflops: 2 },
  ],
  conv: [
    { inner: 1, kernel: 3, gflops: 5 },
    { inner: 1, kernel: 9, gflops: 15 },
    { inner: 4, kernel: 5, gflops: 27 },
    { inner: 16, kernel: 5, gflops: 30 },
  ],
  fftGflops: 4,
  ifftGflops: 2,
  elementwiseGBs: 10,
  pad: [
    { inner: 1, gflops: 0.8 },
    { inner: 16, gflops: 3 },
  ],
  copyGBs: 14,
  overheadUs: 10,
  measuredAt: '2026-11-28T00:00:00.000Z',
  seconds: 0.3,
  reps: 5,
};
export const CPU: DeviceProfile = cpuProfile(PROBE);

type Planned = StepCost & { id: string; inLayer: boolean; oneOff: boolean };
const WASM = tfjsTraits('wasm');
const steps = (p: { oneOff: Planned[]; steps: Planned[] }): Planned[] => [...p.oneOff, ...p.steps];

const SEED_STEPS = (s: LayerSpec): Planned[] => {
  const F = s.height * (Math.floor(s.width / 2) + 1);
  const kernelBytes = 4 * s.inChannels * s.outChannels * F * 2;
  return [
    { id: 'rfft2d-input', kind: 'fft', flops: 4e6, bytes: 1e6, inLayer: false, oneOff: false },
    { id: 'rfft2d-kernel', kind: 'fft', flops: 4e6, bytes: kernelBytes, inLayer: true, oneOff: false },
    { id: 'transpose-kernel', kind: 'copy', flops: 0, bytes: 2 * kernelBytes, inLayer: true, oneOff: false },
    {
      id: 'einsum',
      kind: 'bmm',
      flops: 8 * F * s.batch * s.inChannels * s.outChannels,
      bytes: 3e6,
      inLayer: true,
      oneOff: false,
      inner: s.inChannels,
    },
    { id: 'irfft2d', kind: 'ifft', flops: 8e6, bytes: 4e6, inLayer: false, oneOff: false },
  ];
};

const NAMES: Record<string, string> = {
  'rfft2d-input': 'rfft2d(input)',
  'rfft2d-kernel': 'rfft2d(kernel)',
  'rfft2d-kernel-cached': 'rfft2d(kernel)',
  'transpose-kernel': 'transpose',
  einsum: 'einsum',
  irfft2d: 'irfft2d',
  conv2d: 'conv2d',
  multiply: 'multiply',
  'ifft-h': 'irfft2d · ifft over H',
  'irfft-w': 'irfft2d · C2R over W',
  'transpose-rows': 'transpose',
  'transpose-out': 'transpose',
  'transpose-freq': 'transpose',
  'pad-input': 'pad',
  'pad-wrap': 'pad',
  'to-nhwc': 'transpose',
  'to-nchw': 'transpose',
};
const IMPL: Record<string, string> = {
  multiply: 'broadcast multiply (in-channels = 1)',
  'rfft2d-input': 'R2C GEMM over W',
  'rfft2d-kernel': "every call; on the (in, H, W, out) kernel rfft2d's innermost two axes are (W, out)",
  'transpose-kernel': 'perm [2,1,0,3] of the complex kernel spectrum: planar',
  einsum: "'ijkl,jklo->ijko': transposes + batchMatMul",
};

/**
 * A run whose steps are the real plans of `spec` with times from the model on `device`, scaled per
 * variant or per step ('variant/stepId') — crafted evidence for the hint rules.
 */
export function modelRun(
  spec: LayerSpec,
  o: { device?: DeviceProfile; variants?: VariantName[]; scale?: Partial<Record<string, number>> } = {},
): Run {
  const rates = ratesFor(o.device ?? CPU);
  const names = o.variants ?? ['spatial', 'spatial-equivalent', 'seed', 'optimized'];
  const planned = (name: VariantName): Planned[] =>
    name === 'seed' ? SEED_STEPS(spec) : steps(planVariant(name, spec, WASM));
  const variants = names.map((name) => {
    const steps = planned(name).map((p) => {
      const id = name === 'seed' && p.id === 'rfft2d-input' ? 'rfft2d-input' : p.id;
      const impl =
        name === 'seed' && id === 'rfft2d-input' ? "outside the seed's layer" : (IMPL[id] ?? `impl of ${id}`);
      const ms = estimateStep(p, rates).ms * (o.scale?.[`${name}/${id}`] ?? 1) * (o.scale?.[name] ?? 1);
      return {
        id,
        name: NAMES[id] ?? id,
        implementation: p.kind === 'elementwise' && id === 'multiply' ? IMPL.multiply! : impl,
        inLayer: p.inLayer,
        oneOff: p.oneOff,
        inputShapes:
          p.kind === 'conv'
            ? [[1], [p.kernel!, p.kernel!, spec.inChannels, spec.outChannels]]
            : p.kind === 'pad'
              ? [[p.inner ?? 1]]
              : [[1]],
        outputShape: [1],
        flops: p.flops,
        bytes: p.bytes,
        timing: 'wall-clock-sync' as const,
        warmup: 1,
        reps: 3,
        ...summarize([ms * 0.98, ms, ms * 1.02]),
      };
    });
    const total = steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0);
    const layer = steps.filter((s) => s.inLayer && !s.oneOff).reduce((a, s) => a + s.median, 0);
    const kind = name.startsWith('spatial') ? ('spatial' as const) : ('spectral' as const);
    return {
      name,
      title: name,
      description: name,
      kind,
      reference: 'ref',
      steps,
      totalMs: { ...summarize([total * 0.98, total, total * 1.02]), timing: 'wall-clock-sync' as const, reps: 3 },
      ...(kind === 'spectral'
        ? { layerMs: { ...summarize([layer, layer, layer]), timing: 'wall-clock-sync' as const, reps: 3 } }
        : {}),
      stepSumMs: total,
      maxAbsError: 1e-6,
      refScale: 1,
      tolerance: 1e-3,
      correct: true,
      checkedPoints: 10,
      outputShape: [1],
    };
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 't', version: '1' },
    createdAt: new Date(0).toISOString(),
    status: 'ok',
    engine: 'tfjs',
    backend: 'wasm',
    device: (o.device ?? CPU).name,
    engineNotes: [],
    spec,
    geometry: geometry(spec),
    settings: { warmup: 1, reps: 3, seed: 1 },
    timingNote: 'wall',
    wallMs: 10,
    variants,
  };
}
