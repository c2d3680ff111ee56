/**
 * The extension's state and what every command shares: the report store, the runner (the worker), the status
 * bar, the log, the panel. Each command is a file of src/host/commands (profile, sweep, compare, probe,
 * export); the methods here delegate to them. One instance per activation.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EnginesCompare } from '../core/engines-compare';
import { fmtMs, shortVerdict, verdict } from '../core/format';
import type { LayerProfile } from '../core/layer-profile';
import type { DeviceProfile } from '../core/model';
import { type Run, layerSpecSchema } from '../core/run';
import { type LayerSpec, describeSpec, specProblems } from '../core/spec';
import type { RunOptions } from '../protocol/worker-protocol';
import { compareEngines, compareWithPrevious } from './commands/compare';
import { type ExportFormat, exportReport } from './commands/export';
import { refreshProbe } from './commands/probe';
import { LAST_SPEC, profile } from './commands/profile';
import { sweep } from './commands/sweep';
import type { CommandHost } from './command-host';
import { type PanelHandlers, ReportPanel } from './panel';
import { pythonExtensionInterpreter } from './python';
import { ProfileRunner } from './runner';
import { SECTION, readSettings } from './settings';
import { ReportStore, type StoredRun } from './store';

export { profileArgsSchema, type ProfileArgs } from './commands/profile';
export type { ExportFormat } from './commands/export';

export class Controller implements vscode.Disposable, CommandHost {
  readonly store: ReportStore;
  readonly runner: ProfileRunner;
  readonly status: vscode.StatusBarItem;
  /** The last error shown to the user (for the tests and "Show log"). */
  lastError: string | undefined;

  constructor(
    readonly ctx: vscode.ExtensionContext,
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
          const engine = {
            ...(msg.engine ? { engine: msg.engine } : {}),
            ...(msg.pass ? { pass: msg.pass } : {}),
            ...(msg.compile ? { compile: true } : {}),
          };
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

  lastSpec(): LayerSpec | undefined {
    const raw = this.ctx.globalState.get<unknown>(LAST_SPEC);
    const p = layerSpecSchema.safeParse(raw);
    return p.success && !specProblems(p.data).length ? p.data : undefined;
  }

  /**
   * The run options with the Python candidates for the PyTorch engine: the fourierConv.pythonPath setting
   * (ignored from the workspace in an untrusted one: a restricted setting), then the Python extension's
   * interpreter for the workspace (trusted workspaces only).
   */
  async withPython(options: RunOptions): Promise<RunOptions> {
    if (options.engine !== 'auto' && options.engine !== 'torch') return options;
    const fromExt = await pythonExtensionInterpreter(this.log);
    if (!fromExt) return options;
    return { ...options, python: [...(options.python ?? []), { path: fromExt, from: 'the Python extension' }] };
  }

  fail(message: string): void {
    this.lastError = message;
    this.log.error(message);
    void vscode.window.showErrorMessage(message, 'Show log').then((a) => a && this.log.show());
  }

  /** The status bar shows the latest result of any kind: a run's verdict, or your class as written. */
  private lastLayer: LayerProfile | undefined;

  updateStatus(run: Run): void {
    this.lastLayer = undefined;
    this.status.text = `$(pulse) ${shortVerdict(run)}`;
    this.status.tooltip = new vscode.MarkdownString(
      `**Fourier Conv, last profile** — ${describeSpec(run.spec)}\n\n${verdict(run).headline}\n\nClick to open the report.`,
    );
    this.status.show();
  }

  updateLayerStatus(p: LayerProfile): void {
    this.lastLayer = p;
    const per = p.engine === 'tensorflow' ? 'call' : 'forward';
    this.status.text = `$(pulse) ${p.layer.class} as written: ${fmtMs(p.totalMs.median)} per ${per}${p.train ? `, ${fmtMs(p.train.totalMs.median)} per training step` : ''} (${p.framework.name} ${p.framework.version})`;
    this.status.tooltip = new vscode.MarkdownString(
      `**Fourier Conv, last profile** — ${p.layer.class} as written, input ${p.input.shape.join('×')} ${p.input.dtype}, on ${p.device}\n\nClick to open its line-by-line report.`,
    );
    this.status.show();
  }

  get statusText(): string {
    return this.status.text;
  }

  openLastReport(): StoredRun | undefined {
    if (this.lastLayer) {
      this.openPanel().showLayer(this.lastLayer);
      return undefined;
    }
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

  get probeDir(): string {
    return path.join(this.ctx.globalStorageUri.fsPath, 'probe');
  }

  /** "Profile Fourier Conv". Resolves with the saved run, or undefined when nothing ran. */
  profile(rawArgs?: unknown): Promise<StoredRun | undefined> {
    return profile(this, rawArgs);
  }

  sweep(): Promise<StoredRun | undefined> {
    return sweep(this);
  }

  compareEngines(args?: unknown): Promise<EnginesCompare | undefined> {
    return compareEngines(this, args);
  }

  compareWithPrevious(): boolean {
    return compareWithPrevious(this);
  }

  refreshProbe(): Promise<DeviceProfile | undefined> {
    return refreshProbe(this);
  }

  exportReport(format?: ExportFormat, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    return exportReport(this, format, target);
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
