/**
 * The cost model and the hints for FNO layers: each formulation priced step by step from its plan
 * (full vs partial transforms, einsum per corner vs one batched GEMM, the zero-filled out_ft), the modes
 * from which partial transforms stop paying, and what to change — each hint with this run's numbers.
 * Host-free.
 */
import { cite } from './citations';
import { fmtMs, fmtRatio } from './format';
import type { Analysis, FnoCrossover, FnoSweep, FnoSweepCell, Hint } from './insight-schema';
import { formatBytes } from './memory';
import { type DeviceProfile, estimateStep, ratesFor } from './model';
import type { Run, StepResult, VariantResult } from './run';
import { type LayerSpec, describeModes, fnoSpec, keptModes } from './spec';
import { type PlannedStep, pipelineOf, planFno, planOptimizedFno, trainingSteps, traitsFor } from './variants';

export interface FnoPrediction {
  fnoMs: number;
  optimizedMs: number;
  winner: 'fno' | 'optimized';
  /** Per-call transform time of each formulation (forward + inverse). */
  fnoTransformMs: number;
  optimizedTransformMs: number;
}

function priced(steps: PlannedStep[], device: DeviceProfile): { total: number; transforms: number } {
  const rates = ratesFor(device);
  let total = 0,
    transforms = 0;
  for (const s of steps) {
    if (s.oneOff) continue;
    const ms = estimateStep(s, rates).ms;
    total += ms;
    if (s.category === 'forward-transform' || s.category === 'inverse-transform') transforms += ms;
  }
  return { total, transforms };
}

/** Both FNO formulations priced on a device for the pipeline (`torch-cpu`, `wasm`, …) that would run them. */
/** `pass` 'train' prices the training step (forward + each step's backward, the weights re-laid out every step). */
export function predictFno(
  spec: LayerSpec,
  device: DeviceProfile,
  pipeline: string,
  pass: 'forward' | 'train' = 'forward',
): FnoPrediction {
  const t = traitsFor(pipeline);
  const steps = (p: { oneOff: PlannedStep[]; steps: PlannedStep[] }) =>
    pass === 'train' ? trainingSteps([...p.oneOff, ...p.steps]) : p.steps;
  const a = priced(steps(planFno(spec, t)), device);
  const b = priced(steps(planOptimizedFno(spec, t)), device);
  return {
    fnoMs: a.total,
    optimizedMs: b.total,
    winner: b.total < a.total ? 'optimized' : 'fno',
    fnoTransformMs: a.transforms,
    optimizedTransformMs: b.transforms,
  };
}

/**
 * The largest modes m (square, corners convention) up to which the partial transforms cost less than
 * the full ones on this device, by the model; null when they never do, the grid's limit when they always do.
 */
export function partialTransformLimit(spec: LayerSpec, device: DeviceProfile, pipeline: string): number | null {
  const maxM = Math.min(Math.floor(spec.height / 2), Math.floor(spec.width / 2) + 1);
  let last: number | null = null;
  for (let m = 1; m <= maxM; m++) {
    const s = fnoSpec({ ...spec, modes: [m, m], modesConvention: 'corners' });
    const p = predictFno(s, device, pipeline);
    if (p.optimizedTransformMs < p.fnoTransformMs) last = m;
    else break;
  }
  return last;
}

// ------------------------------------------------------------------------------------------------
// Hints

interface FnoCtx {
  run: Run;
  analysis?: Analysis;
  device?: DeviceProfile;
  v: (name: string) => VariantResult | undefined;
}

const ok = (v: VariantResult | undefined) => (v && v.correct && v.totalMs.median > 0 ? v : undefined);
const sum = (v: VariantResult | undefined, pred: (s: StepResult) => boolean) =>
  (v?.steps ?? []).filter((s) => !s.oneOff && pred(s)).reduce((a, s) => a + s.median, 0);
const isTransform = (s: StepResult) => s.category === 'forward-transform' || s.category === 'inverse-transform';
const gain = (ms: number | null, factor: number | null, basis: Hint['expectedGain']['basis'], text: string) => ({
  ms: ms !== null && ms > 0 ? ms : null,
  factor: factor !== null && factor > 0 && Number.isFinite(factor) ? factor : null,
  basis,
  text,
});
const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

type FnoRule = (c: FnoCtx) => Hint | undefined;

/** Partial transforms: compute only the kept columns over W and the kept rows over H. */
const partialTransforms: FnoRule = ({ run, v, device }) => {
  const fno = ok(v('fno'));
  if (!fno) return undefined;
  const spec = run.spec;
  const { rows: R, cols: C, count } = keptModes(spec);
  const V = Math.floor(spec.width / 2) + 1;
  const full = sum(fno, isTransform);
  const opt = ok(v('optimized'));
  const part = opt ? sum(opt, isTransform) : null;
  const limit = device ? partialTransformLimit(spec, device, pipelineOf(run)) : null;
  const maxM = Math.min(Math.floor(spec.height / 2), V);
  const limitText =
    limit === null
      ? ''
      : limit >= maxM
        ? ` By the model on this device partial transforms pay at every modes value up to the grid's limit (${maxM}).`
        : ` By the model on this device they pay up to modes ${limit} per corner on this grid (${((2 * limit * limit) / (spec.height * V)).toFixed(2)} of the spectrum kept), not beyond.`;
  const fraction = count / (spec.height * V);
  return {
    id: 'fno-partial-transforms',
    severity: part !== null && part < full ? 'suggestion' : 'info',
    title: `Only ${R}×${C} of the ${spec.height}×${V} modes are used: transform only those (${(100 * fraction).toFixed(0)} % of the spectrum)`,
    evidence:
      `The layer as written: its full rfft2 and irfft2: ${fmtMs(full)} per call (per-step medians; the layer end to end ${fmtMs(fno.totalMs.median)})` +
      (part !== null
        ? `; optimized's partial transforms (only the ${C} kept columns over W, only the ${R} kept rows over H) take ${fmtMs(part)}.`
        : '.') +
      limitText,
    suggestion: `Do the 2-D transform as two 1-D ones and drop what the layer throws away: x_ft = torch.fft.rfft(x, dim=-1)[..., :${C}]; then torch.fft.fft(x_ft, dim=-2) and keep the ${R} rows; on the way back torch.fft.ifft over H of the ${R} rows placed in an (…, ${spec.height}, ${C}) buffer and torch.fft.irfft(…, n=${spec.width}) (it zero-pads the missing columns itself).`,
    expectedGain:
      part !== null
        ? gain(
            full - part,
            full / Math.max(part, 1e-9),
            'measured',
            `${fmtMs(Math.max(0, full - part))} per call in the transforms`,
          )
        : gain(null, null, 'none', 'run the optimized variant to measure it'),
    source: cite(['fnoTransforms'], 'fno'),
  };
};

/** The two corner einsums → one batched GEMM over all kept modes, weights cached mode-major. */
const oneGemm: FnoRule = ({ run, v }) => {
  const fno = ok(v('fno'));
  const top = fno?.steps.find((s) => s.id === 'einsum-top');
  if (!fno || !top) return undefined;
  const bottom = fno.steps.find((s) => s.id === 'einsum-bottom');
  const einsums = top.median + (bottom?.median ?? 0);
  const opt = ok(v('optimized'));
  const mult = opt?.steps.find((s) => s.id === 'multiply');
  const layout = opt ? sum(opt, (s) => s.id === 'transpose-x' || s.id === 'transpose-y') : 0;
  const { count: M } = keptModes(run.spec);
  const gflops = (s: StepResult) => s.flops / (s.median * 1e6);
  const torch = run.engine === 'torch';
  return {
    id: 'fno-one-gemm',
    severity: mult && mult.median + layout < einsums ? 'suggestion' : 'info',
    title: `${bottom ? 'Two einsums' : 'One einsum'} over corner blocks → one batched GEMM over all ${M} modes`,
    evidence:
      `einsum('bixy,ioxy->boxy'): ${fmtMs(top.median)}${bottom ? ` + ${fmtMs(bottom.median)}` : ''} at ${gflops(top).toFixed(1)} GFLOP/s` +
      (torch
        ? ' — torch lowers it to bmm, permuting and copying the non-contiguous x_ft slice and the weights on every call'
        : '') +
      (mult
        ? `; optimized's one ${torch ? 'torch.bmm' : 'batched GEMM'} over all modes on weights cached mode-major: ${fmtMs(mult.median)} at ${gflops(mult).toFixed(1)} GFLOP/s, + ${fmtMs(layout)} of layout changes.`
        : '.'),
    suggestion: `Store the weights once as (modes, in, out) — one tensor for both corners — gather the kept modes of x_ft as (modes, batch, in) and call torch.bmm once (or torch.matmul); permute the result back. For the backward pass this is also one GEMM instead of ${bottom ? 'two' : 'one'} einsum graphs.`,
    expectedGain: mult
      ? gain(
          einsums - mult.median - layout,
          einsums / Math.max(mult.median + layout, 1e-9),
          'measured',
          `${fmtMs(Math.max(0, einsums - mult.median - layout))} per call (einsums vs one bmm and its layout changes)`,
        )
      : gain(null, null, 'none', 'run the optimized variant to measure it'),
    source: cite(['fnoEinsum'], 'fno'),
  };
};

/** The zero-filled out_ft: allocated and zeroed on every call, mostly zeros. */
const zeroBuffer: FnoRule = ({ run, v }) => {
  const fno = ok(v('fno'));
  const z = fno?.steps.find((s) => s.id === 'zeros-out-ft');
  const a = fno?.steps.find((s) => s.id === 'assign-modes');
  if (!fno || !z || !a) return undefined;
  const { batch: B, outChannels: Co, height: H, width: W } = run.spec;
  const V = Math.floor(W / 2) + 1;
  const { count } = keptModes(run.spec);
  const bytes = B * Co * H * V * 8;
  const both = z.median + a.median;
  return {
    id: 'fno-zero-buffer',
    severity: 'info',
    title: `out_ft: ${formatBytes(bytes)} allocated and zeroed per call, ${(100 * (1 - count / (H * V))).toFixed(0)} % of it stays zero`,
    evidence: `zeros(out_ft) ${fmtMs(z.median)} + slice-assignment ${fmtMs(a.median)} = ${fmtMs(both)} of the layer's ${fmtMs(fno.totalMs.median)} as written (${((100 * both) / fno.totalMs.median).toFixed(0)} %); the irfft2 that follows then transforms all ${H}×${V} modes, zeros included.`,
    suggestion: `Skip the full-size buffer: with partial inverse transforms only a (batch, out, ${H}, kept columns) buffer is needed, and irfft(…, n=${W}) pads the columns itself. In inference you can also keep one out_ft per batch size (a buffer): the modes outside the kept blocks stay zero, so each call only writes the blocks.`,
    expectedGain: gain(both, null, 'measured', `up to ${fmtMs(both)} per call (the zero-fill and the assignment)`),
    source: cite(['fnoZeroBuffer'], 'fno'),
  };
};

/** Half precision: cuFFT half needs power-of-two sizes; complex32 einsum does not exist. */
const halfPrecision: FnoRule = ({ run }) => {
  const { height: H, width: W } = run.spec;
  const both = pow2(H) && pow2(W);
  return {
    id: 'fno-half-precision',
    severity: 'info',
    title: both
      ? `fp16 / AMP: ${H}×${W} is a power of two, so cuFFT can transform in half — the channel mixing cannot`
      : `fp16 / AMP: cuFFT cannot transform ${H}×${W} in half precision (sizes must be powers of two)`,
    evidence: `This run is float32. Under torch.autocast the FFTs of a half tensor go to cuFFT's half-precision path, which only takes power-of-two sizes (${H}×${W}: ${both ? 'yes' : 'no'}); torch.einsum and torch.bmm have no complex32 kernels, so the product of spectra runs in complex64 anyway (an upcast per call) or must be written as real-pair products.`,
    suggestion: both
      ? 'Under AMP keep the spectral layer in float32 (autocast(enabled=False) around it) unless you measure a gain; if you go half, do the channel mixing as real-pair GEMMs (Re/Im as separate half tensors) and check the error.'
      : `Keep the spectral layer in float32 under AMP, or pad the grid to ${2 ** Math.ceil(Math.log2(H))}×${2 ** Math.ceil(Math.log2(W))} if you need half-precision transforms.`,
    expectedGain: gain(null, null, 'none', 'avoids a failing or silently upcast half-precision layer'),
    source: cite(['fnoHalf']),
  };
};

/** What `modes` means: corners (original code) vs centred (neuraloperator's n_modes). */
const modesConvention: FnoRule = ({ run }) => {
  const spec = run.spec;
  const [m1, m2] = spec.modes ?? [0, 0];
  const k = keptModes(spec);
  const other = fnoSpec({
    ...spec,
    modes: [m1, m2],
    modesConvention: spec.modesConvention === 'centered' ? 'corners' : 'centered',
  });
  const ko = keptModes(other);
  const ratio = k.count / ko.count;
  const centered = spec.modesConvention === 'centered';
  return {
    id: 'fno-modes-convention',
    severity: 'info',
    title: `modes ${m1}×${m2} here keep ${k.rows}×${k.cols} = ${k.count} coefficients; in the other convention the same numbers keep ${ko.count}`,
    evidence: `${describeModes(spec)}. ${centered ? "neuraloperator's n_modes" : 'The original FNO code (modes per corner)'} → ${k.rows}×${k.cols}; ${centered ? 'the original code with modes1 = ' + m1 + ', modes2 = ' + m2 : `neuraloperator with n_modes = (${m1}, ${m2})`} → ${ko.rows}×${ko.cols} (${fmtRatio(ratio >= 1 ? ratio : 1 / ratio)} ${ratio >= 1 ? 'fewer' : 'more'} weights and FLOPs in the product).`,
    suggestion: `When porting a configuration between the two codes, convert: corners modes m ↔ n_modes ≈ 2·m (rows) and 2·(m − 1) (columns). Profile with the ${centered ? 'centred' : 'corners'} convention to match the code you run (on the command line: --modes-convention ${centered ? 'centered' : 'corners'}).`,
    expectedGain: gain(null, null, 'none', 'the layer you meant to train'),
    source: cite(['fnoModes'], 'fno'),
  };
};

const FNO_RULES: FnoRule[] = [partialTransforms, oneGemm, zeroBuffer, halfPrecision, modesConvention];

export function fnoHints(run: Run, extra: { analysis?: Analysis; device?: DeviceProfile }): Hint[] {
  const ctx: FnoCtx = {
    run,
    analysis: extra.analysis,
    device: extra.device,
    v: (n) => run.variants.find((x) => x.name === n),
  };
  return FNO_RULES.map((r) => r(ctx)).filter((h): h is Hint => !!h);
}

// ------------------------------------------------------------------------------------------------
// The modes sweep

export const DEFAULT_FNO_MODES = [4, 8, 12, 16, 24, 32] as const;

/** The largest modes a grid allows in a convention. */
export function maxModes(height: number, width: number, convention: 'corners' | 'centered' = 'corners'): number {
  return convention === 'corners'
    ? Math.min(Math.floor(height / 2), Math.floor(width / 2) + 1)
    : Math.min(height, width);
}

/** The swept modes of one grid: the list clipped to what the grid allows. */
export function sweepModes(
  modes: readonly number[],
  height: number,
  width: number,
  convention: 'corners' | 'centered',
): number[] {
  const max = maxModes(height, width, convention);
  return [...new Set(modes.filter((m) => m >= 1 && m <= max))].sort((a, b) => a - b);
}

/** "32,64" or "64x64,128x96" → grids. */
export function parseGrids(text: string): Array<{ height: number; width: number }> {
  return text.split(',').map((g) => {
    const m = /^\s*(\d+)(?:\s*[x×]\s*(\d+))?\s*$/.exec(g);
    if (!m || Number(m[1]) < 2 || (m[2] !== undefined && Number(m[2]) < 2))
      throw new Error(`grids must be sizes like 64 or 64x128, at least 2, got "${g.trim()}"`);
    return { height: Number(m[1]), width: Number(m[2] ?? m[1]) };
  });
}

export function parseModesList(text: string): number[] {
  return text.split(',').map((t) => {
    const v = t.trim();
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw new Error(`modes must be positive whole numbers like 4,8,12, got "${v}"`);
    return Number(v);
  });
}

function fnoCrossoverOf(cells: FnoSweepCell[], winner: (c: FnoSweepCell) => 'fno' | 'optimized' | null): number | null {
  const sorted = cells.filter((c) => winner(c) !== null).sort((a, b) => a.modes - b.modes);
  let m: number | null = null;
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (winner(sorted[i]!) === 'fno') m = sorted[i]!.modes;
    else break;
  }
  return m;
}

export function fnoCrossovers(cells: FnoSweepCell[], grids: Array<{ height: number; width: number }>): FnoCrossover[] {
  return grids.map((g) => {
    const mine = cells.filter((c) => c.height === g.height && c.width === g.width);
    return {
      ...g,
      measured: fnoCrossoverOf(mine, (c) => c.measuredWinner),
      predicted: fnoCrossoverOf(mine, (c) => c.predictedWinner),
    };
  });
}

/** Cells whose two measured times differ by less than this fraction are ties: run-to-run noise decides them. */
export const TIE_FRACTION = 0.05;

/**
 * How often the model picked the measured winner of a modes sweep: over every measured cell, and over
 * the decided ones (the two formulations more than 5 % apart; closer is within run-to-run noise here).
 */
export function fnoAgreement(sw: Pick<FnoSweep, 'cells'>): {
  agree: number;
  measured: number;
  decided: number;
  agreeDecided: number;
} {
  const done = sw.cells.filter((c) => c.measuredWinner);
  const isDecided = (c: FnoSweepCell) =>
    c.fnoMs !== null &&
    c.optimizedMs !== null &&
    Math.abs(c.fnoMs - c.optimizedMs) > TIE_FRACTION * Math.min(c.fnoMs, c.optimizedMs);
  const decided = done.filter(isDecided);
  const right = (c: FnoSweepCell) => c.predictedWinner === c.measuredWinner;
  return {
    agree: done.filter(right).length,
    measured: done.length,
    decided: decided.length,
    agreeDecided: decided.filter(right).length,
  };
}

/** The crossover of one grid in words. */
export function fnoCrossoverText(sw: Pick<FnoSweep, 'cells' | 'modes'>, x: FnoCrossover): string {
  const mine = sw.cells.filter((c) => c.height === x.height && c.width === x.width && c.measuredWinner);
  if (!mine.length) return 'not measured';
  if (x.measured === null)
    return `optimized wins at every measured modes value (${mine.map((c) => c.modes).join(', ')})`;
  const below = mine.filter((c) => c.modes < x.measured!);
  return below.length
    ? `optimized wins up to modes ${Math.max(...below.map((c) => c.modes))}, the layer as written from modes ${x.measured}`
    : `the layer as written wins at every measured modes value`;
}

export function formatFnoSweepText(sw: FnoSweep): string {
  const out: string[] = [];
  const ms = (v: number | null) => (v === null ? '—' : fmtMs(v));
  out.push(
    `FNO modes sweep${sw.pass === 'train' ? ' (the training step: forward + backward, measured and modelled)' : ''} — batch ${sw.base.batch}, ${sw.base.inChannels}→${sw.base.outChannels} channels, ${sw.base.modesConvention} modes, on ${sw.engine}/${sw.backend} (${sw.device}); ${sw.settings.warmup} warm-up, ${sw.settings.reps} reps per cell`,
  );
  out.push('  grid      modes        fno  optimized   model fno / optimized    winner (measured / model)');
  for (const c of sw.cells)
    out.push(
      `  ${`${c.height}×${c.width}`.padEnd(8)} ${String(c.modes).padStart(5)} ${ms(c.fnoMs).padStart(10)} ${ms(c.optimizedMs).padStart(10)}   ${`${fmtMs(c.predictedFnoMs)} / ${fmtMs(c.predictedOptimizedMs)}`.padEnd(22)} ${c.measuredWinner ?? '—'} / ${c.predictedWinner}${c.note ? ` — ${c.note}` : ''}`,
    );
  for (const x of sw.crossovers)
    out.push(
      `Crossover on ${x.height}×${x.width}: ${fnoCrossoverText(sw, x)}; by the model: ${x.predicted === null ? 'optimized throughout' : `fno from modes ${x.predicted}`}.`,
    );
  const a = fnoAgreement(sw);
  if (a.measured)
    out.push(
      `Model picked the measured winner in ${a.agree} of ${a.measured} cells (${Math.round((100 * a.agree) / a.measured)} %); in ${a.agreeDecided} of the ${a.decided} cells where the two differ by more than ${100 * TIE_FRACTION} % (closer is run-to-run noise).`,
    );
  return out.join('\n');
}
