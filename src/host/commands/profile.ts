/** "Profile Fourier Conv": a layer from the palette or the CodeLens, the profile session, the report saved, shown. */
import * as vscode from 'vscode';
import { z } from 'zod';
import { pipelineOf } from '../../core/engine-table';
import { verdict } from '../../core/format';
import { PRESETS, presetById } from '../../core/presets';
import { RUN_PASSES, layerSpecSchema } from '../../core/run';
import { type LayerSpec, describeSpec, specProblems } from '../../core/spec';
import { WorkerError } from '../../client/client';
import { profileSession } from '../../client/session';
import { ENGINE_REQUESTS } from '../../protocol/worker-protocol';
import type { CommandHost } from '../command-host';
import { ReportPanel } from '../panel';
import { askCustom, pickSpec } from '../pick-spec';
import { readSettings } from '../settings';
import type { StoredRun } from '../store';

export const LAST_SPEC = 'fourierConv.lastSpec';

/** Arguments of the profile command (from the diagnostics' CodeLens, or the tests). */
export const profileArgsSchema = z.object({
  /** A preset id from src/core/presets.ts, or 'last'. */
  preset: z.string().max(100).optional(),
  /** A layer read from source: whatever is missing is asked for. */
  spec: layerSpecSchema.partial().optional(),
  /** Where `spec` was read: the layer's name and how each field was read, shown in the prompts. */
  origin: z.object({ name: z.string().max(200), read: z.array(z.string().max(300)).max(20) }).optional(),
  /** Do not open the panel (still saved; the status bar updates). */
  background: z.boolean().optional(),
  /** Profile on this engine instead of the fourierConv.engine setting ("Rerun on…" in the panel). */
  engine: z.enum(ENGINE_REQUESTS).optional(),
  /** Time this pass instead of the fourierConv.pass setting (the panel's pass toggle). */
  pass: z.enum(RUN_PASSES).optional(),
  /** Also torch.compile the layer as written (the panel's "torch.compile it"); absent: fourierConv.torchCompile. */
  compile: z.boolean().optional(),
});
export type ProfileArgs = z.infer<typeof profileArgsSchema>;

async function resolveSpec(
  ctl: CommandHost,
  args: ProfileArgs | undefined,
  defaultPreset: string,
): Promise<LayerSpec | undefined> {
  if (args?.preset) {
    if (args.preset === 'last')
      return ctl.lastSpec() ?? presetById(defaultPreset === 'last' ? 'mnist-question' : defaultPreset)!.spec;
    const p = presetById(args.preset);
    if (!p)
      throw new Error(`unknown preset "${args.preset}" (choose from ${PRESETS.map((x) => x.id).join(', ')}, last)`);
    return p.spec;
  }
  if (args?.spec) {
    const full = layerSpecSchema.safeParse({ dtype: 'float32', ...args.spec });
    if (full.success) {
      const problems = specProblems(full.data);
      if (problems.length) throw new Error(problems[0]);
      return full.data;
    }
    // Read from the code: ask only for the rest, starting from the documented defaults — never from an
    // unrelated earlier run.
    return askCustom(args.spec, presetById('mnist-question')!.spec, args.origin);
  }
  return (await pickSpec(ctl.lastSpec(), defaultPreset))?.spec;
}

/** "Profile Fourier Conv". Resolves with the saved run, or undefined when nothing ran. */
export async function profile(ctl: CommandHost, rawArgs?: unknown): Promise<StoredRun | undefined> {
  // Menus and keybindings may pass a Uri or nothing we know: then ask, as from the palette.
  const parsedArgs = rawArgs === undefined ? undefined : profileArgsSchema.safeParse(rawArgs);
  if (parsedArgs && !parsedArgs.success)
    ctl.log.warn(`profile command: ignored arguments it does not understand (${parsedArgs.error.issues[0]?.message})`);
  const args: ProfileArgs | undefined = parsedArgs?.success ? parsedArgs.data : undefined;
  if (ctl.runner.running) {
    void vscode.window
      .showWarningMessage('Fourier Conv: a profile is already running.', 'Cancel it')
      .then((a) => a && ctl.runner.cancel());
    return undefined;
  }
  const settings = readSettings();
  for (const p of settings.problems) ctl.log.warn(p);
  if (settings.problems.length) void vscode.window.showWarningMessage(`Fourier Conv: ${settings.problems[0]}`);
  let spec: LayerSpec | undefined;
  try {
    spec = await resolveSpec(ctl, args, settings.defaultPreset);
  } catch (e) {
    ctl.fail(`Fourier Conv: ${(e as Error).message}`);
    return undefined;
  }
  if (!spec) return undefined;
  await ctl.ctx.globalState.update(LAST_SPEC, spec);
  ctl.runner.setCudaLibraryPaths(settings.cudaLibraryPaths);
  const panel = args?.background ? ReportPanel.instance : ctl.openPanel();
  panel?.setBusy(true, `Profiling ${describeSpec(spec)}…`);
  ctl.status.text = '$(sync~spin) Fourier Conv: profiling…';
  ctl.status.show();
  const options = await ctl.withPython({
    ...settings.options,
    ...(args?.engine ? { engine: args.engine } : {}),
    ...(args?.pass ? { pass: args.pass } : {}),
    ...(args?.compile ? { compile: true } : {}),
  });
  const { outcome, run, saved } = await profileSession(
    {
      run: async (sp, opts) => {
        try {
          return await ctl.runner.run(sp, opts);
        } finally {
          ReportPanel.instance?.setBusy(false);
        }
      },
      device: (r) => {
        ctl.status.text = "$(sync~spin) Fourier Conv: reading the machine's rates…";
        return ctl.runner.device(options, ctl.probeDir, r.device, false, pipelineOf(r));
      },
      save: (r) => ctl.store.save(r),
    },
    spec,
    options,
    { model: true },
  );
  if (outcome.kind === 'error') {
    const e = outcome.error;
    const crashed = e instanceof WorkerError && e.kind === 'crashed';
    ctl.fail(crashed ? `Fourier Conv: ${e.message}` : `Fourier Conv: the profile could not run: ${e.message}`);
  }
  if (!run || saved === undefined) {
    // Nothing measured (cancelled before the first variant, or failed before it): the last report stays.
    if (run?.status === 'cancelled')
      void vscode.window.showInformationMessage(
        'Fourier Conv: profile cancelled before any variant was measured; the last report is unchanged.',
      );
    const last = ctl.store.last();
    if (last) ctl.updateStatus(last.run);
    else ctl.status.hide();
    return undefined;
  }
  const runId = saved;
  const stored = { runId, run };
  ctl.updateStatus(run);
  (args?.background ? ReportPanel.instance : ctl.openPanel())?.show(stored, ctl.store.previous(runId));
  if (run.status === 'cancelled')
    void vscode.window.showInformationMessage('Fourier Conv: profile cancelled; the report shows what was measured.');
  else if (run.status === 'failed' && outcome.kind === 'done')
    ctl.fail(`Fourier Conv: ${run.failure ?? verdict(run).lines[0] ?? 'a variant does not match its reference'}`);
  return stored;
}
