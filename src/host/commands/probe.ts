/** "Measure This Machine's Rates Again": a fresh probe for the shown run's engine, and its insights redone. */
import * as vscode from 'vscode';
import { withInsights } from '../../core/analysis';
import { pipelineOf } from '../../core/engine-table';
import type { DeviceProfile } from '../../core/model';
import type { Run } from '../../core/run';
import { ENGINE_REQUESTS, type RunOptions } from '../../protocol/worker-protocol';
import type { CommandHost } from '../command-host';
import { ReportPanel } from '../panel';
import { readSettings } from '../settings';

/**
 * "Measure This Machine's Rates Again": the probe behind the roofline, the model and the hints, measured anew
 * for the engine of the run shown (the rates are per engine and device), and that run's insights redone.
 */
export async function refreshProbe(ctl: CommandHost): Promise<DeviceProfile | undefined> {
  const stored = ReportPanel.instance?.shownRun ?? ctl.store.last();
  if (!stored) {
    void vscode.window.showInformationMessage(
      "Fourier Conv: profile a layer first — the machine's rates are measured for the engine that ran it.",
    );
    return undefined;
  }
  if (ctl.runner.running) {
    void vscode.window.showWarningMessage('Fourier Conv: a profile is running; measure again when it has finished.');
    return undefined;
  }
  const run = stored.run;
  const options = await ctl.withPython({
    ...readSettings().options,
    engine: (ENGINE_REQUESTS as readonly string[]).includes(run.engine) ? (run.engine as RunOptions['engine']) : 'auto',
    ...(run.engine === 'tfjs' ? { engine: run.backend as RunOptions['engine'] } : {}),
  });
  const device = await ctl.runner.device(options, ctl.probeDir, run.device, true, pipelineOf(run));
  if (!device) {
    ctl.fail("Fourier Conv: the machine's rates could not be measured (the log says why).");
    return undefined;
  }
  const updated = withInsights({ ...run, hints: undefined, analysis: undefined } as Run, device, run.sweep);
  const runId = ctl.store.save(updated);
  ReportPanel.instance?.show({ runId, run: updated }, ctl.store.previous(runId));
  void vscode.window.showInformationMessage(
    `Fourier Conv: measured this machine's rates again for ${run.engine}/${run.backend}; the report's model and hints use them.`,
  );
  return device;
}
