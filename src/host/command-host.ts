/**
 * What a command (src/host/commands) gets from the extension's state (the Controller implements it): the
 * context, the log, the report store, the runner, the status bar, the panel, and the helpers they share.
 */
import type * as vscode from 'vscode';
import type { Run } from '../core/run';
import type { LayerSpec } from '../core/spec';
import type { RunOptions } from '../protocol/worker-protocol';
import type { ReportPanel } from './panel';
import type { ProfileRunner } from './runner';
import type { ReportStore, StoredRun } from './store';

export interface CommandHost {
  readonly ctx: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly store: ReportStore;
  readonly runner: ProfileRunner;
  readonly status: vscode.StatusBarItem;
  /** Where the machine's probe is cached. */
  readonly probeDir: string;
  /** Says an error (log and notification with "Show log") and remembers it. */
  fail(message: string): void;
  /** The status bar shows this run's verdict. */
  updateStatus(run: Run): void;
  openPanel(): ReportPanel;
  openLastReport(): StoredRun | undefined;
  /** The layer profiled last (the palette's "last"), when it is still valid. */
  lastSpec(): LayerSpec | undefined;
  /** The run options with the interpreters for the Python engines (setting, Python extension). */
  withPython(options: RunOptions): Promise<RunOptions>;
}
