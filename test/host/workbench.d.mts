import type { Browser, Page } from 'playwright-core';

export const repoRoot: string;
export function codeServerEntry(): string;
export function chromiumPath(): string;

export interface WorkbenchOptions {
  dir: string;
  folder: string;
  extensionDevelopmentPath: string;
  extensionTestsPath?: string;
  userDataDir?: string;
  extensionsDir?: string;
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Open the folder in restricted mode (workspace trust on, the folder not trusted). */
  untrusted?: boolean;
}

export interface Workbench {
  page: Page;
  browser: Browser;
  port: number;
  url: string;
  dir: string;
  close(): Promise<void>;
}

export function startWorkbench(o: WorkbenchOptions): Promise<Workbench>;
export function runSuite(o: WorkbenchOptions, timeoutMs?: number): Promise<number>;
