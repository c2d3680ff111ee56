/**
 * One profile session, the same for `fconv profile` and the extension: the run, this machine's rates for the
 * cost model, the sweep when asked for, the insights (roofline, hints), then saving. The front ends differ
 * only in how each step reports (a terminal line, a progress notification) and where a run is saved (report
 * files, the workspace's store): those are the steps they pass in.
 */
import { withInsights } from '../core/analysis';
import { DEFAULT_FNO_MODES, sweepModes } from '../core/fno-model';
import type { DeviceProfile } from '../core/model';
import type { Run } from '../core/run';
import type { LayerSpec } from '../core/spec';
import { sweepKernels, sweepProblems } from '../core/sweep';
import type { RunOptions } from '../protocol/worker-protocol';
import { WorkerError } from './client';
import type { AnySweep, SweepPlan } from './sweep-runner';

export type RunOutcome = { kind: 'done'; run: Run } | { kind: 'error'; error: Error; partial?: Run };

export interface SessionSteps<Saved> {
  run(spec: LayerSpec, options: RunOptions): Promise<RunOutcome>;
  /**
   * This machine's rates for the run's engine. Undefined: none (the step has said why); a WorkerError: none,
   * and the session's `modelNote` says why.
   */
  device(run: Run): Promise<DeviceProfile | undefined>;
  sweep?(base: LayerSpec, plan: SweepPlan, device: DeviceProfile): Promise<AnySweep>;
  /**
   * Saves a run that measured something (a run with no variant leaves the last report as it was); `outcome`
   * says whether it is a finished run or what a failed one measured before it failed.
   */
  save(run: Run, outcome: RunOutcome): Saved;
}

export interface SessionResult<Saved> {
  outcome: RunOutcome;
  /** The run with its insights (and sweep), or the partial run of a failed one; undefined when nothing ran. */
  run?: Run;
  saved?: Saved;
  /** Why the run has no model, roofline or hints, when the rates could not be had. */
  modelNote?: string;
}

export async function profileSession<Saved>(
  steps: SessionSteps<Saved>,
  spec: LayerSpec,
  options: RunOptions,
  o: { model: boolean; sweep?: SweepPlan; signal?: AbortSignal },
): Promise<SessionResult<Saved>> {
  const outcome = await steps.run(spec, options);
  let run = outcome.kind === 'done' ? outcome.run : outcome.partial;
  let modelNote: string | undefined;
  if (outcome.kind === 'done' && run && o.model && run.variants.length && !o.signal?.aborted) {
    try {
      const device = await steps.device(run);
      if (device) {
        const sweep = o.sweep && steps.sweep ? await steps.sweep(spec, o.sweep, device) : undefined;
        run = withSweep(run, device, sweep);
      }
    } catch (e) {
      if (!(e instanceof WorkerError)) throw e;
      modelNote = e.kind === 'cancelled' ? "cancelled while reading the machine's rates" : e.message;
    }
  }
  const saved = run?.variants.length ? steps.save(run, outcome) : undefined;
  return {
    outcome,
    ...(run ? { run } : {}),
    ...(saved !== undefined ? { saved } : {}),
    ...(modelNote ? { modelNote } : {}),
  };
}

/** The run with its insights on `device`, and the sweep joined to it (a kernel sweep also feeds the hints). */
export function withSweep(run: Run, device: DeviceProfile, sweep?: AnySweep): Run {
  const full = withInsights(run, device, sweep?.kind === 'kernel' ? sweep.sweep : undefined);
  return sweep?.kind === 'fno' ? { ...full, fnoSweep: sweep.sweep } : full;
}

/**
 * The sweep a layer gets when none is specified (`--sweep`, the panel's Sweep): the kernel sizes up to its
 * image with its channels, or for an FNO layer the modes its grid allows; a string says why it cannot be swept.
 */
export function defaultSweepPlan(spec: LayerSpec): SweepPlan | string {
  if (spec.layer === 'fno') {
    const modes = sweepModes(DEFAULT_FNO_MODES, spec.height, spec.width, spec.modesConvention ?? 'corners');
    if (!modes.length) return `no modes to sweep on a ${spec.height}×${spec.width} grid`;
    return { kind: 'fno', modes, grids: [{ height: spec.height, width: spec.width }] };
  }
  const kernels = sweepKernels(spec);
  const channels = [{ inChannels: spec.inChannels, outChannels: spec.outChannels }];
  const problems = sweepProblems(spec, kernels, channels);
  return problems.length ? `cannot sweep this layer: ${problems[0]}` : { kind: 'kernel', kernels, channels };
}

/** How a plan is said in progress titles ("kernel sizes 3, 5, 7", "FNO modes 4, 8"). */
export function describePlan(plan: SweepPlan): string {
  return plan.kind === 'fno' ? `FNO modes ${plan.modes.join(', ')}` : `kernel sizes ${plan.kernels.join(', ')}`;
}
