/**
 * The report panel: one per workspace, retained while hidden, restored after a reload by a serializer.
 * It hosts the same webview app as the CLI's standalone report, under a strict CSP (nonce scripts, no
 * remote content, resources only from dist/). Every message from the webview is schema-checked; a
 * malformed or unknown one is logged and dropped.
 */
import type { EnginesCompare } from '../core/engines-compare';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LayerProfile } from '../core/layer-profile';
import {
  type FromWebview,
  type ToWebview,
  describeIssue,
  fromWebviewSchema,
  toWebviewSchema,
} from '../protocol/webview-protocol';
import type { StoredRun } from './store';

export const VIEW_TYPE = 'fourierConv.report';

export interface PanelHandlers {
  onMessage: (
    msg: Exclude<FromWebview, { type: 'ready' | 'rendered' | 'compareToggled' }>,
    shown: StoredRun | undefined,
  ) => void;
  log: vscode.LogOutputChannel;
}

export interface Rendered {
  runId: string;
  stepBars: number;
  compared: { previousRunId: string; rows: number } | null;
  hints: number;
  sweepCells: number;
  rooflinePoints: number;
}

export class ReportPanel implements vscode.Disposable {
  private static current: ReportPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private shown: { stored: StoredRun; previous: StoredRun | undefined } | undefined;
  private busy: { busy: boolean; label?: string } = { busy: false };
  private compare = false;
  private ready = false;
  private readonly renderedEmitter = new vscode.EventEmitter<Rendered>();
  /** Fires when the webview reports it has drawn a run. */
  readonly onDidRender = this.renderedEmitter.event;
  lastRendered: Rendered | undefined;
  /** Messages rejected by the schema (count), for the log and the tests. */
  rejected = 0;

  static get instance(): ReportPanel | undefined {
    return ReportPanel.current;
  }

  /** Opens (or reveals) the panel. */
  static createOrShow(extensionUri: vscode.Uri, handlers: PanelHandlers): ReportPanel {
    if (ReportPanel.current) {
      ReportPanel.current.panel.reveal(undefined, true);
      return ReportPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'Fourier Conv Profile',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      {
        ...ReportPanel.webviewOptions(extensionUri),
        retainContextWhenHidden: true,
      },
    );
    ReportPanel.current = new ReportPanel(panel, extensionUri, handlers);
    return ReportPanel.current;
  }

  /** Called by the serializer after a reload. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, handlers: PanelHandlers): ReportPanel {
    ReportPanel.current?.dispose();
    panel.webview.options = ReportPanel.webviewOptions(extensionUri);
    ReportPanel.current = new ReportPanel(panel, extensionUri, handlers);
    return ReportPanel.current;
  }

  static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: PanelHandlers,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html();
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m), null, this.disposables);
  }

  get shownRun(): StoredRun | undefined {
    return this.shown?.stored;
  }

  show(stored: StoredRun, previous: StoredRun | undefined): void {
    // The comparison belongs to the run that asked for it: a new run opens without it.
    if (this.shown && this.shown.stored.runId !== stored.runId) this.compare = false;
    this.shown = { stored, previous };
    this.view = 'run';
    this.panel.title = `Fourier Conv Profile — ${stored.run.spec.height}×${stored.run.spec.width}, k ${stored.run.spec.kernelH}`;
    this.post({
      type: 'show',
      runId: stored.runId,
      run: stored.run,
      previous: previous ? { runId: previous.runId, run: previous.run } : null,
    });
  }

  /** The engines side by side (Compare engines); the panel's report comes back with Back to the report. */
  showEngines(c: EnginesCompare): void {
    this.enginesShown = c;
    this.view = 'engines';
    this.post({ type: 'engines', engines: c });
  }

  /** The cross-engine comparison last shown, if any (tests read it). */
  enginesShown: EnginesCompare | undefined;

  /** The user's own layer, line by line (the last report comes back with "Back to the report"). */
  showLayer(layer: LayerProfile): void {
    this.layerShown = layer;
    this.view = 'layer';
    this.panel.title = `Fourier Conv — ${layer.layer.class} as written`;
    this.panel.reveal(undefined, true);
    this.post({ type: 'layer', layer });
  }

  /** The user's layer last shown, if any. */
  layerShown: LayerProfile | undefined;
  /** What the page shows: a run, the engines side by side, or the user's layer (re-sent when the page reloads). */
  private view: 'run' | 'engines' | 'layer' = 'run';

  setBusy(busy: boolean, label?: string): void {
    this.busy = { busy, label };
    this.post({ type: 'busy', busy, label });
  }

  /** Shows or hides the comparison with the previous run. */
  setCompare(show: boolean): void {
    this.compare = show;
    this.post({ type: 'compare', show });
  }

  private post(msg: ToWebview): void {
    if (!this.ready) return; // sent once the page says it is ready
    toWebviewSchema.parse(msg);
    void this.panel.webview.postMessage(msg);
  }

  /** Every message from the webview comes through here (public so the tests can feed it raw input). */
  receive(raw: unknown): boolean {
    const parsed = fromWebviewSchema.safeParse(raw);
    if (!parsed.success) {
      this.rejected++;
      let text: string;
      try {
        text = JSON.stringify(raw)?.slice(0, 200) ?? String(raw);
      } catch {
        text = String(raw);
      }
      this.handlers.log.warn(
        `report panel: rejected a malformed message from the webview (${describeIssue(parsed.error)}): ${text}`,
      );
      return false;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        {
          // A page that (re)loads gets what it showed: the run, then the engines or the user's layer over it.
          const view = this.view;
          if (this.shown) this.show(this.shown.stored, this.shown.previous);
          if (view === 'engines' && this.enginesShown) this.showEngines(this.enginesShown);
          if (view === 'layer' && this.layerShown) this.showLayer(this.layerShown);
        }
        if (this.busy.busy) this.setBusy(true, this.busy.label);
        if (this.compare) this.setCompare(true);
        break;
      case 'compareToggled':
        this.compare = msg.show;
        break;
      case 'rendered':
        this.lastRendered = {
          runId: msg.runId,
          stepBars: msg.stepBars,
          compared: msg.compared,
          hints: msg.hints,
          sweepCells: msg.sweepCells,
          rooflinePoints: msg.rooflinePoints,
        };
        this.handlers.log.debug(
          `report panel: showing ${msg.runId} (${msg.stepBars} step bars${msg.compared ? `, compared with ${msg.compared.previousRunId}` : ''})`,
        );
        this.renderedEmitter.fire(this.lastRendered);
        break;
      default:
        this.handlers.onMessage(msg, this.shown?.stored);
    }
    return true;
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const asset = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', f)).toString();
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${asset('report.css')}">
<title>Fourier Conv Profile</title>
</head>
<body class="vscode">
<div id="app"><p class="empty">Loading the report…</p></div>
<script nonce="${nonce}" src="${asset('webview.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (ReportPanel.current === this) ReportPanel.current = undefined;
    this.renderedEmitter.dispose();
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
