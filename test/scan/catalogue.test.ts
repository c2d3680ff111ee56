import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOCS } from '../../src/core/citations';
import { RULES, ruleDocs, ruleHeading } from '../../src/scan/catalogue';
import { measuredNote, measuredSummary, measuredTooltip } from '../../src/scan/measured';
import { RULE_IDS } from '../../src/scan/rules';
import { fakeRun } from '../fixtures';

const ROOT = join(__dirname, '..', '..');

/** The anchors (`<a id="…">`) of a file in docs/. */
function anchorsOf(file: string): Set<string> {
  return new Set([...readFileSync(join(ROOT, file), 'utf8').matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!));
}

test('every rule has its section in docs/rules.md under its anchor and exact heading, and cites a section of docs/', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'rules.md'), 'utf8').split('\n');
  const anchors = anchorsOf('docs/rules.md');
  assert.deepEqual(
    RULES.map((r) => r.id),
    [...RULE_IDS],
  );
  for (const r of RULES) {
    assert.ok(doc.includes(ruleHeading(r.id)), `docs/rules.md has "${ruleHeading(r.id)}"`);
    assert.ok(anchors.has(r.id), `docs/rules.md has the anchor ${r.id}`);
    assert.equal(ruleDocs(r.id), `docs/rules.md#${r.id}`);
    assert.match(r.source, /^docs\/(fft-convolution|engines)\.md#[a-z0-9-]+/);
  }
});

test('every docs anchor the code cites exists, and no source or doc text points outside the product', () => {
  for (const target of Object.values(DOCS)) {
    const [file, anchor] = target.split('#') as [string, string];
    assert.ok(anchorsOf(file).has(anchor), `${file} has the anchor ${anchor}`);
  }
  const outside = /shared\/notes|\.\.\/shared/;
  for (const dir of ['src', 'webview', 'docs']) {
    for (const f of walk(join(ROOT, dir)))
      assert.doesNotMatch(readFileSync(f, 'utf8'), outside, `${f} cites a file outside the product`);
  }
  assert.doesNotMatch(readFileSync(join(ROOT, 'README.md'), 'utf8'), outside);
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test('a run puts its numbers on a finding: the verdict against Conv2D and the share of the step the rule is about', () => {
  const run = fakeRun();
  const einsum = measuredNote(run, 'einsum-channel-mixing')!;
  // seed layer 5 ms (layerMs = total / 2) vs spatial 1 ms; einsum is the only per-call step in the layer.
  assert.equal(
    einsum,
    'measured on test cpu, tfjs/wasm: inside the layer 5.0x slower than Conv2D 3×3 (5.00 ms vs 1.00 ms); the optimized formulation is 5.0x faster inside the layer; einsum 100 % of the layer (5.00 ms)',
  );
  const conv = measuredNote(run, 'conv2d-fft-payoff')!;
  assert.match(conv, /end to end, FFT \(optimized\) 2\.00 ms is 2\.0x slower than Conv2D 3×3 \(1\.00 ms\)/);
  const cancelled = { ...run, status: 'cancelled' as const };
  assert.match(measuredNote(cancelled, 'rfft-axes')!, /\(cancelled run: partial\)/);
  const empty = { ...run, variants: [] };
  assert.equal(measuredNote(empty, 'rfft-axes'), undefined);
});

test('the CodeLens summary of a run is one short line with the engine; the device goes to the tooltip', () => {
  const run = {
    ...fakeRun(),
    device: 'CPU via WebAssembly SIMD + XNNPACK, 1 thread: Intel(R) Xeon(R) Processor (2 logical cores)',
  };
  assert.equal(
    measuredSummary(run, 'fourier'),
    'tfjs/wasm: inside the layer 5.00 ms, 5.0x slower than Conv2D 3×3 · optimized 1.00 ms (5.0x faster)',
  );
  assert.equal(measuredSummary(run, 'conv2d'), 'tfjs/wasm: Conv2D 3×3 1.00 ms · optimized 2.00 ms (2.0x slower)');
  assert.match(
    measuredTooltip(run),
    /^measured on Intel Xeon Processor \(2 logical cores\), tfjs\/wasm, .*: open the report/,
  );
});
