/**
 * The scanner's recall and precision on Fourier code in the shapes public code uses (our own corpus:
 * test/scan/fno-corpus and test/scan/spectral-corpus): every Fourier layer found with its kind and
 * dimensionality; spectral derivatives, filters and dealiasing masks are not layers and raise nothing;
 * the only warnings are the true ones (a convolution meant to be linear, the removed torch.rfft API).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { loadParser } from '../../src/platform/grammars';
import { type SourceParser, scanSource } from '../../src/scan/index';

let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});

const DIRS = ['fno-corpus', 'spectral-corpus'].map((d) => join(__dirname, d));

/** file → expected layers (`kind:name`) and warnings (`rule@line-text`): everything else found is a false one. */
const EXPECTED: Record<string, { layers: string[]; warnings: Array<[string, string]> }> = {
  'fno2d_2021.py': { layers: ['fno:SpectralConv2d', 'conv2d:nn.Conv2d(WIDTH, WIDTH, 1)'], warnings: [] },
  'fno2d_2020.py': {
    layers: ['fno:SpectralConv2d'],
    warnings: [
      ['torch-rfft-removed', 'x_ft = torch.rfft('],
      ['torch-rfft-removed', 'x = torch.irfft('],
    ],
  },
  'spectral_conv_centered.py': { layers: ['fno:SpectralConv'], warnings: [] },
  'tensorly_kxky.py': { layers: ['fno:SpectralConv2D'], warnings: [] },
  'neuralop_factory.py': { layers: ['fno:SpectralConv'], warnings: [] },
  'fno1d_3d.py': { layers: ['fno:SpectralConv1d', 'fno:SpectralConv3d'], warnings: [] },
  'spectral_derivative.py': { layers: [], warnings: [] },
  'spectral_filters.py': { layers: [], warnings: [] },
  'fft_conv_layer.py': { layers: ['fourier:FFTConv2d'], warnings: [['circular-convolution', 'x_hat * k_hat']] },
};

test('recall and precision on the Fourier corpus: every layer found, no false warning', () => {
  const files = DIRS.flatMap((d) => readdirSync(d).map((f) => ({ f, text: readFileSync(join(d, f), 'utf8') })));
  assert.deepEqual(files.map((x) => x.f).sort(), Object.keys(EXPECTED).sort());
  let layersFound = 0,
    layersExpected = 0,
    trueWarnings = 0;
  const falseWarnings: string[] = [];
  for (const { f, text } of files) {
    const r = scanSource(parser, f, 'python', text);
    assert.deepEqual(r.errors, [], f);
    const e = EXPECTED[f]!;
    const got = r.layers.map((l) => `${l.kind}:${l.name}`);
    layersExpected += e.layers.length;
    layersFound += e.layers.filter((l) => got.includes(l)).length;
    assert.deepEqual(got.sort(), [...e.layers].sort(), `${f}: layers`);
    const lines = text.split('\n');
    for (const w of r.findings.filter((x) => x.severity === 'warning')) {
      const at = lines[w.range.start.line] ?? '';
      if (e.warnings.some(([rule, needle]) => rule === w.rule && at.includes(needle))) trueWarnings++;
      else falseWarnings.push(`${f}:${w.range.start.line + 1} ${w.rule}`);
    }
    for (const [rule, needle] of e.warnings)
      assert.ok(
        r.findings.some((x) => x.rule === rule && (lines[x.range.start.line] ?? '').includes(needle)),
        `${f}: expected ${rule} at "${needle}"`,
      );
    // Derivatives, filters and masks: nothing at all, not even information.
    if (!e.layers.length)
      assert.deepEqual(
        r.findings.map((x) => x.rule),
        [],
        `${f}: no finding on spectral multipliers`,
      );
  }
  assert.equal(layersFound, layersExpected);
  assert.deepEqual(falseWarnings, [], 'false warnings');
  assert.equal(trueWarnings, 3);
});

test('circular-convolution: a product of spectra is a warning only when meant as a convolution', () => {
  const scan = (src: string) =>
    scanSource(parser, 'x.py', 'python', src).findings.filter((f) => f.rule === 'circular-convolution');
  const body = (cls: string, product: string) =>
    `import torch\nclass ${cls}(torch.nn.Module):\n    def forward(self, x):\n        xf = torch.fft.rfft2(x)\n        return torch.fft.irfft2(${product})\n`;
  // Named as a convolution, or multiplying the spectrum of a spatial kernel: a convolution meant linear.
  assert.equal(scan(body('SpectralConv', 'xf * self.wf')).length, 1);
  assert.equal(scan(body('Mixer', 'xf * torch.fft.rfft2(self.weight)')).length, 1);
  // A generic product with an unknown spectrum-domain tensor: no claim either way.
  assert.equal(scan(body('Mixer', 'xf * self.wf')).length, 0);
  // Multipliers: (1j·k)**n, exp(−k²), masks.
  assert.equal(scan(body('SpectralConv', 'xf * (1j * self.k) ** 2')).length, 0);
  assert.equal(scan(body('SpectralConv', 'xf * torch.exp(-self.k2)')).length, 0);
  assert.equal(scan(body('SpectralConv', 'xf * (self.k.abs() < 10)')).length, 0);
  // Padding the kernel to the image's own size is still circular.
  assert.equal(scan(body('Mixer', 'xf * torch.fft.rfft2(self.weight, s=x.shape[-2:])')).length, 1);
});
