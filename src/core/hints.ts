/**
 * The hint engine: rules over (spec, run, cost model) that say what to change, each with the numbers
 * of this run it rests on, the expected gain (measured where the run has both sides, else from the
 * model) and the source it cites. A rule fires only when its evidence holds in this run. Host-free.
 *
 * Order: warnings (the comparison or the result is not what the user thinks) first, then by
 * expected gain in ms, then by severity.
 */
import { variantLabel } from './glossary';
import { pipelineOf } from './variants/step';
import { cite } from './citations';
import { fmtMs, fmtRatio } from './format';
import type { Analysis, Hint, Sweep } from './insight-schema';
import { formatBytes } from './memory';
import type { DeviceProfile } from './model';
import { predict } from './predict';
import type { Run, StepResult, VariantResult } from './run';
import { geometry, isFno } from './spec';
import { fnoHints } from './fno-model';

const MATHIEU = 'Mathieu, Henaff & LeCun, arXiv 1312.5851';

interface Ctx {
  run: Run;
  analysis?: Analysis;
  device?: DeviceProfile;
  sweep?: Sweep;
  v: (name: string) => VariantResult | undefined;
}

type Rule = (c: Ctx) => Hint | undefined;

const ok = (v: VariantResult | undefined) => (v && v.correct && v.totalMs.median > 0 ? v : undefined);
const step = (v: VariantResult | undefined, id: string): StepResult | undefined => v?.steps.find((s) => s.id === id);
const pct = (part: number, whole: number) => `${Math.round((100 * part) / whole)} %`;
const layerOf = (v: VariantResult) =>
  v.layerMs?.median ?? v.steps.filter((s) => s.inLayer && !s.oneOff).reduce((a, s) => a + s.median, 0);

function gain(
  ms: number | null,
  factor: number | null,
  basis: Hint['expectedGain']['basis'],
  text: string,
): Hint['expectedGain'] {
  return {
    ms: ms !== null && ms > 0 ? ms : null,
    factor: factor !== null && factor > 0 && Number.isFinite(factor) ? factor : null,
    basis,
    text,
  };
}

const unevenComparison: Rule = ({ run, v }) => {
  const spatial = ok(v('spatial'));
  const spectral = ok(v('optimized')) ?? ok(v('seed'));
  const { kernelH: kh, kernelW: kw, spatialKernel: k } = run.spec;
  if (!spatial || !spectral || kh * kw === k * k) return undefined;
  const eq = ok(v('spatial-equivalent'));
  const ratio = (kh * kw) / (k * k);
  return {
    id: 'uneven-comparison',
    severity: 'warning',
    title: `The ${k}×${k} Conv2D computes a different, ${fmtRatio(ratio)} ${ratio > 1 ? 'smaller' : 'larger'} function than the ${kh}×${kw} spectral layer`,
    evidence: `The spectral layers convolve with a ${kh}×${kw} kernel (${kh * kw} multiply-adds per output and channel pair); the Conv2D they are compared with has ${k}×${k} (${k * k}). Measured: Conv2D ${k}×${k} ${fmtMs(spatial.totalMs.median)}; ${variantLabel(spectral.name)} ${fmtMs(spectral.totalMs.median)}${eq ? `; the same ${kh}×${kw} function done spatially (spatial-equivalent) ${fmtMs(eq.totalMs.median)}` : ''}.`,
    suggestion: `Compare like with like: time the spectral layer against a Conv2D with the same ${kh}×${kw} kernel (the spatial-equivalent row), or, if a ${k}×${k} receptive field is what the model needs, use the ${k}×${k} Conv2D and drop the spectral layer.`,
    expectedGain: gain(
      null,
      null,
      'none',
      eq
        ? `a fair baseline: against it the spectral layer is ${eq.totalMs.median >= spectral.totalMs.median ? `${fmtRatio(eq.totalMs.median / spectral.totalMs.median)} faster` : `${fmtRatio(spectral.totalMs.median / eq.totalMs.median)} slower`}`
        : 'a fair baseline, not a speed-up',
    ),
    source: cite(['uneven'], 'mathieu'),
  };
};

const einsumLowering: Rule = ({ run, v }) => {
  const seed = ok(v('seed'));
  const e = step(seed, 'einsum');
  if (!seed || !e) return undefined;
  const layer = layerOf(seed);
  if (e.median < 0.05 * layer) return undefined;
  const g = geometry(run.spec);
  const F = g.fftH * g.freqW;
  const opt = ok(v('optimized'));
  const product = step(opt, 'multiply');
  const ci = run.spec.inChannels;
  const saved = product ? e.median - product.median : null;
  return {
    id: 'einsum-lowering',
    severity: 'suggestion',
    title:
      ci === 1
        ? "The einsum 'ijkl,jklo->ijko' is an outer product over every frequency (in-channels = 1)"
        : "The einsum 'ijkl,jklo->ijko' runs as transposes and tiny batched matmuls",
    evidence: `The einsum costs you ${fmtMs(e.median)} per call${product ? `; ${ci === 1 ? 'a broadcast product' : "optimized's frequency-major product"} does the same in ${fmtMs(product.median)}` : ''}. It is ${pct(e.median, layer)} of the question's layer, at ${(e.flops / (e.median * 1e6)).toFixed(2)} GFLOP/s: ${F} frequencies × a (${run.spec.batch}×${ci})·(${ci}×${run.spec.outChannels}) complex matmul each${ci === 1 ? ', K = 1: pure memory traffic' : ''}. Implementation here: ${e.implementation}.`,
    suggestion:
      ci === 1
        ? `With one input channel, multiply the spectra by broadcasting (X[b, f] · K[o, f]) instead of einsum; keep the frequency axis where the transform leaves it (as optimized does${product ? `: its product took ${fmtMs(product.median)}` : ''}).`
        : `Lay the spectra out frequency-major ((H·(W/2+1), batch, in) and (H·(W/2+1), in, out)) so the product is one batched matmul with no transposes${product ? ` (optimized: ${fmtMs(product.median)})` : ''}; Gauss's 3-multiplication form saves a quarter of the multiplies.`,
    expectedGain: gain(
      saved,
      saved !== null ? layer / Math.max(layer - saved, 1e-9) : null,
      saved !== null ? 'measured' : 'none',
      saved !== null
        ? `${fmtMs(saved)} per call (measured: einsum vs optimized's product)`
        : 'run the optimized variant to measure it',
    ),
    source: cite(['einsum']),
  };
};

const kernelPerCall: Rule = ({ v }) => {
  const seed = ok(v('seed'));
  const k = step(seed, 'rfft2d-kernel');
  if (!seed || !k || k.oneOff) return undefined;
  const pad = step(seed, 'pad-kernel');
  const ms = k.median + (pad?.median ?? 0);
  const layer = layerOf(seed);
  const cached = step(ok(v('optimized')), 'rfft2d-kernel-cached');
  // A training user cannot cache the spectrum: the kernel changes after every optimizer step.
  if (seed.train)
    return {
      id: 'kernel-spectrum-per-call',
      severity: 'info',
      title: 'The kernel spectrum is made on every call: in training, once per step, as it must be',
      evidence: `rfft2d(kernel)${pad ? ' + its padding' : ''}: ${fmtMs(ms)} of the forward${(() => {
        const b = seed.train.steps.find((s) => s.id === 'rfft2d-kernel.backward');
        return b ? ` and ${fmtMs(b.median)} of the backward` : '';
      })()} in each training step (${fmtMs(seed.train.totalMs.median)}).`,
      suggestion:
        'While the kernel trains its spectrum has to be made every step (a cached one is stale after the optimizer step): keep it, and cache it for inference only. To skip it in training, train the weights in the frequency domain, as an FNO does — a different parametrisation of the same function class, which changes initialisation and regularisation (a spectral weight is not initialised or decayed like a spatial kernel).',
      expectedGain: gain(null, null, 'none', 'none in training; at inference the transform is saved'),
      source: cite(['kernelPerCall'], 'mathieu'),
    };
  return {
    id: 'kernel-spectrum-per-call',
    severity: 'suggestion',
    title: 'The kernel spectrum is recomputed on every call',
    evidence: `rfft2d(kernel)${pad ? ' + its padding' : ''}: ${fmtMs(ms)} per call, ${pct(ms, layer)} of the layer as written — the weights did not change between calls.`,
    suggestion: `Transform the kernel once per weight update (training) or once at load (inference) and keep the spectrum${cached ? `; optimized does, ${fmtMs(cached.median)} once` : ''}. In Keras: compute it in build() or cache it keyed on the weights' version; in PyTorch: a cached buffer refreshed after optimizer.step().`,
    expectedGain: gain(ms, layer / Math.max(layer - ms, 1e-9), 'measured', `${fmtMs(ms)} per call`),
    source: cite(['kernelPerCall'], 'mathieu'),
  };
};

const complexTransposes: Rule = ({ v }) => {
  const seed = ok(v('seed'));
  if (!seed) return undefined;
  const ts = seed.steps.filter((s) => s.inLayer && !s.oneOff && s.name === 'transpose');
  const ms = ts.reduce((a, s) => a + s.median, 0);
  const layer = layerOf(seed);
  if (!ts.length || ms < 0.03 * layer) return undefined;
  const bytes = ts.reduce((a, s) => a + s.bytes, 0);
  return {
    id: 'complex-transposes',
    severity: 'suggestion',
    title: 'Transposes of complex tensors inside the layer',
    evidence: `${ts.map((s) => s.implementation.split(':')[0]).join('; ')}: ${fmtMs(ms)} per call (${pct(ms, layer)} of the layer), ${formatBytes(bytes)} read and written${ts[0]!.bytes / Math.max(ts[0]!.median, 1e-9) > 0 ? ` at ${(bytes / (ms * 1e6)).toFixed(1)} GB/s` : ''}; complex64 doubles the bytes of every copy.`,
    suggestion:
      'Store the kernel spectrum in the layout the product consumes (transpose once when caching it), and keep activations frequency-major between the transform and the product.',
    expectedGain: gain(ms, layer / Math.max(layer - ms, 1e-9), 'measured', `${fmtMs(ms)} per call`),
    source: cite(['einsum', 'complexBytes']),
  };
};

const rfftAxes: Rule = ({ run, v }) => {
  const seed = v('seed');
  const k = step(seed, 'rfft2d-kernel');
  if (!seed || !k) return undefined;
  const nhwc = run.spec.layout === 'NHWC';
  return {
    id: 'rfft2d-axes',
    severity: 'warning',
    title:
      'rfft2d transforms the innermost two axes: (W, out) on the (in, H, W, out) kernel' +
      (nhwc ? ', (W, C) on NHWC activations' : ''),
    evidence: `This run's kernel is stored (in, ${run.spec.kernelH}, ${run.spec.kernelW}, out) and its activations ${run.spec.layout}; to transform over (H, W) the profiler moves those axes last before every rfft2d (the layer's rfft2d(kernel) step includes that transpose: ${fmtMs(k.median)} per call). A plain tf.signal.rfft2d on them would transform the wrong axes and give a wrong layer, not a slow one.`,
    suggestion:
      'Transpose to channels-first before rfft2d (kernel to (in, out, H, W), activations to NCHW), or keep the layer channels-first throughout; in PyTorch pass dim=(-2, -1) on NCHW tensors.',
    expectedGain: gain(null, null, 'none', 'correctness, not speed'),
    source: cite(['rfftAxes']),
  };
};

const circular: Rule = ({ run, v, device }) => {
  if (run.spec.padding !== 'circular' || (run.spec.kernelH === 1 && run.spec.kernelW === 1)) return undefined;
  const spectral = ok(v('optimized')) ?? ok(v('seed'));
  if (!spectral || !v('spatial')) return undefined;
  const linear = { ...run.spec, padding: 'same' as const };
  const g = geometry(linear);
  let cost = '';
  if (device) {
    const now = predict(run.spec, device, pipelineOf(run)).spectralMs;
    const padded = predict(linear, device, pipelineOf(run)).spectralMs;
    cost = ` The model puts the padded layer at ${fmtMs(padded)} per call vs ${fmtMs(now)} now (${g.fftH}×${g.fftW} transforms instead of ${run.spec.height}×${run.spec.width}).`;
  }
  return {
    id: 'circular-not-linear',
    severity: 'warning',
    title: 'A plain product of spectra is a circular convolution, not what Conv2D computes',
    evidence: `The spectral layers here match ${run.geometry.describes} (max |error| ${spectral.maxAbsError.toExponential(1)} against it); a Conv2D with padding 'same' zero-pads instead, so outputs near the borders differ.${cost}`,
    suggestion: `Zero-pad the input to n + ⌈(k − 1)/2⌉ (${g.fftH}×${g.fftW}) — or n + k − 1 for the full linear result — before the transform and crop after the inverse. A profile with "same" padding shows what that costs (Custom layer…, or --padding same on the command line).`,
    expectedGain: gain(
      null,
      null,
      device ? 'model' : 'none',
      'correctness: the padding costs time, it does not save any',
    ),
    source: cite(['circular']),
  };
};

/**
 * Where the training step goes when its backward dominates: the variant the question is about (as written), its
 * backward's share of the training step and the step whose backward costs most.
 */
const backwardDominates: Rule = ({ v }) => {
  const seed = ok(v('seed')) ?? ok(v('fno'));
  const t = seed?.train;
  if (!seed || !t || !t.steps.length || t.totalMs.median <= 0) return undefined;
  const share = t.backwardMs.median / t.totalMs.median;
  if (share < 0.5) return undefined;
  const top = [...t.steps].sort((a, b) => b.median - a.median)[0]!;
  const topShare = top.median / t.totalMs.median;
  const opt = ok(v('optimized'))?.train;
  return {
    id: 'backward-dominates',
    severity: 'suggestion',
    title: `The backward is ${pct(t.backwardMs.median, t.totalMs.median)} of the training step; ${top.name} alone ${(100 * topShare).toFixed(0)} %`,
    evidence: `Training step of the layer as written ${fmtMs(t.totalMs.median)}: forward ${fmtMs(seed.totalMs.median)}, backward ${fmtMs(t.backwardMs.median)} (each step's backward measured as a step of its own); ${top.name} ${fmtMs(top.median)}.`,
    suggestion: `Timing the forward pass alone understates what training pays here. Cut the step whose backward dominates: a complex einsum's backward is two more contractions of the same shape (fold them into one batched GEMM over the frequencies, as optimized does), a transform's backward is its adjoint transform (a smaller FFT, or fewer of them).${opt ? ` Optimized trains in ${fmtMs(opt.totalMs.median)} per step here.` : ''}`,
    expectedGain: gain(
      opt ? t.totalMs.median - opt.totalMs.median : null,
      opt ? t.totalMs.median / opt.totalMs.median : null,
      opt ? 'measured' : 'none',
      opt
        ? `${fmtMs(t.totalMs.median - opt.totalMs.median)} per training step (measured: optimized)`
        : 'run the optimized variant to measure it',
    ),
    source: cite(['einsum']),
  };
};

const memoryBound: Rule = ({ run, analysis }) => {
  if (!analysis) return undefined;
  const spectral = run.variants.filter((x) => x.kind === 'spectral' && x.correct);
  const rows = analysis.steps.filter(
    (s) =>
      spectral.some((x) => x.name === s.variant) &&
      s.pass !== 'backward' &&
      s.inLayer &&
      !s.oneOff &&
      s.flops > 0 &&
      s.intensity < analysis.ridge &&
      s.bound === 'memory',
  );
  const big = rows
    .filter((s) => {
      const total = spectral.find((x) => x.name === s.variant)!.stepSumMs;
      return s.medianMs >= 0.1 * total;
    })
    .sort((a, b) => b.medianMs - a.medianMs);
  const top = big[0];
  if (!top) return undefined;
  const bw = analysis.device.bandwidthGBs;
  const floor = top.bytes / (bw * 1e6);
  return {
    id: 'memory-bound-steps',
    severity: 'info',
    title: `${variantLabel(top.variant)}'s ${top.name} is memory-bound: ${top.intensity.toFixed(2)} FLOP/byte, below the ridge of ${analysis.ridge.toFixed(1)}`,
    evidence:
      big
        .slice(0, 3)
        .map(
          (s) =>
            `${variantLabel(s.variant)} · ${s.name}: ${fmtMs(s.medianMs)}, ${s.intensity.toFixed(2)} FLOP/byte, ${s.achievedGBs.toFixed(1)} GB/s achieved`,
        )
        .join('; ') + ` (device: ${bw.toFixed(0)} GB/s, ${analysis.device.fp32Gflops.toFixed(0)} GFLOP/s).`,
    suggestion:
      "More FLOPs will not help here, fewer bytes will: keep spectra in half (Hermitian) form, fuse the product with the inverse transform's first pass, avoid materialising complex64 intermediates (they double the bytes of a float32 map).",
    expectedGain: gain(
      Math.max(0, top.medianMs - floor),
      null,
      'model',
      `at best ${fmtMs(floor)} for ${top.name} at full bandwidth (${formatBytes(top.bytes)} moved)`,
    ),
    source: cite(['complexBytes', 'roofline'], 'roofline'),
  };
};

const overheadBound: Rule = ({ run, analysis, v }) => {
  if (!analysis) return undefined;
  const worst = analysis.variants
    .map((m) => ({ ...m, v: ok(v(m.variant)) }))
    .filter((m) => m.v && m.modelMs > 0 && m.measuredMs > 2 * m.modelMs && m.measuredMs - m.modelMs > 0.05)
    .sort((a, b) => b.measuredMs - b.modelMs - (a.measuredMs - a.modelMs))[0];
  if (!worst || !worst.v) return undefined;
  const n = worst.v.steps.filter((s) => !s.oneOff).length;
  return {
    id: 'overhead-bound',
    severity: 'info',
    title: `${variantLabel(worst.variant)} takes ${fmtRatio(worst.measuredMs / worst.modelMs)} what its FLOPs and bytes explain`,
    evidence: `Measured ${fmtMs(worst.measuredMs)} end to end vs ${fmtMs(worst.modelMs)} from the calibrated model over its ${n} steps: ${fmtMs(worst.measuredMs - worst.modelMs)} goes to per-op overhead (dispatch, allocation, launches), small inefficient kernels or layout changes the model does not charge.`,
    suggestion:
      run.spec.layer === 'fno'
        ? 'Fewer, larger ops: one batched GEMM for every kept mode instead of an einsum per corner, no per-call weight permutes or zero-filled buffers; at small grids the per-op cost is most of the layer.'
        : 'Fewer, larger ops: batch the transforms of all channels into one call, fuse pad/transform/crop, and at small sizes prefer the single Conv2D kernel.',
    expectedGain: gain(
      worst.measuredMs - worst.modelMs,
      worst.measuredMs / worst.modelMs,
      'model',
      `up to ${fmtMs(worst.measuredMs - worst.modelMs)} if the layer ran at its model time`,
    ),
    source: cite(['launches', 'rulesOfThumb']),
  };
};

const crossover: Rule = ({ run, v, device, sweep }) => {
  const eq = ok(v('spatial-equivalent'));
  const opt = ok(v('optimized'));
  const k = Math.max(run.spec.kernelH, run.spec.kernelW);
  const cross = sweep?.crossovers.find(
    (c) => c.inChannels === run.spec.inChannels && c.outChannels === run.spec.outChannels,
  );
  let at: number | null | undefined = cross?.measured;
  let basis: 'measured' | 'model' = 'measured';
  if (!cross && device) {
    basis = 'model';
    const side = Math.min(run.spec.height, run.spec.width);
    at = null;
    for (let kk = side; kk >= 1; kk--) {
      const p = predict({ ...run.spec, kernelH: kk, kernelW: kk }, device, pipelineOf(run));
      if (p.winner === 'spectral') at = kk;
      else break;
    }
  }
  if (at === undefined || (!eq && !opt)) return undefined;
  const where =
    at === null
      ? `the spectral layer does not win at any kernel up to the image size (${run.spec.height}×${run.spec.width})`
      : `the spectral layer wins from k = ${at}`;
  const measured =
    eq && opt ? ` Here (k = ${k}): spatial ${fmtMs(eq.totalMs.median)} vs spectral ${fmtMs(opt.totalMs.median)}.` : '';
  const faster = eq && opt ? (opt.totalMs.median < eq.totalMs.median ? 'spectral' : 'spatial') : null;
  const saved = eq && opt ? Math.abs(eq.totalMs.median - opt.totalMs.median) : null;
  // What the crossover says about this very kernel size, and whether this run's own measurement agrees. When
  // they disagree the measurement at k wins the title, and the crossover is named as what it is (a sweep of
  // other cells, or the model): one hint never says "FFT never pays" and "keep FFT" at once.
  const crossSays = at !== null && k >= at ? 'spectral' : 'spatial';
  const disagree = faster !== null && faster !== crossSays;
  const basisWord = basis === 'measured' ? 'the sweep' : 'the model';
  const title = disagree
    ? faster === 'spectral'
      ? `FFT pays at k = ${k} here (measured), though ${basisWord} ${at === null ? 'puts it nowhere up to the image size' : `puts the crossover at k = ${at}`}`
      : `Spatial is faster at k = ${k} here (measured), though ${basisWord} puts the crossover at k = ${at}`
    : at === null
      ? `For ${run.spec.inChannels}→${run.spec.outChannels} channels at ${run.spec.height}×${run.spec.width}, FFT does not pay at any kernel size`
      : `FFT convolution pays from k = ${at} for this layer`;
  const caveat = disagree
    ? basis === 'model'
      ? ' The model is calibrated on this machine but misses effects this run measured (one-off packing, launch overheads, the engine’s kernels): trust the measurement at this k and sweep the others.'
      : ' The sweep measured neighbouring cells with fewer repetitions; this run measured this k itself.'
    : '';
  return {
    id: 'kernel-size-crossover',
    severity: 'suggestion',
    title,
    evidence: `${basis === 'measured' ? 'Sweep' : 'Calibrated model'}: ${where} (batch ${run.spec.batch}, ${run.spec.inChannels}→${run.spec.outChannels} channels, ${run.spec.padding}).${measured}${caveat}`,
    suggestion:
      faster === 'spectral'
        ? `Keep the spectral layer at k = ${k}${at !== null && at > 3 && at <= k ? `; below k = ${at} use Conv2D` : ''}.`
        : `Use Conv2D at k = ${k}${at !== null && at > k ? `; the FFT layer only pays from k = ${at}` : ''}. Rules of thumb: k = 3 → Winograd / implicit GEMM; 5 ≤ k ≤ 9 with ≥ 64 channels and batch ≥ 32 → try FFT; image-sized kernels → FFT.`,
    expectedGain: gain(
      saved,
      eq && opt
        ? Math.max(eq.totalMs.median, opt.totalMs.median) / Math.min(eq.totalMs.median, opt.totalMs.median)
        : null,
      saved !== null ? 'measured' : 'none',
      saved !== null ? `${fmtMs(saved)} per call by using the ${faster} form at this kernel size` : 'see the sweep',
    ),
    source: cite(['rulesOfThumb', 'breakEven'], 'mathieu'),
  };
};

const fewChannels: Rule = ({ run, analysis }) => {
  if (!analysis || run.spec.inChannels >= 16 || analysis.breakEven.fftPays) return undefined;
  const b = analysis.breakEven;
  const sum = b.terms.inputs + b.terms.outputs + b.terms.batch;
  if (b.terms.inputs < 0.5 * sum) return undefined;
  return {
    id: 'few-input-channels',
    severity: 'info',
    title: `With ${run.spec.inChannels} input channel${run.spec.inChannels > 1 ? 's' : ''} the input transforms are never amortised`,
    evidence: `Break-even (${MATHIEU}): k²(n′/n)² = ${b.lhs.toFixed(1)} must exceed ${b.thresholdHalf.toFixed(1)}; the 1/in-channels term alone contributes ${b.terms.inputs.toFixed(1)} of it (out-channels ${b.terms.outputs.toFixed(1)}, batch ${b.terms.batch.toFixed(1)}).`,
    suggestion:
      'Fewer than ~16 input channels: spatial convolution wins almost always, unless the kernel is image-sized. FFT pays in deeper layers with many channels.',
    expectedGain: gain(null, null, 'none', 'guidance on where FFT layers belong'),
    source: cite(['rulesOfThumb', 'breakEven'], 'mathieu'),
  };
};

const batchSize: Rule = ({ run, analysis }) => {
  if (!analysis) return undefined;
  const b = analysis.breakEven;
  const sum = b.terms.inputs + b.terms.outputs + b.terms.batch;
  if (b.terms.batch < 0.4 * sum) return undefined;
  const S2 = run.spec.batch * 8;
  const t2 = 2 + b.terms.inputs + b.terms.outputs + (b.terms.batch * run.spec.batch) / S2;
  return {
    id: 'batch-size',
    severity: 'info',
    title: `Batch ${run.spec.batch}: the kernel transforms are spread over too few images`,
    evidence: `The batch term of the break-even is ${b.terms.batch.toFixed(1)} of ${(2 + sum).toFixed(1)}; at batch ${S2} the threshold would fall to ${t2.toFixed(1)} (k²(n′/n)² here: ${b.lhs.toFixed(1)}).`,
    suggestion:
      'Profile at the batch you train or serve with; for batch-1 inference cache the kernel spectra (they are then free) or stay spatial.',
    expectedGain: gain(null, null, 'none', 'depends on the batch you run'),
    source: cite(['breakEven'], 'mathieu'),
  };
};

const tensorCores: Rule = ({ device }) => {
  if (!device || device.kind !== 'gpu' || !device.tf32Gflops || device.tf32Gflops <= 1.5 * device.fp32Gflops)
    return undefined;
  const r = device.tf32Gflops / device.fp32Gflops;
  return {
    id: 'tensor-cores',
    severity: 'info',
    title: `On ${device.name}, implicit-GEMM convolution runs on tensor cores ${r.toFixed(1)}x faster than FFT butterflies`,
    evidence: `${device.name}: ${device.tf32Gflops / 1000} TFLOP/s TF32 (tensor cores, what cuDNN's implicit GEMM uses) vs ${device.fp32Gflops / 1000} TFLOP/s FP32 (cuFFT's butterflies).`,
    suggestion: `The FFT's arithmetic saving must exceed ${r.toFixed(1)}x before it pays here — or do the DFT itself as GEMM on tensor cores (the FlashFFTConv approach), as the optimized layer's transforms do.`,
    expectedGain: gain(null, null, 'none', 'raises the break-even on this GPU'),
    source: cite(['tensorCores', 'roofline']),
  };
};

const cudnnAlgos: Rule = ({ run, device }) => {
  if (!device || device.kind !== 'gpu') return undefined;
  const { kernelH: kh, kernelW: kw, height: H, width: W } = run.spec;
  const pad = run.spec.padding === 'valid' ? 0 : Math.floor(Math.max(kh, kw) / 2);
  const fft = H + 2 * pad <= 256 && W + 2 * pad <= 256;
  const tiling = Math.max(kh, kw) <= 32;
  const wino = kh === 3 && kw === 3;
  const wnf = (kh === 3 && kw === 3) || (kh === 5 && kw === 5);
  return {
    id: 'cudnn-algorithms',
    severity: 'info',
    title: 'cuDNN has FFT convolution built in: let it choose before writing your own',
    evidence: `For ${H}×${W}, ${kh}×${kw}, stride 1: FFT ${fft ? 'applies' : 'does not (needs H + 2·pad ≤ 256 and W + 2·pad ≤ 256)'}${fft ? ' (NCHW, large workspace)' : ''}; FFT_TILING ${tiling ? 'applies' : 'does not (filter ≤ 32)'}; WINOGRAD ${wino ? 'applies' : 'does not (3×3 only)'}; WINOGRAD_NONFUSED ${wnf ? 'applies' : 'does not (3×3 or 5×5)'}.`,
    suggestion:
      'Enable autotuning (torch.backends.cudnn.benchmark = True; TF picks by autotune) and compare its choice with the FFT layer: cuDNN\'s FFT / FFT_TILING are the direct answer to "does FFT pay here".',
    expectedGain: gain(null, null, 'none', 'the library may already do it'),
    source: cite(['cudnn']),
  };
};

/** In the order they are tried (the result is ranked afterwards). */
export const RULES: readonly Rule[] = [
  unevenComparison,
  circular,
  rfftAxes,
  einsumLowering,
  kernelPerCall,
  backwardDominates,
  complexTransposes,
  memoryBound,
  overheadBound,
  crossover,
  fewChannels,
  batchSize,
  tensorCores,
  cudnnAlgos,
];

const SEVERITY_RANK: Record<Hint['severity'], number> = { warning: 0, suggestion: 1, info: 2 };

export function rankHints(hints: Hint[]): Hint[] {
  return [...hints].sort((a, b) => {
    const wa = a.severity === 'warning' ? 0 : 1,
      wb = b.severity === 'warning' ? 0 : 1;
    if (wa !== wb) return wa - wb;
    const ga = a.expectedGain.ms ?? -1,
      gb = b.expectedGain.ms ?? -1;
    if (ga !== gb) return gb - ga;
    return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
  });
}

export function hintsFor(run: Run, extra: { analysis?: Analysis; device?: DeviceProfile; sweep?: Sweep } = {}): Hint[] {
  if (isFno(run.spec)) {
    // The seed's rules (kernel sizes, Conv2D baselines, rfft axes, circular wrap-around) do not apply to an
    // FNO layer: periodic is intended and there is no spatial kernel. Its own rules, plus the roofline ones.
    const analysis = extra.analysis ?? run.analysis;
    const device = extra.device ?? analysis?.device;
    const v = (n: string) => run.variants.find((x) => x.name === n);
    const generic = [memoryBound, overheadBound]
      .map((r) => r({ run, analysis, device, sweep: undefined, v }))
      .filter((h): h is Hint => !!h);
    return rankHints([...fnoHints(run, { analysis, device }), ...generic]);
  }
  const ctx: Ctx = {
    run,
    analysis: extra.analysis ?? run.analysis,
    device: extra.device ?? extra.analysis?.device ?? run.analysis?.device,
    sweep: extra.sweep ?? run.sweep,
    v: (n) => run.variants.find((x) => x.name === n),
  };
  const out: Hint[] = [];
  for (const rule of RULES) {
    const h = rule(ctx);
    if (h) out.push(h);
  }
  return rankHints(out);
}
