/**
 * The host-free parts of "profile this layer": which spec the profiler reads from a measured layer (an FNO block,
 * the question's Keras layer), the comparison rows (call() alone for a layer fed spectra, the training step beside
 * the forward), the engine a class runs on, the shape-and-dtype text the editor asks for, and the report's wording
 * per framework.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerEngine } from '../../src/cli/profile-layer';
import {
  type LayerMeasured,
  allocatorFinding,
  assembleLayerProfile,
  comparisonOf,
  formatLayerProfile,
  layerMeasuredSchema,
  parseShapeInput,
  specOfLayer,
} from '../../src/core/layer-profile';
import { specProblems } from '../../src/core/spec';
import { UsageError } from '../../src/core/spec-input';

const st = (median: number) => ({ median, p10: median * 0.9, p90: median * 1.1 });

function measured(over: Partial<LayerMeasured> = {}): LayerMeasured {
  return layerMeasuredSchema.parse({
    framework: 'tensorflow',
    file: '/w/q.py',
    className: 'Fourier_Conv2D',
    init: '32',
    inputShape: [32, 28, 28, 1],
    inputDtype: 'complex64',
    outputShape: [32, 28, 28, 17],
    outputDtype: 'complex64',
    parameters: 25088,
    spectral: {
      kind: 'seed',
      name: '(the layer itself)',
      className: 'Fourier_Conv2D',
      weights: [[1, 28, 28, 32]],
      inputShape: [32, 28, 28, 1],
      totalMs: st(1),
    },
    device: 'CPU (1 intra-op thread)',
    backend: 'cpu',
    version: '2.21.0',
    threads: 1,
    totalMs: st(1),
    samples: [1],
    warmup: 3,
    tracedTotalMs: 1.2,
    traceReps: 3,
    scale: 0.8,
    notOnLineMs: 0,
    notOnLineShare: 0,
    lines: [
      {
        file: '/w/q.py',
        line: 21,
        text: "output = tf.einsum('ijkl,jklo->ijko', fft_x, fft_kernel)",
        ms: 0.6,
        tracedMs: 0.7,
        share: 0.6,
        hits: 1,
        ops: [{ name: 'Einsum', shapes: ['32x28x28x1 complex', '28x28x1x17 complex'], ms: 0.5, calls: 1 }],
        kernels: [],
        backwardMs: 1.5,
        backwardShare: 0.5,
      },
    ],
    notes: [],
    peakMemoryBytes: 1 << 20,
    train: {
      totalMs: st(4),
      backwardMs: st(3),
      warmup: 1,
      notOnLineMs: 0.2,
      attribution: 'gradient functions',
      timing: 'one tf.function',
    },
    timing: 'tf.function',
    attribution: 'line tracer',
    ...over,
  });
}

test("the question's layer read as the seed spec: NHWC, image-sized kernel, out channels from its (in, H, W, out) kernel", () => {
  const found = specOfLayer(measured());
  assert.ok(!('why' in found), JSON.stringify(found));
  assert.deepEqual(specProblems(found.spec), []);
  assert.equal(found.spec.layer, 'seed');
  assert.equal(found.spec.layout, 'NHWC');
  assert.deepEqual(
    [found.spec.batch, found.spec.height, found.spec.width, found.spec.inChannels, found.spec.outChannels],
    [32, 28, 28, 1, 32],
  );
  assert.deepEqual([found.spec.kernelH, found.spec.kernelW, found.spec.spatialKernel], [28, 28, 3]);
  assert.equal(found.callOnly, true);
  assert.ok(
    found.variants.includes('seed') && found.variants.includes('optimized') && found.variants.includes('spatial'),
  );
  // An input that is not (B, H, W, C): said, not guessed.
  const flat = specOfLayer(
    measured({ spectral: { ...measured().spectral!, inputShape: [32, 784] } as LayerMeasured['spectral'] }),
  );
  assert.ok('why' in flat && /not \(batch, height, width, channels\)/.test(flat.why));
  // No spectral part: why there is no comparison.
  const none = specOfLayer(measured({ spectral: null }));
  assert.ok('why' in none && /not a layer the profiler models/.test(none.why));
});

test('an FNO block still reads as the fno spec, end to end', () => {
  const found = specOfLayer({
    spectral: {
      name: 'conv',
      className: 'SpectralConv2d',
      weights: [
        [16, 16, 6, 6],
        [16, 16, 6, 6],
      ],
      inputShape: [4, 16, 32, 32],
      totalMs: st(2),
    },
  });
  assert.ok(!('why' in found));
  assert.equal(found.spec.layer, 'fno');
  assert.equal(found.callOnly, false);
  assert.ok(!found.variants.includes('seed'));
});

test('comparison rows: call() alone for a layer fed spectra (Conv2D end to end), the training step beside, the gain vs optimized', () => {
  const found = specOfLayer(measured());
  assert.ok(!('why' in found));
  const c = comparisonOf(
    found,
    'tensorflow/cpu',
    [
      { name: 'seed', totalMs: st(5), layerMs: st(1.2), train: { totalMs: st(8) } },
      { name: 'optimized', totalMs: st(4), layerMs: st(0.5), train: { totalMs: st(6) } },
      { name: 'spatial', totalMs: st(0.4), train: { totalMs: st(1.5) } },
    ],
    st(4),
  );
  const rows = new Map(c.rows.map((r) => [r.variant, r]));
  assert.equal(rows.get('seed')!.ms.median, 1.2);
  assert.equal(rows.get('optimized')!.ms.median, 0.5);
  assert.equal(rows.get('spatial')!.ms.median, 0.4);
  assert.equal(rows.get('spatial')!.trainMs!.median, 1.5);
  assert.equal(c.asWritten.trainMs!.median, 4);
  assert.equal(c.callOnly, true);
  // As written it returns 17 maps (rfft2d over the kernel's (W, out) axes): said, and no gain claimed.
  assert.match(c.caveat ?? '', /returns 17 maps per position, not the 32.*docs\/rules\.md#rfft-axes/);
  assert.equal(c.gain, undefined);
  const fixed = specOfLayer(measured({ outputShape: [32, 28, 28, 32] }));
  assert.ok(!('why' in fixed) && fixed.caveat === undefined);
  const g = comparisonOf(fixed, 'tensorflow/cpu', [{ name: 'optimized', totalMs: st(4), layerMs: st(0.5) }]);
  assert.ok(Math.abs(g.gain!.factor - 2) < 1e-12);
  // Without the training step measured there is no training column.
  const fwd = comparisonOf(found, 'tensorflow/cpu', [{ name: 'spatial', totalMs: st(0.4), train: { totalMs: st(1) } }]);
  assert.equal(fwd.rows[0]!.trainMs, undefined);
  assert.equal(fwd.asWritten.trainMs, undefined);

  const p = assembleLayerProfile(measured(), {
    classLine: 7,
    init: { args: '32', from: '--init' },
    python: { path: '/venv/bin/python', version: '3.11' },
    notes: [],
    measuredAt: new Date(0),
  });
  assert.equal(p.engine, 'tensorflow');
  assert.deepEqual(p.framework, {
    name: 'TensorFlow',
    version: '2.21.0',
    python: '/venv/bin/python (Python 3.11)',
    threads: 1,
  });
  const text = formatLayerProfile({ ...p, comparison: c });
  assert.match(text, /as written — TensorFlow 2\.21\.0 on CPU/);
  assert.match(text, /yours vs Conv2D 3×3: 2\.5x the forward, 2\.7x the training step/);
  assert.match(text, /forward 0 — ops no line of yours made; backward 200 µs — the loss's own gradients/);
  assert.doesNotMatch(text, /nn\.Module|autograd/);
  assert.match(text, /per call: the spectral ones' call\(\) alone/);
});

test('the engine of a class: auto by its bases; asking the other one for it is a usage error', () => {
  assert.equal(layerEngine(undefined, 'keras', 'L'), 'tensorflow');
  assert.equal(layerEngine('auto', 'torch', 'L'), 'torch');
  assert.equal(layerEngine('tensorflow', 'keras', 'L'), 'tensorflow');
  assert.equal(layerEngine('torch', undefined, 'L'), 'torch');
  assert.throws(
    () => layerEngine('torch', 'keras', 'L'),
    (e) => e instanceof UsageError && /--engine tensorflow/.test(e.message),
  );
  assert.throws(() => layerEngine('tensorflow', 'torch', 'L'), /--engine torch/);
  assert.throws(() => layerEngine('wasm', 'torch', 'L'), /auto, torch or tensorflow/);
});

test("the editor's shape box: 1–6 positive integers and an optional dtype", () => {
  assert.deepEqual(parseShapeInput('20, 32, 64, 64'), { shape: [20, 32, 64, 64] });
  assert.deepEqual(parseShapeInput('32, 28, 28, 1 complex64'), { shape: [32, 28, 28, 1], dtype: 'complex64' });
  assert.deepEqual(parseShapeInput('32x28x28x1: float64'), { shape: [32, 28, 28, 1], dtype: 'float64' });
  for (const bad of ['', '0, 3', '1,2,3,4,5,6,7', '32, 28 complex32', 'a, b', '3, -1'])
    assert.equal(parseShapeInput(bad), undefined, bad);
});

test("the default allocator's cost is said only when it is measurable: above the kept runs' p90 and 10 % slower", () => {
  const profile = (defaultMs: number, faults: number) =>
    assembleLayerProfile(
      measured({
        framework: 'torch',
        version: '2.13.0',
        totalMs: { median: 10, p10: 9.5, p90: 10.5 },
        allocator: { default: { ...st(defaultMs), faultsPerCall: faults }, keptFaultsPerCall: 2 },
      }),
      {
        classLine: 3,
        init: { args: '', from: 'defaults' },
        python: { path: '/usr/bin/python3', version: '3.11' },
        notes: [],
        measuredAt: new Date(0),
      },
    );
  const slow = profile(22, 12_300);
  const f = allocatorFinding(slow);
  assert.ok(f);
  assert.equal(
    f.title,
    'In a default PyTorch process this forward takes 22.0 ms, not 10.0 ms (2.2x): 12.3k page faults per call against 2.0',
  );
  assert.match(
    f.detail,
    /MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=268435456.*jemalloc.*docs\/allocator\.md/,
  );
  assert.match(formatLayerProfile(slow), /In a default PyTorch process this forward takes 22\.0 ms/);
  // Within the kept runs' spread, or under 10 % slower: nothing to say.
  for (const quiet of [profile(10.4, 5000), profile(10.8, 5000)]) {
    assert.equal(allocatorFinding(quiet), undefined);
    assert.ok(!/In a default/.test(formatLayerProfile(quiet)));
  }
  // Not measured (a GPU, a process already steady): nothing either.
  assert.equal(allocatorFinding({ ...slow, allocator: undefined }), undefined);
});
