/** The glossary: every term the product uses on screen is explained once, the same in the report and in docs/. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GLOSSARY, variantExplained, variantLabel } from '../../src/core/glossary';
import { ROOT } from '../helpers';

test('docs/glossary.md has every term, with the text the hovers show, under its anchor', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'glossary.md'), 'utf8');
  for (const t of GLOSSARY) {
    assert.ok(doc.includes(`<a id="${t.anchor}"></a>\n## ${t.term}\n\n${t.short}`), t.term);
  }
  for (const t of ['spatial-equivalent', 'K = 1', 'R2C / C2R', 'ridge point', 'DFT-as-GEMM', 'XNNPACK packing'])
    assert.ok(
      GLOSSARY.some((g) => g.term === t),
      `${t} is explained`,
    );
});

test('the variant id "seed" is shown as "as written", with what it is on hover', () => {
  assert.equal(variantLabel('seed'), 'as written');
  assert.equal(variantLabel('fno'), 'as written');
  assert.equal(variantLabel('optimized'), 'optimized');
  assert.match(variantExplained('seed'), /^as written: The spectral layer as the code writes it/);
  assert.match(variantExplained('spatial-equivalent'), /image-sized kernel/);
});
