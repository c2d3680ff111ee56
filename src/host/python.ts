/**
 * The interpreter VS Code's Python extension has selected for the workspace, as a candidate for the
 * PyTorch engine: through the extension's public API (`environments.getActiveEnvironmentPath`), when it
 * is installed, and only in a trusted workspace — an interpreter inside an untrusted workspace (a
 * `.venv/bin/python`) is code from the workspace.
 */
import * as vscode from 'vscode';

export const PYTHON_EXTENSION = 'ms-python.python';

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  };
}

export async function pythonExtensionInterpreter(
  log: { info(m: string): void; warn(m: string): void },
  resource?: vscode.Uri,
): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) return undefined;
  const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const p = api?.environments?.getActiveEnvironmentPath(
      resource ?? vscode.workspace.workspaceFolders?.[0]?.uri,
    )?.path;
    if (p) log.info(`python: the Python extension's interpreter for this workspace is ${p}`);
    return p || undefined;
  } catch (e) {
    log.warn(`python: the Python extension did not say which interpreter it uses: ${(e as Error).message}`);
    return undefined;
  }
}
