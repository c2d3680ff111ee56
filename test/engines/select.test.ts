import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engines/engine';
import { type SelectDeps, createEngine } from '../../src/engines/select';
import { EngineUnavailableError } from '../../src/engines/engine';

const fakeEngine = (name: string): Engine & { notes: string[] } =>
  ({ name, notes: [] }) as unknown as Engine & { notes: string[] };

function deps(cudaOk: boolean, asked: string[] = [], torchOk = false): SelectDeps {
  return {
    torch: async () => {
      asked.push('torch');
      if (!torchOk)
        throw new EngineUnavailableError(
          'engine torch is not available here: no Python with torch ≥ 1.8 found (/usr/bin/python3: no torch); give one with --python',
        );
      return fakeEngine('torch');
    },
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

test("auto prefers PyTorch in the user's Python when it is there: its verdicts hold for their framework", async () => {
  const asked: string[] = [];
  const e = await createEngine('auto', deps(true, asked, true));
  assert.equal(e.name, 'torch');
  assert.match(e.notes.join(' '), /using torch/);
  assert.deepEqual(asked, ['torch']);
});

test('auto then prefers the CUDA engine when it is usable, saying why torch was skipped', async () => {
  const e = await createEngine('auto', deps(true));
  assert.equal(e.name, 'cuda');
  assert.deepEqual(e.notes, [
    'torch: no Python with torch ≥ 1.8 found (/usr/bin/python3: no torch); give one with --python',
    'using cuda (the native CUDA engine)',
  ]);
});

test('auto falls back to the tfjs engines and says first why torch and cuda were skipped', async () => {
  const asked: string[] = [];
  const e = await createEngine('auto', deps(false, asked));
  assert.equal(e.name, 'tfjs-auto');
  assert.deepEqual(e.notes, [
    'torch: no Python with torch ≥ 1.8 found (/usr/bin/python3: no torch); give one with --python',
    'cuda: no CUDA driver: libcuda.so.1 not found',
  ]);
  assert.deepEqual(asked, ['torch', 'cuda', 'tfjs:auto']);
});

test('a forced engine is used or fails, never replaced', async () => {
  await assert.rejects(async () => createEngine('cuda', deps(false)), EngineUnavailableError);
  const asked: string[] = [];
  assert.equal((await createEngine('wasm', deps(true, asked))).name, 'tfjs-wasm');
  assert.deepEqual(asked, ['tfjs:wasm'], 'a forced tfjs engine does not even look for CUDA or Python');
  await assert.rejects(async () => createEngine('torch', deps(true)), EngineUnavailableError);
});
