import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRunText, verdict } from '../../src/core/format';
import { type Run, SCHEMA_VERSION, parseRun } from '../../src/core/run';
import { geometry } from '../../src/core/spec';
import { toChromeTrace } from '../../src/core/trace';
import { summarize } from '../../src/core/stats';
import { SMALL } from '../helpers';

function step(name: string, median: number, extra: Partial<Run['variants'][number]['steps'][number]> = {}) {
  return {
    id: name, name, implementation: `impl of ${name}`, inLayer: true, oneOff: false, inputShapes: [[1, 2]], outputShape: [1, 2],
    flops: 100, bytes: 16, timing: 'wall-clock-sync' as const, warmup: 1, reps: 3, ...summarize([median * 0.9, median, median * 1.1]), ...extra,
  };
}

export function fakeRun(): Run {
  const variant = (name: 'spatial' | 'seed' | 'optimized', kind: 'spatial' | 'spectral', steps: ReturnType<typeof step>[], total: number) => ({
    name, title: name, description: `${name} description`, kind, reference: 'ref', steps,
    totalMs: { ...summarize([total, total, total]), timing: 'wall-clock-sync' as const, reps: 3 },
    ...(kind === 'spectral' ? { layerMs: { ...summarize([total / 2]), timing: 'wall-clock-sync' as const, reps: 3 } } : {}),
    stepSumMs: steps.filter((s) => !s.oneOff).reduce((a, s) => a + s.median, 0),
    maxAbsError: 1e-6, refScale: 3, tolerance: 3e-3, correct: true, checkedPoints: 10, outputShape: [1, 2],
  });
  return {
    schemaVersion: SCHEMA_VERSION, tool: { name: 't', version: '1' }, createdAt: new Date(0).toISOString(), status: 'ok',
    engine: 'tfjs', backend: 'wasm', device: 'test cpu', engineNotes: ['note'], spec: SMALL, geometry: geometry(SMALL),
    settings: { warmup: 1, reps: 3, seed: 1 }, timingNote: 'wall', wallMs: 10,
    variants: [
      variant('spatial', 'spatial', [step('conv2d', 1)], 1),
      variant('seed', 'spectral', [step('rfft2d(input)', 2, { inLayer: false }), step('einsum', 5), step('irfft2d', 3, { inLayer: false })], 10),
      variant('optimized', 'spectral', [step('rfft2d(kernel)', 4, { oneOff: true }), step('multiply', 1), step('irfft2d · ifft over H', 1, { inLayer: false })], 2),
    ],
  };
}

test('a run round-trips through JSON and the schema', () => {
  const run = fakeRun();
  assert.deepEqual(parseRun(JSON.parse(JSON.stringify(run))), run);
});

test('the schema rejects a document that is not a run, naming the field', () => {
  assert.throws(() => parseRun({ ...fakeRun(), schemaVersion: 99 }), /schemaVersion/);
  const bad = fakeRun();
  (bad.variants[0]!.steps[0] as { timing: string }).timing = 'stopwatch';
  assert.throws(() => parseRun(bad), /variants\.0\.steps\.0\.timing/);
  assert.throws(() => parseRun({ ...fakeRun(), spec: { ...SMALL, batch: -1 } }), /spec\.batch/);
  assert.throws(() => parseRun('nope'), /not a valid profile run/);
});

test('the Chrome trace has one track per variant, steps nested inside the variant span at their medians', () => {
  const run = fakeRun();
  const trace = toChromeTrace(JSON.parse(JSON.stringify(run)));
  const names = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
  assert.deepEqual(names, ['spatial', 'seed', 'optimized']);
  for (const [i, v] of run.variants.entries()) {
    const tid = i + 1;
    const xs = trace.traceEvents.filter((e) => e.ph === 'X' && e.tid === tid);
    const span = xs.find((e) => e.cat === 'variant')!;
    const perCall = xs.filter((e) => e.cat !== 'variant' && e.cat !== 'one-off');
    assert.equal(perCall.length, v.steps.filter((s) => !s.oneOff).length);
    for (const e of perCall) {
      assert.ok(e.ts! >= span.ts! - 1e-6 && e.ts! + e.dur! <= span.ts! + span.dur! + 1e-3, `${e.name} nests in ${span.name}`);
    }
    // back to back, no overlaps
    for (let k = 1; k < perCall.length; k++) assert.ok(Math.abs(perCall[k]!.ts! - (perCall[k - 1]!.ts! + perCall[k - 1]!.dur!)) < 1e-3);
    assert.equal(perCall[0]!.dur, Math.round(v.steps.filter((s) => !s.oneOff)[0]!.median * 1e6) / 1000);
  }
  const oneOff = trace.traceEvents.filter((e) => e.cat === 'one-off');
  assert.equal(oneOff.length, 1);
  assert.equal(oneOff[0]!.args!.implementation, 'impl of rfft2d(kernel)');
});

test('the verdict names the fastest variant and the fair comparisons', () => {
  const v = verdict(fakeRun());
  assert.equal(v.fastest, 'spatial');
  assert.match(v.headline, /spatial is fastest end to end/);
  assert.ok(v.lines.some((l) => /optimized is 5\.0x faster/.test(l)), v.lines.join('\n'));
  assert.ok(v.lines.some((l) => /compute different functions/.test(l)));
  const text = formatRunText(fakeRun());
  assert.match(text, /einsum/);
  assert.match(text, /once/);
});

test('the verdict reports a mismatch and a cancelled run', () => {
  const run = fakeRun();
  run.variants[2]!.correct = false;
  run.status = 'cancelled';
  const v = verdict(run);
  assert.ok(v.lines.some((l) => /cancelled/.test(l)));
  assert.ok(v.lines.some((l) => /optimized does NOT match/.test(l)));
  assert.equal(v.fastest, 'spatial');
});

test('the committed JSON Schema file is the one the zod schema generates', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { runJsonSchema } = await import('../../src/core/run');
  const file = path.join(__dirname, '..', '..', 'schema', `run-v${SCHEMA_VERSION}.schema.json`);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), runJsonSchema(), 'run `npm run gen-schema` after changing the schema');
  const schema = runJsonSchema() as { required: string[] };
  for (const k of ['schemaVersion', 'engine', 'backend', 'device', 'spec', 'variants']) assert.ok(schema.required.includes(k), k);
});
