import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadParser, readGrammars } from '../../src/platform/grammars';
import {
  DocumentScanner,
  GrammarError,
  type ScanResult,
  type SourceLanguage,
  type SourceParser,
  checkAbi,
  scanSource,
} from '../../src/scan/index';
import { SourceParser as Parser } from '../../src/scan/parser';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
const SOURCES: Array<[SourceLanguage, string]> = [
  ['python', fixture('seed_layer.py')],
  ['python', fixture('fno.py')],
  ['typescript', fixture('spectral.ts')],
  [
    'javascript',
    fixture('spectral.ts')
      .replace(/: tf\.\w+(\.\w+)?/g, '')
      .replace(/private kernel!;/, '')
      .replace(/ as tf\.Tensor2D/g, ''),
  ],
  ['tsx', `${fixture('spectral.ts')}\nexport const View = () => <div>{String(conv)}</div>;\n`],
];

let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function mutate(src: string, r: (n: number) => number): string {
  switch (r(9)) {
    case 0:
      return src.slice(0, r(src.length + 1)); // truncated
    case 1: {
      // random bytes, control characters and lone surrogates
      const at = r(src.length + 1);
      const junk = Array.from({ length: 1 + r(64) }, () =>
        String.fromCharCode(r(3) === 0 ? 0xd800 + r(0x800) : r(0x100)),
      ).join('');
      return src.slice(0, at) + junk + src.slice(at);
    }
    case 2: {
      // deep nesting
      const depth = 200 + r(3000);
      const open = ['(', '[', '{'][r(3)]!;
      const close = { '(': ')', '[': ']', '{': '}' }[open]!;
      return `${src}\nx = ${open.repeat(depth)}1${r(2) ? close.repeat(depth) : ''}\n`;
    }
    case 3: {
      // a slice repeated
      const a = r(src.length),
        b = a + r(200);
      return src.slice(0, b) + src.slice(a, b).repeat(1 + r(20)) + src.slice(b);
    }
    case 4: {
      // lines shuffled
      const lines = src.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const j = r(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return lines.join('\n');
    }
    case 5:
      return Array.from({ length: r(4000) }, () => String.fromCharCode(32 + r(95))).join(''); // printable noise
    case 6: {
      // characters deleted
      let s = src;
      for (let i = 0; i < 1 + r(30); i++) {
        const at = r(s.length + 1);
        s = s.slice(0, at) + s.slice(at + 1 + r(5));
      }
      return s;
    }
    case 7:
      return src.replace(/\n/g, () => (r(3) === 0 ? '' : '\n')); // lines joined
    default:
      return src
        .split('')
        .map((c) => (r(50) === 0 ? String.fromCharCode(r(0x10000)) : c))
        .join(''); // any UTF-16 unit
  }
}

describe('robustness', () => {
  test('never throws on 1,200 random and mutated sources, within a time bound', () => {
    const r = rng(20261128);
    const t0 = performance.now();
    let worst = 0;
    let withFindings = 0;
    for (let i = 0; i < 1200; i++) {
      const [lang, base] = SOURCES[r(SOURCES.length)]!;
      let text = mutate(base, r);
      if (r(4) === 0) text = mutate(text, r);
      const t = performance.now();
      let res: ScanResult | undefined;
      assert.doesNotThrow(() => {
        res = scanSource(parser, `fuzz${i}`, lang, text);
      }, `case ${i}`);
      worst = Math.max(worst, performance.now() - t);
      assert.ok(Array.isArray(res!.findings) && Array.isArray(res!.layers) && Array.isArray(res!.errors));
      for (const f of res!.findings) {
        assert.ok(
          f.range.startOffset >= 0 && f.range.endOffset <= text.length && f.range.startOffset <= f.range.endOffset,
          'ranges stay inside the text',
        );
      }
      if (res!.findings.length) withFindings++;
    }
    const total = performance.now() - t0;
    assert.ok(total < 120_000, `1,200 scans took ${total.toFixed(0)} ms`);
    assert.ok(worst < 5_000, `the slowest scan took ${worst.toFixed(0)} ms`);
    assert.ok(
      withFindings > 100,
      `mutations keep enough real code to exercise the rules (${withFindings} with findings)`,
    );
  });

  test('a 1 MB line and binary bytes are scanned or skipped, never thrown on', () => {
    const line = `x = "${'a'.repeat(1_000_000)}"\n${fixture('seed_layer.py')}`;
    const r = scanSource(parser, 'long.py', 'python', line);
    assert.equal(r.skipped, undefined);
    assert.ok(
      r.findings.some((f) => f.rule === 'rfft-axes'),
      'the layer after the long line is still found',
    );
    const bin = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256)).toString('latin1');
    assert.doesNotThrow(() => scanSource(parser, 'bin.py', 'python', bin));
  });

  test('files over the size limit are skipped with the reason', () => {
    const r = scanSource(parser, 'big.py', 'python', fixture('seed_layer.py'), { maxChars: 100 });
    assert.match(r.skipped!, /over the 100-character limit/);
    assert.deepEqual(r.findings, []);
  });

  test('incremental re-scans while typing give the same findings as a full scan', () => {
    const r = rng(7);
    const ds = new DocumentScanner(parser);
    let text = fixture('seed_layer.py');
    ds.scan('doc', 'python', text);
    for (let i = 0; i < 150; i++) {
      const offset = r(text.length + 1);
      const length = r(3) === 0 ? r(Math.min(20, text.length - offset) + 1) : 0;
      const insert = ['', 'x', '\n', '    ', '(', ')', 'tf.', "'", 'rfft2d(self.kernel)', '# ', 'é😀'][r(11)]!;
      const next = text.slice(0, offset) + insert + text.slice(offset + length);
      const inc = ds.scan('doc', 'python', next, [{ offset, length, text: insert }]);
      const full = scanSource(parser, 'doc', 'python', next);
      const key = (x: ScanResult) =>
        x.findings.map((f) => `${f.rule}@${f.range.startOffset}-${f.range.endOffset}`).join(' ');
      assert.equal(key(inc), key(full), `edit ${i}: ${JSON.stringify({ offset, length, insert })}`);
      text = next;
    }
    ds.dispose();
  });

  test('changes that do not reproduce the new text fall back to a full parse', () => {
    const ds = new DocumentScanner(parser);
    const text = fixture('seed_layer.py');
    ds.scan('doc', 'python', text);
    const wrong = ds.scan('doc', 'python', `${text}\n# edited`, [{ offset: 0, length: 0, text: 'zzz' }]);
    assert.deepEqual(
      wrong.findings.map((f) => f.rule),
      scanSource(parser, 'd', 'python', text).findings.map((f) => f.rule),
    );
    ds.dispose();
  });
});

describe('grammars', () => {
  test("every grammar loads and its ABI is inside the runtime's range", async () => {
    const p = await Parser.load(readGrammars());
    for (const l of ['python', 'typescript', 'tsx', 'javascript'] as const) assert.ok(p.language(l).abiVersion >= 13);
  });
  test('an ABI outside the range is named, with both versions', () => {
    assert.throws(
      () => checkAbi('python', 16, 13, 15),
      (e: unknown) =>
        e instanceof GrammarError &&
        /python grammar was generated for tree-sitter ABI 16, but web-tree-sitter accepts ABI 13–15/.test(e.message),
    );
    assert.doesNotThrow(() => checkAbi('python', 14, 13, 15));
  });
  test('a damaged grammar file is a GrammarError naming the grammar', async () => {
    const g = readGrammars();
    g.grammars.javascript = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]);
    await assert.rejects(
      Parser.load(g),
      (e: unknown) => e instanceof GrammarError && /javascript grammar did not load/.test(e.message),
    );
  });
});

test('long runs of comment lines parse in linear time (tree-sitter-python is quadratic in them): 10,000 lines under a second', async () => {
  const p = await loadParser();
  const body = `import torch\n${Array.from({ length: 10_000 }, (_, i) => `# x${i} = torch.fft.rfft2(y)`).join('\n')}\nclass A:\n    s = """\n# kept: inside a string\n"""\n`;
  const t0 = performance.now();
  const tree = p.parse('python', body);
  const ms = performance.now() - t0;
  try {
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
    // Offsets are the text's: the class is where the text has it, the string keeps its '#' line.
    const cls = tree.rootNode.namedChildren.find((c) => c?.type === 'class_definition')!;
    assert.equal(cls.startPosition.row, 10_001);
    assert.match(cls.text, /# kept: inside a string/);
    const r = scanSource(p, 'big.py', 'python', body, { maxChars: 1 << 21 });
    assert.equal(r.skipped, undefined);
  } finally {
    tree.delete();
  }
});
