import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engines/engine';
import { type SelectDeps, createEngine } from '../../src/engines/select';
import { EngineUnavailableError } from '../../src/engines/engine';

const fakeEngine = (name: string): Engine & { notes: string[] } =>
  ({ name, notes: [] }) as unknown as Engine & { notes: string[] };

function deps(cudaOk: boolean, asked: string[] = []): SelectDeps {
  return {
    cuda: () => {
      asked.push('cuda');
      if (!cudaOk)
        throw new EngineUnavailableError('engine cuda is not available here: no CUDA driver: libcuda.so.1 not found');
      return fakeEngine('cuda');
    },
    tfjs: async (r) => {
      asked.push(`tfjs:${r}`);
      return fakeEngine(`tfjs-${r}`);
    },
  };
}

test('auto prefers the CUDA engine when it is usable', async () => {
  const e = await createEngine('auto', deps(true));
  assert.equal(e.name, 'cuda');
  assert.deepEqual(e.notes, ['using cuda (the native CUDA engine)']);
});

test('auto falls back to the tfjs engines and says first why cuda was skipped', async () => {
  const asked: string[] = [];
  const e = await createEngine('auto', deps(false, asked));
  assert.equal(e.name, 'tfjs-auto');
  assert.deepEqual(e.notes, ['cuda: no CUDA driver: libcuda.so.1 not found']);
  assert.deepEqual(asked, ['cuda', 'tfjs:auto']);
});

test('a forced engine is used or fails, never replaced', async () => {
  await assert.rejects(async () => createEngine('cuda', deps(false)), EngineUnavailableError);
  const asked: string[] = [];
  assert.equal((await createEngine('wasm', deps(true, asked))).name, 'tfjs-wasm');
  assert.deepEqual(asked, ['tfjs:wasm'], 'a forced tfjs engine does not even look for CUDA');
});
