import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { gpuProfile } from '../../src/core/model';
import { DEFAULT_SPEC } from '../../src/core/spec';
import { loadParser } from '../../src/platform/grammars';
import { type ScanResult, type SourceLanguage, type SourceParser, scanSource } from '../../src/scan/index';

const FIX = join(__dirname, 'fixtures');
export const fixture = (name: string) => readFileSync(join(FIX, name), 'utf8');

let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});

function scan(text: string, lang: SourceLanguage = 'python'): ScanResult {
  const r = scanSource(parser, `x.${lang === 'python' ? 'py' : 'ts'}`, lang, text);
  assert.deepEqual(r.errors, [], 'the scanner reported an internal error');
  return r;
}
/** `rule@line` for every finding (1-based lines). */
const hits = (r: ScanResult, rule?: string) =>
  r.findings.filter((f) => !rule || f.rule === rule).map((f) => `${f.rule}@${f.range.start.line + 1}`);
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const KERAS_LAYER = (
  call: string,
  build = "self.kernel = self.add_weight(name='kernel', shape=(int(input_shape[3]), int(input_shape[1]), int(input_shape[2]), self.filters))",
) => `import tensorflow as tf
from tensorflow.keras.layers import Layer

class Spectral(Layer):
    def __init__(self, filters):
        super().__init__()
        self.filters = filters

    def build(self, input_shape):
        ${build}

    def call(self, x):
${call
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}
`;

describe('the seed layer (shared/seed) as a user would paste it', () => {
  test("reports each of the seed's problems on its line", () => {
    const src = fixture('seed_layer.py');
    const r = scan(src);
    const at = (needle: string) => lineOf(src, needle);
    assert.deepEqual(
      new Set(hits(r)),
      new Set([
        `rfft-axes@${at('rfft2d(self.kernel)')}`,
        `kernel-spectrum-per-call@${at('rfft2d(self.kernel)')}`,
        `complex-transpose@${at('perm=[2, 1, 0, 3]')}`,
        `circular-convolution@${at("tf.einsum('ijkl")}`,
        `einsum-channel-mixing@${at("tf.einsum('ijkl")}`,
        `output-shape-mismatch@${at('return (input_shape[0]')}`,
        `uneven-comparison@${at('Conv2D(32, (3, 3)')}`,
        `conv2d-fft-payoff@${at('Conv2D(32, (3, 3)')}`,
        // As posted it calls tf.spectral (TensorFlow 1.x): it raises on any TF 2.x before it gets slow.
        ...[...src.matchAll(/tf\.spectral\.\w+\(/g)].map((m) => `tf-spectral-removed@${at(m[0])}`),
      ]),
    );
    for (const f of r.findings)
      assert.match(f.message, /docs\/(fft-convolution|engines|rules)\.md#/, `${f.rule} cites its source`);
  });

  test('reads the MNIST spec of the seed from the code: exactly the preset the profiler starts with', () => {
    const r = scan(fixture('seed_layer.py'));
    const layer = r.layers.find((l) => l.kind === 'fourier')!;
    assert.equal(layer.name, 'Fourier_Conv2D');
    const { dtype: _d, ...expected } = DEFAULT_SPEC;
    assert.deepEqual({ ...layer.spec }, { ...expected });
    assert.match(layer.specSources.outChannels!, /Fourier_Conv2D\(32\)/);
    const conv = r.layers.find((l) => l.kind === 'conv2d')!;
    assert.deepEqual(
      { k: conv.spec.kernelH, out: conv.spec.outChannels, pad: conv.spec.padding },
      { k: 3, out: 32, pad: 'same' },
    );
  });

  test('puts numbers on the performance findings when the code states the shapes', () => {
    const r = scan(fixture('seed_layer.py'));
    const einsum = r.findings.find((f) => f.rule === 'einsum-channel-mixing')!;
    assert.match(einsum.message, /420 BatchMatMuls of \(32×1\)·\(1×32\)/);
    assert.match(einsum.message, /K = 1 outer product/);
    const kernel = r.findings.find((f) => f.rule === 'kernel-spectrum-per-call')!;
    assert.match(kernel.message, /1·32 transforms of 28×28/);
    const payoff = r.findings.find((f) => f.rule === 'conv2d-fft-payoff')!;
    assert.match(payoff.message, /k²\(n′\/n\)² = \d+\.\d vs break-even \d+\.\d/);
  });
});

describe('rfft-axes', () => {
  test('fires on rfft2d of the input of a Keras layer (channels last)', () => {
    assert.deepEqual(hits(scan(KERAS_LAYER('return tf.signal.rfft2d(x)')), 'rfft-axes'), ['rfft-axes@13']);
  });
  test('is silent when the input is transposed to channels first before the transform', () => {
    assert.deepEqual(
      hits(scan(KERAS_LAYER('y = tf.transpose(x, [0, 3, 1, 2])\nreturn tf.signal.rfft2d(y)')), 'rfft-axes'),
      [],
    );
  });
  test('is silent when the file uses channels_first', () => {
    assert.deepEqual(
      hits(
        scan(
          `${KERAS_LAYER('return tf.signal.rfft2d(x)')}\nconv = tf.keras.layers.Conv2D(8, 3, data_format='channels_first')\n`,
        ),
        'rfft-axes',
      ),
      [],
    );
  });
  test('is silent for a kernel declared (in, out, H, W)', () => {
    const src = KERAS_LAYER(
      'return tf.signal.rfft2d(self.kernel)',
      'self.kernel = self.add_weight(shape=(c_in, self.filters, h, w))',
    );
    assert.deepEqual(hits(scan(src), 'rfft-axes'), []);
  });
  test('fires on torch.fft.rfft2 of a tensor permuted to channels last, and not with dim=(1, 2) or on NCHW input', () => {
    const mk = (body: string) =>
      `import torch\nimport torch.nn as nn\nclass M(nn.Module):\n    def forward(self, x):\n${body
        .split('\n')
        .map((l) => `        ${l}`)
        .join('\n')}\n`;
    assert.deepEqual(hits(scan(mk('y = x.permute(0, 2, 3, 1)\nreturn torch.fft.rfft2(y)')), 'rfft-axes'), [
      'rfft-axes@6',
    ]);
    assert.deepEqual(
      hits(scan(mk('y = x.permute(0, 2, 3, 1)\nreturn torch.fft.rfft2(y, dim=(1, 2))')), 'rfft-axes'),
      [],
    );
    assert.deepEqual(hits(scan(mk('return torch.fft.rfft2(x)')), 'rfft-axes'), []);
  });
});

describe('circular-convolution', () => {
  const layer = (fft: string) =>
    `import torch\nimport torch.nn as nn\nclass SpectralConv(nn.Module):\n    def forward(self, x):\n        xf = ${fft}\n        wf = torch.fft.rfft2(self.weight, s=(64, 64))\n        return torch.fft.irfft2(xf * wf)\n`;
  test('fires on a product of spectra taken without padding in a layer meant as a convolution', () => {
    const r = scan(
      `import torch\nclass FourierConv(torch.nn.Module):\n    def forward(self, x):\n        return torch.fft.irfft2(torch.fft.rfft2(x) * self.wf)\n`,
    );
    assert.deepEqual(hits(r, 'circular-convolution'), ['circular-convolution@4']);
    assert.match(r.findings.find((f) => f.rule === 'circular-convolution')!.message, /circular convolution/);
  });
  test('is silent when every transform is given the padded size', () => {
    assert.deepEqual(hits(scan(layer('torch.fft.rfft2(x, s=(64, 64))')), 'circular-convolution'), []);
  });
  test('says the layer is compared with a Conv2D when the file has one', () => {
    const r = scan(`${layer('torch.fft.rfft2(x)').replace('s=(64, 64)', '')}\nbase = nn.Conv2d(1, 8, 3)\n`);
    const f = r.findings.find((x) => x.rule === 'circular-convolution')!;
    assert.match(f.message, /also uses nn\.Conv2d\(1, 8, 3\)/);
  });
  test('is silent for products of real tensors', () => {
    assert.deepEqual(
      hits(
        scan('import torch\ndef f(a, b):\n    return torch.einsum("ij,jk->ik", a, b) * a\n'),
        'circular-convolution',
      ),
      [],
    );
  });
});

describe('tfjs-complex-matmul', () => {
  test('fires on tf.einsum and tf.matMul of complex tensors in TypeScript', () => {
    const src = fixture('spectral.ts');
    assert.deepEqual(hits(scan(src, 'typescript'), 'tfjs-complex-matmul'), [
      `tfjs-complex-matmul@${lineOf(src, 'tf.einsum(')}`,
    ]);
    const m =
      "import * as tf from '@tensorflow/tfjs';\nfunction f(a: tf.Tensor, b: tf.Tensor) {\n  const c = tf.complex(a, b);\n  return tf.matMul(c, c);\n}\n";
    assert.deepEqual(hits(scan(m, 'typescript'), 'tfjs-complex-matmul'), ['tfjs-complex-matmul@4']);
  });
  test('is silent on real tensors', () => {
    const m = "import * as tf from '@tensorflow/tfjs';\nfunction f(a, b) {\n  return tf.matMul(tf.relu(a), b);\n}\n";
    assert.deepEqual(hits(scan(m, 'javascript'), 'tfjs-complex-matmul'), []);
  });
});

describe('output-shape-mismatch', () => {
  test('is silent when the declared channels are the kernel count and no transpose swaps H and W', () => {
    const src = fixture('seed_layer.py')
      .replace('int(self.no_of_kernels/2)+1', 'self.no_of_kernels')
      .replace(/\s+fft_kernel = tf\.transpose\(fft_kernel, perm=\[2, 1, 0, 3\]\)/, '');
    assert.deepEqual(hits(scan(src), 'output-shape-mismatch'), []);
  });
  test('names both the halved channel axis and the swapped spatial axes in the seed', () => {
    const f = scan(fixture('seed_layer.py')).findings.find((x) => x.rule === 'output-shape-mismatch')!;
    assert.match(
      f.message,
      /declares int\(self\.no_of_kernels\/2\)\+1 output channels, but the layer has self\.no_of_kernels kernels/,
    );
    assert.match(f.message, /only when height == width/);
  });
});

describe('kernel-spectrum-per-call', () => {
  test('fires in call() and forward(), not when the spectrum is taken in build()', () => {
    assert.deepEqual(
      hits(
        scan(KERAS_LAYER('k = tf.signal.rfft2d(tf.transpose(self.kernel, [0, 3, 1, 2]))\nreturn k')),
        'kernel-spectrum-per-call',
      ),
      ['kernel-spectrum-per-call@13'],
    );
    const hoisted = KERAS_LAYER(
      'return self.kf',
      'self.kf = tf.signal.rfft2d(tf.transpose(self.add_weight(shape=(1, 8, 28, 28)), [0, 1, 2, 3]))',
    );
    assert.deepEqual(hits(scan(hoisted), 'kernel-spectrum-per-call'), []);
    const torchSrc =
      'import torch\nclass C(torch.nn.Module):\n    def forward(self, x):\n        w = torch.fft.rfft2(self.weight, s=(32, 32))\n        return w\n';
    assert.deepEqual(hits(scan(torchSrc), 'kernel-spectrum-per-call'), ['kernel-spectrum-per-call@4']);
  });
  test('is silent for the transform of the input', () => {
    assert.deepEqual(
      hits(
        scan('import torch\nclass C(torch.nn.Module):\n    def forward(self, x):\n        return torch.fft.rfft2(x)\n'),
        'kernel-spectrum-per-call',
      ),
      [],
    );
  });
});

describe('einsum-channel-mixing', () => {
  test("fires on the FNO einsum and on the seed's", () => {
    const fno = fixture('fno.py');
    assert.deepEqual(hits(scan(fno), 'einsum-channel-mixing'), [
      `einsum-channel-mixing@${lineOf(fno, 'out_ft[:, :, :self.modes1')}`,
    ]);
  });
  test('is silent for an einsum of real tensors and for a plain matrix product of spectra', () => {
    assert.deepEqual(
      hits(
        scan('import torch\ndef f(a, b):\n    return torch.einsum("bixy,ioxy->boxy", a, b)\n'),
        'einsum-channel-mixing',
      ),
      [],
    );
    assert.deepEqual(
      hits(
        scan('import torch\ndef f(a, b):\n    return torch.einsum("ij,jk->ik", torch.fft.fft(a), b)\n'),
        'einsum-channel-mixing',
      ),
      [],
    );
  });
  test('without a known in-channel count it suggests the frequency-major form and offers no edit', () => {
    const r = scan(
      'import torch\nclass C(torch.nn.Module):\n    def forward(self, x):\n        return torch.einsum("bixy,ioxy->boxy", torch.fft.rfft2(x), self.w)\n',
    );
    const f = r.findings.find((x) => x.rule === 'einsum-channel-mixing')!;
    assert.match(f.suggestion, /frequency-major/);
    assert.deepEqual(f.fixes, []);
  });
});

describe('complex-transpose', () => {
  test('fires on a transpose of a spectrum in forward(), not on real tensors or outside the per-call path', () => {
    const mk = (fn: string, body: string) =>
      `import torch\nclass C(torch.nn.Module):\n    def ${fn}(self, x):\n        ${body}\n`;
    assert.deepEqual(hits(scan(mk('forward', 'return torch.fft.rfft2(x).permute(0, 2, 3, 1)')), 'complex-transpose'), [
      'complex-transpose@4',
    ]);
    assert.deepEqual(hits(scan(mk('forward', 'return x.permute(0, 2, 3, 1)')), 'complex-transpose'), []);
    assert.deepEqual(hits(scan(mk('setup', 'return torch.fft.rfft2(x).permute(0, 2, 3, 1)')), 'complex-transpose'), []);
  });
});

describe('uneven-comparison', () => {
  test('fires on the small Conv2D compared with an image-sized Fourier layer, not on a same-size one or without a Fourier layer', () => {
    const seed = fixture('seed_layer.py');
    const f = scan(seed).findings.find((x) => x.rule === 'uneven-comparison')!;
    assert.match(f.message, /87x more multiply-adds/);
    assert.deepEqual(hits(scan(seed.replace('Conv2D(32, (3, 3)', 'Conv2D(32, (28, 28)')), 'uneven-comparison'), []);
    assert.deepEqual(
      hits(
        scan('import tensorflow as tf\nconv = tf.keras.layers.Conv2D(32, 3, input_shape=(28, 28, 1))\n'),
        'uneven-comparison',
      ),
      [],
    );
  });
});

describe('conv2d-fft-payoff', () => {
  test('weighs the arithmetic of Mathieu et al. and the rules of thumb when the shapes are stated', () => {
    const known = scan(
      "import tensorflow as tf\nx = tf.keras.Input(shape=(32, 32, 256), batch_size=128)\ny = tf.keras.layers.Conv2D(256, 9, padding='same')(x)\n",
    );
    const f = known.findings.find((x) => x.rule === 'conv2d-fft-payoff')!;
    assert.match(f.message, /FFT does ~[\d.]+x less arithmetic/);
    const small = scan(
      'import torch\nimport torch.nn as nn\nconv = nn.Conv2d(3, 64, 3)\nx = torch.randn(8, 3, 64, 64)\n',
    );
    const g = small.findings.find((x) => x.rule === 'conv2d-fft-payoff')!;
    assert.match(
      g.message,
      /FFT does ~[\d.]+x more arithmetic; spatial wins\. Rules of thumb: fewer than ~16 input channels \(3\)/,
    );
  });
  test('is silent where the code does not state the input size (no guess)', () => {
    assert.deepEqual(hits(scan('import torch.nn as nn\nconv = nn.Conv2d(3, 64, 3)\n'), 'conv2d-fft-payoff'), []);
  });
  test('prices the layer with the cost model when a device is given', () => {
    const r = scanSource(
      parser,
      'x.py',
      'python',
      "import tensorflow as tf\nx = tf.keras.Input(shape=(56, 56, 64), batch_size=8)\ny = tf.keras.layers.Conv2D(64, 7, padding='same')(x)\n",
      {
        device: gpuProfile('H100 SXM'),
      },
    );
    assert.match(
      r.findings.find((x) => x.rule === 'conv2d-fft-payoff')!.message,
      /Cost model on H100 SXM: spatial [\d.]+ ms vs FFT [\d.]+ ms/,
    );
  });
  test('is silent where no Conv2D has a literal kernel size', () => {
    assert.deepEqual(
      hits(
        scan('import tensorflow as tf\ndef f(x, w):\n    return tf.nn.conv2d(x, w, 1, "SAME")\n'),
        'conv2d-fft-payoff',
      ),
      [],
    );
  });
});

describe('aliases and old names', () => {
  test('resolves import aliases, from-imports and tf.spectral', () => {
    const body = (prefix: string, fft: string) =>
      `${prefix}\nfrom tensorflow.keras.layers import Layer\nclass S(Layer):\n    def call(self, x):\n        return ${fft}(x)\n`;
    for (const [prefix, fft] of [
      ['import tensorflow as tf2', 'tf2.signal.rfft2d'],
      ['import tensorflow as tf', 'tf.spectral.rfft2d'],
      ['import tensorflow as tf', 'tf.compat.v1.spectral.rfft2d'],
      ['from tensorflow import signal', 'signal.rfft2d'],
      ['from tensorflow.signal import rfft2d as r2', 'r2'],
    ])
      assert.deepEqual(hits(scan(body(prefix!, fft!)), 'rfft-axes'), ['rfft-axes@5'], `${prefix} / ${fft}`);
  });
  test('a module imported under a TensorFlow-like name is not TensorFlow', () => {
    const src =
      'import mylib as tf\nfrom tensorflow.keras.layers import Layer\nclass S(Layer):\n    def call(self, x):\n        return tf.spectral.rfft2d(x)\n';
    assert.deepEqual(hits(scan(src)), []);
  });
  test('torch.fft imported as fft, and tfjs by require and named imports', () => {
    const torchSrc =
      'import torch.fft as fft\nimport torch\nclass C(torch.nn.Module):\n    def forward(self, x):\n        return fft.rfft2(x.permute(0, 2, 3, 1))\n';
    assert.deepEqual(hits(scan(torchSrc), 'rfft-axes'), ['rfft-axes@5']);
    const req =
      "const tf = require('@tensorflow/tfjs-node');\nfunction f(a) { return tf.einsum('ij,jk->ik', tf.spectral.rfft(a), a); }\n";
    assert.deepEqual(hits(scan(req, 'javascript'), 'tfjs-complex-matmul'), ['tfjs-complex-matmul@2']);
    const named =
      "import { einsum, spectral } from '@tensorflow/tfjs';\nexport function f(a: any) { return einsum('ij,jk->ik', spectral.rfft(a), a); }\n";
    assert.deepEqual(hits(scan(named, 'typescript'), 'tfjs-complex-matmul'), ['tfjs-complex-matmul@2']);
  });
});

describe('spec extraction', () => {
  test('reads a PyTorch FNO layer NCHW from torch.randn and the constructor call, as kind fno with its modes', () => {
    const layer = scan(fixture('fno.py')).layers.find((l) => l.kind === 'fno')!;
    assert.equal(layer.name, 'SpectralConv2d');
    assert.equal(layer.dims, 2);
    assert.deepEqual(
      { ...layer.spec },
      {
        inChannels: 1,
        outChannels: 32,
        batch: 32,
        height: 28,
        width: 28,
        layout: 'NCHW',
        padding: 'circular',
        layer: 'fno',
        modes: [12, 12],
        modesConvention: 'corners',
      },
    );
  });
  test('reads tfjs conv2d options and leaves out what the code does not state', () => {
    const conv = scan(fixture('spectral.ts'), 'typescript').layers.find((l) => l.kind === 'conv2d')!;
    assert.deepEqual(
      { ...conv.spec },
      {
        kernelH: 3,
        kernelW: 3,
        spatialKernel: 3,
        outChannels: 32,
        padding: 'same',
        layout: 'NHWC',
        height: 28,
        width: 28,
        inChannels: 1,
      },
    );
    assert.equal(conv.spec.batch, undefined);
  });
  test('a torch Conv2d with numeric padding (k − 1)/2 is "same", 0 is "valid"', () => {
    const r = scan('import torch.nn as nn\na = nn.Conv2d(4, 8, 5, padding=2)\nb = nn.Conv2d(4, 8, 5)\n');
    assert.deepEqual(
      r.layers.map((l) => l.spec.padding),
      ['same', 'valid'],
    );
  });
});
