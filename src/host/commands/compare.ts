/** "Compare Engines" (one layer on several engines, side by side) and "Compare with Previous Run". */
import * as vscode from 'vscode';
import { z } from 'zod';
import { type EnginesCompare, compareEngines as compareRuns } from '../../core/engines-compare';
import { type Run, layerSpecSchema } from '../../core/run';
import { describeSpec } from '../../core/spec';
import { ENGINE_REQUESTS } from '../../protocol/worker-protocol';
import type { CommandHost } from '../command-host';
import { ReportPanel } from '../panel';
import { readSettings } from '../settings';

/**
 * The shown (or last) layer on each engine, one after the other with the current settings, each run
 * saved; then their verdicts side by side in the panel. Stops at the first engine that cannot run.
 */
export async function compareEngines(ctl: CommandHost, args?: unknown): Promise<EnginesCompare | undefined> {
  const a = z
    .object({
      engines: z
        .array(z.enum(ENGINE_REQUESTS).exclude(['auto']))
        .min(2)
        .max(4)
        .optional(),
      spec: layerSpecSchema.optional(),
    })
    .safeParse(args ?? {});
  if (!a.success) {
    ctl.log.warn(`compareEngines: ignored malformed arguments: ${a.error.issues[0]?.message}`);
    return undefined;
  }
  const engines = a.data.engines ?? ['torch', 'wasm'];
  const spec = a.data.spec ?? ctl.store.last()?.run.spec ?? ctl.lastSpec();
  if (!spec) {
    void vscode.window.showInformationMessage('Fourier Conv: profile a layer first; then compare engines on it.');
    return undefined;
  }
  const settings = readSettings();
  const runs: Run[] = [];
  const panel = ctl.openPanel();
  try {
    for (const [i, engine] of engines.entries()) {
      panel.setBusy(true, `Comparing engines: ${engine} (${i + 1}/${engines.length}) on ${describeSpec(spec)}…`);
      const outcome = await ctl.runner.run(spec, await ctl.withPython({ ...settings.options, engine }));
      if (outcome.kind !== 'done' || outcome.run.status !== 'ok') {
        const why = outcome.kind === 'done' ? (outcome.run.failure ?? outcome.run.status) : outcome.error.message;
        ctl.fail(`Fourier Conv: the ${engine} engine could not profile this layer: ${why}`);
        return undefined;
      }
      ctl.store.save(outcome.run);
      runs.push(outcome.run);
    }
  } finally {
    panel.setBusy(false);
  }
  const c = compareRuns(runs);
  for (const v of c.verdicts.filter((x) => x.disagree))
    ctl.log.info(`engines disagree on ${v.label}: ${v.answers.map((x) => `${x.engine} → ${x.winner}`).join('; ')}`);
  panel.showEngines(c);
  return c;
}

/** "Compare with Previous Run": the panel's diff of the shown run against the one before it. */
export function compareWithPrevious(ctl: CommandHost): boolean {
  const panel = ReportPanel.instance ?? (ctl.openLastReport() ? ReportPanel.instance : undefined);
  const shown = panel?.shownRun;
  if (!panel || !shown) return false;
  if (!ctl.store.previous(shown.runId)) {
    void vscode.window.showInformationMessage('Fourier Conv: there is no earlier run to compare with yet.');
    return false;
  }
  panel.panel.reveal(undefined, true);
  panel.setCompare(true);
  return true;
}
