// Bundles the CLI, the engine worker and the report webview with esbuild, and ships the wasm files.
// tfjs stays external (one shared tfjs-core instance, so tfjs-node / tfjs-node-gpu can register
// their backend in it); the optional tfjs-node packages are never bundled.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { buildNative, copyBuiltAddon } from './build-native.mjs';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const watch = process.argv.includes('--watch');
const dist = 'dist';
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'wasm'), { recursive: true });

const define = { FCONV_VERSION: JSON.stringify(pkg.version) };
const external = ['@tensorflow/*', 'vscode'];
// web-tree-sitter's ESM build reads import.meta.url, which a CJS bundle does not have: take its CJS build.
const alias = { 'web-tree-sitter': require.resolve('web-tree-sitter') };
// tfjs-core's gradients ship only as ESM files (its CommonJS main registers none): this one import is bundled;
// the gradients register into tfjs's one registry and run on its one engine (both live on globalThis).
const gradients = {
  name: 'tfjs-gradients',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients$/ }, () => ({
      path: require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'),
    }));
  },
};
const node = {
  bundle: true,
  plugins: [gradients],
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: true,
  external,
  define,
  alias,
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...node,
    entryPoints: ['src/cli/main.ts'],
    outfile: join(dist, 'cli.js'),
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({ ...node, entryPoints: ['src/engines/worker.ts'], outfile: join(dist, 'worker.js') }),
  // The extension host side: vscode glue only, no engine code (that is the worker's).
  build({
    ...node,
    entryPoints: ['src/extension.ts'],
    outfile: join(dist, 'extension.js'),
    banner: { js: 'globalThis.__fconvLoadStart = performance.now();' },
  }),
  build({
    entryPoints: ['webview/main.ts'],
    outfile: join(dist, 'webview.js'),
    bundle: true,
    platform: 'browser',
    target: 'es2020',
    format: 'iife',
    minify: !watch,
    define,
    logLevel: 'warning',
  }),
]);
chmodSync(join(dist, 'cli.js'), 0o755);
cpSync('media/report.css', join(dist, 'report.css'));

// The embedded engine's WebAssembly files, located explicitly (setWasmPaths points here).
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  cpSync(join(wasmDist, f), join(dist, 'wasm', f));
}
// The scanner's parser: web-tree-sitter's runtime and the grammars, read by src/platform/grammars.ts.
mkdirSync(join(dist, 'grammars'), { recursive: true });
for (const [file, from] of [
  ['web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm'],
  ['tree-sitter-python.wasm', 'tree-sitter-python/tree-sitter-python.wasm'],
  ['tree-sitter-typescript.wasm', 'tree-sitter-typescript/tree-sitter-typescript.wasm'],
  ['tree-sitter-tsx.wasm', 'tree-sitter-typescript/tree-sitter-tsx.wasm'],
  ['tree-sitter-javascript.wasm', 'tree-sitter-javascript/tree-sitter-javascript.wasm'],
])
  cpSync(require.resolve(from), join(dist, 'grammars', file));
// The Python engines' worker: run by the user's own Python (src/engines/python/process.ts).
mkdirSync(join(dist, 'python'), { recursive: true });
// The Python engines' worker, its shared protocol and loop, one executor module per framework, profile-layer.
for (const f of readdirSync('python').filter((n) => n.endsWith('.py')))
  cpSync(join('python', f), join(dist, 'python', f));
writeFileSync(join(dist, 'BUILD'), `${pkg.name} ${pkg.version}\n`);

// The CUDA addon is built on demand (`npm run build:native`, or FCONV_BUILD_NATIVE=1 here): compiling it on
// every `npm install` cost ~40 s on machines with no use for it. A build that is already there and current
// is copied into dist/native; `npm run package` builds it, so the VSIX and the GPU bundle carry it.
if (process.env.FCONV_BUILD_NATIVE === '1' || process.argv.includes('--native')) {
  const native = buildNative();
  if (!native.ok)
    console.warn(
      `build: the CUDA addon was not built (${native.why}); the cuda engine will report itself unavailable.`,
    );
} else copyBuiltAddon();
