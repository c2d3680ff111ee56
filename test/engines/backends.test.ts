import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineUnavailableError } from '../../src/engines/engine';
import { type DetectDeps, TFJS_GPU_LIBS, detectBackend, locateWasmDir } from '../../src/engines/tfjs/backends';

function notFound(id: string): Error {
  const e = new Error(`Cannot find module '${id}'`) as Error & { code: string };
  e.code = 'MODULE_NOT_FOUND';
  return e;
}

function deps(
  installed: Record<string, (() => unknown) | undefined>,
  missing: string[] = [],
  wasm: string | null = '/opt/wasm',
): DetectDeps & { loaded: string[] } {
  const loaded: string[] = [];
  return {
    loaded,
    requireFn: (id) => {
      const pkg = id.replace(/\/package\.json$/, '');
      const f = installed[pkg];
      if (!f) throw notFound(id);
      if (id.endsWith('package.json')) return {};
      loaded.push(pkg);
      return f();
    },
    missingLibs: (names) => names.filter((n) => missing.includes(n)),
    wasmDir: () => wasm ?? undefined,
  };
}

test('without the optional tfjs-node packages the embedded wasm engine runs, and says why', () => {
  const d = detectBackend('auto', deps({}));
  assert.equal(d.backend, 'wasm');
  assert.match(d.notes.join('\n'), /tfjs-node-gpu: not installed \(optional; needs CUDA 11.2 and cuDNN 8.1\)/);
  assert.match(d.notes.join('\n'), /tfjs-node: not installed/);
  assert.equal(d.notes[d.notes.length - 1], 'using wasm instead (the embedded engine)');
});

test('tfjs-node-gpu installed without its CUDA libraries: names the missing library and is never loaded', () => {
  const dd = deps({ '@tensorflow/tfjs-node-gpu': () => ({}) }, ['libcudart.so.11.0', 'libcudnn.so.8']);
  const d = detectBackend('auto', dd);
  assert.equal(d.backend, 'wasm');
  assert.match(d.notes[0]!, /tfjs-node-gpu is installed but libcudart.so.11.0, libcudnn.so.8 are missing/);
  assert.deepEqual(dd.loaded, []);
  assert.match(d.notes.join('\n'), /using wasm instead/);
});

test('tfjs-node-gpu with its libraries wins; tfjs-node is next; cpu is last', () => {
  assert.equal(detectBackend('auto', deps({ '@tensorflow/tfjs-node-gpu': () => ({}) })).flavour, 'tensorflow-gpu');
  assert.equal(detectBackend('auto', deps({ '@tensorflow/tfjs-node': () => ({}) })).flavour, 'tensorflow');
  const cpu = detectBackend('auto', deps({}, [], null));
  assert.equal(cpu.backend, 'cpu');
  assert.match(cpu.notes.join('\n'), /wasm: .*not found/);
});

test('a load failure naming a shared library is reported as that library', () => {
  const d = detectBackend(
    'auto',
    deps({
      '@tensorflow/tfjs-node': () => {
        throw new Error('libtensorflow.so.2: cannot open shared object file');
      },
    }),
  );
  assert.equal(d.backend, 'wasm');
  assert.ok(d.notes.some((n) => n.includes('cannot load libtensorflow.so.2')));
});

test('a forced engine that is not there is a clear error, not a silent fallback', () => {
  assert.throws(
    () => detectBackend('tensorflow-gpu', deps({})),
    (e: unknown) => e instanceof EngineUnavailableError && /not available here/.test((e as Error).message),
  );
  assert.equal(detectBackend('cpu', deps({})).backend, 'cpu');
});

test('the wasm files are located explicitly', () => {
  const dir = locateWasmDir();
  assert.ok(dir, 'wasm dir found');
  assert.ok(TFJS_GPU_LIBS.includes('libcudnn.so.8'));
});

test('tfjs-node present without its native binding is reported as such, not as absent', () => {
  const d = detectBackend(
    'auto',
    deps({
      '@tensorflow/tfjs-node': () => {
        const e = new Error(
          "Cannot find module '/x/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'",
        ) as Error & { code: string };
        e.code = 'MODULE_NOT_FOUND';
        throw e;
      },
    }),
  );
  assert.equal(d.backend, 'wasm');
  assert.ok(
    d.notes.some((n) => /tfjs-node: installed without its native binding/.test(n)),
    d.notes.join('\n'),
  );
});
