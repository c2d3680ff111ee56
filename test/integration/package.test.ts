/**
 * `npm run package` builds a VSIX offline that holds the extension, the worker, the webview bundle and
 * the wasm engine, keeps dev files out, stays under 10 MB — and works from where it is unpacked
 * (the worker finds its tfjs modules inside the VSIX, not in this checkout).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers';

const root = path.resolve(__dirname, '..', '..');

test('npm run package builds a self-contained VSIX under 10 MB without dev files', { timeout: 5 * 60 * 1000 }, () => {
  const vsix = path.join(root, 'fourier-conv-profiler.vsix');
  fs.rmSync(vsix, { force: true });
  execFileSync('npm', ['run', 'package'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const size = fs.statSync(vsix).size;
  assert.ok(size <= 10 * 1024 * 1024, `VSIX is ${(size / 1e6).toFixed(1)} MB`);
  const entries = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const need of [
    'extension/package.json',
    'extension/LICENSE.txt',
    'extension/readme.md',
    'extension/dist/extension.js',
    'extension/dist/worker.js',
    'extension/dist/webview.js',
    'extension/dist/report.css',
    'extension/dist/wasm/tfjs-backend-wasm.wasm',
    'extension/dist/wasm/tfjs-backend-wasm-simd.wasm',
    'extension/dist/grammars/web-tree-sitter.wasm',
    'extension/dist/grammars/tree-sitter-python.wasm',
    'extension/dist/grammars/tree-sitter-typescript.wasm',
    'extension/dist/grammars/tree-sitter-tsx.wasm',
    'extension/dist/grammars/tree-sitter-javascript.wasm',
    'extension/dist/python/fconv_worker.py',
    'extension/dist/python/fconv_protocol.py',
    'extension/dist/python/fconv_torch.py',
    'extension/dist/python/fconv_torch_executors.py',
    'extension/dist/python/fconv_torch_probe.py',
    'extension/dist/python/fconv_layer.py',
    'extension/docs/rules.md',
    'extension/docs/fft-convolution.md',
    'extension/docs/engines.md',
    'extension/docs/report.md',
    'extension/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
    'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js',
  ])
    assert.ok(entries.includes(need), `${need} is in the VSIX`);
  const dev = entries.filter((e) =>
    /^extension\/(src|test|scripts|webview|scratch|\.ci|\.vscode-test|dist-test)\/|\.map$|\.ts$|node_modules\/(typescript|esbuild|tsx|mocha|jsdom|@types|zod|commander|@tensorflow\/tfjs-node|web-tree-sitter|tree-sitter-)/.test(
      e,
    ),
  );
  assert.deepEqual(dev, [], 'no dev files in the VSIX');

  const dir = tempDir('fconv-vsix-');
  execFileSync('unzip', ['-q', vsix, '-d', dir]);
  const out = path.join(dir, 'report');
  const text = execFileSync(
    process.execPath,
    [
      path.join(dir, 'extension', 'dist', 'cli.js'),
      'profile',
      '--batch',
      '2',
      '--height',
      '8',
      '--width',
      '8',
      '--out',
      '2',
      '--warmup',
      '0',
      '--reps',
      '2',
      '--engine',
      'wasm',
      '--out-dir',
      out,
      '--no-progress',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.match(text, /engine tfjs, backend wasm/);
  assert.ok(fs.existsSync(path.join(out, 'report.html')));
  // The scanner's grammars come from dist/grammars inside the VSIX.
  const seed = path.join(dir, 'seed_layer.py');
  fs.copyFileSync(path.join(root, 'test', 'scan', 'fixtures', 'seed_layer.py'), seed);
  let scan = '';
  try {
    execFileSync(process.execPath, [path.join(dir, 'extension', 'dist', 'cli.js'), 'scan', seed], {
      cwd: dir,
      encoding: 'utf8',
    });
  } catch (e) {
    scan = String((e as { stdout?: string }).stdout);
    assert.equal((e as { status?: number }).status, 1, 'exit 1: the seed has warnings');
  }
  assert.match(scan, /warning \[rfft-axes\]/);
  fs.rmSync(dir, { recursive: true, force: true });
});
