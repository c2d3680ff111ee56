import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRunText, verdict } from '../../src/core/format';
import { DEFAULT_REPS, DEFAULT_WARMUP, SCHEMA_VERSION, parseRun } from '../../src/core/run';
import { toChromeTrace } from '../../src/core/trace';
import { SMALL } from '../helpers';
import { fakeRun } from '../fixtures';

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
      assert.ok(
        e.ts! >= span.ts! - 1e-6 && e.ts! + e.dur! <= span.ts! + span.dur! + 1e-3,
        `${e.name} nests in ${span.name}`,
      );
    }
    // back to back, no overlaps
    for (let k = 1; k < perCall.length; k++)
      assert.ok(Math.abs(perCall[k]!.ts! - (perCall[k - 1]!.ts! + perCall[k - 1]!.dur!)) < 1e-3);
    assert.equal(perCall[0]!.dur, Math.round(v.steps.filter((s) => !s.oneOff)[0]!.median * 1e6) / 1000);
  }
  const oneOff = trace.traceEvents.filter((e) => e.cat === 'one-off');
  assert.equal(oneOff.length, 1);
  assert.equal(oneOff[0]!.args!.implementation, 'impl of rfft2d(kernel)');
});

test('a verdict states a direction only when the p10–p90 ranges are apart: overlapping ones say no measurable difference', () => {
  const run = fakeRun();
  const seed = run.variants.find((v) => v.name === 'seed')!;
  const opt = run.variants.find((v) => v.name === 'optimized')!;
  // The two spectral formulations within each other's noise: no "faster" either way.
  Object.assign(opt.totalMs, { median: 10, p10: 8, p90: 14 });
  Object.assign(seed.totalMs, { median: 12, p10: 9, p90: 16 });
  const v = verdict(run);
  const line = v.lines.find((l) => /^Same function, better formulation/.test(l));
  assert.ok(line, v.lines.join('\n'));
  assert.match(line, /no measurable difference at this noise \(the ranges overlap\)/);
  assert.doesNotMatch(line, /faster|slower/);
  // Apart again: the direction is stated.
  Object.assign(seed.totalMs, { median: 30, p10: 28, p90: 33 });
  assert.match(
    verdict(run).lines.find((l) => /^Same function/.test(l))!,
    /optimized is 3\.0x faster/,
  );
  // The headline: the fastest two overlapping end to end.
  const spatial = run.variants.find((v) => v.name === 'spatial')!;
  Object.assign(spatial.totalMs, { median: 9.5, p10: 7, p90: 12 });
  assert.match(
    verdict(run).headline,
    /no measurable difference at this noise between spatial .* and optimized .* end to end/,
  );
});

test('the verdict names the fastest variant and the fair comparisons', () => {
  const v = verdict(fakeRun());
  assert.equal(v.fastest, 'spatial');
  assert.match(v.headline, /spatial is fastest end to end/);
  assert.ok(
    v.lines.some((l) => /optimized is 5\.0x faster/.test(l)),
    v.lines.join('\n'),
  );
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
  assert.deepEqual(
    JSON.parse(fs.readFileSync(file, 'utf8')),
    runJsonSchema(),
    'run `npm run gen-schema` after changing the schema',
  );
  const schema = runJsonSchema() as { required: string[] };
  for (const k of ['schemaVersion', 'engine', 'backend', 'device', 'spec', 'variants'])
    assert.ok(schema.required.includes(k), k);
});

test('the default warm-up and repetitions are one pair of numbers: the VS Code settings declare the same', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default: unknown }> } };
  };
  const props = pkg.contributes.configuration.properties;
  assert.equal(props['fourierConv.warmup']!.default, DEFAULT_WARMUP);
  assert.equal(props['fourierConv.repetitions']!.default, DEFAULT_REPS);
});
