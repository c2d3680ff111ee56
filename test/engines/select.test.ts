import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Engine } from '../../src/engines/engine';
import { createEngine } from '../../src/engines/select';
import { EngineUnavailableError } from '../../src/engines/engine';
import { ENGINE_FACTORIES, type EngineFactory } from '../../src/engines/registry';
import { AUTO_DESCRIPTION, ENGINE_REQUESTS, ENGINE_TABLE, autoOrder, pipelineOf } from '../../src/core/engine-table';

const fakeEngine = (name: string): Engine => ({ name, notes: [] }) as unknown as Engine;

type Factories = Parameters<typeof createEngine>[1] & {};

function deps(cudaOk: boolean, asked: string[] = [], torchOk = false, tfjsOk = true): Factories {
  const tfjs =
    (id: string): EngineFactory =>
    async (_o, inAuto) => {
      asked.push(`tfjs:${id}${inAuto ? ' (auto)' : ''}`);
      if (!tfjsOk || (inAuto && id !== 'wasm')) throw EngineUnavailableError.of(id, `${id} is not installed`);
      return fakeEngine(`tfjs-${id}`);
    };
  // Every engine of the table gets a fake (tfjs-like by default), so a new engine needs no edit here.
  const all = Object.fromEntries(ENGINE_TABLE.map((e) => [e.id, tfjs(e.id)])) as Factories;
  return {
    ...all,
    torch: async () => {
      asked.push('torch');
      if (!torchOk)
        throw EngineUnavailableError.of(
          'torch',
          'no Python with torch ≥ 1.8 found (/usr/bin/python3: no torch); give one with --python',
        );
      return fakeEngine('torch');
    },
    cuda: async () => {
      asked.push('cuda');
      if (!cudaOk) throw EngineUnavailableError.of('cuda', 'no CUDA driver: libcuda.so.1 not found');
      return fakeEngine('cuda');
    },
    tensorflow: async () => {
      asked.push('tensorflow');
      throw EngineUnavailableError.of(
        'tensorflow',
        'no Python with tensorflow ≥ 2.4 found (/usr/bin/python3: no tensorflow); give one with --python',
      );
    },
  };
}

test("auto prefers PyTorch in the user's Python when it is there: its verdicts hold for their framework", async () => {
  const asked: string[] = [];
  const e = await createEngine('auto', deps(true, asked, true));
  assert.equal(e.name, 'torch');
  assert.match(e.notes.join(' '), /using torch \(PyTorch in your Python\): its verdicts hold for PyTorch/);
  assert.deepEqual(asked, ['torch']);
});

test('auto then prefers the CUDA engine when it is usable, saying why torch was skipped', async () => {
  const e = await createEngine('auto', deps(true));
  assert.equal(e.name, 'cuda');
  assert.deepEqual(e.notes, [
    'torch: no Python with torch ≥ 1.8 found (/usr/bin/python3: no torch); give one with --python',
    'tensorflow: no Python with tensorflow ≥ 2.4 found (/usr/bin/python3: no tensorflow); give one with --python',
    'using cuda instead (the native CUDA engine)',
  ]);
});

test('auto walks the registry to the tfjs engines and says first why each one before was skipped', async () => {
  const asked: string[] = [];
  const e = await createEngine('auto', deps(false, asked));
  assert.equal(e.name, 'tfjs-wasm');
  assert.deepEqual(e.notes, [
    'torch: no Python with torch ≥ 1.8 found (/usr/bin/python3: no torch); give one with --python',
    'tensorflow: no Python with tensorflow ≥ 2.4 found (/usr/bin/python3: no tensorflow); give one with --python',
    'cuda: no CUDA driver: libcuda.so.1 not found',
    'tfjs-node-gpu: tfjs-node-gpu is not installed',
    'tfjs-node: tfjs-node is not installed',
    'using wasm instead (the embedded engine)',
  ]);
  assert.deepEqual(asked, [
    'torch',
    'tensorflow',
    'cuda',
    'tfjs:tfjs-node-gpu (auto)',
    'tfjs:tfjs-node (auto)',
    'tfjs:wasm (auto)',
  ]);
});

test('auto with no engine left says why each one was passed over', async () => {
  await assert.rejects(
    async () => createEngine('auto', deps(false, [], false, false)),
    (e: Error) =>
      e instanceof EngineUnavailableError &&
      /no engine can run here: torch: .*; cuda: .*; cpu: cpu is not/.test(e.message),
  );
});

test('a forced engine is used or fails, never replaced', async () => {
  await assert.rejects(async () => createEngine('cuda', deps(false)), EngineUnavailableError);
  const asked: string[] = [];
  assert.equal((await createEngine('wasm', deps(true, asked))).name, 'tfjs-wasm');
  assert.deepEqual(asked, ['tfjs:wasm'], 'a forced tfjs engine does not even look for CUDA or Python');
  await assert.rejects(async () => createEngine('torch', deps(true)), EngineUnavailableError);
});

test("the registry: one factory per engine id, auto's order by priority, package.json's setting from the table", () => {
  assert.deepEqual(Object.keys(ENGINE_FACTORIES).sort(), ENGINE_TABLE.map((e) => e.id).sort());
  const priorities = ENGINE_TABLE.map((e) => e.priority);
  assert.deepEqual(
    priorities,
    [...priorities].sort((a, b) => a - b),
    'the table is written in priority order',
  );
  assert.deepEqual(
    autoOrder().map((e) => e.id),
    ENGINE_TABLE.filter((e) => e.auto).map((e) => e.id),
  );
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const setting = pkg.contributes.configuration.properties['fourierConv.engine'];
  assert.deepEqual(setting.enum, ENGINE_REQUESTS);
  assert.deepEqual(setting.markdownEnumDescriptions, [AUTO_DESCRIPTION, ...ENGINE_TABLE.map((e) => e.description)]);
});

test('pipelineOf: a Python engine is framework-device, the others their backend', () => {
  assert.equal(pipelineOf({ engine: 'torch', backend: 'cuda' }), 'torch-cuda');
  assert.equal(pipelineOf({ engine: 'torch', backend: 'cpu' }), 'torch-cpu');
  assert.equal(pipelineOf({ engine: 'tfjs', backend: 'wasm' }), 'wasm');
  assert.equal(pipelineOf({ engine: 'cuda', backend: 'cuda' }), 'cuda');
});
