/**
 * Entry point: wires commands, the panel serializer and settings to the controller; nothing else.
 * No engine code loads here — profiles run in the worker process (dist/worker.js).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Controller, type ExportFormat } from './host/controller';
import { PROFILE_LAYER, SourceDiagnostics } from './host/diagnostics';
import { ReportPanel, VIEW_TYPE } from './host/panel';
import { LayerOptimizer } from './host/optimize';
import { UserLayerProfiler } from './host/user-layer';

declare const FCONV_VERSION: string | undefined;
const version = typeof FCONV_VERSION === 'string' ? FCONV_VERSION : '0.0.0-dev';
// Set by the bundle's first line (scripts/build.mjs), so module loading counts as activation time.
const loadedAt = (globalThis as { __fconvLoadStart?: number }).__fconvLoadStart ?? performance.now();

/** What activate returns: used by the integration tests (and by other extensions, read-only). */
export interface FourierConvApi {
  controller: Controller;
  /** Diagnostics, CodeLens and quick fixes in Python / TypeScript / JavaScript sources. */
  diagnostics: SourceDiagnostics;
  activationMs: number;
  /** "Profile … as written": the user's own classes, per line. */
  userLayer: UserLayerProfiler;
  /** "Write the optimized version" of a profiled PyTorch layer. */
  optimizer: LayerOptimizer;
  /** The report panel, when open. */
  readonly panel: ReportPanel | undefined;
}

export function activate(ctx: vscode.ExtensionContext): FourierConvApi {
  const log = vscode.window.createOutputChannel('Fourier Conv Profiler', { log: true });
  const controller = new Controller(ctx, log, version);
  // The scanner's parser (wasm) loads on the first source document, not here.
  const diagnostics = new SourceDiagnostics(ctx.extensionPath, log, {
    profile: (spec, origin) => controller.profile({ spec, ...(origin ? { origin } : {}) }),
    lastDevice: () => controller.store.last()?.run.analysis?.device,
  });
  const userLayer = new UserLayerProfiler(ctx, {
    runner: controller.runner,
    log,
    showLayer: (p) => {
      controller.updateLayerStatus(p);
      controller.openPanel().showLayer(p);
    },
    grammarDirs: [path.join(ctx.extensionPath, 'dist', 'grammars')],
  });
  const optimizer = new LayerOptimizer({
    runner: controller.runner,
    userLayer,
    log,
    grammarDirs: [path.join(ctx.extensionPath, 'dist', 'grammars')],
  });
  ctx.subscriptions.push(
    diagnostics,
    userLayer,
    optimizer,
    vscode.commands.registerCommand(PROFILE_LAYER, (args?: unknown) => diagnostics.profileLayer(args)),
    log,
    controller,
    vscode.commands.registerCommand('fourierConv.profile', async (args?: unknown) => {
      const stored = await controller.profile(args);
      diagnostics.useDevice(stored?.run.analysis?.device);
      return stored;
    }),
    vscode.commands.registerCommand('fourierConv.cancel', () => controller.runner.cancel()),
    vscode.commands.registerCommand('fourierConv.openLastReport', () => controller.openLastReport()),
    vscode.commands.registerCommand('fourierConv.exportReport', (format?: ExportFormat, target?: vscode.Uri) =>
      controller.exportReport(format, target),
    ),
    vscode.commands.registerCommand('fourierConv.sweep', () => controller.sweep()),
    vscode.commands.registerCommand('fourierConv.compareEngines', (args?: unknown) => controller.compareEngines(args)),
    vscode.commands.registerCommand('fourierConv.compareWithPrevious', () => controller.compareWithPrevious()),
    vscode.commands.registerCommand('fourierConv.showLog', () => log.show()),
    vscode.commands.registerCommand('fourierConv.refreshProbe', () => controller.refreshProbe()),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => controller.revivePanel(panel, state),
    }),
    vscode.workspace.onDidChangeConfiguration((e) => controller.onConfigChanged(e)),
  );
  const activationMs = performance.now() - loadedAt;
  log.info(
    `Fourier Conv Profiler ${version} activated in ${activationMs.toFixed(1)} ms (engine code loads only in the worker process)`,
  );
  return {
    controller,
    diagnostics,
    userLayer,
    optimizer,
    activationMs,
    get panel() {
      return ReportPanel.instance;
    },
  };
}

export function deactivate(): void {}
