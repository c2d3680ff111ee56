import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateRunBytes, estimateVariantBytes, formatBytes, parseBytes } from '../../src/core/memory';
import { spec } from '../helpers';

test('--max-memory sizes parse in decimal and binary units, and garbage is NaN', () => {
  assert.equal(parseBytes('4GB'), 4e9);
  assert.equal(parseBytes('512MiB'), 512 * 2 ** 20);
  assert.equal(parseBytes('1e9'), 1e9);
  assert.equal(parseBytes('2 g'), 2e9);
  assert.equal(parseBytes('64kb'), 64e3);
  assert.ok(Number.isNaN(parseBytes('lots')));
  assert.ok(Number.isNaN(parseBytes('4XB')));
  assert.equal(formatBytes(4.29e9), '4.29 GB');
  assert.equal(formatBytes(5.6e17), '560.0 PB');
});

test('the memory estimate grows with every dimension and covers each variant', () => {
  const base = spec();
  const e0 = estimateRunBytes(base, ['spatial', 'spatial-equivalent', 'seed', 'optimized']);
  for (const k of ['batch', 'height', 'outChannels', 'inChannels'] as const) {
    const bigger = spec({ [k]: base[k] * 2, ...(k === 'height' ? { kernelH: base.kernelH } : {}) });
    assert.ok(estimateRunBytes(bigger, ['spatial', 'spatial-equivalent', 'seed', 'optimized']) > e0, k);
  }
  // the default case is far below the 4 GB default budget, the image-sized im2col dominates
  assert.ok(e0 < 4e9 / 10);
  assert.ok(estimateVariantBytes(base, 'spatial-equivalent') > estimateVariantBytes(base, 'spatial'));
});
