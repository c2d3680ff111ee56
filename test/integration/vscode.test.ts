/**
 * The extension in a real VS Code extension host: runs the mocha suite (test/suite) through
 * @vscode/test-electron's runTests. Where VS Code cannot be downloaded (here: no network but npm and
 * apt), vscodeExecutablePath points at test/host/bin/code, which runs the same suite in code-server
 * 4.100.3 + headless chromium. Set FCONV_VSCODE_EXECUTABLE to a desktop VS Code to use that instead.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(__dirname, '..', '..');

export function buildSuite(): string {
  const outfile = path.join(root, 'dist-test', 'suite', 'index.js');
  buildSync({
    entryPoints: [path.join(root, 'test', 'suite', 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}

test('the integration suite passes in a real VS Code extension host', { timeout: 15 * 60 * 1000 }, async () => {
  assert.ok(
    fs.existsSync(path.join(root, 'dist', 'extension.js')),
    'dist/extension.js is built (npm test builds it first)',
  );
  const run = path.join(root, '.vscode-test', 'integration');
  fs.rmSync(run, { recursive: true, force: true });
  const workspace = path.join(run, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(path.join(workspace, 'README.md'), 'Workspace of the integration tests.\n');
  // A stand-in for VS Code's Python extension (its public API only), installed like a user's extension: the
  // torch engine must find the interpreter it names.
  const extensions = path.join(run, 'extensions');
  const fakePython = path.join(extensions, 'ms-python.python-2099.0.0');
  fs.mkdirSync(fakePython, { recursive: true });
  for (const f of ['package.json', 'extension.js'])
    fs.copyFileSync(path.join(root, 'test', 'host', 'fake-python-extension', f), path.join(fakePython, f));
  const code = await runTests({
    vscodeExecutablePath: process.env.FCONV_VSCODE_EXECUTABLE ?? path.join(root, 'test', 'host', 'bin', 'code'),
    extensionDevelopmentPath: root,
    extensionTestsPath: buildSuite(),
    launchArgs: [workspace, `--user-data-dir=${path.join(run, 'user-data')}`, `--extensions-dir=${extensions}`],
  });
  assert.equal(code, 0);
});
