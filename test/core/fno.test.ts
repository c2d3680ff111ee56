/**
 * FNO layers in the core: the spec and its validation, the kept modes in both conventions, the equivalent
 * kernel against a naive FNO forward (property test), the plans' FLOPs, the hints and the sweep helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLayerData, rng } from '../../src/core/data';
import { equivalentKernel, keptRows, makeModeWeights } from '../../src/core/fno';
import { fnoAgreement, fnoCrossovers, parseGrids, parseModesList, sweepModes } from '../../src/core/fno-model';
import { correlateAt, equivalentCorrelation } from '../../src/core/reference';
import { flipKernel } from '../../src/core/data';
import { type LayerSpec, fnoSpec, keptModes, specProblems } from '../../src/core/spec';
import { UsageError, specFromText } from '../../src/core/spec-input';
import { planFno, planOptimizedFno, tfjsTraits, torchTraits } from '../../src/core/variants';

/** The FNO forward written out: rfft2 (naive DFT), per-mode channel mixing on the kept modes, irfft2. */
function naiveFno(spec: LayerSpec, x: Float32Array, w: Float32Array): Float64Array {
  const { batch: B, height: H, width: W, inChannels: Ci, outChannels: Co } = spec;
  const { rows: R, cols: C } = keptModes(spec);
  const rows = keptRows(spec);
  const out = new Float64Array(B * Co * H * W);
  for (let b = 0; b < B; b++) {
    // X[i][r][c] at the kept modes only
    const Xr = new Float64Array(Ci * R * C),
      Xi = new Float64Array(Ci * R * C);
    for (let i = 0; i < Ci; i++)
      for (let r = 0; r < R; r++)
        for (let c = 0; c < C; c++) {
          let re = 0,
            im = 0;
          for (let h = 0; h < H; h++)
            for (let q = 0; q < W; q++) {
              const t = -2 * Math.PI * ((rows[r]! * h) / H + (c * q) / W);
              const v = x[((b * Ci + i) * H + h) * W + q]!;
              re += v * Math.cos(t);
              im += v * Math.sin(t);
            }
          Xr[(i * R + r) * C + c] = re;
          Xi[(i * R + r) * C + c] = im;
        }
    for (let o = 0; o < Co; o++) {
      const Zr = new Float64Array(R * C),
        Zi = new Float64Array(R * C);
      for (let i = 0; i < Ci; i++)
        for (let m = 0; m < R * C; m++) {
          const wr = w[((i * Co + o) * R * C + m) * 2]!,
            wi = w[((i * Co + o) * R * C + m) * 2 + 1]!;
          const xr = Xr[i * R * C + m]!,
            xi = Xi[i * R * C + m]!;
          Zr[m] += xr * wr - xi * wi;
          Zi[m] += xr * wi + xi * wr;
        }
      // irfft2: the half spectrum's columns 1..W/2−1 count twice, DC and Nyquist once (real part).
      for (let h = 0; h < H; h++)
        for (let q = 0; q < W; q++) {
          let acc = 0;
          for (let r = 0; r < R; r++)
            for (let c = 0; c < C; c++) {
              const coef = c === 0 || (W % 2 === 0 && c === W / 2) ? 1 : 2;
              const t = 2 * Math.PI * ((rows[r]! * h) / H + (c * q) / W);
              acc += coef * (Zr[r * C + c]! * Math.cos(t) - Zi[r * C + c]! * Math.sin(t));
            }
          out[((b * Co + o) * H + h) * W + q] = acc / (H * W);
        }
    }
  }
  return out;
}

test('the equivalent kernel computes the FNO forward: random grids (odd and even), both conventions, all modes up to the limit', () => {
  const r = rng(7);
  for (let n = 0; n < 30; n++) {
    const H = 2 + Math.floor(r() * 8),
      W = 2 + Math.floor(r() * 8);
    const centered = n % 2 === 1;
    const m1 = centered ? 1 + Math.floor(r() * H) : 1 + Math.floor(r() * Math.floor(H / 2));
    const m2 = centered ? 1 + Math.floor(r() * W) : 1 + Math.floor(r() * (Math.floor(W / 2) + 1));
    if (!centered && Math.floor(H / 2) < 1) continue;
    const spec = fnoSpec({
      batch: 1 + Math.floor(r() * 2),
      height: H,
      width: W,
      inChannels: 1 + Math.floor(r() * 3),
      outChannels: 1 + Math.floor(r() * 3),
      modes: [m1, m2],
      modesConvention: centered ? 'centered' : 'corners',
    });
    assert.deepEqual(specProblems(spec), [], JSON.stringify(spec));
    const data = makeLayerData(spec, n + 1);
    const y = naiveFno(spec, data.input, data.modeWeights!);
    const k = flipKernel(data.kernel, H, W, spec.inChannels, spec.outChannels);
    const corr = equivalentCorrelation(spec);
    let worst = 0;
    for (let b = 0; b < spec.batch; b++)
      for (let o = 0; o < spec.outChannels; o++)
        for (let h = 0; h < H; h++)
          for (let q = 0; q < W; q++) {
            const got = correlateAt(corr, data.input, k, b, h, q, o);
            worst = Math.max(worst, Math.abs(got - y[((b * spec.outChannels + o) * H + h) * W + q]!));
          }
    assert.ok(worst < 1e-4, `${JSON.stringify(spec)}: max |kernel conv − naive FNO| = ${worst}`);
  }
});

test('kept modes: 12 per corner keep 24 × 12; n_modes 12 centred keep 12 × 7 (6 non-negative, 6 negative rows)', () => {
  const corners = fnoSpec({ batch: 1, height: 64, width: 64, inChannels: 1, outChannels: 1, modes: [12, 12] });
  assert.deepEqual(keptModes(corners), { top: 12, bottom: 12, cols: 12, rows: 24, count: 288 });
  assert.deepEqual(keptRows(corners).slice(10, 14), [10, 11, 52, 53]);
  const centered = { ...corners, modesConvention: 'centered' as const };
  assert.deepEqual(keptModes(centered), { top: 6, bottom: 6, cols: 7, rows: 12, count: 84 });
  const odd = { ...corners, modes: [5, 5] as [number, number], modesConvention: 'centered' as const };
  assert.deepEqual(keptRows(odd), [0, 1, 2, 62, 63]); // frequencies −2 … 2
  assert.equal(makeModeWeights(corners, rng(1)).length, 288 * 2);
  assert.equal(
    equivalentKernel(
      { ...corners, height: 8, width: 8, modes: [2, 2] },
      makeModeWeights({ ...corners, height: 8, width: 8, modes: [2, 2] }, rng(2)),
    ).length,
    64,
  );
});

test('FNO spec errors are one line each and name the limit', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ layer: 'fno', modes: '33' }, /at most 32 \(H\/2\)/],
    [{ layer: 'fno', modes: '12,34' }, /exceed the 33 columns/],
    [{ layer: 'fno', modes: '65', modesConvention: 'centered' }, /exceed the 64 rows/],
    [{ layer: 'fno', modes: '0' }, /positive/],
    [{ layer: 'fno', modes: '1,2,3' }, /N or ROWS,COLS/],
    [{ layer: 'fno', kernel: '5' }, /--kernel does not apply/],
    [{ layer: 'fno', padding: 'same' }, /periodic/],
    [{ layer: 'fno', layout: 'NHWC' }, /NCHW/],
    [{ layer: 'fno', modesConvention: 'middle' }, /corners .* or centered/],
    [{ modes: '12' }, /add --layer fno/],
    [{ modesConvention: 'centered' }, /add --layer fno/],
    [{ layer: 'fourier' }, /layer must be one of seed, fno/],
  ];
  for (const [flags, re] of bad) {
    assert.throws(
      () => specFromText(flags),
      (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'),
      JSON.stringify(flags),
    );
  }
  const ok = specFromText({ layer: 'fno' });
  assert.equal(ok.layer, 'fno');
  assert.deepEqual([ok.batch, ok.height, ok.width, ok.inChannels, ok.modes], [20, 64, 64, 32, [12, 12]]);
  assert.equal(specFromText({ preset: 'fno-128' }).height, 128);
  assert.throws(() => specFromText({ preset: 'fno-64', batch: '3' }), /drop --batch/);
});

test('FNO plans: both corners in one product, the product FLOPs 8·modes·B·in·out, no out_ft in optimized, all steps in the layer', () => {
  const spec = fnoSpec({ batch: 4, height: 16, width: 16, inChannels: 3, outChannels: 5, modes: [4, 3] });
  for (const t of [tfjsTraits('wasm'), torchTraits('cpu')]) {
    const fno = planFno(spec, t);
    const opt = planOptimizedFno(spec, t);
    const M = 8 * 3;
    assert.deepEqual(
      fno.steps.filter((s) => s.category === 'product').map((s) => s.flops),
      [8 * 12 * 4 * 3 * 5, 8 * 12 * 4 * 3 * 5],
    );
    assert.equal(opt.steps.find((s) => s.id === 'multiply')!.flops, 8 * M * 4 * 3 * 5);
    assert.ok(fno.steps.some((s) => s.id === 'zeros-out-ft'));
    assert.ok(!opt.steps.some((s) => s.id === 'zeros-out-ft'));
    assert.ok([...fno.steps, ...opt.steps].every((s) => s.inLayer));
    const tf = (p: typeof fno) => p.steps.filter((s) => /transform/.test(s.category)).reduce((a, s) => a + s.flops, 0);
    assert.ok(tf(opt) < tf(fno), `partial transforms do fewer FLOPs (${t.backend}): ${tf(opt)} vs ${tf(fno)}`);
  }
});

test('modes sweep helpers: modes clipped to the grid, grids and lists parsed, crossover = where fno wins from on', () => {
  assert.deepEqual(sweepModes([4, 8, 12, 16, 24, 32], 32, 32, 'corners'), [4, 8, 12, 16]);
  assert.deepEqual(sweepModes([4, 40, 70], 64, 64, 'centered'), [4, 40]);
  assert.deepEqual(parseGrids('32, 64x128'), [
    { height: 32, width: 32 },
    { height: 64, width: 128 },
  ]);
  assert.throws(() => parseGrids('1'), /at least 2/);
  assert.throws(() => parseModesList('4,x'), /positive whole numbers/);
  const cell = (modes: number, m: 'fno' | 'optimized', p: 'fno' | 'optimized') => ({
    height: 32,
    width: 32,
    modes,
    fnoMs: 1,
    optimizedMs: 1,
    predictedFnoMs: 1,
    predictedOptimizedMs: 1,
    predictedWinner: p,
    measuredWinner: m,
  });
  const cells = [cell(4, 'optimized', 'optimized'), cell(8, 'fno', 'optimized'), cell(12, 'fno', 'fno')];
  assert.deepEqual(fnoCrossovers(cells, [{ height: 32, width: 32 }]), [
    { height: 32, width: 32, measured: 8, predicted: 12 },
  ]);
  assert.deepEqual(fnoAgreement({ cells }), { agree: 2, measured: 3, decided: 0, agreeDecided: 0 });
  const apart = cells.map((c, i) => ({ ...c, fnoMs: 10, optimizedMs: i === 1 ? 10.2 : 5 }));
  assert.deepEqual(fnoAgreement({ cells: apart }), { agree: 2, measured: 3, decided: 2, agreeDecided: 2 });
});
