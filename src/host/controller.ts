/**
 * What the commands do: ask for a layer, run it in the worker, save and show the report, keep the
 * status bar and the log up to date, export, reopen. One instance per activation.
 */
import { pipelineOf } from '../core/engine-table';
import { type EnginesCompare, compareEngines } from '../core/engines-compare';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import { withInsights } from '../core/analysis';
import { exportFileName, shortVerdict, verdict } from '../core/format';
import { PRESETS, presetById } from '../core/presets';
import { type Run, layerSpecSchema, runSchema } from '../core/run';
import { type LayerSpec, describeSpec, specProblems } from '../core/spec';
import { toChromeTrace } from '../core/trace';
import { WorkerError } from '../client/client';
import { standaloneHtml } from '../report/report-files';
import { type PanelHandlers, ReportPanel } from './panel';
import { askCustom, pickSpec } from './pick-spec';
import { ProfileRunner } from './runner';
import { ENGINE_REQUESTS, type RunOptions } from '../protocol/worker-protocol';
import type { DeviceProfile } from '../core/model';
import { pythonExtensionInterpreter } from './python';
import { SECTION, readSettings } from './settings';
import { ReportStore, type StoredRun } from './store';
import { defaultSweepPlan, describePlan, profileSession, withSweep } from '../client/session';

const LAST_SPEC = 'fourierConv.lastSpec';
const LAST_EXPORT_DIR = 'fourierConv.lastExportDir';

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
});
export type ProfileArgs = z.infer<typeof profileArgsSchema>;

export type ExportFormat = 'html' | 'trace' | 'json';

export class Controller implements vscode.Disposable {
  readonly store: ReportStore;
  readonly runner: ProfileRunner;
  private readonly status: vscode.StatusBarItem;
  /** The last error shown to the user (for the tests and "Show log"). */
  lastError: string | undefined;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    version: string,
  ) {
    const storage = ctx.storageUri ?? ctx.globalStorageUri;
    this.store = new ReportStore(path.join(storage.fsPath, 'reports'), 20, (m) => log.warn(m));
    this.runner = new ProfileRunner({ workerPath: path.join(ctx.extensionPath, 'dist', 'worker.js'), version, log });
    this.status = vscode.window.createStatusBarItem('fourierConv.lastVerdict', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Fourier Conv: last profile';
    this.status.command = 'fourierConv.openLastReport';
    const last = this.store.last();
    if (last) this.updateStatus(last.run);
  }

  private handlers() {
    return {
      log: this.log,
      onMessage: (msg: Parameters<PanelHandlers['onMessage']>[0], shown: StoredRun | undefined) => {
        if (msg.type === 'sweep') void this.sweep();
        else if (msg.type === 'rerun') {
          const engine = msg.engine ? { engine: msg.engine } : {};
          if (shown) void this.profile({ spec: shown.run.spec, ...engine });
          else void this.profile(engine);
        } else if (msg.type === 'compareEngines')
          void this.compareEngines({ engines: msg.engines, spec: shown?.run.spec });
        else if (msg.type === 'export') void this.exportReport(msg.format);
        else this.log.show(true);
      },
    };
  }

  openPanel(): ReportPanel {
    return ReportPanel.createOrShow(this.ctx.extensionUri, this.handlers());
  }

  revivePanel(panel: vscode.WebviewPanel, state: unknown): void {
    const p = ReportPanel.revive(panel, this.ctx.extensionUri, this.handlers());
    const runId =
      typeof state === 'object' && state && typeof (state as { runId?: unknown }).runId === 'string'
        ? (state as { runId: string }).runId
        : undefined;
    const stored = (runId && this.store.load(runId)) || this.store.last();
    if (stored) p.show(stored, this.store.previous(stored.runId));
    else this.log.info('report panel restored, but no saved report was found');
  }

  private lastSpec(): LayerSpec | undefined {
    const raw = this.ctx.globalState.get<unknown>(LAST_SPEC);
    const p = layerSpecSchema.safeParse(raw);
    return p.success && !specProblems(p.data).length ? p.data : undefined;
  }

  private async resolveSpec(args: ProfileArgs | undefined, defaultPreset: string): Promise<LayerSpec | undefined> {
    if (args?.preset) {
      if (args.preset === 'last')
        return this.lastSpec() ?? presetById(defaultPreset === 'last' ? 'mnist-seed' : defaultPreset)!.spec;
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
      return askCustom(args.spec, presetById('mnist-seed')!.spec, args.origin);
    }
    return (await pickSpec(this.lastSpec(), defaultPreset))?.spec;
  }

  /** "Profile Fourier Conv". Resolves with the saved run, or undefined when nothing ran. */
  async profile(rawArgs?: unknown): Promise<StoredRun | undefined> {
    // Menus and keybindings may pass a Uri or nothing we know: then ask, as from the palette.
    const parsedArgs = rawArgs === undefined ? undefined : profileArgsSchema.safeParse(rawArgs);
    if (parsedArgs && !parsedArgs.success)
      this.log.warn(
        `profile command: ignored arguments it does not understand (${parsedArgs.error.issues[0]?.message})`,
      );
    const args: ProfileArgs | undefined = parsedArgs?.success ? parsedArgs.data : undefined;
    if (this.runner.running) {
      void vscode.window
        .showWarningMessage('Fourier Conv: a profile is already running.', 'Cancel it')
        .then((a) => a && this.runner.cancel());
      return undefined;
    }
    const settings = readSettings();
    for (const p of settings.problems) this.log.warn(p);
    if (settings.problems.length) void vscode.window.showWarningMessage(`Fourier Conv: ${settings.problems[0]}`);
    let spec: LayerSpec | undefined;
    try {
      spec = await this.resolveSpec(args, settings.defaultPreset);
    } catch (e) {
      this.fail(`Fourier Conv: ${(e as Error).message}`);
      return undefined;
    }
    if (!spec) return undefined;
    await this.ctx.globalState.update(LAST_SPEC, spec);
    this.runner.setCudaLibraryPaths(settings.cudaLibraryPaths);
    const panel = args?.background ? ReportPanel.instance : this.openPanel();
    panel?.setBusy(true, `Profiling ${describeSpec(spec)}…`);
    this.status.text = '$(sync~spin) Fourier Conv: profiling…';
    this.status.show();
    const options = await this.withPython({ ...settings.options, ...(args?.engine ? { engine: args.engine } : {}) });
    const { outcome, run, saved } = await profileSession(
      {
        run: async (sp, opts) => {
          try {
            return await this.runner.run(sp, opts);
          } finally {
            ReportPanel.instance?.setBusy(false);
          }
        },
        device: (r) => {
          this.status.text = "$(sync~spin) Fourier Conv: reading the machine's rates…";
          return this.runner.device(options, this.probeDir, r.device, false, pipelineOf(r));
        },
        save: (r) => this.store.save(r),
      },
      spec,
      options,
      { model: true },
    );
    if (outcome.kind === 'error') {
      const e = outcome.error;
      const crashed = e instanceof WorkerError && e.kind === 'crashed';
      this.fail(crashed ? `Fourier Conv: ${e.message}` : `Fourier Conv: the profile could not run: ${e.message}`);
    }
    if (!run || saved === undefined) {
      // Nothing measured (cancelled before the first variant, or failed before it): the last report stays.
      if (run?.status === 'cancelled')
        void vscode.window.showInformationMessage(
          'Fourier Conv: profile cancelled before any variant was measured; the last report is unchanged.',
        );
      const last = this.store.last();
      if (last) this.updateStatus(last.run);
      else this.status.hide();
      return undefined;
    }
    const runId = saved;
    const stored = { runId, run };
    this.updateStatus(run);
    (args?.background ? ReportPanel.instance : this.openPanel())?.show(stored, this.store.previous(runId));
    if (run.status === 'cancelled')
      void vscode.window.showInformationMessage('Fourier Conv: profile cancelled; the report shows what was measured.');
    else if (run.status === 'failed' && outcome.kind === 'done')
      this.fail(`Fourier Conv: ${run.failure ?? verdict(run).lines[0] ?? 'a variant does not match its reference'}`);
    return stored;
  }

  /**
   * The run options with the Python candidates for the PyTorch engine: the fourierConv.pythonPath setting
   * (ignored from the workspace in an untrusted one: a restricted setting), then the Python extension's
   * interpreter for the workspace (trusted workspaces only).
   */
  private async withPython(options: RunOptions): Promise<RunOptions> {
    if (options.engine !== 'auto' && options.engine !== 'torch') return options;
    const fromExt = await pythonExtensionInterpreter(this.log);
    if (!fromExt) return options;
    return { ...options, python: [...(options.python ?? []), { path: fromExt, from: 'the Python extension' }] };
  }

  /**
   * The shown (or last) layer on each engine, one after the other with the current settings, each run
   * saved; then their verdicts side by side in the panel. Stops at the first engine that cannot run.
   */
  async compareEngines(args?: unknown): Promise<EnginesCompare | undefined> {
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
      this.log.warn(`compareEngines: ignored malformed arguments: ${a.error.issues[0]?.message}`);
      return undefined;
    }
    const engines = a.data.engines ?? ['torch', 'wasm'];
    const spec = a.data.spec ?? this.store.last()?.run.spec ?? this.lastSpec();
    if (!spec) {
      void vscode.window.showInformationMessage('Fourier Conv: profile a layer first; then compare engines on it.');
      return undefined;
    }
    const settings = readSettings();
    const runs: Run[] = [];
    const panel = this.openPanel();
    try {
      for (const [i, engine] of engines.entries()) {
        panel.setBusy(true, `Comparing engines: ${engine} (${i + 1}/${engines.length}) on ${describeSpec(spec)}…`);
        const outcome = await this.runner.run(spec, await this.withPython({ ...settings.options, engine }));
        if (outcome.kind !== 'done' || outcome.run.status !== 'ok') {
          const why = outcome.kind === 'done' ? (outcome.run.failure ?? outcome.run.status) : outcome.error.message;
          this.fail(`Fourier Conv: the ${engine} engine could not profile this layer: ${why}`);
          return undefined;
        }
        this.store.save(outcome.run);
        runs.push(outcome.run);
      }
    } finally {
      panel.setBusy(false);
    }
    const c = compareEngines(runs);
    for (const v of c.verdicts.filter((x) => x.disagree))
      this.log.info(`engines disagree on ${v.label}: ${v.answers.map((x) => `${x.engine} → ${x.winner}`).join('; ')}`);
    panel.showEngines(c);
    return c;
  }

  private fail(message: string): void {
    this.lastError = message;
    this.log.error(message);
    void vscode.window.showErrorMessage(message, 'Show log').then((a) => a && this.log.show());
  }

  private updateStatus(run: Run): void {
    this.status.text = `$(pulse) ${shortVerdict(run)}`;
    this.status.tooltip = new vscode.MarkdownString(
      `**Fourier Conv, last profile** — ${describeSpec(run.spec)}\n\n${verdict(run).headline}\n\nClick to open the report.`,
    );
    this.status.show();
  }

  get statusText(): string {
    return this.status.text;
  }

  openLastReport(): StoredRun | undefined {
    const last = this.store.last();
    if (!last) {
      void vscode.window
        .showInformationMessage(
          'Fourier Conv: no report yet. Run "Profile Fourier Conv" first.',
          'Profile Fourier Conv',
        )
        .then((a) => a && this.profile());
      return undefined;
    }
    this.openPanel().show(last, this.store.previous(last.runId));
    return last;
  }

  private get probeDir(): string {
    return path.join(this.ctx.globalStorageUri.fsPath, 'probe');
  }

  /**
   * What both sweeps share: the run options (the profile's engine, 1 warm-up, 3 reps) and the device the
   * model prices cells on (the run's, else the cached or a fresh probe); undefined, after saying why, without one.
   */
  private async sweepSetup(
    stored: StoredRun,
    settings: ReturnType<typeof readSettings>,
  ): Promise<{ device: DeviceProfile; run: Omit<RunOptions, 'variants'> } | undefined> {
    const options = await this.withPython(settings.options);
    const device =
      stored.run.analysis?.device ??
      (await this.runner.device(options, this.probeDir, stored.run.device, false, pipelineOf(stored.run)));
    if (!device) {
      this.fail('Fourier Conv: the sweep needs the machine probe, which failed (see the log).');
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
  private joinSweep(stored: StoredRun, run: Run, sweep: { status: string; failure?: string }): StoredRun {
    let updated: StoredRun;
    try {
      this.store.replace(stored.runId, run);
      updated = { runId: stored.runId, run };
    } catch {
      // the report was dropped from the store meanwhile (only the last 20 are kept): save it anew
      updated = { runId: this.store.save(run), run };
    }
    this.openPanel().show(updated, this.store.previous(updated.runId));
    if (sweep.status === 'cancelled')
      void vscode.window.showInformationMessage('Fourier Conv: sweep cancelled; the report shows the finished cells.');
    else if (sweep.status === 'failed') this.fail(`Fourier Conv: the sweep failed: ${sweep.failure}`);
    return updated;
  }

  /**
   * "Sweep Kernel Sizes" (an FNO layer: its modes): spatial-equivalent vs optimized over kernel sizes on the shown
   * (or last) layer, or as written vs optimized over the modes its grid allows; the sweep joins its report.
   */
  async sweep(): Promise<StoredRun | undefined> {
    const stored = ReportPanel.instance?.shownRun ?? this.store.last();
    if (!stored) {
      void vscode.window.showInformationMessage(
        'Fourier Conv: profile a layer first; the sweep varies its kernel size.',
      );
      return undefined;
    }
    const settings = readSettings();
    const base = stored.run.spec;
    const plan = defaultSweepPlan(base);
    if (typeof plan === 'string') {
      this.fail(`Fourier Conv: ${plan}`);
      return undefined;
    }
    const prepared = await this.sweepSetup(stored, settings);
    if (!prepared) return undefined;
    ReportPanel.instance?.setBusy(true, `Sweeping ${describePlan(plan)}…`);
    let result;
    try {
      result = await this.runner.sweep(base, plan, prepared);
    } finally {
      ReportPanel.instance?.setBusy(false);
    }
    if (!result.sweep) {
      this.fail(`Fourier Conv: the sweep could not run: ${result.error?.message ?? 'unknown error'}`);
      return undefined;
    }
    return this.joinSweep(stored, withSweep(stored.run, prepared.device, result.sweep), result.sweep.sweep);
  }

  /** "Compare with Previous Run": the panel's diff of the shown run against the one before it. */
  compareWithPrevious(): boolean {
    const panel = ReportPanel.instance ?? (this.openLastReport() ? ReportPanel.instance : undefined);
    const shown = panel?.shownRun;
    if (!panel || !shown) return false;
    if (!this.store.previous(shown.runId)) {
      void vscode.window.showInformationMessage('Fourier Conv: there is no earlier run to compare with yet.');
      return false;
    }
    panel.panel.reveal(undefined, true);
    panel.setCompare(true);
    return true;
  }

  /** Writes the shown (or last) run as report.html, trace.json or report.json; asks where unless `target` is given. */
  /**
   * "Measure This Machine's Rates Again": the probe behind the roofline, the model and the hints, measured anew
   * for the engine of the run shown (the rates are per engine and device), and that run's insights redone.
   */
  async refreshProbe(): Promise<DeviceProfile | undefined> {
    const stored = ReportPanel.instance?.shownRun ?? this.store.last();
    if (!stored) {
      void vscode.window.showInformationMessage(
        "Fourier Conv: profile a layer first — the machine's rates are measured for the engine that ran it.",
      );
      return undefined;
    }
    if (this.runner.running) {
      void vscode.window.showWarningMessage('Fourier Conv: a profile is running; measure again when it has finished.');
      return undefined;
    }
    const run = stored.run;
    const options = await this.withPython({
      ...readSettings().options,
      engine: (ENGINE_REQUESTS as readonly string[]).includes(run.engine)
        ? (run.engine as RunOptions['engine'])
        : 'auto',
      ...(run.engine === 'tfjs' ? { engine: run.backend as RunOptions['engine'] } : {}),
    });
    const device = await this.runner.device(options, this.probeDir, run.device, true, pipelineOf(run));
    if (!device) {
      this.fail("Fourier Conv: the machine's rates could not be measured (the log says why).");
      return undefined;
    }
    const updated = withInsights({ ...run, hints: undefined, analysis: undefined } as Run, device, run.sweep);
    const runId = this.store.save(updated);
    ReportPanel.instance?.show({ runId, run: updated }, this.store.previous(runId));
    void vscode.window.showInformationMessage(
      `Fourier Conv: measured this machine's rates again for ${run.engine}/${run.backend}; the report's model and hints use them.`,
    );
    return device;
  }

  async exportReport(format?: ExportFormat, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const stored = ReportPanel.instance?.shownRun ?? this.store.last();
    if (!stored) {
      void vscode.window.showInformationMessage('Fourier Conv: no report to export yet.');
      return undefined;
    }
    const fmt =
      format ??
      (
        await vscode.window.showQuickPick(
          [
            { label: 'report.html', description: 'standalone report, opens in any browser', format: 'html' as const },
            {
              label: 'trace.json',
              description: 'Chrome trace: open in ui.perfetto.dev or chrome://tracing',
              format: 'trace' as const,
            },
            { label: 'report.json', description: 'the run, schema v1', format: 'json' as const },
          ],
          { title: 'Export Fourier Conv report' },
        )
      )?.format;
    if (!fmt) return undefined;
    const name = exportFileName(stored.run, fmt);
    // Not the workspace root (a 0.5 MB report.html dropped into the project): the folder of the last export,
    // else the home folder.
    const lastFolder = this.ctx.globalState.get<string>(LAST_EXPORT_DIR);
    const base = lastFolder ? vscode.Uri.file(lastFolder) : vscode.Uri.file(os.homedir());
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.joinPath(base, name),
        filters: fmt === 'html' ? { 'HTML report': ['html'] } : { JSON: ['json'] },
        title: `Export ${name}`,
      }));
    if (!uri) return undefined;
    if (!target && uri.scheme === 'file') await this.ctx.globalState.update(LAST_EXPORT_DIR, path.dirname(uri.fsPath));
    try {
      runSchema.parse(stored.run);
      const text =
        fmt === 'html'
          ? standaloneHtml(stored.run, undefined)
          : fmt === 'trace'
            ? JSON.stringify(toChromeTrace(stored.run))
            : `${JSON.stringify(stored.run, null, 2)}\n`;
      await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
      this.log.info(`exported ${fmt} to ${uri.toString(true)}`);
      if (!target) {
        void vscode.window
          .showInformationMessage(`Fourier Conv: wrote ${uri.fsPath}`, 'Reveal')
          .then((a) => a && vscode.commands.executeCommand('revealFileInOS', uri));
      }
      return uri;
    } catch (e) {
      this.fail(`Fourier Conv: export failed: ${(e as Error).message}`);
      return undefined;
    }
  }

  onConfigChanged(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(SECTION)) return;
    for (const p of readSettings().problems) this.log.warn(p);
  }

  dispose(): void {
    this.runner.dispose();
    this.status.dispose();
    ReportPanel.instance?.dispose();
  }
}
