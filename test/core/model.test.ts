import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, withInsights } from '../../src/core/analysis';
import { convFlops, fftFlops, gemmFlops, ioBytes } from '../../src/core/cost';
import {
  breakEven,
  convRate,
  cpuProfile,
  estimateStep,
  explicitProfile,
  gpuProfile,
  rateAt,
  ratesFor,
  ridge,
  specBreakEven,
  stepKind,
} from '../../src/core/model';
import { planOptimized, tfjsTraits } from '../../src/core/variants';
import { predict } from '../../src/core/predict';
import { parseRun } from '../../src/core/run';
import { DEFAULT_SPEC } from '../../src/core/spec';
import {
  confusion,
  crossovers,
  parseChannels,
  parseKernelList,
  sweepKernels,
  sweepProblems,
} from '../../src/core/sweep';
import { CPU, PROBE, modelRun } from '../fixtures';
import { spec } from '../helpers';

test('cost formulas match hand-computed values', () => {
  assert.equal(convFlops(1, 2, 2, 1, 1, 3, 3), 72); // 2·B·H′·W′·Cin·Cout·kh·kw
  assert.equal(convFlops(32, 28, 28, 1, 32, 28, 28), 2 * 32 * 784 * 32 * 784);
  assert.equal(gemmFlops(2, 3, 4, 5), 240);
  assert.equal(fftFlops(8), 120); // 5·N·log2 N
  assert.equal(ioBytes([[2, 3], [4]], [5]), 4 * (6 + 4 + 5));
  // the optimized layer's in-channels = 1 product: 6 real flops per complex multiply of a broadcast
  const product = planOptimized(DEFAULT_SPEC, tfjsTraits('wasm')).steps.find((s) => s.id === 'multiply')!;
  assert.equal(product.flops, 6 * 28 * 15 * 32 * 32);
  assert.equal(product.kind, 'elementwise');
});

test('a step costs its fixed overhead plus the larger of compute and memory time, and says which bounds it', () => {
  const r = ratesFor(CPU); // gemm 25 GFLOP/s, copy 14 GB/s, 10 µs per op
  const compute = estimateStep({ kind: 'gemm', flops: 25e6, bytes: 1e3 }, r);
  assert.ok(Math.abs(compute.ms - (1 + 0.01)) < 1e-9);
  assert.equal(compute.bound, 'compute');
  const memory = estimateStep({ kind: 'copy', flops: 0, bytes: 14e6 }, r);
  assert.ok(Math.abs(memory.ms - (1 + 0.01)) < 1e-9);
  assert.equal(memory.bound, 'memory');
  assert.equal(estimateStep({ kind: 'gemm', flops: 10, bytes: 10 }, r).bound, 'overhead');
  // roofline: attainable = min(peak, bandwidth × intensity)
  const lowAi = estimateStep({ kind: 'gemm', flops: 1e6, bytes: 1e6 }, r);
  assert.ok(Math.abs(lowAi.attainableGflops - Math.max(PROBE.copyGBs, PROBE.elementwiseGBs) * 1) < 1e-9);
  assert.ok(Math.abs(ridge(CPU) - 30 / 14) < 1e-9);
});

test('rates measured at two inner sizes interpolate log-log, and do not grow past 1.5x the best measured', () => {
  const pts = [
    { inner: 4, gflops: 1 },
    { inner: 32, gflops: 2 },
  ];
  assert.equal(rateAt(pts, 4), 1);
  assert.ok(Math.abs(rateAt(pts, 32) - 2) < 1e-12);
  assert.ok(Math.abs(rateAt(pts, 8) - 2 ** (1 / 3)) < 1e-12);
  assert.ok(rateAt(pts, 1) < 1);
  assert.equal(rateAt(pts, 1e6), 3);
  assert.equal(rateAt(7, 123), 7);
});

test('conv rates: one input channel follows the kernel size (flat beyond the largest probed), more follow the channels', () => {
  const pts = PROBE.conv;
  assert.equal(convRate(pts, 1, 3), 5);
  assert.ok(Math.abs(convRate(pts, 1, 9) - 15) < 1e-9);
  assert.ok(convRate(pts, 1, 5) > 5 && convRate(pts, 1, 5) < 15);
  assert.ok(Math.abs(convRate(pts, 1, 28) - 15) < 1e-9, 'flat beyond 9×9');
  assert.equal(convRate(pts, 4, 3), 27, 'kernel size does not matter with several channels');
  assert.ok(Math.abs(convRate(pts, 16, 11) - 30) < 1e-9);
  assert.ok(convRate(pts, 8, 5) > 27 && convRate(pts, 8, 5) < 30);
});

test('the break-even reproduces the facts: ≈ 4.4 for 256 channels at n = 32, ≈ 29 for MNIST, where k = 3 gives ≈ 7.8', () => {
  const big = breakEven({ n: 32, nOut: 30, k: 3, f: 256, fOut: 256, S: 128 });
  assert.ok(Math.abs(big.threshold - 4.39) < 0.01, `${big.threshold}`);
  const mnist = breakEven({ n: 28, nOut: 26, k: 3, f: 1, fOut: 32, S: 128 });
  assert.ok(Math.abs(mnist.threshold - 29) < 0.1, `${mnist.threshold}`);
  assert.ok(Math.abs(mnist.lhs - 7.76) < 0.01);
  assert.equal(mnist.fftPays, false);
  assert.equal(specBreakEven(DEFAULT_SPEC).fftPays, true, 'an image-sized kernel: k²(n′/n)² = 784');
});

test('GPU names from nvidia-smi and user input find their datasheet row', () => {
  assert.equal(gpuProfile('NVIDIA H100 80GB HBM3')?.name, 'H100 SXM');
  assert.equal(gpuProfile('NVIDIA H100 PCIe')?.name, 'H100 PCIe');
  assert.equal(gpuProfile('A100-SXM4-80GB')?.fp32Gflops, 19_500);
  assert.equal(gpuProfile('rtx 4090')?.bandwidthGBs, 1008);
  assert.equal(gpuProfile('Tesla K80'), undefined);
  assert.equal(explicitProfile(10, 500).fp32Gflops, 10_000);
});

test('step kinds come from the step ids and implementations the engines record', () => {
  assert.equal(stepKind({ id: 'conv2d', implementation: '' }), 'conv');
  assert.equal(stepKind({ id: 'pad-wrap', implementation: '' }), 'pad');
  assert.equal(stepKind({ id: 'transpose-out', implementation: '' }), 'copy');
  assert.equal(stepKind({ id: 'multiply', implementation: 'broadcast multiply (in-channels = 1)' }), 'elementwise');
  assert.equal(stepKind({ id: 'multiply', implementation: "Gauss's 3-multiplication" }), 'bmm');
  assert.equal(stepKind({ id: 'ifft-h', implementation: 'complex GEMM batched over the 15 frequency columns' }), 'bmm');
  assert.equal(stepKind({ id: 'irfft2d', implementation: '' }), 'ifft');
});

test('predict sums the planned steps, names the dominant term and picks the faster form', () => {
  const p = predict(DEFAULT_SPEC, CPU, 'wasm');
  assert.equal(p.winner, 'spectral', 'a 28×28 kernel');
  assert.ok(
    Math.abs(
      p.spectralMs - p.spectralSteps.filter((s) => s.id !== 'rfft2d-kernel-cached').reduce((a, s) => a + s.ms, 0),
    ) < 1e-9,
  );
  assert.ok(Math.abs(p.factor - p.spatialMs / p.spectralMs) < 1e-9);
  assert.match(p.reasoning[0]!, /dominated by convolution \(9\d %, compute-bound\)/);
  assert.match(p.reasoning.join('\n'), /Mathieu et al\./);
  const small = predict(spec({ kernelH: 3, kernelW: 3, padding: 'same' }), CPU, 'wasm');
  assert.equal(small.winner, 'spatial');
  const h100 = predict(DEFAULT_SPEC, gpuProfile('H100')!);
  assert.match(h100.reasoning.at(-1)!, /datasheet peaks .* lower bound/);
});

test('analysis puts every step on the roofline and validates with the run schema, hints and sweep included', () => {
  const run = modelRun(DEFAULT_SPEC);
  const a = analyze(run, CPU);
  assert.equal(
    a.steps.length,
    run.variants.reduce((n, v) => n + v.steps.length, 0),
  );
  for (const s of a.steps) {
    assert.ok(Number.isFinite(s.pctOfBound) && s.pctOfBound >= 0, `${s.variant}/${s.stepId}`);
    assert.ok(Math.abs(s.modelMs - s.medianMs) < 1e-9 * Math.max(1, s.medianMs), 'the crafted run is the model');
  }
  const sweep = {
    status: 'ok' as const,
    createdAt: run.createdAt,
    engine: 'tfjs',
    backend: 'wasm',
    device: 'x',
    base: { batch: 32, height: 28, width: 28, padding: 'circular', layout: 'NHWC' },
    kernels: [3, 28],
    channels: [{ inChannels: 1, outChannels: 32 }],
    settings: { warmup: 1, reps: 3 },
    cells: [
      {
        kernel: 3,
        inChannels: 1,
        outChannels: 32,
        spatialMs: 1,
        spectralMs: 7,
        predictedSpatialMs: 1,
        predictedSpectralMs: 6,
        predictedWinner: 'spatial' as const,
        measuredWinner: 'spatial' as const,
      },
      {
        kernel: 28,
        inChannels: 1,
        outChannels: 32,
        spatialMs: 80,
        spectralMs: 7,
        predictedSpatialMs: 90,
        predictedSpectralMs: 6,
        predictedWinner: 'spectral' as const,
        measuredWinner: 'spectral' as const,
      },
    ],
    crossover: { inChannels: 1, outChannels: 32, measured: 28, predicted: 28 },
    crossovers: [{ inChannels: 1, outChannels: 32, measured: 28, predicted: 28 }],
    wallMs: 1,
  };
  const full = withInsights(run, CPU, sweep);
  const back = parseRun(JSON.parse(JSON.stringify(full)));
  assert.equal(back.analysis?.steps.length, a.steps.length);
  assert.ok(back.hints?.length);
  assert.equal(back.sweep?.cells.length, 2);
  const broken = JSON.parse(JSON.stringify(full));
  broken.analysis.steps[0].kind = 'magic';
  assert.throws(() => parseRun(broken), /analysis\.steps\.0\.kind/);
});

test('sweep helpers: kernels clipped to the image, crossovers, confusion and clear parse errors', () => {
  assert.deepEqual(sweepKernels(DEFAULT_SPEC), [3, 5, 7, 9, 11, 15, 21, 28]);
  assert.deepEqual(sweepKernels(spec({ height: 16, width: 20 })), [3, 5, 7, 9, 11, 15, 16]);
  assert.deepEqual(parseChannels('1:32, 16:16,64x64'), [
    { inChannels: 1, outChannels: 32 },
    { inChannels: 16, outChannels: 16 },
    { inChannels: 64, outChannels: 64 },
  ]);
  assert.throws(() => parseChannels('1-32'), /IN:OUT pairs/);
  assert.throws(() => parseKernelList('3,x'), /positive whole numbers/);
  assert.match(
    sweepProblems(spec({ height: 8, width: 8, padding: 'valid' }), [3, 9], [{ inChannels: 1, outChannels: 1 }])[0]!,
    /kernel 9, 1→1: kernel 9×9 is larger than the 8×8 image/,
  );
  const cell = (k: number, m: 'spatial' | 'spectral' | null, p: 'spatial' | 'spectral') => ({
    kernel: k,
    inChannels: 1,
    outChannels: 2,
    spatialMs: 1,
    spectralMs: 1,
    predictedSpatialMs: 1,
    predictedSpectralMs: 1,
    predictedWinner: p,
    measuredWinner: m,
  });
  const cells = [
    cell(3, 'spatial', 'spatial'),
    cell(5, 'spectral', 'spatial'),
    cell(7, 'spatial', 'spectral'),
    cell(9, 'spectral', 'spectral'),
    cell(11, 'spectral', 'spectral'),
    cell(13, null, 'spectral'),
  ];
  assert.deepEqual(
    crossovers(cells, [{ inChannels: 1, outChannels: 2 }]),
    [{ inChannels: 1, outChannels: 2, measured: 9, predicted: 7 }],
    'the crossover is where it stays spectral',
  );
  const c = confusion({ cells });
  assert.equal(c.measured, 5);
  assert.equal(c.agree, 3);
  assert.deepEqual(
    c.wrong.map((x) => x.kernel),
    [5, 7],
  );
});

test("backward steps are priced at the probe's measured backward rates: a convolution's at convBackward, a GEMM's scaled by the GEMM backward rate", () => {
  const conv = { kind: 'conv' as const, flops: 2e9, bytes: 1e6, inner: 1, kernel: 9 };
  const gemm = { kind: 'gemm' as const, flops: 1e9, bytes: 1e6 };
  const plain = ratesFor(CPU);
  const calibrated = ratesFor(
    cpuProfile({
      ...PROBE,
      convBackward: PROBE.conv.map((p) => ({ ...p, gflops: p.gflops / 4 })),
      gemmBackwardGflops: PROBE.gemmGflops / 2,
    }),
  );
  // Without backward rates a backward step costs what its forward does at the same FLOPs.
  assert.equal(estimateStep({ ...conv, pass: 'backward' }, plain).ms, estimateStep(conv, plain).ms);
  // With them: a backward convolution at a 4x lower rate takes 4x its compute time; the forward is unchanged.
  assert.equal(estimateStep(conv, calibrated).ms, estimateStep(conv, plain).ms);
  const f = estimateStep(conv, calibrated).computeMs;
  assert.ok(Math.abs(estimateStep({ ...conv, pass: 'backward' }, calibrated).computeMs - 4 * f) < 1e-9 * f);
  const g = estimateStep(gemm, calibrated).computeMs;
  assert.ok(Math.abs(estimateStep({ ...gemm, pass: 'backward' }, calibrated).computeMs - 2 * g) < 1e-9 * g);
  // The training prediction uses them: slower backward rates make both formulations' training steps slower.
  const t0 = predict(DEFAULT_SPEC, CPU, 'wasm', 'train');
  const t1 = predict(
    DEFAULT_SPEC,
    cpuProfile({ ...PROBE, convBackward: PROBE.conv.map((p) => ({ ...p, gflops: p.gflops / 4 })) }),
    'wasm',
    'train',
  );
  assert.ok(t1.spatialMs > t0.spatialMs && t1.spectralMs === t0.spectralMs);
});
