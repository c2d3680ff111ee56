import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/core/analysis';
import { hintsFor, rankHints } from '../../src/core/hints';
import type { Hint, Sweep } from '../../src/core/insight-schema';
import { type DeviceProfile, explicitProfile, gpuProfile } from '../../src/core/model';
import type { Run } from '../../src/core/run';
import { DEFAULT_SPEC, type LayerSpec } from '../../src/core/spec';
import { CPU, modelRun } from '../fixtures';
import { spec } from '../helpers';

function hints(run: Run, device: DeviceProfile | null = CPU, sweep?: Sweep): Hint[] {
  return hintsFor(run, device ? { analysis: analyze(run, device), device, sweep } : { sweep });
}
const ids = (hs: Hint[]) => hs.map((h) => h.id);
const one = (hs: Hint[], id: string) => {
  const h = hs.find((x) => x.id === id);
  assert.ok(h, `${id} fires: ${ids(hs).join(', ')}`);
  return h;
};
const none = (hs: Hint[], id: string) => assert.ok(!ids(hs).includes(id), `${id} stays silent: ${ids(hs).join(', ')}`);

/** The seed's case, with the seed's einsum 10x and its kernel transform 3x what the model says (as measured). */
const SEED = (over: Partial<LayerSpec> = {}, scale: Record<string, number> = {}) =>
  modelRun(spec(over), {
    scale: { 'seed/einsum': 10, 'seed/transpose-kernel': 150, 'optimized/multiply': 3, ...scale },
  });

test("the seed's case: the uneven comparison, circular padding and rfft2d axes are warnings, first", () => {
  const hs = hints(SEED());
  const uneven = one(hs, 'uneven-comparison');
  assert.match(uneven.title, /87x smaller function/);
  assert.match(uneven.evidence, /28×28 kernel \(784 multiply-adds.*3×3 \(9\)/);
  assert.equal(hs[0]!.severity, 'warning');
  assert.deepEqual(
    hs
      .filter((h) => h.severity === 'warning')
      .map((h) => h.id)
      .sort(),
    ['circular-not-linear', 'rfft2d-axes', 'uneven-comparison'],
  );
  for (const h of hs) assert.ok(h.source.length > 0 && h.evidence.length > 0 && h.suggestion.length > 0, h.id);
});

test('uneven comparison stays silent when the Conv2D has the spectral kernel', () => {
  none(hints(SEED({ kernelH: 3, kernelW: 3, spatialKernel: 3, padding: 'same' })), 'uneven-comparison');
});

test('circular padding warns only for a plain product of spectra, with the model cost of padding', () => {
  const h = one(hints(SEED()), 'circular-not-linear');
  assert.match(h.evidence, /42×42 transforms instead of 28×28/);
  none(hints(SEED({ padding: 'same' })), 'circular-not-linear');
});

test('einsum lowering: fires with the measured time and the gain over the optimized product; silent when the einsum is cheap', () => {
  const run = SEED();
  const h = one(hints(run), 'einsum-lowering');
  const einsum = run.variants.find((v) => v.name === 'seed')!.steps.find((s) => s.id === 'einsum')!;
  const product = run.variants.find((v) => v.name === 'optimized')!.steps.find((s) => s.id === 'multiply')!;
  assert.equal(h.expectedGain.basis, 'measured');
  assert.ok(Math.abs(h.expectedGain.ms! - (einsum.median - product.median)) < 1e-9);
  assert.match(h.title, /outer product/);
  none(hints(SEED({}, { 'seed/einsum': 0.001 })), 'einsum-lowering');
});

test('kernel spectrum per call and complex transposes fire on the seed and not without it', () => {
  const withSeed = hints(SEED());
  const k = one(withSeed, 'kernel-spectrum-per-call');
  assert.equal(k.expectedGain.basis, 'measured');
  one(withSeed, 'complex-transposes');
  one(withSeed, 'rfft2d-axes');
  const without = hints(modelRun(DEFAULT_SPEC, { variants: ['spatial', 'spatial-equivalent', 'optimized'] }));
  for (const id of ['kernel-spectrum-per-call', 'complex-transposes', 'rfft2d-axes', 'einsum-lowering'])
    none(without, id);
  none(hints(SEED({}, { 'seed/einsum': 10, 'seed/transpose-kernel': 1e-4 })), 'complex-transposes');
});

test('a training user is never told to cache the kernel spectrum: in training it is made once per step', () => {
  const run = SEED();
  const seed = run.variants.find((v) => v.name === 'seed')!;
  seed.train = {
    totalMs: { ...seed.totalMs, median: 3 * seed.totalMs.median },
    backwardMs: { ...seed.totalMs, median: 2 * seed.totalMs.median },
    steps: [],
    backwardStepSumMs: 0,
    notes: [],
    gradients: [],
  };
  const k = one(hints(run), 'kernel-spectrum-per-call');
  assert.equal(k.severity, 'info');
  assert.equal(k.expectedGain.basis, 'none');
  assert.doesNotMatch(`${k.title} ${k.suggestion}`, /keep the spectrum|cached buffer/);
  assert.match(k.suggestion, /cache it for inference only/);
  assert.match(k.suggestion, /frequency domain/);
});

test('backward dominates: fires when the backward is most of the training step, naming the step; silent without training', () => {
  const run = SEED();
  const seed = run.variants.find((v) => v.name === 'seed')!;
  const opt = run.variants.find((v) => v.name === 'optimized')!;
  const back = (name: string, median: number) => ({
    ...seed.steps[0]!,
    id: `${name}.backward`,
    name: `${name} (backward)`,
    pass: 'backward' as const,
    median,
  });
  const train = (fwd: number, bwd: number, steps: ReturnType<typeof back>[]) => ({
    totalMs: { ...seed.totalMs, median: fwd + bwd },
    backwardMs: { ...seed.totalMs, median: bwd },
    steps,
    backwardStepSumMs: steps.reduce((a, s) => a + s.median, 0),
    notes: [],
    gradients: [],
  });
  none(hints(run), 'backward-dominates');
  seed.train = train(2, 6, [back('einsum', 4.5), back('irfft2d', 1.5)]);
  opt.train = train(1, 2, [back('multiply', 1.5), back('irfft2d', 0.5)]);
  const h = one(hints(run), 'backward-dominates');
  assert.match(h.title, /The backward is 75 % of the training step; einsum \(backward\) alone 56 %/);
  assert.equal(h.expectedGain.basis, 'measured');
  assert.ok(Math.abs(h.expectedGain.ms! - 5) < 1e-9);
  seed.train = train(6, 2, [back('einsum', 2)]);
  none(hints(run), 'backward-dominates');
});

test('memory-bound steps: fires when a big in-layer step sits below the ridge; silent on a device whose ridge is below it', () => {
  const h = one(hints(SEED()), 'memory-bound-steps');
  assert.match(h.title, /optimized's multiply is memory-bound/);
  const flat = explicitProfile(0.001, 1e6, 'all bandwidth'); // ridge 1e-6 FLOP/byte
  none(hints(SEED(), flat), 'memory-bound-steps');
});

test('overhead-bound: fires when a variant takes over twice its model time, silent when it matches', () => {
  const h = one(hints(modelRun(DEFAULT_SPEC, { scale: { optimized: 3 } })), 'overhead-bound');
  assert.match(h.title, /optimized takes 3\.0x what its FLOPs and bytes explain/);
  none(hints(modelRun(DEFAULT_SPEC)), 'overhead-bound');
});

test('kernel-size crossover: from the sweep when there is one (measured), else from the model; silent with neither', () => {
  const run = modelRun(DEFAULT_SPEC);
  const model = one(hints(run), 'kernel-size-crossover');
  assert.match(model.evidence, /^Calibrated model: the spectral layer wins from k = \d+/);
  const sweep = { crossovers: [{ inChannels: 1, outChannels: 32, measured: 11, predicted: 9 }] } as unknown as Sweep;
  const measured = one(hints(run, CPU, sweep), 'kernel-size-crossover');
  assert.equal(measured.title, 'FFT convolution pays from k = 11 for this layer');
  assert.match(measured.evidence, /^Sweep:/);
  none(hints(run, null), 'kernel-size-crossover');
});

test('few input channels and batch size fire from the break-even terms only when they dominate', () => {
  const small = { kernelH: 5, kernelW: 5, padding: 'same' as const };
  one(hints(modelRun(spec({ ...small, inChannels: 1 }))), 'few-input-channels');
  none(hints(modelRun(spec({ ...small, inChannels: 64, outChannels: 64, batch: 4 }))), 'few-input-channels');
  none(hints(modelRun(DEFAULT_SPEC)), 'few-input-channels'); // image-sized kernel: FFT pays by arithmetic
  const b1 = one(hints(modelRun(spec({ ...small, batch: 1, inChannels: 64, outChannels: 64 }))), 'batch-size');
  assert.match(b1.title, /^Batch 1:/);
  none(hints(modelRun(spec({ ...small, batch: 128, inChannels: 64, outChannels: 64 }))), 'batch-size');
});

test('tensor cores and cuDNN algorithms are GPU hints: they fire for an H100 and not on a CPU', () => {
  const h100 = gpuProfile('H100')!;
  const hs = hints(modelRun(spec({ kernelH: 5, kernelW: 5, padding: 'same' }), { device: h100 }), h100);
  assert.match(one(hs, 'tensor-cores').title, /7\.4x faster than FFT butterflies/);
  const cudnn = one(hs, 'cudnn-algorithms');
  assert.match(
    cudnn.evidence,
    /FFT applies.*FFT_TILING applies.*WINOGRAD does not \(3×3 only\); WINOGRAD_NONFUSED applies/,
  );
  const cpu = hints(modelRun(spec({ kernelH: 5, kernelW: 5, padding: 'same' })));
  none(cpu, 'tensor-cores');
  none(cpu, 'cudnn-algorithms');
  const big = hints(
    modelRun(spec({ height: 300, width: 300, batch: 1, kernelH: 3, kernelW: 3, padding: 'same' }), {
      device: h100,
      variants: ['spatial-equivalent', 'optimized'],
    }),
    h100,
  );
  assert.match(one(big, 'cudnn-algorithms').evidence, /FFT does not \(needs H \+ 2·pad ≤ 256/);
});

test('ranking: warnings first, then by expected gain, hints without a gain last', () => {
  const g = (ms: number | null) => ({ ms, factor: null, basis: 'measured' as const, text: '' });
  const mk = (id: string, severity: Hint['severity'], ms: number | null): Hint => ({
    id,
    severity,
    title: id,
    evidence: 'e',
    suggestion: 's',
    expectedGain: g(ms),
    source: 'x',
  });
  const ranked = rankHints([
    mk('a', 'info', 1),
    mk('b', 'suggestion', 5),
    mk('c', 'warning', null),
    mk('d', 'info', null),
    mk('e', 'suggestion', 9),
  ]);
  assert.deepEqual(
    ranked.map((h) => h.id),
    ['c', 'e', 'b', 'a', 'd'],
  );
});

test('the crossover hint never contradicts this run: when the sweep or the model disagrees with the measurement at k, the measurement wins the title and the other is named', () => {
  // Measured here: spectral faster at k = 28; the sweep (other cells) says FFT never pays.
  const fast = modelRun(DEFAULT_SPEC, { scale: { 'spatial-equivalent': 50 } });
  const never = {
    crossovers: [{ inChannels: 1, outChannels: 32, measured: null, predicted: null }],
  } as unknown as Sweep;
  const a = one(hints(fast, CPU, never), 'kernel-size-crossover');
  assert.equal(a.title, 'FFT pays at k = 28 here (measured), though the sweep puts it nowhere up to the image size');
  assert.equal(a.suggestion, 'Keep the spectral layer at k = 28.');
  assert.match(a.evidence, /this run measured this k itself/);
  // Measured here: spatial faster at k = 28; the sweep says FFT pays from k = 9.
  const slow = modelRun(DEFAULT_SPEC, { scale: { optimized: 200 } });
  const nine = { crossovers: [{ inChannels: 1, outChannels: 32, measured: 9, predicted: 9 }] } as unknown as Sweep;
  const b = one(hints(slow, CPU, nine), 'kernel-size-crossover');
  assert.equal(b.title, 'Spatial is faster at k = 28 here (measured), though the sweep puts the crossover at k = 9');
  assert.match(b.suggestion, /^Use Conv2D at k = 28\. Rules of thumb/);
  // Across the hints of every such run: no "does not pay at any kernel size" next to "keep the spectral layer".
  for (const [run, sw] of [
    [fast, never],
    [slow, nine],
    [fast, undefined],
    [slow, undefined],
  ] as const) {
    const hs = hints(run, CPU, sw);
    const never2 = hs.some((h) => /does not pay at any kernel size/.test(h.title));
    const keep = hs.some((h) => /Keep the spectral layer/.test(h.suggestion));
    assert.ok(!(never2 && keep), hs.map((h) => `${h.title} / ${h.suggestion}`).join('\n'));
  }
});
