/** The share-of-bound bars: a step above its bound (possible on a CPU) is drawn past the 100 % line, not clipped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';

test('a step at 160 % of its bound is drawn to 160 % on an axis that reaches past 100 %, and says so', async () => {
  const dom = new JSDOM('<!DOCTYPE html><body></body>');
  Object.assign(globalThis, { document: dom.window.document });
  const { boundBars } = await import('../../webview/roofline');
  const step = (name: string, pct: number) => ({
    variant: 'optimized',
    stepId: name,
    name,
    category: 'product',
    kind: 'gemm',
    oneOff: false,
    medianMs: 1,
    modelMs: 1,
    flops: 1e6,
    bytes: 1e3,
    intensity: 10,
    achievedGflops: pct,
    attainableGflops: 100,
    achievedGBs: 1,
    pctOfBound: pct,
    bound: 'compute',
  });
  const svg = boundBars({ steps: [step('a', 160), step('b', 50)] } as never, 760);
  const ticks = [...svg.querySelectorAll('text.tick')].map((t) => t.textContent);
  assert.equal(ticks.at(-1), '200 %');
  assert.ok(svg.querySelector('line.bound-line'), 'the 100 % line is marked');
  const bars = [...svg.querySelectorAll('rect.bar')].map((r) => Number(r.getAttribute('width')));
  const plotW = 760 - 250 - 200;
  assert.ok(Math.abs(bars[0]! - (plotW * 160) / 200) < 1e-6, `${bars[0]}`);
  assert.ok(bars[0]! > (plotW * 100) / 200, 'past the 100 % line');
  assert.match([...svg.querySelectorAll('text.value')][0]!.textContent!, /^160 % ↑ probe · /);
  // The value labels fit their column: short, the explanation in the hover card.
  for (const t of svg.querySelectorAll('text.value')) assert.ok(t.textContent!.length <= 28, t.textContent!);
});

test('a step shorter than the timer resolves gets no share (no 10000 % transpose) and does not stretch the axis', async () => {
  const dom = new JSDOM('<!DOCTYPE html><body></body>');
  Object.assign(globalThis, { document: dom.window.document });
  const { boundBars } = await import('../../webview/roofline');
  const step = (name: string, pct: number, medianMs: number) => ({
    variant: 'optimized',
    stepId: name,
    name,
    category: 'layout',
    kind: 'copy',
    oneOff: false,
    medianMs,
    modelMs: medianMs,
    flops: 0,
    bytes: 1e3,
    intensity: 0,
    achievedGflops: 0,
    attainableGflops: 1,
    achievedGBs: 1,
    pctOfBound: pct,
    bound: 'memory',
  });
  const svg = boundBars({ steps: [step('big', 80, 2), step('transpose', 10217, 0.003)] } as never, 760);
  const ticks = [...svg.querySelectorAll('text.tick')].map((t) => t.textContent);
  assert.equal(ticks.at(-1), '100 %');
  const values = [...svg.querySelectorAll('text.value')].map((t) => t.textContent!);
  assert.match(values[1]!, /^— · 3 µs \(below the timer\)$/);
  assert.doesNotMatch(values.join(' '), /10217/);
  const bars = [...svg.querySelectorAll('rect.bar')].map((r) => Number(r.getAttribute('width')));
  assert.equal(bars[1], 1);
});
