/**
 * The scanner on FNO code written in the shapes public Fourier-operator code uses (test/scan/fno-corpus,
 * our own files): every layer found with its kind, dimensionality, modes and convention; information only
 * on FNO layers (no circular-convolution warning: periodic is intended); the removed torch.rfft API warned
 * about, with a quick fix that keeps the meaning; "Profile this layer" gets an FNO spec.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fnoSpec, specProblems } from '../../src/core/spec';
import { loadParser } from '../../src/platform/grammars';
import { type ScanResult, type SourceParser, applyEdits, scanSource } from '../../src/scan/index';

const CORPUS = join(__dirname, 'fno-corpus');
const read = (name: string) => readFileSync(join(CORPUS, name), 'utf8');
let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});
function scan(text: string): ScanResult {
  const r = scanSource(parser, 'x.py', 'python', text);
  assert.deepEqual(r.errors, []);
  return r;
}

const EXPECTED: Record<
  string,
  Array<{ name: string; dims: number; modes?: [number, number]; convention: string; channels?: [number, number] }>
> = {
  'fno2d_2021.py': [{ name: 'SpectralConv2d', dims: 2, modes: [12, 12], convention: 'corners', channels: [32, 32] }],
  'fno2d_2020.py': [{ name: 'SpectralConv2d', dims: 2, modes: [8, 8], convention: 'corners', channels: [16, 16] }],
  'spectral_conv_centered.py': [
    { name: 'SpectralConv', dims: 2, modes: [16, 16], convention: 'centered', channels: [32, 32] },
  ],
  'tensorly_kxky.py': [{ name: 'SpectralConv2D', dims: 2, modes: [12, 12], convention: 'corners', channels: [32, 32] }],
  // The contraction is what a factory called in __init__ returns (self._contract = get_contract_fun(…)).
  'neuralop_factory.py': [
    { name: 'SpectralConv', dims: 2, modes: [12, 12], convention: 'centered', channels: [16, 24] },
  ],
  'fno1d_3d.py': [
    { name: 'SpectralConv1d', dims: 1, convention: 'corners', channels: [16, 16] },
    { name: 'SpectralConv3d', dims: 3, convention: 'corners', channels: [8, 8] },
  ],
};

test('every FNO layer of the corpus is found, as kind fno, with its dimensionality, modes, convention and channels', () => {
  let found = 0,
    expected = 0;
  assert.deepEqual(readdirSync(CORPUS).sort(), Object.keys(EXPECTED).sort());
  for (const [file, layers] of Object.entries(EXPECTED)) {
    const r = scan(read(file));
    const fno = r.layers.filter((l) => l.kind === 'fno');
    expected += layers.length;
    for (const e of layers) {
      const l = fno.find((x) => x.name === e.name);
      assert.ok(l, `${file}: ${e.name} found (got ${r.layers.map((x) => `${x.kind}:${x.name}`).join(', ')})`);
      found++;
      assert.equal(l.dims, e.dims, `${file}: ${e.name} dims`);
      assert.equal(l.spec.layer, 'fno');
      assert.equal(l.spec.modesConvention, e.convention, `${file}: ${e.name} convention`);
      if (e.modes) assert.deepEqual(l.spec.modes, e.modes, `${file}: ${e.name} modes`);
      if (e.channels)
        assert.deepEqual([l.spec.inChannels, l.spec.outChannels], e.channels, `${file}: ${e.name} channels`);
      assert.equal(l.spec.kernelH, undefined, 'an FNO layer has no spatial kernel');
      if (e.dims !== 2) assert.match(l.notes!.join(' '), /not profiled yet/);
    }
  }
  assert.equal(found, expected);
});

test('no false warning in the corpus: FNO layers get information, only the removed API is a warning', () => {
  const warnings: string[] = [];
  for (const file of Object.keys(EXPECTED)) {
    const r = scan(read(file));
    for (const f of r.findings)
      if (f.severity === 'warning') warnings.push(`${file}:${f.range.start.line + 1} ${f.rule}`);
    assert.ok(!r.findings.some((f) => f.rule === 'circular-convolution'), `${file}: no circular-convolution on an FNO`);
    assert.ok(!r.findings.some((f) => f.rule === 'rfft-axes'), `${file}: rfft over the last axes of NCHW is right`);
    for (const l of r.layers.filter((x) => x.kind === 'fno'))
      assert.ok(
        r.findings.some((f) => f.rule === 'fno-layer' && f.layer === l.id),
        `${file}: fno-layer on ${l.name}`,
      );
  }
  const text = read('fno2d_2020.py');
  const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  assert.deepEqual(
    warnings.sort(),
    [
      `fno2d_2020.py:${lineOf('torch.irfft(')} torch-rfft-removed`,
      `fno2d_2020.py:${lineOf('torch.rfft(')} torch-rfft-removed`,
    ].sort(),
  );
});

test('fno-layer carries numbers when the file states the grid; the tensorly note on factorized weights', () => {
  const src = read('fno2d_2021.py');
  const r = scan(src);
  const f = r.findings.find((x) => x.rule === 'fno-layer')!;
  assert.match(
    f.message,
    /Per call at batch 20, 64×64: 24×12 of 64×33 modes kept \(14 %\); channel mixing 47\.2 MFLOP/,
  );
  assert.match(f.message, /zero-filled out_ft of 10\.8 MB/);
  assert.match(f.message, /Its 2 einsums over corner blocks/);
  const site = r.layers.find((l) => l.kind === 'fno')!;
  const spec = fnoSpec({ ...(site.spec as Required<typeof site.spec>), modesConvention: site.spec.modesConvention });
  assert.deepEqual(specProblems(spec), [], 'Profile this layer gets a complete, valid FNO spec');
  const centered = scan(read('spectral_conv_centered.py')).layers.find((l) => l.kind === 'fno')!;
  assert.match(centered.notes!.join(' '), /factorized weights/);
});

test('torch.rfft / torch.irfft quick fixes keep the values and the real-pair layout, and the file parses', () => {
  const before = read('fno2d_2020.py');
  const r = scan(before);
  const fixes = r.findings.filter((f) => f.rule === 'torch-rfft-removed');
  assert.equal(fixes.length, 2);
  let after = before;
  for (const f of [...fixes].sort((a, b) => b.range.startOffset - a.range.startOffset))
    after = applyEdits(after, f.fixes[0]!.edits);
  assert.match(after, /x_ft = torch\.view_as_real\(torch\.fft\.rfft2\(x, norm="ortho"\)\)/);
  assert.match(
    after,
    /torch\.fft\.irfft2\(torch\.view_as_complex\(out_ft\), s=\(x\.size\(-2\), x\.size\(-1\)\), norm="ortho"\)/,
  );
  const tree = parser.parse('python', after);
  assert.equal(tree.rootNode.hasError, false);
  tree.delete();
  const again = scan(after);
  assert.ok(!again.findings.some((f) => f.rule === 'torch-rfft-removed'));
  // Unnormalized, 1-D, and a form it cannot translate.
  const one = scan('import torch\ndef f(x):\n    return torch.rfft(x, 1)\n').findings.find(
    (f) => f.rule === 'torch-rfft-removed',
  )!;
  assert.equal(one.fixes[0]!.edits[0]!.newText, 'torch.view_as_real(torch.fft.rfft(x))');
  const odd = scan('import torch\ndef f(x, n):\n    return torch.rfft(x, n, normalized=flag)\n').findings.find(
    (f) => f.rule === 'torch-rfft-removed',
  )!;
  assert.equal(odd.severity, 'warning');
  assert.deepEqual(odd.fixes, []);
});

test('a spectral derivative (spectrum times (1j·k)) is not an FNO layer', () => {
  const r = scan(`import torch
def ddx(u, k):
    u_hat = torch.fft.rfft(u)
    return torch.fft.irfft(1j * k * u_hat, n=u.shape[-1])
`);
  assert.ok(!r.layers.some((l) => l.kind === 'fno'));
  assert.ok(!r.findings.some((f) => f.rule === 'fno-layer'));
});

test('a factory stored on self counts as the product only when what it returns is one', () => {
  const text = read('neuralop_factory.py');
  assert.ok(scan(text).layers.some((l) => l.kind === 'fno' && l.name === 'SpectralConv'));
  // The same factory returning functions that multiply nothing: an FFT and an inverse, no layer.
  const noProduct = text.replace(/tl\.einsum\(eq, /g, 'tl.tensor(');
  assert.ok(!/einsum\(eq/.test(noProduct));
  assert.deepEqual(
    scan(noProduct).layers.filter((l) => l.name === 'SpectralConv'),
    [],
    'no Fourier layer without a product',
  );
});

test("the model's channels-last raw input (randn(20, 64, 64, 3)) gives the layer its grid, not W = 3 or 3 channels", () => {
  const text = read('fno2d_2021.py').replace('x = torch.randn(BATCH, WIDTH, 64, 64)', 'x = torch.randn(20, 64, 64, 3)');
  assert.ok(text.includes('torch.randn(20, 64, 64, 3)'));
  const l = scan(text).layers.find((x) => x.kind === 'fno' && x.name === 'SpectralConv2d')!;
  assert.ok(l);
  assert.equal(l.spec.batch, 20);
  assert.equal(l.spec.height, 64);
  assert.equal(l.spec.width, 64, 'the grid, not the 3 channels');
  assert.equal(l.spec.inChannels, 32, 'the channels the layer receives (its constructor), not the raw 3');
  assert.match(l.specSources!.width!, /torch\.randn\(20, 64, 64, 3\) \(line 46, NHWC\)/);
  assert.deepEqual(specProblems(fnoSpec({ ...l.spec, layer: 'fno' } as never)), []);
});
