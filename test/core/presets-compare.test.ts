import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffRuns } from '../../src/core/compare';
import { shortVerdict, verdict } from '../../src/core/format';
import { estimateRunBytes } from '../../src/core/memory';
import { exportFileName } from '../../src/core/format';
import { PALETTE_LINE, PRESETS, presetById, presetDescription } from '../../src/core/presets';
import { VARIANT_NAMES } from '../../src/core/run';
import { DEFAULT_SPEC, specProblems } from '../../src/core/spec';
import { UsageError, parseInputShape } from '../../src/core/spec-input';
import { variantsForSpec } from '../../src/core/run';
import { summarize } from '../../src/core/stats';
import { fakeRun } from '../fixtures';

test('every preset is a valid layer within the default 4 GB budget, with a unique id', () => {
  assert.equal(new Set(PRESETS.map((p) => p.id)).size, PRESETS.length);
  for (const p of PRESETS) {
    assert.deepEqual(specProblems(p.spec), [], p.id);
    // What a profile of the preset runs (an FNO preset: its default variants, as the CLI and the extension pick them).
    const variants = variantsForSpec(p.spec, [...VARIANT_NAMES]);
    assert.ok(estimateRunBytes(p.spec, variants) < 4e9, `${p.id} fits 4 GB`);
  }
});

test("an FNO preset run from the extension's variants setting (the question's layer's names) runs the FNO's own default set, not optimized alone", () => {
  const fno = PRESETS.find((p) => p.spec.layer === 'fno');
  assert.ok(fno, 'an FNO preset');
  const fromSetting = variantsForSpec(fno.spec, [...VARIANT_NAMES]);
  assert.ok(fromSetting.includes('fno') && fromSetting.includes('optimized'), fromSetting.join(', '));
  assert.ok(fromSetting.length >= 2);
  // A list that names an FNO variant was chosen for FNO layers: it is honoured as given.
  assert.deepEqual(variantsForSpec(fno.spec, ['fno']), ['fno']);
  // The question's layer keeps the setting's choice.
  assert.deepEqual(variantsForSpec(DEFAULT_SPEC, ['seed', 'optimized']), ['seed', 'optimized']);
});

test("the presets are the seed's MNIST case, a CIFAR-like and two ImageNet-like layers", () => {
  assert.deepEqual(presetById('mnist-question')?.spec, DEFAULT_SPEC);
  // Its old id (a setting or a script may still name it) is the same preset.
  assert.equal(presetById('mnist-seed')?.id, 'mnist-question');
  const c = presetById('cifar-k5')!.spec;
  assert.deepEqual([c.height, c.width, c.inChannels, c.outChannels, c.kernelH, c.kernelW], [32, 32, 3, 64, 5, 5]);
  for (const [id, k] of [
    ['imagenet-k3', 3],
    ['imagenet-k7', 7],
  ] as const) {
    const s = presetById(id)!.spec;
    assert.deepEqual(
      [s.height, s.width, s.inChannels, s.outChannels, s.kernelH, s.spatialKernel],
      [56, 56, 64, 64, k, k],
    );
  }
  assert.equal(presetById('nope'), undefined);
});

test('parseInputShape reads batch×height×width×channels in any of the usual spellings and names the bad field', () => {
  const want = { batch: 32, height: 28, width: 28, inChannels: 1 };
  for (const t of ['32x28x28x1', '32×28×28×1', ' 32 x 28 x 28 x 1 ', '32,28,28,1', '32 28 28 1'])
    assert.deepEqual(parseInputShape(t), want, t);
  assert.throws(
    () => parseInputShape('32x28x28'),
    (e: Error) => e instanceof UsageError && /batch×height×width×channels/.test(e.message),
  );
  assert.throws(() => parseInputShape('32x0x28x1'), /height must be positive/);
  assert.throws(() => parseInputShape('32x28x2.5x1'), /width must be a whole number/);
  assert.throws(() => parseInputShape('ax28x28x1'), /batch must be a positive whole number/);
});

function scaled(factor: number, spreadFactor = 1) {
  const run = fakeRun();
  for (const v of run.variants) {
    for (const s of v.steps)
      Object.assign(
        s,
        summarize([
          s.median * factor * (1 - 0.02 * spreadFactor),
          s.median * factor,
          s.median * factor * (1 + 0.02 * spreadFactor),
        ]),
      );
    Object.assign(v.totalMs, summarize(v.totalMs.samples.map((x) => x * factor)));
  }
  return run;
}

test('diffRuns marks a step faster or slower only beyond both spreads, and within noise otherwise', () => {
  const a = scaled(1);
  const same = diffRuns(a, scaled(1.01));
  assert.ok(
    same.rows.every((r) => r.change === 'same'),
    'a 1 % change inside the spread is noise',
  );
  assert.ok(same.sameSpec && same.sameEngine && same.notes.length === 0);
  const slow = diffRuns(a, scaled(2));
  assert.ok(
    slow.rows
      .filter((r) => r.step !== 'end to end')
      .every((r) => r.change === 'slower' && Math.abs(r.ratio! - 2) < 1e-9),
  );
  const fast = diffRuns(a, scaled(0.5));
  assert.ok(fast.rows.filter((r) => r.step !== 'end to end').every((r) => r.change === 'faster'));
  // one row per step plus an end-to-end row per variant, in the current run's order
  assert.equal(
    slow.rows.length,
    a.variants.reduce((n, v) => n + v.steps.length + 1, 0),
  );
  assert.deepEqual(
    slow.rows.slice(0, 2).map((r) => [r.variant, r.step]),
    [
      ['spatial', 'end to end'],
      ['spatial', 'conv2d'],
    ],
  );
});

test('diffRuns lists steps and variants only one run has, and says when the layers or engines differ', () => {
  const a = fakeRun();
  const b = fakeRun();
  b.variants = b.variants.filter((v) => v.name !== 'seed');
  b.variants[0]!.steps.push({ ...b.variants[0]!.steps[0]!, id: 'bias', name: 'bias add' });
  b.spec = { ...b.spec, batch: b.spec.batch * 2 };
  b.backend = 'cpu';
  const d = diffRuns(a, b);
  assert.ok(d.rows.some((r) => r.step === 'bias add' && r.change === 'added' && r.previousMs === undefined));
  assert.ok(
    d.rows.filter((r) => r.variant === 'seed').every((r) => r.change === 'removed' && r.currentMs === undefined),
  );
  assert.equal(d.sameSpec, false);
  assert.equal(d.sameEngine, false);
  // The engine first; with the engines differing too, the batch is not "only" what differs.
  assert.match(d.notes[0]!, /^The engines differ: previous tfjs\/wasm .* now tfjs\/cpu/);
  assert.match(d.notes[1]!, /^The batch differs too \(2 before, 4 now\).*per sample/);
  assert.doesNotMatch(d.notes.join(' '), /Only the batch/);
  assert.equal(d.basis, 'ms per sample');
  // The same engine: then it is the only difference.
  const e = diffRuns(a, { ...b, backend: a.backend });
  assert.match(e.notes.join(' '), /Only the batch differs \(2 before, 4 now\)/);
});

test('diffRuns calls nothing faster or slower below the timer resolution (0 µs → 0 µs is the same)', () => {
  const a = fakeRun();
  const b = structuredClone(a);
  const tiny = (c: { median: number; p10: number; p90: number }, m: number) =>
    Object.assign(c, { median: m, p10: m, p90: m });
  tiny(a.variants[0]!.steps[0]!, 0.0002);
  tiny(b.variants[0]!.steps[0]!, 0.0005);
  const d = diffRuns(a, b);
  const row = d.rows.find((r) => r.variant === a.variants[0]!.name && r.step === a.variants[0]!.steps[0]!.name);
  assert.ok(row, JSON.stringify(d.rows.map((r) => [r.variant, r.step])));
  assert.equal(row.change, 'same');
});

test('diffRuns compares per sample when only the batch differs, and calls nothing faster when the layers differ', () => {
  const a = fakeRun();
  // Twice the batch in twice the time: per sample nothing changed.
  const b = structuredClone(a);
  b.spec = { ...b.spec, batch: a.spec.batch * 2 };
  const twice = (c: { median: number; p10: number; p90: number }) => {
    c.median *= 2;
    c.p10 *= 2;
    c.p90 *= 2;
  };
  for (const v of b.variants) {
    twice(v.totalMs);
    v.steps.forEach(twice);
  }
  const d = diffRuns(a, b);
  assert.equal(d.basis, 'ms per sample');
  assert.ok(
    d.rows.every((r) => r.change === 'same' && Math.abs(r.ratio! - 1) < 1e-9),
    'per sample: the same',
  );
  // Another kernel: different work, so numbers side by side and no verdict.
  const c = structuredClone(b);
  c.spec = { ...a.spec, kernelH: 5, kernelW: 5 };
  for (const v of c.variants) v.steps.forEach((st) => (st.median /= 10));
  const e = diffRuns(a, c);
  assert.equal(e.basis, null);
  assert.ok(e.rows.filter((r) => r.ratio !== undefined).every((r) => r.change === 'not comparable'));
  assert.match(e.notes.join(' '), /The layers differ .* no faster\/slower/);
});

test('shortVerdict compares the spectral layer with both spatial convolutions, and marks partial runs', () => {
  const run = fakeRun(); // optimized 2 ms, spatial (conv 3×3) 1 ms, no spatial-equivalent
  assert.equal(shortVerdict(run), `FFT end to end: 2.0x slower than 3×3 (tfjs/wasm)`);
  const eq = structuredClone(run.variants[0]!);
  eq.name = 'spatial-equivalent';
  eq.totalMs = { ...eq.totalMs, ...summarize([8, 8, 8]) };
  run.variants.push(eq);
  assert.equal(
    shortVerdict(run),
    `FFT end to end: 4.0x faster than conv ${run.spec.kernelH}×${run.spec.kernelW}, 2.0x slower than 3×3 (tfjs/wasm)`,
  );
  // A verdict holds for the engine that measured it, and says which.
  const torch = {
    ...run,
    engine: 'torch',
    backend: 'cpu',
    framework: { name: 'torch', version: '1.13.0a0', device: 'cpu', threads: 1 },
  };
  assert.match(shortVerdict(torch), /\(PyTorch 1\.13 on cpu\)$/);
  assert.match(verdict(torch).headline, /^On PyTorch 1\.13\.0a0 on cpu \(1 thread\): /);
  run.status = 'cancelled';
  assert.match(shortVerdict(run), /^partial: FFT/);
  for (const v of run.variants) v.correct = false;
  assert.equal(shortVerdict(run), 'partial: no variant completed');
});

test('preset lines fit the command palette: label + description and the detail each within its width', () => {
  for (const p of PRESETS) {
    const line = `${p.label}  ${presetDescription(p)}`;
    assert.ok(line.length <= PALETTE_LINE, `${line.length}: ${line}`);
    assert.ok(p.detail.length <= PALETTE_LINE + 10, `${p.detail.length}: ${p.detail}`);
  }
  assert.equal(presetDescription(presetById('mnist-question')!), '32 × 28×28, 1→32, image-sized kernel');
  assert.equal(presetDescription(presetById('fno-64')!), '20 × 64×64, 32→32, modes 12×12');
});

test('an export is named after what was profiled, on which engine, when', () => {
  const run = {
    spec: { ...presetById('mnist-question')!.spec },
    engine: 'tfjs',
    backend: 'wasm',
    createdAt: new Date(2026, 10, 30, 10, 12).toISOString(),
  };
  assert.equal(exportFileName(run, 'html'), 'fconv-28x28-k28-tfjs-wasm-2026-11-30-1012.html');
  assert.equal(
    exportFileName({ ...run, spec: presetById('fno-64')!.spec, engine: 'torch', backend: 'cpu' }, 'trace'),
    'fconv-fno-64x64-m12x12-torch-cpu-2026-11-30-1012.trace.json',
  );
});
