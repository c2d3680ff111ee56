/** Plain-text rendering of a run for the terminal, and the verdict every view shows. Host-free. */
import { formatBytes } from './memory';
import { variantLabel } from './glossary';
import type { Run, VariantResult } from './run';
import { TIMING_LABELS } from './run';
import type { Sweep } from './insight-schema';
import { describeSpec } from './spec';
import { gainLine, gainsOf } from './gains';
import { confusion, measuredCrossoverText } from './sweep';
import { fmtMs, fmtRatio } from './units';
import { COMPILED_TIMING, compiledGain, compiledLine } from './compiled';
import type { PHASES } from './phases';

export { fmtMs, fmtRatio };

export interface Verdict {
  headline: string;
  lines: string[];
  fastest?: string;
}

function find(run: Run, name: string): VariantResult | undefined {
  return run.variants.find((v) => v.name === name);
}

/**
 * The engine and framework a run's numbers hold for, in words: "PyTorch 1.13 on cpu (1 thread)",
 * "tfjs/wasm", "the native CUDA engine". Every verdict and hint names it: a verdict on one engine is not
 * a rule for another.
 */
export function engineLabel(run: Pick<Run, 'engine' | 'backend' | 'framework'>, short = false): string {
  const f = run.framework;
  if (f?.name === 'torch') {
    const version = short ? f.version.replace(/^(\d+\.\d+).*/, '$1') : f.version;
    return `PyTorch ${version} on ${f.device}${!short && f.threads ? ` (${f.threads} thread${f.threads === 1 ? '' : 's'})` : ''}`;
  }
  if (run.engine === 'cuda') return short ? 'CUDA engine' : 'the native CUDA engine (cuFFT, cuBLAS, cuDNN)';
  return `${run.engine}/${run.backend}`;
}

/**
 * What the question's Keras layer is on an engine that is not TensorFlow: the same ops re-created in that
 * framework, not the user's code as written (profile-layer on TensorFlow runs that). Undefined on TensorFlow and
 * for every other variant.
 */
export function recreatedNote(run: Pick<Run, 'engine' | 'backend' | 'framework'>, variant: string): string | undefined {
  if (variant !== 'seed' || run.engine === 'tensorflow') return undefined;
  const fw =
    run.framework?.name === 'torch'
      ? 'PyTorch'
      : run.engine === 'cuda'
        ? 'CUDA (cuFFT, cuBLAS)'
        : `tfjs/${run.backend}`;
  return `the question's Keras layer re-created in ${fw}: the same ops, not your file as written (Profile this layer runs that, on TensorFlow)`;
}

/**
 * The training step's headline and its comparisons (forward figures beside them): which variant trains fastest,
 * and the question's own comparison — its layer against Conv2D 3×3, forward and training step.
 */
function trainingHeadline(
  run: Run,
  trained: VariantResult[],
  on: string,
): { headline: string; lines: string[] } | undefined {
  if (!trained.length) return undefined;
  const ms = (v: VariantResult) => v.train!.totalMs.median;
  const sorted = [...trained].sort((a, b) => ms(a) - ms(b));
  const best = sorted[0]!;
  const second = sorted[1];
  const headline = second
    ? `${on}training step (forward + backward): ${variantLabel(best.name)} is fastest, ${fmtMs(ms(best))}, ${fmtRatio(ms(second) / ms(best))} faster than ${variantLabel(second.name)} (${fmtMs(ms(second))}); forward alone ${fmtMs(best.totalMs.median)} and ${fmtMs(second.totalMs.median)}.`
    : `${on}training step (forward + backward) of ${variantLabel(best.name)}: ${fmtMs(ms(best))} (forward ${fmtMs(best.totalMs.median)}).`;
  const lines: string[] = [];
  const seed = trained.find((v) => v.name === 'seed' || v.name === 'fno');
  const spatial = trained.find((v) => v.name === 'spatial');
  if (seed && spatial) {
    const rt = ms(seed) / ms(spatial);
    const rf = seed.totalMs.median / spatial.totalMs.median;
    const say = (r: number) => (r >= 1 ? `${fmtRatio(r)} slower` : `${fmtRatio(1 / r)} faster`);
    lines.push(
      `The question's comparison, training: as written ${fmtMs(ms(seed))} vs Conv2D ${run.spec.spatialKernel}×${run.spec.spatialKernel} ${fmtMs(ms(spatial))} per training step — ${say(rt)} (forward alone ${say(rf)}); its backward is ${fmtRatio(seed.train!.backwardMs.median / Math.max(seed.totalMs.median, 1e-9))} its forward.`,
    );
  }
  const opt = trained.find((v) => v.name === 'optimized');
  if (seed && opt) {
    const r = ms(seed) / ms(opt);
    lines.push(
      `Training step, better formulation: optimized ${fmtMs(ms(opt))} vs as written ${fmtMs(ms(seed))} — optimized is ${r >= 1 ? `${fmtRatio(r)} faster` : `${fmtRatio(1 / r)} slower`} (its kernel spectrum made on every step: it cannot be cached while the kernel trains).`,
    );
  }
  return { headline, lines };
}

/** Which variant is fastest end to end, by how much, and the comparisons that answer the seed's question. */
/** Whether two timings' p10–p90 ranges overlap: no direction can be stated between them at this noise. */
export function rangesOverlap(a: { p10: number; p90: number }, b: { p10: number; p90: number }): boolean {
  return a.p10 <= b.p90 && b.p10 <= a.p90;
}

export function verdict(run: Run): Verdict {
  const lines: string[] = [];
  const ok = run.variants.filter((v) => v.correct && Number.isFinite(v.totalMs.median));
  if (run.status === 'cancelled')
    lines.push(
      `Run cancelled: this report holds the ${run.variants.length} variant${run.variants.length === 1 ? '' : 's'} measured before the cancel.`,
    );
  if (run.status === 'failed' && run.failure) lines.push(`Run failed: ${run.failure}`);
  const wrong = run.variants.filter((v) => !v.correct);
  for (const v of wrong)
    lines.push(
      `${variantLabel(v.name)} does NOT match its reference: max |error| ${v.maxAbsError.toExponential(2)} > tolerance ${v.tolerance.toExponential(2)}.`,
    );
  if (!ok.length) return { headline: 'No variant completed correctly.', lines };
  const sorted = [...ok].sort((a, b) => a.totalMs.median - b.totalMs.median);
  const best = sorted[0]!;
  const second = sorted[1];
  const on = `On ${engineLabel(run)}: `;
  // The training step leads when it was measured: it is what a user training the layer pays.
  const trained = ok.filter((v) => v.train && v.train.gradients.every((g) => g.correct));
  const trainHeadline = trainingHeadline(run, trained, on);
  if (trainHeadline) lines.push(...trainHeadline.lines);
  const spread = (s: { median: number; p10: number; p90: number }) =>
    `${fmtMs(s.median)} (p10–p90 ${fmtMs(s.p10)}–${fmtMs(s.p90)})`;
  const headline = trainHeadline
    ? trainHeadline.headline
    : second && rangesOverlap(best.totalMs, second.totalMs)
      ? `${on}no measurable difference at this noise between ${variantLabel(best.name)} ${spread(best.totalMs)} and ${variantLabel(second.name)} ${spread(second.totalMs)} end to end: their p10–p90 ranges overlap.`
      : second
        ? `${on}${variantLabel(best.name)} is fastest end to end: ${fmtMs(best.totalMs.median)}, ${fmtRatio(second.totalMs.median / best.totalMs.median)} faster than ${variantLabel(second.name)} (${fmtMs(second.totalMs.median)}).`
        : `${on}${variantLabel(best.name)}: ${fmtMs(best.totalMs.median)} end to end.`;
  const pair = (a: string, b: string, what: string) => {
    const va = find(run, a);
    const vb = find(run, b);
    if (!va || !vb || !ok.includes(va) || !ok.includes(vb)) return;
    const r = vb.totalMs.median / va.totalMs.median;
    // A direction only when the two p10–p90 ranges are apart (else the next run may say the opposite).
    lines.push(
      rangesOverlap(va.totalMs, vb.totalMs)
        ? `${what}: ${variantLabel(a)} ${spread(va.totalMs)} vs ${variantLabel(b)} ${spread(vb.totalMs)} — no measurable difference at this noise (the ranges overlap).`
        : `${what}: ${variantLabel(a)} ${fmtMs(va.totalMs.median)} vs ${variantLabel(b)} ${fmtMs(vb.totalMs.median)} — ${variantLabel(a)} is ${r >= 1 ? `${fmtRatio(r)} faster` : `${fmtRatio(1 / r)} slower`}.`,
    );
  };
  pair('optimized', 'seed', 'Same function, better formulation');
  pair('optimized', 'fno', 'Same FNO layer, better formulation');
  pair(
    'optimized',
    'spatial-equivalent',
    run.spec.layer === 'fno'
      ? `Same function as a spatial convolution (${run.spec.kernelH}×${run.spec.kernelW} circular kernel)`
      : `Same function (${run.spec.kernelH}×${run.spec.kernelW} kernel), spectral vs spatial`,
  );
  if (run.spec.layer === 'fno' && !find(run, 'spatial-equivalent'))
    lines.push(
      `Checked against the naive direct convolution with the equivalent ${run.spec.kernelH}×${run.spec.kernelW} kernel (sampled outputs); spatial-equivalent was not run: add it to the variants to measure it (the fourierConv.variants setting; on the command line --variants spatial-equivalent,fno,optimized).`,
    );
  const compiled = compiledVerdict(run);
  if (compiled) lines.push(compiled);
  // Where the difference comes from, by step category (the layer's own gain vs the steps around it).
  for (const g of gainsOf(run)) lines.push(`Where it goes: ${gainLine(g)}.`);
  const seed = find(run, 'seed');
  const spatial = find(run, 'spatial');
  if (seed?.layerMs && spatial && ok.includes(seed) && ok.includes(spatial)) {
    const r = seed.layerMs.median / spatial.totalMs.median;
    lines.push(
      `The question's comparison: its layer alone (${fmtMs(seed.layerMs.median)}, input already in the Fourier domain) vs Conv2D ${run.spec.spatialKernel}×${run.spec.spatialKernel} (${fmtMs(spatial.totalMs.median)}): ${r >= 1 ? `${fmtRatio(r)} slower` : `${fmtRatio(1 / r)} faster`} — but the two compute different functions (${run.spec.kernelH}×${run.spec.kernelW} vs ${run.spec.spatialKernel}×${run.spec.spatialKernel} kernel).`,
    );
  }
  for (const v of ok) {
    const wide = wideSpread(v.totalMs);
    if (wide)
      lines.push(
        `Wide spread: ${variantLabel(v.name)}'s ${wide} — some runs were slowed (a busy machine, a clock change); its median stands, but rerun (or raise the repetitions) before trusting a close call.`,
      );
  }
  return { headline, lines, fastest: best.name };
}

/**
 * A spread large enough to say: the p90 at least twice the median and 50 µs above it. Returns the words for it
 * ("p90 17.0 ms against a 300 µs median"), or undefined.
 */
export function wideSpread(s: { median: number; p90: number }): string | undefined {
  return s.p90 >= 2 * s.median && s.p90 - s.median >= 0.05
    ? `p90 ${fmtMs(s.p90)} against a ${fmtMs(s.median)} median`
    : undefined;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The terminal table: per variant and step, median, p10–p90, share, timing source, implementation. */
export function formatRunText(run: Run): string {
  const out: string[] = [];
  out.push(`fconv profile — ${describeSpec(run.spec)}`);
  out.push(`engine ${run.engine}, backend ${run.backend}, device: ${run.device}`);
  for (const n of run.engineNotes) out.push(`  · ${n}`);
  out.push(`spectral layers compute: ${run.geometry.describes}`);
  out.push(`timing: ${run.timingNote}`);
  out.push('');
  for (const v of run.variants) {
    const check = v.correct ? 'ok' : 'MISMATCH';
    const layer = v.layerMs ? `, layer only ${fmtMs(v.layerMs.median)}` : '';
    const first = v.firstCallMs !== undefined ? `, first call ${fmtMs(v.firstCallMs)}` : '';
    const faults = v.minorFaultsPerCall !== undefined ? `, ${fmtFaults(v.minorFaultsPerCall)} page faults/call` : '';
    const memory = v.peakMemoryBytes !== undefined ? `, ${peakMemoryText(v)}` : '';
    const cross =
      v.crosscheckMs !== undefined
        ? `, torch.utils.benchmark ${fmtMs(v.crosscheckMs)} (${(((v.totalMs.median - v.crosscheckMs) / v.crosscheckMs) * 100).toFixed(0)} %)`
        : '';
    const recreated = recreatedNote(run, v.name);
    if (recreated) out.push(`${v.name}: ${recreated}`);
    out.push(
      `${v.name} · ${v.title} — end to end ${fmtMs(v.totalMs.median)} (p10–p90 ${fmtMs(v.totalMs.p10)}–${fmtMs(v.totalMs.p90)}, ${v.totalMs.reps} reps)${layer}${first}${faults}${memory}${cross}; ` +
        `max |err| ${v.maxAbsError.toExponential(2)} vs ${v.reference} [${check}]`,
    );
    out.push(
      `  ${pad('step', 26)} ${pad('median', 9, true)} ${pad('p10–p90', 19, true)} ${pad('share', 6, true)}  ${pad('timing', 24)} implementation`,
    );
    for (const s of v.steps) {
      const share = s.oneOff ? 'once' : `${((100 * s.median) / v.stepSumMs).toFixed(0)}%`;
      const name = (s.inLayer ? '' : s.oneOff ? '' : '· ') + s.name;
      out.push(
        `  ${pad(name, 26)} ${pad(fmtMs(s.median), 9, true)} ${pad(`${fmtMs(s.p10)}–${fmtMs(s.p90)}`, 19, true)} ${pad(share, 6, true)}  ${pad(TIMING_LABELS[s.timing], 24)} ${clip(s.implementation, 110)}`,
      );
    }
    const t = v.train;
    if (t) {
      const grads = t.gradients.length
        ? `; gradients ${t.gradients.map((g) => `${g.name} max |err| ${g.maxAbsError.toExponential(2)} [${g.correct ? 'ok' : 'MISMATCH'}]${t.gradients.some((x) => x.reference !== g.reference) ? ` vs ${g.reference}` : ''}`).join(', ')}${t.gradients.every((x) => x.reference === t.gradients[0]!.reference) ? ` vs ${t.gradients[0]!.reference}` : ''}`
        : '';
      out.push(
        `  training step (forward + backward of sum(output ⊙ R)): ${fmtMs(t.totalMs.median)} (p10–p90 ${fmtMs(t.totalMs.p10)}–${fmtMs(t.totalMs.p90)}, ${t.totalMs.reps} reps), backward ${fmtMs(t.backwardMs.median)}${grads}`,
      );
      for (const n of t.notes) out.push(`    · ${n}`);
      for (const s of t.steps) {
        const share = t.backwardStepSumMs > 0 ? `${((100 * s.median) / t.backwardStepSumMs).toFixed(0)}%` : '—';
        out.push(
          `  ${pad(`↩ ${s.name}`, 26)} ${pad(fmtMs(s.median), 9, true)} ${pad(`${fmtMs(s.p10)}–${fmtMs(s.p90)}`, 19, true)} ${pad(share, 6, true)}  ${pad(TIMING_LABELS[s.timing], 24)} backward (VJP)`,
        );
      }
    }
    const compiled = compiledRunLine(v);
    if (compiled) out.push(`  ${compiled}${v.compiled?.forward ? ` (${COMPILED_TIMING})` : ''}`);
    out.push('');
  }
  out.push(
    '· = outside the layer (input transform, or the inverse transform back to the spatial domain); once = cached, not in the totals.',
  );
  out.push('Implementations are cut at 110 characters here; report.html and report.json have them whole.');
  const vd = verdict(run);
  out.push('');
  out.push(`Verdict: ${vd.headline}`);
  for (const l of vd.lines) out.push(`  ${l}`);
  return out.join('\n');
}

/**
 * `--compile` in the verdict: does torch.compile of the layer as written help, against eager in the same rounds,
 * and against the optimized formulation (timed in its own pass: its end to end).
 */
function compiledVerdict(run: Run): string | undefined {
  const v = run.variants.find((x) => x.compiled?.forward && x.compiled.eagerForward);
  if (!v) return undefined;
  const c = v.compiled!;
  const comp = c.forward!;
  const eager = c.eagerForward!;
  const effectOf = (e: typeof eager, x: typeof comp) => {
    const r = compiledGain(e, x);
    if (r === undefined) return 'no measurable difference from eager';
    return r >= 1 ? `${fmtRatio(r)} faster than eager` : `${fmtRatio(1 / r)} slower than eager`;
  };
  const effect = effectOf(eager, comp);
  const train =
    c.train && c.eagerTrain
      ? `; training step ${fmtMs(c.train.median)} against ${fmtMs(c.eagerTrain.median)}, ${effectOf(c.eagerTrain, c.train)}`
      : '';
  // Each gain within its own measurement: compile against eager in its rounds, optimized against the layer as
  // written in the profile's pass (the two ran apart; a busier machine in one would skew absolute times).
  const opt = find(run, 'optimized');
  const rc = eager.median / comp.median;
  const ro = opt && opt.correct && v.correct ? v.totalMs.median / opt.totalMs.median : undefined;
  const vsOpt =
    ro === undefined
      ? ''
      : `; the optimized formulation ${ro > rc ? 'gains more' : 'gains less'}: ${fmtRatio(ro)} ${ro >= 1 ? 'faster' : 'slower'} than the layer as written end to end (${fmtMs(opt!.totalMs.median)} vs ${fmtMs(v.totalMs.median)})`;
  const apartPace =
    Math.abs(eager.median / v.totalMs.median - 1) > 0.25
      ? ` The compile rounds ran at another pace than the profile's pass (eager ${fmtMs(eager.median)} there, ${fmtMs(v.totalMs.median)} end to end — a busier machine): compare within each pair.`
      : '';
  return `torch.compile of the layer as written: forward ${fmtMs(comp.median)} against ${fmtMs(eager.median)} eager in the same rounds, ${effect}${train}, after ${fmtMs((c.compileMs ?? 0) + (c.compileTrainMs ?? 0))} of compiling${vsOpt}.${apartPace}`;
}

/** The `--compile` row of a variant as written, in one line (or undefined when it has none). */
export function compiledRunLine(v: Pick<VariantResult, 'compiled' | 'name'>): string | undefined {
  return compiledLine(
    v.compiled,
    variantLabel(v.name) === 'as written' ? 'the layer as written (its ops as one function)' : `the ${v.name} variant`,
  );
}

/** A few words for a status bar: the spectral layer against the spatial conv of the same function. */
export function shortVerdict(run: Run): string {
  const ok = (n: string) => {
    const v = find(run, n);
    return v && v.correct && v.totalMs.median > 0 ? v : undefined;
  };
  const prefix = run.status === 'cancelled' ? 'partial: ' : run.status === 'failed' ? 'failed: ' : '';
  const fno = ok('fno');
  if (fno && ok('optimized')) {
    // An FNO layer is its whole pipeline: the formulations' ratio is the layer's own gain.
    const r = fno.totalMs.median / ok('optimized')!.totalMs.median;
    return `${prefix}FNO optimized ${r >= 1 ? `${fmtRatio(r)} faster` : `${fmtRatio(1 / r)} slower`} than as written, end to end (${engineLabel(run, true)})`;
  }
  const spectral = ok('optimized') ?? ok('seed');
  const equivalent = ok('spatial-equivalent');
  const small = ok('spatial');
  const vs = (v: VariantResult, k: number) => {
    const r = v.totalMs.median / spectral!.totalMs.median;
    return `${r >= 1 ? `${fmtRatio(r)} faster` : `${fmtRatio(1 / r)} slower`} than conv ${k}×${k}`;
  };
  if (spectral && (equivalent || small)) {
    const parts: string[] = [];
    if (equivalent) parts.push(vs(equivalent, run.spec.kernelH));
    if (small && (!equivalent || run.spec.spatialKernel !== run.spec.kernelH))
      parts.push(vs(small, run.spec.spatialKernel).replace(/ than conv /, ' than '));
    return `${prefix}FFT end to end: ${parts.join(', ')} (${engineLabel(run, true)})`;
  }
  const v = verdict(run);
  return v.fastest ? `${prefix}${v.fastest} fastest (${engineLabel(run, true)})` : `${prefix}no variant completed`;
}

/** The top `n` hints for the terminal: title, evidence, what to change, expected gain, source. */
export function formatHints(hints: ReadonlyArray<import('./insight-schema').Hint>, n = 3, engine?: string): string {
  const on = engine ? `from this run on ${engine}; ` : '';
  const out: string[] = [`Hints (${on}top ${Math.min(n, hints.length)} of ${hints.length}; all in report.html):`];
  hints.slice(0, n).forEach((h, i) => {
    out.push(`${i + 1}. [${h.severity}] ${h.title}`);
    out.push(`   evidence: ${h.evidence}`);
    out.push(`   change:   ${h.suggestion}`);
    out.push(
      `   gain:     ${h.expectedGain.text}${h.expectedGain.basis !== 'none' ? ` (${h.expectedGain.basis})` : ''}`,
    );
    out.push(`   source:   ${h.source}`);
  });
  const rest = hints.slice(n);
  if (rest.length)
    out.push(
      `Also: ${rest.map((h) => `${h.title}${h.expectedGain.ms ? ` (${fmtMs(h.expectedGain.ms)})` : ''}`).join('; ')}.`,
    );
  return out.join('\n');
}

/** Progress of a profile as the worker reports it (src/protocol/worker-protocol.ts, progress). */
export interface ProgressLike {
  variant: string;
  variantIndex: number;
  variantCount: number;
  phase: (typeof PHASES)[number];
  step?: string;
  stepIndex: number;
  stepCount: number;
  rep?: number;
  reps?: number;
}

const PHASE_LABEL: Record<ProgressLike['phase'], string> = {
  prepare: 'preparing',
  'one-off': 'one-off',
  'warm-up': 'warm-up',
  'per-step': 'timing',
  'end-to-end': 'end to end',
  'layer-only': 'layer only',
  train: 'training step',
  backward: 'backward',
  check: 'checking against the reference',
  kernels: 'listing the ops and kernels each step ran (one profiled pass, after all timing)',
  compile: 'torch.compile of the layer as written, beside eager (after all timing)',
};

/** One line of progress, e.g. "optimized (4/4): timing multiply 3/10" (CLI and the extension's notification). */
export function progressText(p: ProgressLike): string {
  const rep = p.reps ? ` ${Math.min((p.rep ?? 0) + 1, p.reps)}/${p.reps}` : '';
  const step = p.step ? ` ${p.step}` : '';
  return `${p.variant} (${p.variantIndex + 1}/${p.variantCount}): ${PHASE_LABEL[p.phase]}${step}${rep}`;
}

/** Overall fraction done: variants are equal shares, steps equal shares within one. */
export function progressFraction(p: ProgressLike): number {
  const inVariant = p.phase === 'check' ? 1 : p.stepCount > 0 ? Math.min(1, p.stepIndex / p.stepCount) : 0;
  return Math.min(1, (p.variantIndex + inVariant) / Math.max(1, p.variantCount));
}

/** The sweep as a text table with its crossovers and the model's agreement. */
export function formatSweepText(sw: Sweep): string {
  const out: string[] = [];
  out.push(
    `fconv sweep${sw.pass === 'train' ? ' (the training step: forward + backward, measured and modelled)' : ''} — batch ${sw.base.batch}, ${sw.base.height}×${sw.base.width}, ${sw.base.padding}, ${sw.base.layout}; ${sw.engine}/${sw.backend} on ${sw.device}; ${sw.settings.warmup} warm-up, ${sw.settings.reps} reps per cell`,
  );
  out.push('');
  out.push(
    `  ${'k'.padStart(3)}  ${'channels'.padEnd(9)} ${'spatial'.padStart(9)} ${'spectral'.padStart(9)}  ${'model spatial'.padStart(13)} ${'model spectral'.padStart(14)}  winner (measured / model)`,
  );
  for (const c of sw.cells) {
    const mw = c.measuredWinner ?? '—';
    out.push(
      `  ${String(c.kernel).padStart(3)}  ${`${c.inChannels}→${c.outChannels}`.padEnd(9)} ${(c.spatialMs === null ? '—' : fmtMs(c.spatialMs)).padStart(9)} ${(c.spectralMs === null ? '—' : fmtMs(c.spectralMs)).padStart(9)}  ${fmtMs(c.predictedSpatialMs).padStart(13)} ${fmtMs(c.predictedSpectralMs).padStart(14)}  ${mw} / ${c.predictedWinner}${c.measuredWinner && c.measuredWinner !== c.predictedWinner ? '  ✗' : ''}${c.note ? `  (${c.note})` : ''}`,
    );
  }
  out.push('');
  for (const x of sw.crossovers) {
    out.push(
      `crossover ${x.inChannels}→${x.outChannels}: measured: ${measuredCrossoverText(sw, x)}; model ${x.predicted === null ? 'none' : `from k = ${x.predicted}`}`,
    );
  }
  const cf = confusion(sw);
  if (cf.measured) out.push(`model picked the measured winner in ${cf.agree}/${cf.measured} cells`);
  if (sw.status !== 'ok')
    out.push(`sweep ${sw.status}${sw.failure ? `: ${sw.failure}` : ''}; the finished cells are kept`);
  return out.join('\n');
}

/**
 * The file name an export proposes: what was profiled, on which engine, when — `fconv-fno-64x64-m12-tfjs-wasm-
 * 2026-11-30-1012.html` — so that several exports in one folder stay apart.
 */
export function exportFileName(
  run: Pick<Run, 'spec' | 'engine' | 'backend' | 'createdAt'>,
  fmt: 'html' | 'trace' | 'json',
): string {
  const s = run.spec;
  const what =
    s.layer === 'fno'
      ? `fno-${s.height}x${s.width}-m${s.modes?.join('x') ?? ''}`
      : `${s.height}x${s.width}-k${s.kernelH === s.kernelW ? s.kernelH : `${s.kernelH}x${s.kernelW}`}`;
  const t = new Date(run.createdAt);
  const two = (n: number) => String(n).padStart(2, '0');
  const when = Number.isNaN(t.getTime())
    ? 'run'
    : `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())}-${two(t.getHours())}${two(t.getMinutes())}`;
  const ext = { html: 'html', trace: 'trace.json', json: 'json' }[fmt];
  return `fconv-${what}-${run.engine}-${run.backend}-${when}.${ext}`.replace(/[^\w.-]+/g, '-');
}

/** The device memory a variant's timed runs took above the loaded layer, and its one-off peak (warm-up) beside it. */
export function peakMemoryText(v: Pick<VariantResult, 'peakMemoryBytes' | 'oneOffPeakBytes'>): string {
  if (v.peakMemoryBytes === undefined) return '';
  return `peak memory ${formatBytes(v.peakMemoryBytes)} above the loaded layer${v.oneOffPeakBytes !== undefined ? ` (warm-up and one-off steps: ${formatBytes(v.oneOffPeakBytes)})` : ''}`;
}

/** Page faults per call, short: 0.3, 12, 3.4k. */
export function fmtFaults(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n >= 10 ? n.toFixed(0) : n.toFixed(1);
}
