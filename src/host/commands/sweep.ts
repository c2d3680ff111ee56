/** "Sweep Kernel Sizes" (an FNO layer: its modes) on the shown or last run; the sweep joins its report. */
import * as vscode from 'vscode';
import { pipelineOf } from '../../core/engine-table';
import type { DeviceProfile } from '../../core/model';
import type { Run } from '../../core/run';
import { defaultSweepPlan, describePlan, withSweep } from '../../client/session';
import type { RunOptions } from '../../protocol/worker-protocol';
import type { CommandHost } from '../command-host';
import { ReportPanel } from '../panel';
import { readSettings } from '../settings';
import type { StoredRun } from '../store';

/**
 * What both sweeps share: the run options (the profile's engine, 1 warm-up, 3 reps) and the device the
 * model prices cells on (the run's, else the cached or a fresh probe); undefined, after saying why, without one.
 */
async function sweepSetup(
  ctl: CommandHost,
  stored: StoredRun,
  settings: ReturnType<typeof readSettings>,
): Promise<{ device: DeviceProfile; run: Omit<RunOptions, 'variants'> } | undefined> {
  const options = await ctl.withPython(settings.options);
  const device =
    stored.run.analysis?.device ??
    (await ctl.runner.device(options, ctl.probeDir, stored.run.device, false, pipelineOf(stored.run)));
  if (!device) {
    ctl.fail('Fourier Conv: the sweep needs the machine probe, which failed (see the log).');
    return undefined;
  }
  return {
    device,
    run: {
      engine: options.engine,
      ...(options.python ? { python: options.python } : {}),
      ...(options.torchDevice ? { torchDevice: options.torchDevice } : {}),
      ...(options.threads ? { threads: options.threads } : {}),
      warmup: 1,
      reps: 3,
      seed: settings.options.seed,
      maxMemoryBytes: settings.options.maxMemoryBytes,
    },
  };
}

/** A finished sweep joins its report: saved over the run (or anew when it left the store), shown, its end said. */
function joinSweep(
  ctl: CommandHost,
  stored: StoredRun,
  run: Run,
  sweep: { status: string; failure?: string },
): StoredRun {
  let updated: StoredRun;
  try {
    ctl.store.replace(stored.runId, run);
    updated = { runId: stored.runId, run };
  } catch {
    // the report was dropped from the store meanwhile (only the last 20 are kept): save it anew
    updated = { runId: ctl.store.save(run), run };
  }
  ctl.openPanel().show(updated, ctl.store.previous(updated.runId));
  if (sweep.status === 'cancelled')
    void vscode.window.showInformationMessage('Fourier Conv: sweep cancelled; the report shows the finished cells.');
  else if (sweep.status === 'failed') ctl.fail(`Fourier Conv: the sweep failed: ${sweep.failure}`);
  return updated;
}

/**
 * "Sweep Kernel Sizes" (an FNO layer: its modes): spatial-equivalent vs optimized over kernel sizes on the shown
 * (or last) layer, or as written vs optimized over the modes its grid allows; the sweep joins its report.
 */
export async function sweep(ctl: CommandHost): Promise<StoredRun | undefined> {
  const stored = ReportPanel.instance?.shownRun ?? ctl.store.last();
  if (!stored) {
    void vscode.window.showInformationMessage('Fourier Conv: profile a layer first; the sweep varies its kernel size.');
    return undefined;
  }
  const settings = readSettings();
  const base = stored.run.spec;
  const plan = defaultSweepPlan(base);
  if (typeof plan === 'string') {
    ctl.fail(`Fourier Conv: ${plan}`);
    return undefined;
  }
  const prepared = await sweepSetup(ctl, stored, settings);
  if (!prepared) return undefined;
  ReportPanel.instance?.setBusy(true, `Sweeping ${describePlan(plan)}…`);
  let result;
  try {
    result = await ctl.runner.sweep(base, plan, prepared);
  } finally {
    ReportPanel.instance?.setBusy(false);
  }
  if (!result.sweep) {
    ctl.fail(`Fourier Conv: the sweep could not run: ${result.error?.message ?? 'unknown error'}`);
    return undefined;
  }
  return joinSweep(ctl, stored, withSweep(stored.run, prepared.device, result.sweep), result.sweep.sweep);
}
