/** "Export Report": the shown or last run as report.html, trace.json or report.json. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportFileName } from '../../core/format';
import { runSchema } from '../../core/run';
import { toChromeTrace } from '../../core/trace';
import { standaloneHtml } from '../../report/report-files';
import type { CommandHost } from '../command-host';
import { ReportPanel } from '../panel';

const LAST_EXPORT_DIR = 'fourierConv.lastExportDir';

export type ExportFormat = 'html' | 'trace' | 'json';

/** Writes the shown (or last) run as report.html, trace.json or report.json; asks where unless `target` is given. */
export async function exportReport(
  ctl: CommandHost,
  format?: ExportFormat,
  target?: vscode.Uri,
): Promise<vscode.Uri | undefined> {
  const stored = ReportPanel.instance?.shownRun ?? ctl.store.last();
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
  const lastFolder = ctl.ctx.globalState.get<string>(LAST_EXPORT_DIR);
  const base = lastFolder ? vscode.Uri.file(lastFolder) : vscode.Uri.file(os.homedir());
  const uri =
    target ??
    (await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(base, name),
      filters: fmt === 'html' ? { 'HTML report': ['html'] } : { JSON: ['json'] },
      title: `Export ${name}`,
    }));
  if (!uri) return undefined;
  if (!target && uri.scheme === 'file') await ctl.ctx.globalState.update(LAST_EXPORT_DIR, path.dirname(uri.fsPath));
  try {
    runSchema.parse(stored.run);
    const text =
      fmt === 'html'
        ? standaloneHtml(stored.run, undefined)
        : fmt === 'trace'
          ? JSON.stringify(toChromeTrace(stored.run))
          : `${JSON.stringify(stored.run, null, 2)}\n`;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    ctl.log.info(`exported ${fmt} to ${uri.toString(true)}`);
    if (!target) {
      void vscode.window
        .showInformationMessage(`Fourier Conv: wrote ${uri.fsPath}`, 'Reveal')
        .then((a) => a && vscode.commands.executeCommand('revealFileInOS', uri));
    }
    return uri;
  } catch (e) {
    ctl.fail(`Fourier Conv: export failed: ${(e as Error).message}`);
    return undefined;
  }
}
