/**
 * `npm run package` builds a VSIX offline that holds the extension, the worker, the webview bundle and
 * the wasm engine, keeps dev files out, stays under 10 MB — and works from where it is unpacked
 * (the worker finds its tfjs modules inside the VSIX, not in this checkout).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(__dirname, '..', '..');

test('npm run package builds a self-contained VSIX under 10 MB without dev files', { timeout: 5 * 60 * 1000 }, () => {
  const vsix = path.join(root, 'fourier-conv-profiler.vsix');
  fs.rmSync(vsix, { force: true });
  execFileSync('npm', ['run', 'package'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
  const size = fs.statSync(vsix).size;
  assert.ok(size <= 10 * 1024 * 1024, `VSIX is ${(size / 1e6).toFixed(1)} MB`);
  const entries = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const need of [
    'extension/package.json', 'extension/LICENSE.txt', 'extension/readme.md',
    'extension/dist/extension.js', 'extension/dist/worker.js', 'extension/dist/webview.js', 'extension/dist/report.css',
    'extension/dist/wasm/tfjs-backend-wasm.wasm', 'extension/dist/wasm/tfjs-backend-wasm-simd.wasm',
    'extension/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
    'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js',
  ]) assert.ok(entries.includes(need), `${need} is in the VSIX`);
  const dev = entries.filter((e) => /^extension\/(src|test|scripts|webview|scratch|\.ci|\.vscode-test|dist-test)\/|\.map$|\.ts$|node_modules\/(typescript|esbuild|tsx|mocha|jsdom|@types|zod|commander|@tensorflow\/tfjs-node)/.test(e));
  assert.deepEqual(dev, [], 'no dev files in the VSIX');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-vsix-'));
  execFileSync('unzip', ['-q', vsix, '-d', dir]);
  const out = path.join(dir, 'report');
  const text = execFileSync(process.execPath, [path.join(dir, 'extension', 'dist', 'cli.js'), 'profile', '--batch', '2', '--height', '8', '--width', '8', '--out', '2', '--warmup', '0', '--reps', '2', '--engine', 'wasm', '--out-dir', out, '--no-progress'], { cwd: dir, encoding: 'utf8' });
  assert.match(text, /engine tfjs, backend wasm/);
  assert.ok(fs.existsSync(path.join(out, 'report.html')));
  fs.rmSync(dir, { recursive: true, force: true });
});
