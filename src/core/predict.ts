/**
 * A prediction for any spec on any device, without running anything: the spatial convolution of the
 * same function (direct / implicit GEMM) against the optimized spectral layer, step by step from the
 * plan and the calibrated rates, with the term that dominates each and the Mathieu et al. condition.
 * Host-free.
 */
import { fmtMs } from './format';
import { type DeviceProfile, KIND_LABEL, estimateStep, ratesFor, specBreakEven } from './model';
import { type PlannedStep, allSteps, planOptimized, planSpatialEquivalent, traitsFor, trainingSteps } from './variants';
import type { LayerSpec } from './spec';

export interface PredictedStep {
  id: string;
  kind: PlannedStep['kind'];
  ms: number;
  bound: 'compute' | 'memory' | 'overhead';
  flops: number;
  bytes: number;
}

export interface Prediction {
  device: string;
  deviceSource: DeviceProfile['source'];
  spatialMs: number;
  spectralMs: number;
  winner: 'spatial' | 'spectral';
  /** How much faster the winner is. */
  factor: number;
  spatialSteps: PredictedStep[];
  spectralSteps: PredictedStep[];
  /** The one-off kernel transform of the spectral layer (cached, not in spectralMs). */
  kernelTransformMs: number;
  breakEven: ReturnType<typeof specBreakEven>;
  reasoning: string[];
}

function price(plan: PlannedStep[], device: DeviceProfile): { steps: PredictedStep[]; total: number; oneOff: number } {
  const rates = ratesFor(device);
  let total = 0,
    oneOff = 0;
  const steps = plan.map((p) => {
    const e = estimateStep(p, rates);
    if (p.oneOff) oneOff += e.ms;
    else total += e.ms;
    return { id: p.id, kind: p.kind, ms: e.ms, bound: e.bound, flops: p.flops, bytes: p.bytes };
  });
  return { steps, total, oneOff };
}

function dominant(steps: PredictedStep[]): string {
  const timed = steps.filter((s) => s.id !== 'rfft2d-kernel-cached');
  const total = timed.reduce((a, s) => a + s.ms, 0);
  const byKind = new Map<string, number>();
  for (const s of timed) byKind.set(s.kind, (byKind.get(s.kind) ?? 0) + s.ms);
  const [kind, ms] = [...byKind.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  const bounds = timed.filter((s) => s.kind === kind).map((s) => s.bound);
  const bound = bounds.includes('compute')
    ? 'compute-bound'
    : bounds.includes('memory')
      ? 'memory-bound'
      : 'overhead-bound';
  return `${KIND_LABEL[kind as PlannedStep['kind']] ?? kind} (${Math.round((100 * ms) / Math.max(total, 1e-12))} %, ${bound})`;
}

/**
 * `backend` picks the pipeline shape (matmul orientation) the optimized layer would use; `pass` 'train' prices
 * the training step (forward + each step's backward, the kernel spectrum made every step) instead of the forward.
 */
export function predict(
  spec: LayerSpec,
  device: DeviceProfile,
  backend = device.probe?.backend ?? 'tensorflow',
  pass: 'forward' | 'train' = 'forward',
): Prediction {
  const traits = traitsFor(backend);
  const steps = (p: PlannedStep[]) => (pass === 'train' ? trainingSteps(p) : p);
  const sp = price(steps(allSteps(planSpatialEquivalent(spec, traits))), device);
  const fp = price(steps(allSteps(planOptimized(spec, traits))), device);
  const winner = fp.total < sp.total ? 'spectral' : 'spatial';
  const be = specBreakEven(spec);
  const reasoning = [
    `spatial (${spec.kernelH}×${spec.kernelW} conv, the same function): ${fmtMs(sp.total)}, dominated by ${dominant(sp.steps)}`,
    `spectral (optimized FFT layer): ${fmtMs(fp.total)} per call, dominated by ${dominant(fp.steps)}; plus ${fmtMs(fp.oneOff)} once for the cached kernel spectrum`,
    `Mathieu et al. (arXiv 1312.5851): k²(n′/n)² = ${be.lhs.toFixed(1)} vs break-even ${be.thresholdHalf.toFixed(1)} with half spectra (${be.threshold.toFixed(1)} with full ones) — by arithmetic alone the FFT ${be.fftPays ? 'pays' : 'does not pay'}`,
    device.source === 'probe'
      ? `rates measured on this machine by the probe (${device.citation})`
      : `${device.source === 'table' ? 'datasheet peaks' : 'given peaks'} (${device.fp32Gflops / 1000} TFLOP/s FP32${device.tf32Gflops ? `, ${device.tf32Gflops / 1000} TFLOP/s TF32 for the convolution` : ''}, ${device.bandwidthGBs} GB/s): a lower bound on both times, uncalibrated`,
  ];
  return {
    device: device.name,
    deviceSource: device.source,
    spatialMs: sp.total,
    spectralMs: fp.total,
    winner,
    factor: winner === 'spectral' ? sp.total / fp.total : fp.total / sp.total,
    spatialSteps: sp.steps,
    spectralSteps: fp.steps,
    kernelTransformMs: fp.oneOff,
    breakEven: be,
    reasoning,
  };
}
