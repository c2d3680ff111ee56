import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { fakeRun } from '../fixtures';

/** Loads the report bundle into a DOM exactly as the standalone report.html does. */
async function render(doc: unknown): Promise<Document> {
  const { htmlPage, reportAssets } = await import('../../src/report/report-files');
  const assets = reportAssets(require('node:path').join(__dirname, '..', '..', 'dist'));
  // A run, or a page document that says its kind (a sweep, an engines comparison, …).
  const page = doc && typeof doc === 'object' && 'kind' in doc ? doc : { kind: 'run', run: doc };
  const html = htmlPage('test', page as Parameters<typeof htmlPage>[1], assets);
  const dom = new JSDOM(html, { runScripts: 'dangerously' });
  return dom.window.document;
}

test('the standalone report renders the verdict, one timeline row and one table per variant', async () => {
  const run = fakeRun();
  const doc = await render(run);
  assert.equal(doc.querySelector('h1')?.textContent, 'Fourier Conv Profile');
  assert.match(doc.querySelector('.verdict .headline')!.textContent!, /spatial is fastest end to end/);
  const labels = [...doc.querySelectorAll('svg.timelines text.label')].map((t) => t.textContent);
  assert.deepEqual(labels, ['spatial', 'as written', 'optimized']);
  // Each label explains itself on hover (the id `seed` is what --variants takes, "as written" what it is).
  const tipOf = (g: Element) => g.getAttribute('data-tip') ?? g.querySelector('title')?.textContent ?? '';
  assert.match(tipOf(doc.querySelectorAll('svg.timelines g.label-wrap')[1]!), /^as written: /);
  assert.equal(doc.querySelectorAll('section.variant').length, 3);
  // every per-call step is a bar whose hover card says how it was timed and what ran
  const tips = [...doc.querySelectorAll('svg.timelines g.step')].map((g) => g.getAttribute('data-tip') ?? '');
  assert.equal(
    tips.length,
    run.variants.reduce((a, v) => a + v.steps.filter((s) => !s.oneOff).length, 0),
  );
  assert.ok(tips.every((t) => /timing: wall-clock between syncs/.test(t) && /implementation: impl of /.test(t)));
  assert.match(doc.querySelector('svg.timelines')!.textContent!, /rfft2d\(kernel\) .* once \(cached\)/);
  const rows = [...doc.querySelectorAll('section.card table.steps')].pop()!.querySelectorAll('tbody tr');
  assert.equal(rows.length, 3, 'correctness table has a row per variant');
});

test('hovering a step shows a card with its name first, then timing, implementation, FLOPs and bytes', async () => {
  const doc = await render(fakeRun());
  const win = doc.defaultView!;
  const bar = doc.querySelectorAll('svg.timelines g.step rect')[1]!;
  assert.equal(doc.querySelectorAll('svg title').length, 0, 'no native tooltips on top of the card');
  const card = doc.getElementById('fconv-tip')!;
  assert.equal(card.hidden, true);
  bar.dispatchEvent(new win.MouseEvent('mouseover', { bubbles: true, clientX: 10, clientY: 10 }));
  assert.equal(card.hidden, false);
  assert.equal(card.querySelector('strong')!.textContent, 'rfft2d(input) (outside the layer)');
  assert.match(
    card.textContent!,
    /timing: wall-clock between syncs.*implementation: impl of rfft2d\(input\).*100 FLOP, 16 B moved/s,
  );
  bar.dispatchEvent(new win.MouseEvent('mouseout', { bubbles: true, relatedTarget: doc.body }));
  assert.equal(card.hidden, true);
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
  // A document that does not say what it is: named, never guessed from its keys.
  const unknown = await render({ kind: 'sweeep', sweep: {} });
  assert.match(
    unknown.querySelector('.error')!.textContent!,
    /This report could not be shown: not a report document \(kind: expected one of run, sweep, fno-sweep, engines, layer-profile\)/,
  );
});

test('a run with the model shows its hints ranked, the roofline with one dot per arithmetic step, the bound bars and the sweep chart', async () => {
  const { withInsights } = await import('../../src/core/analysis');
  const { CPU, modelRun } = await import('../fixtures');
  const { DEFAULT_SPEC } = await import('../../src/core/spec');
  const base = modelRun(DEFAULT_SPEC, { scale: { 'seed/einsum': 10 } });
  const cells = [3, 9, 28].map((k) => ({
    kernel: k,
    inChannels: 1,
    outChannels: 32,
    spatialMs: (k * k) / 10,
    spectralMs: 7,
    predictedSpatialMs: (k * k) / 9,
    predictedSpectralMs: 6.5,
    predictedWinner: ((k * k) / 9 > 6.5 ? 'spectral' : 'spatial') as 'spatial' | 'spectral',
    measuredWinner: ((k * k) / 10 > 7 ? 'spectral' : 'spatial') as 'spatial' | 'spectral',
  }));
  const sweep = {
    status: 'ok' as const,
    createdAt: base.createdAt,
    engine: 'tfjs',
    backend: 'wasm',
    device: 'test CPU',
    base: { batch: 32, height: 28, width: 28, padding: 'circular', layout: 'NHWC' },
    kernels: [3, 9, 28],
    channels: [{ inChannels: 1, outChannels: 32 }],
    settings: { warmup: 1, reps: 3 },
    cells,
    crossover: { inChannels: 1, outChannels: 32, measured: 9, predicted: 9 },
    crossovers: [{ inChannels: 1, outChannels: 32, measured: 9, predicted: 9 }],
    wallMs: 100,
  };
  const run = withInsights(base, CPU, sweep);
  const doc = await render(run);
  const items = [...doc.querySelectorAll('#hints li.hint')];
  assert.deepEqual(
    items.map((li) => li.getAttribute('data-hint')),
    run.hints!.map((h) => h.id),
  );
  assert.match(items[0]!.textContent!, /Evidence: .*Change: .*Expected gain: .*Source: /s);
  const arithmetic = run.analysis!.steps.filter((s) => s.flops > 0 && s.medianMs > 0 && s.achievedGflops > 0).length;
  assert.equal(doc.querySelectorAll('svg.roofline .dot').length, arithmetic);
  assert.ok(doc.querySelector('svg.roofline path.roof'));
  assert.equal(
    doc.querySelectorAll('svg.bounds g.row').length,
    Math.min(14, run.analysis!.steps.filter((s) => !s.oneOff).length),
  );
  assert.equal(doc.querySelectorAll('#sweep tbody tr').length, 3);
  assert.equal(doc.querySelectorAll('svg.sweep circle.dot').length, 6, 'two measured series');
  assert.equal(doc.querySelectorAll('svg.sweep path.series').length, 4, 'measured and model lines');
  assert.equal(doc.querySelectorAll('svg.sweep line.series').length, 4, 'their legend keys');
  assert.match(doc.querySelector('svg.sweep')!.textContent!, /FFT pays from k = 9/);
});

test("a sweep document renders on its own (fconv sweep's page)", async () => {
  const doc = await render({
    kind: 'sweep',
    sweep: {
      status: 'cancelled',
      createdAt: new Date(0).toISOString(),
      engine: 'tfjs',
      backend: 'wasm',
      device: 'cpu',
      base: { batch: 2, height: 8, width: 8, padding: 'same', layout: 'NHWC' },
      kernels: [3, 5],
      channels: [{ inChannels: 1, outChannels: 2 }],
      settings: { warmup: 0, reps: 2 },
      cells: [
        {
          kernel: 3,
          inChannels: 1,
          outChannels: 2,
          spatialMs: 0.1,
          spectralMs: 0.3,
          predictedSpatialMs: 0.1,
          predictedSpectralMs: 0.2,
          predictedWinner: 'spatial',
          measuredWinner: 'spatial',
        },
        {
          kernel: 5,
          inChannels: 1,
          outChannels: 2,
          spatialMs: null,
          spectralMs: null,
          predictedSpatialMs: 0.2,
          predictedSpectralMs: 0.2,
          predictedWinner: 'spatial',
          measuredWinner: null,
          note: 'not run (cancelled)',
        },
      ],
      crossover: { inChannels: 1, outChannels: 2, measured: null, predicted: null },
      crossovers: [{ inChannels: 1, outChannels: 2, measured: null, predicted: null }],
      wallMs: 5,
    },
  });
  assert.equal(doc.querySelector('h1')?.textContent, 'Fourier Conv Sweep');
  assert.equal(doc.querySelector('.badge')?.textContent, 'cancelled');
  assert.match(doc.querySelector('#sweep')!.textContent!, /not run \(cancelled\)/);
  assert.match(doc.querySelector('#sweep')!.textContent!, /spatial wins at every measured kernel \(1 of 2: k = 3\)/);
});

test("cuDNN's algorithm table is shown for the variants that have one, the algorithm used and the FFT ones marked", async () => {
  const run = fakeRun();
  const spatial = run.variants[0]!;
  spatial.steps[0]!.implementation =
    'cuDNN WINOGRAD (the fastest of 3 by cudnnFindConvolutionForwardAlgorithm, DEFAULT math)';
  spatial.algorithms = [
    { algo: 'WINOGRAD', status: 'ok', ms: 0.021, workspace: 0, math: 'DEFAULT' },
    { algo: 'FFT', status: 'CUDNN_STATUS_NOT_SUPPORTED', ms: -1, workspace: 0, math: 'DEFAULT' },
    { algo: 'FFT_TILING', status: 'ok', ms: 0.09, workspace: 2 ** 20, math: 'DEFAULT' },
  ];
  const doc = await render(run);
  const rows = [...doc.querySelectorAll('#cudnn-algorithms tbody tr')];
  assert.equal(rows.length, 3);
  assert.match(rows[0]!.textContent!, /WINOGRAD ← used/);
  assert.ok(rows[0]!.classList.contains('chosen'));
  assert.match(rows[1]!.textContent!, /FFT \(FFT\)not supported—/);
  assert.ok(rows[2]!.classList.contains('fft'));
  const noTable = await render(fakeRun());
  assert.equal(noTable.getElementById('cudnn-algorithms'), null);
});

test('the engines side by side: verdicts per engine, disagreements marked, times per variant and engine', async () => {
  const { compareEngines } = await import('../../src/core/engines-compare');
  const wasm = fakeRun();
  const torch = structuredClone(wasm);
  Object.assign(torch, {
    engine: 'torch',
    backend: 'cpu',
    framework: { name: 'torch', version: '1.13.0', device: 'cpu', threads: 1 },
  });
  // On torch the spatial convolution wins where the embedded engine says FFT wins.
  const eq = structuredClone(wasm.variants[0]!);
  eq.name = 'spatial-equivalent';
  eq.totalMs.median = 8;
  wasm.variants.push(eq);
  const eqTorch = structuredClone(eq);
  eqTorch.totalMs.median = 1.5;
  torch.variants.push(eqTorch);
  const c = compareEngines([wasm, torch]);
  const spectral = c.verdicts.find((v) => v.question === 'spectral-vs-spatial')!;
  assert.equal(spectral.disagree, true);
  assert.deepEqual(
    spectral.answers.map((a) => a.winner),
    ['optimized', 'spatial-equivalent'],
  );
  const doc = await render({ kind: 'engines', engines: JSON.parse(JSON.stringify(c)) });
  assert.equal(doc.querySelector('h1')?.textContent, 'Fourier Conv — 2 engines');
  const disagree = doc.querySelectorAll('.engine-verdict.disagree');
  assert.equal(disagree.length, 1);
  assert.match(disagree[0]!.textContent!, /tfjs\/wasm: optimized wins, 4\.0x/);
  assert.match(disagree[0]!.textContent!, /PyTorch 1\.13\.0 on cpu \(1 thread\): spatial-equivalent wins/);
  const head = [...doc.querySelectorAll('#engine-times th')].map((t) => t.textContent);
  assert.deepEqual(head, ['variant', 'tfjs/wasm', 'PyTorch 1.13.0 on cpu (1 thread)']);
  const { formatEnginesCompare } = await import('../../src/core/engines-compare');
  assert.match(formatEnginesCompare(c), /DISAGREE {2}same function, spectral \(optimized\) vs spatial/);
});

test('no "seed" on screen: the report, its hover cards and titles say "as written" (the id stays in the data)', async () => {
  const run = fakeRun();
  const doc = await render(run);
  const shown = [
    doc.body.textContent ?? '',
    ...[...doc.querySelectorAll('[data-tip]')].map((e) => e.getAttribute('data-tip') ?? ''),
    ...[...doc.querySelectorAll('[title]')].map((e) => e.getAttribute('title') ?? ''),
  ]
    // The page's embedded JSON (the run itself) is data, not text on screen; the id where the page names ids
    // ("variant seed", what --variants takes) and the random data's seed are not the variant's name.
    .map((t) => t.replace(/\{"[\s\S]*\}/g, '').replace(/\(variant seed\)|Variant id: seed|\(seed \d+\)/g, ''));
  const hits = shown.flatMap((t) => [...t.matchAll(/.{0,40}\bseed\b.{0,40}/gi)].map((m) => m[0]));
  assert.deepEqual(hits, []);
});

test('the waterfall says what its totals are (steps summed, the end-to-end median beside it) and signs only the changes', async () => {
  const run = fakeRun();
  const doc = await render(run);
  const wf = doc.querySelector('svg.waterfall');
  assert.ok(wf, 'a waterfall');
  const texts = [...wf.querySelectorAll('text.tick')].map((t) => t.textContent!);
  const [first, last] = [texts[0]!, texts.at(-1)!];
  assert.match(first, /^[\d.]+ (ms|µs) steps summed \(end to end [\d.]+ (ms|µs)\)$/);
  assert.match(last, /^[\d.]+ (ms|µs) steps summed \(end to end [\d.]+ (ms|µs)\)$/);
  for (const t of texts.slice(1, -1)) assert.match(t, /^[−+][\d.]+ (ms|µs) (saved|added) \(/);
});

test("the question's layer on an engine other than TensorFlow is said to be re-created there, not as written", async () => {
  const torchRun = fakeRun();
  Object.assign(torchRun, {
    engine: 'torch',
    backend: 'cpu',
    framework: { name: 'torch', version: '2.13.0', device: 'cpu', threads: 1 },
  });
  const notes = (doc: Document) => [...doc.querySelectorAll('p.recreated')].map((p) => p.textContent!);
  const onTorch = notes(await render(torchRun));
  assert.equal(onTorch.length, 1, 'one note, on the as-written variant');
  assert.match(onTorch[0]!, /^This is the question's Keras layer re-created in PyTorch: the same ops, not your file/);
  const tfRun = fakeRun();
  Object.assign(tfRun, { engine: 'tensorflow', backend: 'cpu' });
  assert.deepEqual(notes(await render(tfRun)), []);
  const { formatRunText } = await import('../../src/core/format');
  assert.match(formatRunText(torchRun), /seed: the question's Keras layer re-created in PyTorch/);
});

test('a wide spread is said: in the verdict and beside the end-to-end value, not only in the whiskers', async () => {
  const run = fakeRun();
  const spatial = run.variants.find((v) => v.name === 'spatial')!;
  Object.assign(spatial.totalMs, { median: 0.3, p10: 0.28, p90: 17 });
  const { verdict } = await import('../../src/core/format');
  assert.ok(
    verdict(run).lines.includes(
      "Wide spread: spatial's p90 17.0 ms against a 300 µs median — some runs were slowed (a busy machine, a clock change); its median stands, but rerun (or raise the repetitions) before trusting a close call.",
    ),
    verdict(run).lines.join('\n'),
  );
  const doc = await render(run);
  const values = [...doc.querySelectorAll('svg.totals text.value')].map((t) => t.textContent);
  assert.ok(
    values.some((t) => /^300 µs ⚠/.test(t!)),
    values.join(' | '),
  );
  // A tight one is not flagged.
  const others = run.variants.filter((v) => v.name !== 'spatial');
  assert.ok(others.every((v) => !verdict(run).lines.some((l) => l.startsWith(`Wide spread: ${v.name}`))));
});

test('--compile: the layer as written gets a compiled row in the chart, its card and the verdict; a failed compile says why', async () => {
  const run = fakeRun();
  const stat = (m: number) => ({ median: m, p10: 0.95 * m, p90: 1.05 * m });
  run.variants[1]!.compiled = {
    compileMs: 1400,
    compileTrainMs: 2600,
    forward: stat(10.6),
    eagerForward: stat(9.5),
    maxRelError: 0,
  };
  const doc = await render(run);
  const labels = [...doc.querySelectorAll('svg.totals text.label')].map((t) => t.textContent);
  assert.deepEqual(labels, ['spatial', 'as written', 'as written, compiled', 'optimized']);
  const bar = doc.querySelectorAll('svg.totals rect.bar.total')[2]!;
  assert.match(bar.getAttribute('class')!, /compiled/);
  assert.match(doc.querySelector('svg.totals')!.textContent!, /10\.6 ms/);
  // Its thin bar is eager in the same rounds: the pair to compare.
  assert.match(doc.querySelector('svg.totals')!.textContent!, /10\.6 mseager 9\.50 ms/);
  const card = doc.querySelectorAll('section.variant')[1]!;
  assert.match(
    card.querySelector('p.compiled')!.textContent!,
    /torch\.compile of the layer as written \(its ops as one function\): compile and first call 1\.40 s \+ 2\.60 s for the backward \(once\), then forward 10\.6 ms against 9\.50 ms eager in the same rounds \(1\.12x slower\); output identical to eager's \(wall clock between syncs/,
  );
  assert.match(
    doc.querySelector('.verdict')!.textContent!,
    /torch\.compile of the layer as written: forward 10\.6 ms against 9\.50 ms eager in the same rounds, 1\.1x slower than eager, after 4\.00 s of compiling; the optimized formulation gains more: 5\.0x faster than the layer as written end to end \(2\.00 ms vs 10\.0 ms\)\.Where it goes/,
  );
  // Rounds at another pace than the profile's pass (a busier machine): said, and compared within each pair.
  run.variants[1]!.compiled = { ...run.variants[1]!.compiled, forward: stat(21), eagerForward: stat(20) };
  assert.match(
    (await render(run)).querySelector('.verdict')!.textContent!,
    /The compile rounds ran at another pace than the profile's pass \(eager 20\.0 ms there, 10\.0 ms end to end — a busier machine\): compare within each pair\./,
  );
  // torch 1.13: the reason, no bar.
  run.variants[1]!.compiled = { failed: 'torch 1.13.0 has no torch.compile (it came with torch 2.0)' };
  const old = await render(run);
  assert.equal(old.querySelectorAll('svg.totals text.label').length, 3);
  assert.equal(
    old.querySelectorAll('section.variant')[1]!.querySelector('p.compiled')!.textContent,
    'torch.compile of the layer as written (its ops as one function): torch 1.13.0 has no torch.compile (it came with torch 2.0).',
  );
  assert.doesNotMatch(old.querySelector('.verdict')!.textContent!, /torch\.compile/);
  // What torch said while compiling is part of the row.
  run.variants[1]!.compiled = {
    failed: 'torch.compile failed: BackendCompilerFailed: backward of a complex op',
    warnings: ['Torchinductor does not support code generation for complex operators.'],
  };
  assert.match(
    (await render(run)).querySelectorAll('section.variant')[1]!.querySelector('p.compiled')!.textContent!,
    /complex op; torch said: “Torchinductor does not support code generation for complex operators\.”\.$/,
  );
});
