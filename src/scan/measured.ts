/**
 * The numbers a profile run puts on a finding: "measured on <device>: this layer 4.1x slower than
 * Conv2D 3×3; kernel rfft2d 38 % of the layer". Which step is named depends on the rule. Host-free.
 */
import { fmtMs, fmtRatio } from '../core/format';
import type { Run, VariantResult } from '../core/run';
import type { RuleId } from './rules';

/** The seed-layer steps each rule is about (ids of src/engines/*: the same on every engine). */
const STEPS: Partial<Record<RuleId, string[]>> = {
  'kernel-spectrum-per-call': ['rfft2d-kernel', 'pad-kernel'],
  'einsum-channel-mixing': ['einsum'],
  'complex-transpose': ['transpose-kernel'],
  'rfft-axes': ['rfft2d-kernel'],
};

const variant = (run: Run, name: string): VariantResult | undefined =>
  run.variants.find((v) => v.name === name && v.correct && v.totalMs.median > 0);

function compare(a: number, b: number): string {
  const r = a / b;
  return r >= 1 ? `${fmtRatio(r)} slower` : `${fmtRatio(1 / r)} faster`;
}

/** One line for a finding of `rule`, or undefined when the run has nothing to say about it. */
export function measuredNote(run: Run, rule: RuleId): string | undefined {
  const spatial = variant(run, 'spatial');
  const equivalent = variant(run, 'spatial-equivalent');
  const seed = variant(run, 'seed');
  const optimized = variant(run, 'optimized');
  const k = run.spec.spatialKernel;
  const parts: string[] = [];
  const seedMs = seed ? (seed.layerMs ?? seed.totalMs).median : undefined;
  if (rule === 'conv2d-fft-payoff' || rule === 'uneven-comparison') {
    if (spatial && optimized)
      parts.push(
        `end to end, FFT (optimized) ${fmtMs(optimized.totalMs.median)} is ${compare(optimized.totalMs.median, spatial.totalMs.median)} than Conv2D ${k}×${k} (${fmtMs(spatial.totalMs.median)})`,
      );
    if (equivalent && optimized && run.spec.kernelH !== k)
      parts.push(
        `vs the same function as a ${run.spec.kernelH}×${run.spec.kernelW} conv (${fmtMs(equivalent.totalMs.median)}): ${compare(optimized.totalMs.median, equivalent.totalMs.median)}`,
      );
  } else {
    if (seed && spatial && seedMs !== undefined)
      parts.push(
        `inside the layer ${compare(seedMs, spatial.totalMs.median)} than Conv2D ${k}×${k} (${fmtMs(seedMs)} vs ${fmtMs(spatial.totalMs.median)})`,
      );
    if (seed && optimized)
      parts.push(
        `the optimized formulation is ${fmtRatio((seed.layerMs ?? seed.totalMs).median / (optimized.layerMs ?? optimized.totalMs).median)} faster inside the layer`,
      );
  }
  const ids = STEPS[rule];
  if (seed && ids) {
    const inLayer = seed.steps.filter((s) => s.inLayer && !s.oneOff);
    const total = inLayer.reduce((a, s) => a + s.median, 0);
    const mine = inLayer.filter((s) => ids.includes(s.id));
    const ms = mine.reduce((a, s) => a + s.median, 0);
    if (mine.length && total > 0)
      parts.push(
        `${mine.map((s) => s.name).join(' + ')} ${Math.round((100 * ms) / total)} % of the layer (${fmtMs(ms)})`,
      );
  }
  if (!parts.length) return undefined;
  return `${measuredOn(run)}: ${parts.join('; ')}`;
}

/** "measured on Intel Xeon Processor (2 logical cores), tfjs/wasm" — the device without the engine's preamble. */
function measuredOn(run: Run): string {
  const device =
    run.device
      .replace(/^[^:]*:\s*/, '')
      .replace(/\((R|TM)\)/g, '')
      .replace(/\s+/g, ' ')
      .trim() || run.device;
  const status = run.status === 'ok' ? '' : ` (${run.status} run: partial)`;
  return `measured on ${device}, ${run.engine}/${run.backend}${status}`;
}

/**
 * The CodeLens line under "Profile this layer" after a run: the verdict in one short line (the engine, not the
 * device: the device goes to the tooltip, so the line is not clipped at the editor's edge).
 */
export function measuredSummary(run: Run, kind: 'fourier' | 'fno' | 'conv2d'): string | undefined {
  const on = `${run.engine}/${run.backend}${run.status === 'ok' ? '' : ` (${run.status}, partial)`}`;
  if (kind === 'fno') {
    const fno = variant(run, 'fno');
    const opt = variant(run, 'optimized');
    if (!fno) return undefined;
    return `${on}: as written ${fmtMs(fno.totalMs.median)}${opt ? ` · optimized ${fmtMs(opt.totalMs.median)} (${compare(opt.totalMs.median, fno.totalMs.median)})` : ''}`;
  }
  const spatial = variant(run, 'spatial');
  const seed = variant(run, 'seed');
  const optimized = variant(run, 'optimized');
  const k = run.spec.spatialKernel;
  const parts: string[] = [];
  if (kind === 'fourier' && seed && spatial)
    parts.push(
      `inside the layer ${fmtMs((seed.layerMs ?? seed.totalMs).median)}, ${compare((seed.layerMs ?? seed.totalMs).median, spatial.totalMs.median)} than Conv2D ${k}×${k}`,
    );
  if (kind === 'conv2d' && spatial) parts.push(`Conv2D ${k}×${k} ${fmtMs(spatial.totalMs.median)}`);
  if (optimized)
    parts.push(
      `optimized ${fmtMs((kind === 'fourier' ? (optimized.layerMs ?? optimized.totalMs) : optimized.totalMs).median)}${seed && kind === 'fourier' ? ` (${fmtRatio((seed.layerMs ?? seed.totalMs).median / (optimized.layerMs ?? optimized.totalMs).median)} faster)` : spatial ? ` (${compare(optimized.totalMs.median, spatial.totalMs.median)})` : ''}`,
    );
  return parts.length ? `${on}: ${parts.join(' · ')}` : undefined;
}

/** The CodeLens tooltip: where the numbers were measured. */
export function measuredTooltip(run: Run): string {
  return `${measuredOn(run)}, ${new Date(run.createdAt).toLocaleString()}: open the report of this run`;
}
