import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadParser } from '../../src/platform/grammars';
import { DocumentScanner, type ScanResult, type SourceParser, partialRanges, scanSource } from '../../src/scan/index';
import { pythonChunks } from '../../src/scan/python-chunks';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});

const key = (r: ScanResult) =>
  r.findings.map((f) => `${f.rule}@${f.range.startOffset}-${f.range.endOffset}:${f.message}`).join('\n');
const layers = (r: ScanResult) => JSON.stringify(r.layers.map((l) => [l.id, l.spec]));

describe('the Python top-level splitter', () => {
  test('splits at column-0 statements only: not inside strings, brackets, continuations, decorators or else/except', () => {
    const src = [
      'import os',
      '@decorator',
      '@other(1)',
      'def f(a,',
      'b):',
      '    s = """',
      'class NotAClass:',
      '"""',
      "    t = 'x # not a comment'  # comment with \" quote",
      'x = [1,',
      '2]',
      'y = 1 + \\',
      '2',
      'if x:',
      '    pass',
      'else:',
      '    pass',
      'try:',
      '    pass',
      'except ValueError:',
      '    pass',
      '# a comment at column 0',
      'class C:',
      '    pass',
    ].join('\n');
    const chunks = pythonChunks(src);
    const firstLines = chunks.map((c) => src.slice(c.start).split('\n')[0]);
    assert.deepEqual(firstLines, ['import os', '@decorator', 'x = [1,', 'y = 1 + \\', 'if x:', 'try:', 'class C:']);
    assert.equal(chunks.map((c) => src.slice(c.start, c.end)).join(''), src, 'the chunks tile the text');
    for (const c of chunks)
      assert.equal(
        src.split('\n').slice(0, c.startRow).join('\n').length + (c.startRow ? 1 : 0),
        c.start,
        'rows match offsets',
      );
  });

  test('scanning only the relevant statements finds exactly what a full parse finds (random model files, property)', () => {
    const parts = [
      fixture('seed_layer.py'),
      fixture('fno.py'),
      fixture('training_filler.py'),
      '# é😀 — a comment with non-ASCII\nx = "naïve"\n',
      'def g():\n    """doc\nclass Fake(Layer):\n    rfft2d(self.kernel)\n"""\n    return 1\n',
    ];
    let x = 12345;
    const r = (n: number) => (x = (x * 1103515245 + 12345) % 2147483648) % n;
    const ds = new DocumentScanner(parser);
    let partialRuns = 0;
    for (let i = 0; i < 40; i++) {
      let text = '';
      while (text.length < 25_000 + r(20_000))
        text += parts[r(parts.length)]!.replace(/Fourier_Conv2D|SpectralConv2d|_N\b/g, (m) => `${m}_${text.length}`);
      if (partialRanges(text)) partialRuns++;
      const part = scanSource(parser, 'f.py', 'python', text);
      const full = ds.scan(`f${i}`, 'python', text); // DocumentScanner always parses the whole text
      assert.equal(key(part), key(full), `file ${i}: findings`);
      assert.equal(layers(part), layers(full), `file ${i}: layers`);
      ds.forget(`f${i}`);
    }
    assert.ok(partialRuns >= 30, `the partial parse was used in ${partialRuns}/40 files`);
    ds.dispose();
  });

  test('a file where the splitter and the grammar disagree falls back to a full parse', () => {
    // An unclosed bracket: the splitter sees one statement to the end; the grammar, an error it recovers from.
    const filler = Array.from({ length: 1500 }, (_, i) => `def helper_${i}(a):\n    return a + ${i}\n`).join('');
    const text = `${filler}\ndef broken(:\n    pass\n${fixture('seed_layer.py')}`;
    const part = scanSource(parser, 'f.py', 'python', text);
    assert.ok(partialRanges(text), 'the splitter proposes a partial parse');
    const ds = new DocumentScanner(parser);
    const full = ds.scan('f', 'python', text);
    ds.dispose();
    assert.equal(part.syntaxErrors, true);
    assert.equal(key(part), key(full));
    assert.ok(
      part.findings.some((f) => f.rule === 'rfft-axes'),
      'the layer after the broken line is still scanned',
    );
  });
});
