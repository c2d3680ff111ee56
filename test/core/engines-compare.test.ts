/**
 * Comparing engines on an FNO layer (issue #24, variant table): the verdicts and the table are the layer's own
 * variants (fno, optimized), not the question's layer's, which an FNO layer does not have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareEngines, formatEnginesCompare } from '../../src/core/engines-compare';
import { fnoSpec } from '../../src/core/spec';
import { profile } from '../../src/engines/profiler';
import { TfjsEngine } from '../../src/engines/tfjs/engine';
import { spec } from '../helpers';

test('an FNO comparison asks the FNO question and lists its variants', async () => {
  const s = fnoSpec({ ...spec({ batch: 2, height: 8, width: 8, inChannels: 2, outChannels: 2 }), modes: [2, 2] });
  const opts = { variants: ['fno' as const, 'optimized' as const], warmup: 0, reps: 2, seed: 1, adaptiveBudgetMs: 0 };
  const wasm = await profile(await TfjsEngine.create('wasm'), s, opts);
  const cpu = await profile(await TfjsEngine.create('cpu'), s, opts);
  assert.equal(wasm.status, 'ok', wasm.failure);
  const c = compareEngines([wasm, cpu]);
  assert.deepEqual(
    c.verdicts.map((v) => v.question),
    ['fno-formulation'],
  );
  assert.ok(c.verdicts[0]!.answers.every((a) => a.winner === 'fno' || a.winner === 'optimized'));
  const text = formatEnginesCompare(c);
  assert.match(text, /\n {2}fno {2,}/);
  assert.match(text, /\n {2}optimized {2,}/);
  assert.doesNotMatch(text, /\n {2}seed /);
});
