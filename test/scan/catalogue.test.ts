import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RULES, ruleAnchor, ruleHeading } from '../../src/scan/catalogue';
import { measuredNote, measuredSummary } from '../../src/scan/measured';
import { RULE_IDS } from '../../src/scan/types';
import { fakeRun } from '../fixtures';

test('every rule has a README section under its exact heading, and a source in the notes', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8').split('\n');
  assert.deepEqual(RULES.map((r) => r.id), [...RULE_IDS]);
  for (const r of RULES) {
    assert.ok(readme.includes(ruleHeading(r.id)), `README has "${ruleHeading(r.id)}"`);
    assert.match(r.source, /fft-conv-facts\.md|engines\.md/);
  }
  assert.equal(ruleAnchor('rfft-axes'), 'rfft-axes-rfft2d-runs-over-the-wrong-axes');
});

test('a run puts its numbers on a finding: the verdict against Conv2D and the share of the step the rule is about', () => {
  const run = fakeRun();
  const einsum = measuredNote(run, 'einsum-channel-mixing')!;
  // seed layer 5 ms (layerMs = total / 2) vs spatial 1 ms; einsum is the only per-call step in the layer.
  assert.equal(einsum, 'measured on test cpu, tfjs/wasm: seed layer 5.0x slower than Conv2D 3×3 (5.00 ms vs 1.00 ms); the optimized layer is 5.0x faster than the seed\'s end to end; einsum 100 % of the layer (5.00 ms)');
  const conv = measuredNote(run, 'conv2d-fft-payoff')!;
  assert.match(conv, /FFT \(optimized\) 2\.00 ms is 2\.0x slower than Conv2D 3×3 \(1\.00 ms\)/);
  const cancelled = { ...run, status: 'cancelled' as const };
  assert.match(measuredNote(cancelled, 'rfft-axes')!, /\(cancelled run: partial\)/);
  const empty = { ...run, variants: [] };
  assert.equal(measuredNote(empty, 'rfft-axes'), undefined);
});

test('the CodeLens summary of a run names the device without the engine preamble', () => {
  const run = { ...fakeRun(), device: 'CPU via WebAssembly SIMD + XNNPACK, 1 thread: Intel(R) Xeon(R) Processor (2 logical cores)' };
  assert.equal(measuredSummary(run, 'fourier'), "measured on Intel Xeon Processor (2 logical cores), tfjs/wasm: seed layer 5.00 ms, 5.0x slower than Conv2D 3×3 · optimized FFT 2.00 ms (5.0x faster than the seed's)");
  assert.equal(measuredSummary(run, 'conv2d'), 'measured on Intel Xeon Processor (2 logical cores), tfjs/wasm: Conv2D 3×3 1.00 ms · optimized FFT 2.00 ms (2.0x slower)');
});
