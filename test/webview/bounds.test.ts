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
  assert.match([...svg.querySelectorAll('text.value')][0]!.textContent!, /^160 % \(above the probe’s rate\)/);
});
