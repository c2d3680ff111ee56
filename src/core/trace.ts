/**
 * Chrome Trace Event export: one track (tid) per variant; the per-call steps laid end to end at their
 * median durations, nested inside one enclosing event per variant; one-off steps on the same track
 * before it; a trained variant's backward on a track of its own. Perfetto and chrome://tracing open it. Host-free.
 */
import type { Run } from './run';
import { TIMING_LABELS } from './run';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

const us = (ms: number) => Math.round(ms * 1000 * 1000) / 1000;

export function toChromeTrace(run: Run): ChromeTrace {
  const pid = 1;
  const events: TraceEvent[] = [
    {
      name: 'process_name',
      ph: 'M',
      pid,
      tid: 0,
      args: { name: `fconv ${run.engine}/${run.backend} — ${run.device}` },
    },
  ];
  run.variants.forEach((v, i) => {
    const tid = i + 1;
    events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: v.name } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: i } });
    let t = 0;
    for (const s of v.steps.filter((s) => s.oneOff)) {
      events.push(stepEvent(s, pid, tid, t, 'one-off'));
      t += s.median;
    }
    const perCall = v.steps.filter((s) => !s.oneOff);
    const start = t;
    events.push({
      name: `${v.name} (Σ step medians)`,
      ph: 'X',
      pid,
      tid,
      ts: us(start),
      dur: us(v.stepSumMs),
      cat: 'variant',
      args: {
        endToEndMedianMs: v.totalMs.median,
        layerOnlyMedianMs: v.layerMs?.median,
        maxAbsError: v.maxAbsError,
        correct: v.correct,
        timing: TIMING_LABELS[v.totalMs.timing],
      },
    });
    for (const s of perCall) {
      events.push(stepEvent(s, pid, tid, t, s.inLayer ? 'layer' : 'outside layer'));
      // The ops a step ran (torch.profiler), nested inside it, scaled to fit its median.
      let k0 = t;
      const total = (s.kernels ?? []).filter((k) => k.device === 'cpu').reduce((a, k) => a + k.ms, 0);
      const scale = total > s.median && total > 0 ? s.median / total : 1;
      for (const k of (s.kernels ?? []).filter((x) => x.device === 'cpu')) {
        events.push({
          name: k.name,
          ph: 'X',
          pid,
          tid,
          ts: us(k0),
          dur: us(k.ms * scale),
          cat: 'op',
          args: { ms: k.ms, profiled: true },
        });
        k0 += k.ms * scale;
      }
      t += s.median;
    }
  });
  // The training step: a backward track per trained variant, its steps' backward in the order they run.
  const trained = run.variants.filter((v) => v.train);
  trained.forEach((v, i) => {
    const tid = run.variants.length + i + 1;
    const train = v.train!;
    events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: `${v.name} backward` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: run.variants.length + i } });
    events.push({
      name: `${v.name} backward (Σ step medians)`,
      ph: 'X',
      pid,
      tid,
      ts: 0,
      dur: us(train.backwardStepSumMs),
      cat: 'backward',
      args: {
        trainingStepMedianMs: train.totalMs.median,
        backwardMedianMs: train.backwardMs.median,
        gradients: train.gradients.map(
          (g) => `${g.name}: ${g.maxAbsError.toExponential(2)} (${g.correct ? 'ok' : 'MISMATCH'})`,
        ),
      },
    });
    let t = 0;
    for (const s of [...train.steps].reverse()) {
      events.push(stepEvent(s, pid, tid, t, 'backward'));
      t += s.median;
    }
  });
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: { schemaVersion: run.schemaVersion, spec: run.spec, createdAt: run.createdAt, note: run.timingNote },
  };
}

function stepEvent(
  s: Run['variants'][number]['steps'][number],
  pid: number,
  tid: number,
  startMs: number,
  cat: string,
): TraceEvent {
  return {
    name: s.name,
    ph: 'X',
    pid,
    tid,
    ts: us(startMs),
    dur: us(s.median),
    cat,
    args: {
      implementation: s.implementation,
      timing: TIMING_LABELS[s.timing],
      medianMs: s.median,
      p10Ms: s.p10,
      p90Ms: s.p90,
      reps: s.reps,
      warmup: s.warmup,
      flops: s.flops,
      bytes: s.bytes,
      inputShapes: s.inputShapes.map((x) => x.join('×')),
      outputShape: s.outputShape.join('×'),
    },
  };
}
