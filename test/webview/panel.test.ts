import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JSDOM } from 'jsdom';
import { summarize } from '../../src/core/stats';
import { fakeRun } from '../fixtures';
import { DIST } from '../helpers';

/** Objects from the page's realm, as plain objects of this one (what postMessage's cloning gives the host). */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Loads the webview bundle as the VS Code panel does: acquireVsCodeApi present, runs arriving by message. */
function panel(state?: unknown) {
  const posted: Array<{ type: string; [k: string]: unknown }> = [];
  let saved: unknown = state;
  const dom = new JSDOM('<!DOCTYPE html><body class="vscode"><div id="app"></div></body>', {
    runScripts: 'outside-only',
  });
  const w = dom.window as unknown as Record<string, unknown>;
  w.acquireVsCodeApi = () => ({
    postMessage: (m: never) => posted.push(plain(m)),
    getState: () => saved,
    setState: (s: unknown) => (saved = plain(s)),
  });
  dom.window.eval(fs.readFileSync(path.join(DIST, 'webview.js'), 'utf8'));
  const doc = dom.window.document;
  const send = (data: unknown) => dom.window.dispatchEvent(new dom.window.MessageEvent('message', { data }));
  return { doc, posted, send, state: () => saved, win: dom.window };
}

const timedSteps = (r: ReturnType<typeof fakeRun>) =>
  r.variants.reduce((n, v) => n + v.steps.filter((s) => !s.oneOff).length, 0);

test('the panel says it is ready, renders a run it is sent, and reports the bars it drew', () => {
  const p = panel();
  assert.deepEqual(p.posted, [{ type: 'ready' }]);
  assert.match(p.doc.body.textContent!, /No profile yet/);
  const run = fakeRun();
  p.send({ type: 'show', runId: 'run-1', run, previous: null });
  assert.deepEqual(p.posted.at(-1), {
    type: 'rendered',
    runId: 'run-1',
    stepBars: timedSteps(run),
    compared: null,
    hints: 0,
    sweepCells: 0,
    rooflinePoints: 0,
  });
  assert.equal(p.doc.querySelectorAll('svg.timelines .seg').length, timedSteps(run));
  assert.deepEqual(p.state(), { runId: 'run-1', compare: false }, 'the serializer gets the run id');
  assert.equal(
    p.doc.querySelector<HTMLButtonElement>('#compare-toggle')!.disabled,
    true,
    'nothing to compare with yet',
  );
});

test('malformed or unknown messages from the host are ignored', () => {
  const p = panel();
  const run = fakeRun();
  p.send({ type: 'show', runId: 'run-1', run, previous: null });
  const before = p.posted.length;
  const html = p.doc.getElementById('app')!.innerHTML;
  for (const bad of [
    { type: 'show', runId: 'x', run: { ...run, variants: 'none' }, previous: null },
    { type: 'eval', code: '1' },
    'show',
    null,
    { type: 'busy' },
  ])
    p.send(bad);
  assert.equal(p.posted.length, before, 'nothing rendered, nothing posted');
  assert.equal(p.doc.getElementById('app')!.innerHTML, html);
});

test('the toolbar posts rerun, export and log requests; rerun is disabled while a profile runs', () => {
  const p = panel();
  p.send({ type: 'show', runId: 'run-1', run: fakeRun(), previous: null });
  const click = (id: string) =>
    p.doc.getElementById(id)!.dispatchEvent(new p.win.MouseEvent('click', { bubbles: true }));
  click('rerun');
  click('sweep');
  click('export-html');
  click('export-trace');
  click('show-log');
  assert.deepEqual(p.posted.slice(-5), [
    { type: 'rerun' },
    { type: 'sweep' },
    { type: 'export', format: 'html' },
    { type: 'export', format: 'trace' },
    { type: 'showLog' },
  ]);
  p.send({ type: 'busy', busy: true, label: 'Profiling batch 2…' });
  assert.equal(p.doc.querySelector<HTMLButtonElement>('#rerun')!.disabled, true);
  assert.match(p.doc.querySelector('.busy-banner')!.textContent!, /Profiling batch 2/);
  p.send({ type: 'busy', busy: false });
  assert.equal(p.doc.querySelector<HTMLButtonElement>('#rerun')!.disabled, false);
  assert.equal(p.doc.querySelector('.busy-banner'), null);
});

test('compare with the previous run shows both runs step by step, coloured by change', () => {
  const p = panel();
  const prev = fakeRun();
  const cur = fakeRun();
  cur.createdAt = new Date(5000).toISOString();
  const einsum = cur.variants[1]!.steps[1]!;
  Object.assign(einsum, summarize([einsum.median * 3 * 0.98, einsum.median * 3, einsum.median * 3 * 1.02]));
  p.send({ type: 'show', runId: 'run-2', run: cur, previous: { runId: 'run-1', run: prev } });
  assert.equal(p.doc.getElementById('compare'), null, 'off until asked');
  p.doc.getElementById('compare-toggle')!.dispatchEvent(new p.win.MouseEvent('click', { bubbles: true }));
  const rows = [...p.doc.querySelectorAll('#compare tbody tr')];
  assert.equal(
    rows.length,
    cur.variants.reduce((n, v) => n + v.steps.length + 1, 0),
  );
  const slower = rows.filter((r) => r.classList.contains('diff-slower')).map((r) => r.children[1]!.textContent);
  assert.deepEqual(slower, ['einsum']);
  assert.match(rows.find((r) => r.children[1]!.textContent === 'einsum')!.textContent!, /3\.00x/);
  assert.deepEqual(p.posted.slice(-2), [
    { type: 'compareToggled', show: true },
    {
      type: 'rendered',
      runId: 'run-2',
      stepBars: timedSteps(cur),
      compared: { previousRunId: 'run-1', rows: rows.length },
      hints: 0,
      sweepCells: 0,
      rooflinePoints: 0,
    },
  ]);
  // the host can turn it on too ("Fourier Conv: Compare with Previous Run"), and it is remembered
  p.send({ type: 'compare', show: false });
  assert.equal(p.doc.getElementById('compare'), null);
  p.send({ type: 'compare', show: true });
  assert.ok(p.doc.getElementById('compare'));
  assert.deepEqual(p.state(), { runId: 'run-2', compare: true });
});

test('the panel reruns the layer on another engine, compares engines, and shows the engines side by side', async () => {
  const p = panel();
  const run = fakeRun();
  p.send({ type: 'show', runId: 'run-1', run, previous: null });
  const select = p.doc.querySelector<HTMLSelectElement>('#rerun-engine')!;
  assert.match(select.options[0]!.textContent!, /this run: tfjs\/wasm/);
  select.value = 'torch';
  select.dispatchEvent(new p.win.Event('change'));
  assert.deepEqual(p.posted.at(-1), { type: 'rerun', engine: 'torch' });
  // The pass toggle reruns timing the training step, or the forward pass only.
  const pass = p.doc.querySelector<HTMLSelectElement>('#rerun-pass')!;
  assert.match(pass.options[0]!.textContent!, /this run: forward/);
  pass.value = 'both';
  pass.dispatchEvent(new p.win.Event('change'));
  assert.deepEqual(p.posted.at(-1), { type: 'rerun', pass: 'both' });
  p.doc.querySelector<HTMLButtonElement>('#compare-engines')!.click();
  assert.deepEqual(p.posted.at(-1), { type: 'compareEngines', engines: ['torch', 'wasm'] });
  const { compareEngines } = await import('../../src/core/engines-compare');
  const torch = {
    ...structuredClone(run),
    engine: 'torch',
    backend: 'cpu',
    framework: { name: 'torch', version: '2.4.0', device: 'cpu' },
  };
  p.send({ type: 'engines', engines: plain(compareEngines([run, torch])) });
  assert.equal(p.doc.querySelector('h1')!.textContent, 'Fourier Conv — 2 engines');
  // One row per variant measured on either engine (the fake run has spatial, seed, optimized), no empty rows.
  assert.equal(p.doc.querySelectorAll('#engine-times tbody tr').length, run.variants.length);
  p.doc.querySelector<HTMLButtonElement>('#engines-back')!.click();
  assert.equal(p.doc.querySelector('h1')!.textContent, 'Fourier Conv Profile', 'back to the run');
});

test('"torch.compile it" is offered on a torch ≥ 2 run of the layer as written without a compiled row, and reruns with one', () => {
  const p = panel();
  const run = fakeRun();
  p.send({ type: 'show', runId: 'run-1', run, previous: null });
  assert.equal(p.doc.getElementById('rerun-compile'), null, 'not on wasm');
  const torch = { ...structuredClone(run), engine: 'torch', backend: 'cpu' };
  torch.framework = { name: 'torch', version: '1.13.0a0', device: 'cpu' };
  p.send({ type: 'show', runId: 'run-2', run: torch, previous: null });
  assert.equal(p.doc.getElementById('rerun-compile'), null, 'not on torch 1.x (no torch.compile)');
  torch.framework = { name: 'torch', version: '2.13.0+cpu', device: 'cpu' };
  torch.settings = { ...torch.settings, pass: 'both' };
  p.send({ type: 'show', runId: 'run-3', run: torch, previous: null });
  p.doc.querySelector<HTMLButtonElement>('#rerun-compile')!.click();
  assert.deepEqual(p.posted.at(-1), { type: 'rerun', engine: 'torch', compile: true, pass: 'both' });
  // Once the row is there, the button is not.
  torch.variants[1]!.compiled = { failed: 'torch.compile failed: X' };
  p.send({ type: 'show', runId: 'run-4', run: torch, previous: null });
  assert.equal(p.doc.getElementById('rerun-compile'), null);
});

test('no "seed" on screen in the panel either: the compare table, the model-vs-measured table, the roofline', async () => {
  const { withInsights } = await import('../../src/core/analysis');
  const { explicitProfile } = await import('../../src/core/model');
  const p = panel();
  const prev = withInsights(fakeRun(), explicitProfile(1, 20, 'test CPU'));
  const cur = withInsights(fakeRun(), explicitProfile(1, 20, 'test CPU'));
  cur.createdAt = new Date(5000).toISOString();
  p.send({ type: 'show', runId: 'run-2', run: cur, previous: { runId: 'run-1', run: prev } });
  p.send({ type: 'compare', show: true });
  assert.ok(p.doc.getElementById('compare'), 'the compare table is shown');
  assert.ok(p.doc.querySelector('svg.roofline .dot'), 'the roofline is shown');
  const modelTable = [...p.doc.querySelectorAll('h3')].find((e) => /Model vs measured/.test(e.textContent!));
  assert.ok(modelTable, 'the model-vs-measured table is shown');
  const shown = [
    p.doc.body.textContent ?? '',
    ...[...p.doc.querySelectorAll('[data-tip]')].map((e) => e.getAttribute('data-tip') ?? ''),
    ...[...p.doc.querySelectorAll('[title]')].map((e) => e.getAttribute('title') ?? ''),
  ].map((t) => t.replace(/\(variant seed\)|Variant id: seed|\(seed \d+\)|random \(seed \d+\)/g, ''));
  const hits = shown.flatMap((t) => [...t.matchAll(/.{0,40}\bseed\b.{0,40}/gi)].map((m) => m[0]));
  assert.deepEqual(hits, []);
  const firstCells = [...p.doc.querySelectorAll('#compare tbody tr.variant-start td:first-child')].map(
    (td) => td.textContent,
  );
  assert.ok(firstCells.includes('as written'), firstCells.join(', '));
});
