import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { fakeRun } from '../fixtures';

/** Loads the report bundle into a DOM exactly as the standalone report.html does. */
async function render(doc: unknown): Promise<Document> {
  const { htmlPage, reportAssets } = await import('../../src/report/report-files');
  const assets = reportAssets(require('node:path').join(__dirname, '..', '..', 'dist'));
  const html = htmlPage('test', doc, assets);
  const dom = new JSDOM(html, { runScripts: 'dangerously' });
  return dom.window.document;
}

test('the standalone report renders the verdict, one timeline row and one table per variant', async () => {
  const run = fakeRun();
  const doc = await render(run);
  assert.equal(doc.querySelector('h1')?.textContent, 'Fourier Conv Profile');
  assert.match(doc.querySelector('.verdict .headline')!.textContent!, /spatial is fastest end to end/);
  const labels = [...doc.querySelectorAll('svg.timelines text.label')].map((t) => t.textContent);
  assert.deepEqual(labels, ['spatial', 'seed', 'optimized']);
  assert.equal(doc.querySelectorAll('section.variant').length, 3);
  // every per-call step is a bar whose tooltip says how it was timed and what ran
  const tips = [...doc.querySelectorAll('svg.timelines g.step title')].map((t) => t.textContent!);
  assert.equal(tips.length, run.variants.reduce((a, v) => a + v.steps.filter((s) => !s.oneOff).length, 0));
  assert.ok(tips.every((t) => /timing: wall-clock between syncs/.test(t) && /implementation: impl of /.test(t)));
  assert.match(doc.querySelector('svg.timelines')!.textContent!, /rfft2d\(kernel\) .* once \(cached\)/);
  const rows = [...doc.querySelectorAll('section.card table.steps')].pop()!.querySelectorAll('tbody tr');
  assert.equal(rows.length, 3, 'correctness table has a row per variant');
});

test('a mismatch is shown as such, in the chart and the correctness table', async () => {
  const run = fakeRun();
  run.variants[2]!.correct = false;
  run.variants[2]!.maxAbsError = 0.5;
  run.status = 'failed';
  const doc = await render(run);
  assert.equal(doc.querySelector('.badge')!.textContent, 'failed');
  assert.ok(doc.querySelector('svg.totals g.wrong'));
  assert.match(doc.body.textContent!, /✗ MISMATCH/);
  assert.match(doc.body.textContent!, /optimized does NOT match its reference/);
});

test('text from the run is never parsed as HTML', async () => {
  const run = fakeRun();
  run.device = '<img src=x onerror="window.pwned=1">';
  run.variants[1]!.steps[0]!.implementation = '</script><script>window.pwned=1</script>';
  const doc = await render(run);
  assert.equal(doc.querySelectorAll('img').length, 0);
  assert.equal((doc.defaultView as unknown as { pwned?: number }).pwned, undefined);
  assert.match(doc.body.textContent!, /<img src=x/);
});

test('a document that is not a run shows a clear error instead of a broken page', async () => {
  const doc = await render({ schemaVersion: 1, engine: 'tfjs' });
  assert.match(doc.querySelector('.error')!.textContent!, /This report could not be shown: not a valid profile run/);
});
