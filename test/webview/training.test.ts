/**
 * The training step in the report and the trace (issue #25): the section with forward beside the training
 * step, the gradient checks, a forward and a backward lane per trained variant, and a backward track per
 * trained variant in trace.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { JSDOM } from 'jsdom';
import type { Run, StepResult } from '../../src/core/run';
import { toChromeTrace } from '../../src/core/trace';
import { formatRunText, verdict } from '../../src/core/format';
import { gainLine, gainsOf } from '../../src/core/gains';
import { fakeRun } from '../fixtures';

/** fakeRun with a training step on every variant: backward = 2× each forward step, training step = 3× forward. */
function trainedRun(): Run {
  const run = fakeRun();
  for (const v of run.variants) {
    const steps: StepResult[] = v.steps.map((s) => ({
      ...s,
      id: `${s.id}.backward`,
      name: `${s.name} (backward)`,
      pass: 'backward',
      oneOff: false,
      median: 2 * s.median,
      p10: 2 * s.p10,
      p90: 2 * s.p90,
    }));
    const sum = steps.reduce((a, s) => a + s.median, 0);
    v.train = {
      totalMs: { ...v.totalMs, median: 3 * v.totalMs.median, p10: 3 * v.totalMs.p10, p90: 3 * v.totalMs.p90 },
      backwardMs: { ...v.totalMs, median: 2 * v.totalMs.median },
      steps,
      backwardStepSumMs: sum,
      notes: v.name === 'spatial' ? ['a different function (the small Conv2D): its gradients are not compared'] : [],
      gradients:
        v.name === 'spatial'
          ? []
          : [
              {
                name: 'input',
                reference: "spatial-equivalent's gradient",
                maxAbsError: 1e-6,
                refScale: 1,
                tolerance: 1e-4,
                correct: true,
              },
            ],
    };
  }
  return run;
}

async function render(run: Run): Promise<Document> {
  const { htmlPage, reportAssets } = await import('../../src/report/report-files');
  const html = htmlPage('t', { kind: 'run', run }, reportAssets(path.join(__dirname, '..', '..', 'dist')));
  return new JSDOM(html, { runScripts: 'dangerously' }).window.document;
}

test('the report shows the training step beside the forward pass, its gradient checks and both lanes', async () => {
  const run = trainedRun();
  const doc = await render(run);
  const section = doc.querySelector('#training')!;
  assert.ok(section, 'a training section');
  const rows = [...section.querySelectorAll('tbody tr')];
  assert.equal(rows.length, run.variants.length);
  const cells = (r: Element) => [...r.querySelectorAll('td')].map((c) => c.textContent);
  const seed = rows.find((r) => cells(r)[0] === 'as written')!;
  assert.ok(seed, 'the seed is shown as "as written"');
  assert.match(cells(seed)[6]!, /input 1\.0e-6 ✓/);
  assert.equal(cells(rows.find((r) => cells(r)[0] === 'spatial')!)[6], '—');
  // Two lanes per trained variant: forward, then its backward (dashed segments).
  const labels = [...section.querySelectorAll('svg.training text.label')].map((t) => t.textContent);
  assert.deepEqual(
    labels,
    run.variants.flatMap((v) => [v.name === 'seed' ? 'as written' : v.name, '↩ backward']),
  );
  assert.equal(
    section.querySelectorAll('svg.training rect.seg.backward').length,
    run.variants.reduce((a, v) => a + v.train!.steps.length, 0),
  );
  // The verdict leads with the training step.
  assert.match(doc.querySelector('.verdict .headline')!.textContent!, /training step \(forward \+ backward\)/);
  // --compile: the layer as written compiled gets a row of its own after it, eager in its own rounds beside it.
  const stat = (m: number) => ({ median: m, p10: 0.9 * m, p90: 1.1 * m });
  run.variants.find((v) => v.name === 'seed')!.compiled = {
    compileMs: 900,
    compileTrainMs: 2100,
    forward: stat(9.95),
    eagerForward: stat(7.07),
    train: stat(27.8),
    eagerTrain: stat(19.5),
    maxRelError: 0,
  };
  const withCompiled = [...(await render(run)).querySelectorAll('#training tbody tr')];
  assert.equal(withCompiled.length, run.variants.length + 1);
  const i = withCompiled.findIndex((r) => cells(r)[0] === 'as written, compiled');
  assert.equal(cells(withCompiled[i - 1]!)[0], 'as written', 'right after the layer as written');
  assert.deepEqual(cells(withCompiled[i]!).slice(1), [
    '9.95 ms',
    '27.8 ms (eager 19.5 ms)',
    '25.0 ms–30.6 ms',
    '—',
    '—',
    'vs eager identical ✓',
  ]);
});

test('the verdict and the text lead with the training step; the trace has a backward track per trained variant', () => {
  const run = trainedRun();
  const v = verdict(run);
  assert.match(v.headline, /training step \(forward \+ backward\): spatial is fastest/);
  assert.ok(v.lines.some((l) => /The question's comparison, training: as written .* per training step/.test(l)));
  const text = formatRunText(run);
  assert.match(text, /training step \(forward \+ backward of sum\(output ⊙ R\)\)/);
  assert.match(text, /↩ /);
  const trace = toChromeTrace(run);
  const names = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
  assert.deepEqual(names, [...run.variants.map((x) => x.name), ...run.variants.map((x) => `${x.name} backward`)]);
  const backward = trace.traceEvents.filter((e) => e.cat === 'backward' && e.ph === 'X' && !/Σ/.test(e.name));
  assert.equal(
    backward.length,
    run.variants.reduce((a, x) => a + x.train!.steps.length, 0),
  );
});

test('a forward-only run has no training section and its verdict is the forward one', async () => {
  const doc = await render(fakeRun());
  assert.equal(doc.querySelector('#training'), null);
  assert.doesNotMatch(verdict(fakeRun()).headline, /training step/);
});

test('the gain breakdown is per pass: a training-step comparison with forward and backward parts that sum to it', () => {
  const run = trainedRun();
  const gains = gainsOf(run);
  const fwd = gains.filter((g) => g.pass === 'forward');
  const train = gains.filter((g) => g.pass === 'train');
  assert.deepEqual(
    train.map((g) => `${g.from}>${g.to}`),
    fwd.map((g) => `${g.from}>${g.to}`),
  );
  for (const g of train) {
    assert.ok(g.parts.some((p) => p.pass === 'backward') && g.parts.some((p) => p.pass === 'forward'));
    assert.ok(Math.abs(g.parts.reduce((a, p) => a + p.deltaMs, 0) - g.deltaMs) < 1e-9);
    assert.match(gainLine(g), /^training step, as written → optimized: (saves|adds) .* per training step/);
    assert.match(gainLine(g), /\(backward\)/);
  }
});
