/**
 * Where the gain comes from (issue 15): on real runs of random specs, the category parts sum to the
 * difference, the layer's part is the in-layer steps, outside-the-layer transforms use the same method in
 * every spectral variant; the CLI line and the report's waterfall say the same numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import * as path from 'node:path';
import { rng } from '../../src/core/data';
import { gainLine, gainsOf } from '../../src/core/gains';
import { variantLabel } from '../../src/core/glossary';
import { formatRunText, shortVerdict } from '../../src/core/format';
import { PADDINGS, fnoSpec } from '../../src/core/spec';
import { profile } from '../../src/engines/profiler';
import { TfjsEngine } from '../../src/engines/tfjs/engine';
import { spec } from '../helpers';

const QUICK = { warmup: 0, reps: 2, seed: 1, adaptiveBudgetMs: 0 };

test('gain parts sum to the difference and the layer part is the in-layer steps, on random specs (wasm)', async () => {
  const engine = await TfjsEngine.create('wasm');
  const r = rng(61);
  for (let i = 0; i < 12; i++) {
    const H = 3 + Math.floor(r() * 8),
      W = 3 + Math.floor(r() * 8);
    const padding = PADDINGS[i % PADDINGS.length]!;
    const s = spec({
      batch: 1 + Math.floor(r() * 3),
      height: H,
      width: W,
      inChannels: 1 + Math.floor(r() * 4),
      outChannels: 1 + Math.floor(r() * 4),
      kernelH: 1 + Math.floor(r() * H),
      kernelW: 1 + Math.floor(r() * W),
      padding,
      layout: i % 2 ? 'NCHW' : 'NHWC',
    });
    const run = await profile(engine, s, { ...QUICK, variants: ['spatial-equivalent', 'seed', 'optimized'] });
    assert.equal(run.status, 'ok', run.failure);
    const gains = gainsOf(run);
    assert.deepEqual(
      gains.map((g) => `${g.from}>${g.to}`),
      ['seed>optimized', 'spatial-equivalent>optimized'],
    );
    for (const g of gains) {
      const parts = g.parts.reduce((a, p) => a + p.deltaMs, 0);
      assert.ok(Math.abs(parts - g.deltaMs) < 1e-9, `${g.from}: parts ${parts} vs ${g.deltaMs}`);
      const v = (n: string) => run.variants.find((x) => x.name === n)!;
      const stepSum = (n: string) =>
        v(n)
          .steps.filter((x) => !x.oneOff)
          .reduce((a, x) => a + x.median, 0);
      assert.ok(Math.abs(g.fromMs - stepSum(g.from)) < 1e-9 && Math.abs(g.toMs - stepSum(g.to)) < 1e-9);
      const inLayer = (n: string) =>
        v(n)
          .steps.filter((x) => !x.oneOff && x.inLayer)
          .reduce((a, x) => a + x.median, 0);
      assert.ok(Math.abs(g.layerDeltaMs - (inLayer(g.from) - inLayer(g.to))) < 1e-9);
    }
    // Outside the layer, every spectral variant transforms the same way.
    for (const n of ['seed', 'optimized'])
      for (const st of run.variants
        .find((x) => x.name === n)!
        .steps.filter((x) => !x.inLayer && /transform/.test(x.category!)))
        assert.match(st.implementation, /against cached DFT matrices/, `${n}/${st.id}`);
  }
});

test('an FNO run compares the layer as written with optimized; the CLI says where the time goes', async () => {
  const engine = await TfjsEngine.create('wasm');
  const s = fnoSpec({ batch: 2, height: 16, width: 16, inChannels: 4, outChannels: 4, modes: [4, 4] });
  const run = await profile(engine, s, { ...QUICK, variants: ['fno', 'optimized'] });
  const [g] = gainsOf(run);
  assert.equal(`${g!.from}>${g!.to}`, 'fno>optimized');
  assert.equal(g!.layerFromMs, g!.fromMs, 'an FNO layer is its whole pipeline');
  const text = formatRunText(run);
  assert.ok(text.includes(`Where it goes: ${gainLine(g!)}.`));
  assert.match(
    gainLine(g!),
    /^as written → optimized: (saves|adds) .* per call \(step medians\) — .*; inside the layer /,
  );
  // The status bar states the layer's own gain for an FNO run.
  assert.match(shortVerdict(run), /^FNO optimized [\d.]+x (faster|slower) than as written, end to end \(/);
});

test('the report draws a waterfall per comparison whose bars are the parts', async () => {
  const engine = await TfjsEngine.create('wasm');
  const run = await profile(engine, spec({ batch: 2, height: 8, width: 8, kernelH: 8, kernelW: 8 }), {
    ...QUICK,
    variants: ['spatial-equivalent', 'seed', 'optimized'],
  });
  const { htmlPage, reportAssets } = await import('../../src/report/report-files');
  const html = htmlPage('t', { kind: 'run', run }, reportAssets(path.join(__dirname, '..', '..', 'dist')));
  const doc = new JSDOM(html, { runScripts: 'dangerously' }).window.document;
  const charts = [...doc.querySelectorAll('#gains svg.waterfall')];
  const gains = gainsOf(run);
  assert.equal(charts.length, gains.length);
  charts.forEach((c, i) => {
    const labels = [...c.querySelectorAll('text.label')].map((t) => t.textContent);
    const g = gains[i]!;
    // Variants are shown by their labels ("as written"), as everywhere in the report.
    assert.equal(labels[0], variantLabel(g.from));
    assert.equal(labels.at(-1), variantLabel(g.to));
    assert.equal(labels.length, 2 + g.parts.filter((p) => Math.abs(p.deltaMs) > 0).length);
  });
  assert.match(
    doc.querySelector('#gains h3')!.textContent!,
    /^as written → optimized: (saves|adds) .* inside the layer/,
  );
});

test('a pass is a dimension of the breakdown: backward steps are parts of their own, still summing to the difference', async () => {
  const engine = await TfjsEngine.create('wasm');
  const run = await profile(engine, spec({ batch: 2, height: 8, width: 8, kernelH: 8, kernelW: 8 }), {
    ...QUICK,
    variants: ['seed', 'optimized'],
  });
  assert.equal(run.status, 'ok', run.failure);
  // Give each variant a backward copy of its product steps (what the training pass adds), at twice the time.
  for (const v of run.variants) {
    const back = v.steps
      .filter((s) => !s.oneOff && s.category === 'product')
      .map((s) => ({ ...s, id: `${s.id}.vjp`, pass: 'backward' as const, median: 2 * s.median }));
    v.steps.push(...back);
  }
  const g = gainsOf(run).find((x) => x.from === 'seed')!;
  const forward = g.parts.find((p) => p.category === 'product' && p.pass === 'forward')!;
  const backward = g.parts.find((p) => p.category === 'product' && p.pass === 'backward')!;
  assert.ok(forward && backward, 'product appears once per pass');
  assert.ok(Math.abs(backward.deltaMs - 2 * forward.deltaMs) < 1e-9);
  assert.ok(Math.abs(g.parts.reduce((a, p) => a + p.deltaMs, 0) - g.deltaMs) < 1e-9);
  assert.match(gainLine(g), /channel mixing \/ product \(backward\) /);
  assert.doesNotMatch(gainLine(g), /product \(backward\).*product \(backward\)/);
});
