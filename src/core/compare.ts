/**
 * Compare two runs step by step: the diff table behind "compare with the previous run". Steps are
 * matched by variant and step id; a step only one run has is listed with the other side missing.
 * Host-free.
 */
import type { Run } from './run';
import { describeSpec } from './spec';

export interface StepDiff {
  variant: string;
  step: string;
  previousMs?: number;
  currentMs?: number;
  /** current / previous (undefined when either side is missing). */
  ratio?: number;
  /** Beyond both runs' p10–p90 spread and more than 5 %: a change, not noise. */
  change: 'faster' | 'slower' | 'same' | 'added' | 'removed' | 'not comparable';
}

export interface RunDiff {
  sameSpec: boolean;
  sameEngine: boolean;
  /**
   * How the rows compare: 'ms' (same layer), 'ms per sample' (only the batch differs: every time divided by
   * its run's batch), or null (other shapes differ: the numbers side by side, no faster/slower).
   */
  basis: 'ms' | 'ms per sample' | null;
  notes: string[];
  rows: StepDiff[];
}

interface Cell {
  median: number;
  p10: number;
  p90: number;
}

/** Below this (1 µs) a median is the timer's resolution, not a time: nothing is called faster or slower there. */
export const RESOLUTION_MS = 0.001;

function classify(prev: Cell, cur: Cell): StepDiff['change'] {
  const ratio = cur.median / prev.median;
  if (!Number.isFinite(ratio)) return 'same';
  if (Math.max(prev.median, cur.median) < RESOLUTION_MS) return 'same';
  const disjoint = cur.p90 < prev.p10 || cur.p10 > prev.p90;
  if (disjoint && ratio < 0.95) return 'faster';
  if (disjoint && ratio > 1.05) return 'slower';
  return 'same';
}

export function diffRuns(previous: Run, current: Run): RunDiff {
  const rows: StepDiff[] = [];
  const notes: string[] = [];
  const sameSpec = describeSpec(previous.spec) === describeSpec(current.spec);
  const onlyBatch =
    !sameSpec && describeSpec({ ...previous.spec, batch: 1 }) === describeSpec({ ...current.spec, batch: 1 });
  const basis: RunDiff['basis'] = sameSpec ? 'ms' : onlyBatch ? 'ms per sample' : null;
  const per = (c: Cell | undefined, batch: number): Cell | undefined =>
    c && basis === 'ms per sample' ? { median: c.median / batch, p10: c.p10 / batch, p90: c.p90 / batch } : c;
  const pb = previous.spec.batch,
    cb = current.spec.batch;
  const sameEngine =
    previous.engine === current.engine && previous.backend === current.backend && previous.device === current.device;
  // What differs, the engine first: "only the batch differs" is said only when nothing else does.
  if (!sameEngine)
    notes.push(
      `The engines differ: previous ${previous.engine}/${previous.backend} on ${previous.device}; now ${current.engine}/${current.backend} on ${current.device}.`,
    );
  if (!sameSpec)
    notes.push(
      onlyBatch
        ? `${sameEngine ? 'Only the batch differs' : 'The batch differs too'} (${pb} before, ${cb} now): every time is divided by its run's batch and compared per sample.`
        : `The layers differ (previous ${describeSpec(previous.spec)}; now ${describeSpec(current.spec)}): the numbers are shown side by side, with no faster/slower — they measure different work.`,
    );
  const variantNames = [...new Set([...current.variants.map((v) => v.name), ...previous.variants.map((v) => v.name)])];
  for (const name of variantNames) {
    const pv = previous.variants.find((v) => v.name === name);
    const cv = current.variants.find((v) => v.name === name);
    rows.push(row(name, 'end to end', per(pv?.totalMs, pb), per(cv?.totalMs, cb), basis !== null));
    const stepIds = [...new Set([...(cv?.steps ?? []).map((s) => s.id), ...(pv?.steps ?? []).map((s) => s.id)])];
    for (const id of stepIds) {
      const ps = pv?.steps.find((s) => s.id === id);
      const cs = cv?.steps.find((s) => s.id === id);
      rows.push(row(name, (cs ?? ps)!.name, per(ps, pb), per(cs, cb), basis !== null));
    }
  }
  return { sameSpec, sameEngine, basis, notes, rows };
}

function row(
  variant: string,
  step: string,
  prev: Cell | undefined,
  cur: Cell | undefined,
  comparable: boolean,
): StepDiff {
  if (!prev) return { variant, step, currentMs: cur?.median, change: 'added' };
  if (!cur) return { variant, step, previousMs: prev.median, change: 'removed' };
  return {
    variant,
    step,
    previousMs: prev.median,
    currentMs: cur.median,
    ratio: cur.median / prev.median,
    change: comparable ? classify(prev, cur) : 'not comparable',
  };
}
