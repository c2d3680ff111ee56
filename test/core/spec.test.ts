import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SPEC, PADDINGS, geometry, specProblems, validateSpec, SpecError } from '../../src/core/spec';
import { UsageError, parseDimension, parseKernel, specFromText } from '../../src/core/spec-input';
import { rng } from '../../src/core/data';
import { spec } from '../helpers';

test("the default spec is the seed's MNIST case", () => {
  assert.deepEqual(
    [
      DEFAULT_SPEC.batch,
      DEFAULT_SPEC.height,
      DEFAULT_SPEC.width,
      DEFAULT_SPEC.inChannels,
      DEFAULT_SPEC.outChannels,
      DEFAULT_SPEC.kernelH,
      DEFAULT_SPEC.spatialKernel,
    ],
    [32, 28, 28, 1, 32, 28, 3],
  );
  assert.deepEqual(specProblems(DEFAULT_SPEC), []);
});

test('rejects zero, negative, fractional and NaN dimensions with the field named', () => {
  assert.match(specProblems(spec({ batch: 0 }))[0]!, /batch must be positive, got 0/);
  assert.match(specProblems(spec({ height: -4 }))[0]!, /height must be positive/);
  assert.match(specProblems(spec({ inChannels: 1.5 }))[0]!, /in channels must be a whole number, got 1.5/);
  assert.match(specProblems(spec({ outChannels: Number.NaN }))[0]!, /out channels must be a number, got NaN/);
  assert.match(specProblems(spec({ width: Number.POSITIVE_INFINITY }))[0]!, /width must be finite/);
  assert.throws(() => validateSpec(spec({ batch: 0 })), SpecError);
});

test('a kernel larger than the image is refused for valid and circular padding only', () => {
  assert.match(
    specProblems(spec({ padding: 'valid', kernelH: 29 }))[0]!,
    /larger than the 28×28 image: 'valid' padding leaves no output/,
  );
  assert.match(
    specProblems(spec({ padding: 'circular', kernelW: 30 }))[0]!,
    /circular convolution needs kernel ≤ image/,
  );
  assert.deepEqual(specProblems(spec({ padding: 'linear', kernelH: 40, kernelW: 40 })), []);
});

test('the FFT size always leaves the output window free of wrap-around (random specs)', () => {
  const r = rng(7);
  for (let i = 0; i < 300; i++) {
    const H = 1 + Math.floor(r() * 40),
      W = 1 + Math.floor(r() * 40);
    const padding = PADDINGS[Math.floor(r() * 4)]!;
    const maxK = padding === 'valid' || padding === 'circular' ? H : H + 10;
    const kh = 1 + Math.floor(r() * maxK),
      kw = 1 + Math.floor(r() * (padding === 'valid' || padding === 'circular' ? W : W + 10));
    const g = geometry(spec({ height: H, width: W, kernelH: kh, kernelW: kw, padding }));
    // the full linear convolution occupies [0, H + kh − 2]; the window must not receive any alias
    if (padding !== 'circular') {
      assert.ok(g.cropTop + g.fftH > H + kh - 2, `rows alias for ${H},${kh},${padding}`);
      assert.ok(g.cropLeft + g.fftW > W + kw - 2, `cols alias for ${W},${kw},${padding}`);
    }
    assert.ok(
      g.cropTop + g.outH <= g.fftH && g.cropLeft + g.outW <= g.fftW,
      `window inside the transform for ${H},${kh},${padding}`,
    );
    assert.equal(g.freqW, Math.floor(g.fftW / 2) + 1);
    assert.ok(
      g.fftH >= kh && g.fftW >= kw,
      `the ${kh}×${kw} kernel fits the ${g.fftH}×${g.fftW} transform (${padding}, ${H}×${W})`,
    );
    if (padding === 'linear') assert.equal(g.fftH, H + kh - 1);
    if (padding === 'same') assert.ok(g.fftH <= H + kh - 1);
  }
});

test('text input parses like the CLI and names the bad field', () => {
  assert.equal(parseDimension('32', 'batch'), 32);
  assert.throws(() => parseDimension('abc', 'batch'), /batch must be a positive whole number, got "abc"/);
  assert.throws(() => parseDimension('2.5', 'batch'), /batch must be a whole number, got 2.5/);
  assert.throws(() => parseDimension('-1', 'batch'), /batch must be positive/);
  assert.throws(() => parseDimension('NaN', 'batch'), UsageError);
  assert.deepEqual(parseKernel('image', 28, 20), { kh: 28, kw: 20 });
  assert.deepEqual(parseKernel('5x7', 28, 28), { kh: 5, kw: 7 });
  assert.deepEqual(parseKernel('3', 28, 28), { kh: 3, kw: 3 });
  const s = specFromText({ batch: '4', height: '16', width: '12', kernel: 'image', padding: 'LINEAR', layout: 'nchw' });
  assert.deepEqual([s.batch, s.kernelH, s.kernelW, s.padding, s.layout], [4, 16, 12, 'linear', 'NCHW']);
  assert.throws(() => specFromText({ padding: 'reflect' }), /padding must be one of circular, same, valid, linear/);
  assert.throws(() => specFromText({ kernel: '40', padding: 'valid' }), /'valid' padding leaves no output/);
});

test('a half-written kernel ("5x", "x5") says what a kernel looks like, not `got ""`', () => {
  for (const t of ['5x', 'x5', '5×', ','])
    assert.throws(
      () => parseKernel(t, 28, 28),
      (e: Error) => e instanceof UsageError && e.message === `kernel must be N, HxW (e.g. 5x5) or "image", got "${t}"`,
    );
  assert.deepEqual(parseKernel('5x7', 28, 28), { kh: 5, kw: 7 });
});
