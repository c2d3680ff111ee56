import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flipKernel, makeLayerData, rng } from '../../src/core/data';
import { checkAgainstNaive, correlateAt, equivalentCorrelation } from '../../src/core/reference';
import { PADDINGS, geometry, type LayerSpec } from '../../src/core/spec';
import { spec } from '../helpers';

/** Convolution straight from its definition, y[n] = Σ_j x[n − j]·k[j], independent of the correlation code. */
function convolutionByDefinition(
  s: LayerSpec,
  x: Float32Array,
  k: Float32Array,
  b: number,
  i: number,
  j: number,
  o: number,
): number {
  const g = geometry(s);
  const { height: H, width: W, inChannels: C, outChannels: O, kernelH: kh, kernelW: kw } = s;
  const xi = (r: number, c: number, ci: number) =>
    s.layout === 'NHWC' ? ((b * H + r) * W + c) * C + ci : ((b * C + ci) * H + r) * W + c;
  let acc = 0;
  for (let a = 0; a < kh; a++)
    for (let bb = 0; bb < kw; bb++)
      for (let ci = 0; ci < C; ci++) {
        let r = i + g.cropTop - a;
        let c = j + g.cropLeft - bb;
        if (s.padding === 'circular') {
          r = ((r % H) + H) % H;
          c = ((c % W) + W) % W;
        } else if (r < 0 || r >= H || c < 0 || c >= W) continue;
        acc += x[xi(r, c, ci)]! * k[((a * kw + bb) * C + ci) * O + o]!;
      }
  return acc;
}

test('the spatial reference (correlation with the flipped kernel) is the convolution by definition, every padding', () => {
  const r = rng(3);
  for (let t = 0; t < 40; t++) {
    const padding = PADDINGS[t % 4]!;
    const H = 2 + Math.floor(r() * 7),
      W = 2 + Math.floor(r() * 7);
    const bound = padding === 'circular' || padding === 'valid';
    const kh = 1 + Math.floor(r() * (bound ? H : H + 3)),
      kw = 1 + Math.floor(r() * (bound ? W : W + 3));
    const s = spec({
      batch: 2,
      height: H,
      width: W,
      inChannels: 2,
      outChannels: 2,
      kernelH: kh,
      kernelW: kw,
      padding,
      layout: t % 2 ? 'NCHW' : 'NHWC',
    });
    const d = makeLayerData(s, t + 1);
    const corr = equivalentCorrelation(s);
    const flipped = flipKernel(d.kernel, kh, kw, 2, 2);
    const g = geometry(s);
    for (let i = 0; i < g.outH; i++)
      for (let j = 0; j < g.outW; j++) {
        const want = convolutionByDefinition(s, d.input, d.kernel, 1, i, j, 1);
        const got = correlateAt(corr, d.input, flipped, 1, i, j, 1);
        assert.ok(Math.abs(want - got) < 1e-4, `${padding} ${H}x${W} k${kh}x${kw} at ${i},${j}: ${got} vs ${want}`);
      }
  }
});

test('the naive check reports a wrong output and accepts a right one', () => {
  const s = spec({
    batch: 1,
    height: 5,
    width: 5,
    inChannels: 1,
    outChannels: 1,
    kernelH: 3,
    kernelW: 3,
    padding: 'same',
  });
  const d = makeLayerData(s, 9);
  const c = equivalentCorrelation(s);
  const w = flipKernel(d.kernel, 3, 3, 1, 1);
  const y = new Float32Array(25);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) y[i * 5 + j] = correlateAt(c, d.input, w, 0, i, j, 0);
  assert.ok(checkAgainstNaive(c, d.input, w, y).maxAbsError < 1e-6);
  y[7]! += 0.5;
  const bad = checkAgainstNaive(c, d.input, w, y);
  assert.ok(Math.abs(bad.maxAbsError - 0.5) < 1e-6);
  assert.equal(bad.exhaustive, true);
  assert.throws(() => checkAgainstNaive(c, d.input, w, new Float32Array(3)), /expected 25/);
});
