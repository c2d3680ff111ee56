import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadParser } from '../../src/platform/grammars';
import { type SourceLanguage, type SourceParser, applyEdits, scanSource } from '../../src/scan/index';
import { broadcastIndex, parseEinsum } from '../../src/scan/rules/einsum-channel-mixing';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});

/** Applies the one fix of `rule` and checks the result parses without errors. */
function applyFix(text: string, rule: string, lang: SourceLanguage = 'python'): string {
  const r = scanSource(parser, 'x.py', lang, text);
  const f = r.findings.filter((x) => x.rule === rule && x.fixes.length);
  assert.equal(f.length, 1, `one ${rule} finding with a fix`);
  const after = applyEdits(text, f[0]!.fixes[0]!.edits);
  const tree = parser.parse(lang, after);
  assert.equal(tree.rootNode.hasError, false, `the fixed text parses:\n${after}`);
  tree.delete();
  return after;
}

describe('quick fixes: before/after', () => {
  test('rfft-axes on the seed kernel: transpose (in, H, W, out) → (in, out, H, W), transform, and back', () => {
    const before = fixture('seed_layer.py');
    const after = applyFix(before, 'rfft-axes');
    assert.equal(
      after,
      before
        .replace(
          'fft_kernel = tf.spectral.rfft2d(self.kernel)',
          'fft_kernel = tf.transpose(tf.spectral.rfft2d(tf.transpose(self.kernel, [0, 3, 1, 2])), [0, 2, 3, 1])',
        )
        .replace(
          'fft_kernel = tf.transpose(fft_kernel, perm=[2, 1, 0, 3])',
          'fft_kernel = tf.transpose(fft_kernel, perm=[1, 2, 0, 3])',
        ),
    );
    // Downstream stays consistent: follow the kernel's axes through the fixed code to the einsum.
    const perms = [...after.matchAll(/\[(\d), (\d), (\d), (\d)\]/g)].map((m) => m.slice(1, 5).map(Number));
    let axes = ['in', 'H', 'W', 'out'];
    const apply = (p: number[]) => (axes = p.map((i) => axes[i]!));
    apply(perms[0]!); // (in, out, H, W)
    axes = [axes[0]!, axes[1]!, axes[2]!, 'W/2+1']; // rfft2d over the last two axes
    apply(perms[1]!);
    apply(perms[2]!);
    // einsum 'ijkl,jklo->ijko' with the input spectrum (batch, H, W/2+1, in): j = H, k = W/2+1, l = in, o = out.
    assert.deepEqual(axes, ['H', 'W/2+1', 'in', 'out']);
    // The rule is satisfied afterwards: the transform now sees a transposed tensor.
    assert.equal(scanSource(parser, 'x.py', 'python', after).findings.filter((f) => f.rule === 'rfft-axes').length, 0);
  });

  test('after the rfft-axes fix every finding of the layer is re-derived: the einsum now pairs W with W/2+1, the declared shape is stale for another reason', () => {
    const before = fixture('seed_layer.py');
    const rulesOf = (t: string) => scanSource(parser, 'x.py', 'python', t).findings;
    // As posted the einsum's shapes agree (that is why it runs): no size clash.
    assert.deepEqual(
      rulesOf(before).filter((f) => f.rule === 'einsum-axis-sizes'),
      [],
    );
    const oldShape = rulesOf(before).find((f) => f.rule === 'output-shape-mismatch')!;
    assert.match(oldShape.message, /halved the output-channel axis/);
    assert.match(oldShape.message, /puts the kernel's W axis before its H axis/);
    const after = applyFix(before, 'rfft-axes');
    const found = rulesOf(after);
    const clash = found.filter((f) => f.rule === 'einsum-axis-sizes');
    assert.equal(clash.length, 1);
    assert.match(
      clash[0]!.message,
      /'ijkl,jklo->ijko' \(line 21\) pairs axes of different sizes — k: fft_x's axis 2 is W = 28, fft_kernel's axis 1 is W\/2\+1 = 15/,
    );
    assert.deepEqual(clash[0]!.evidence, [
      'fft_x: (batch = 32, H = 28, W = 28, in = 1)',
      'fft_kernel: (H = 28, W/2+1 = 15, in = 1, no_of_kernels = 32)',
    ]);
    const shape = found.find((f) => f.rule === 'output-shape-mismatch')!;
    assert.match(
      shape.message,
      /the kernel is now transformed over \(H, W\) and keeps all self\.no_of_kernels output channels/,
    );
    assert.doesNotMatch(shape.message, /halved the output-channel axis|W axis before its H axis/);
  });

  test('rfft-axes under another alias uses that alias', () => {
    const before =
      'import tensorflow as tff\nfrom tensorflow.keras.layers import Layer\nclass S(Layer):\n    def call(self, x):\n        return tff.signal.rfft2d(x)\n';
    assert.equal(
      applyFix(before, 'rfft-axes'),
      before.replace(
        'tff.signal.rfft2d(x)',
        'tff.transpose(tff.signal.rfft2d(tff.transpose(x, [0, 3, 1, 2])), [0, 2, 3, 1])',
      ),
    );
  });

  test('rfft-axes in PyTorch: dim=(1, 2) is added to the call', () => {
    const before =
      'import torch\nclass C(torch.nn.Module):\n    def forward(self, x):\n        y = x.permute(0, 2, 3, 1)\n        return torch.fft.rfft2(y, norm="ortho",)\n';
    assert.equal(
      applyFix(before, 'rfft-axes'),
      before.replace('torch.fft.rfft2(y, norm="ortho",)', 'torch.fft.rfft2(y, norm="ortho", dim=(1, 2))'),
    );
  });

  test('einsum with in-channels = 1 (the seed): broadcast multiply', () => {
    const before = fixture('seed_layer.py');
    const after = applyFix(before, 'einsum-channel-mixing');
    assert.equal(
      after,
      before.replace(
        "tf.einsum('ijkl,jklo->ijko', fft_x, fft_kernel)",
        'fft_x[:, :, :, 0, None] * fft_kernel[None, :, :, 0, :]',
      ),
    );
    assert.equal(
      scanSource(parser, 'x.py', 'python', after).findings.filter((f) => f.rule === 'einsum-channel-mixing').length,
      0,
    );
  });

  test('einsum with in-channels = 1 (FNO): broadcast multiply on the sliced spectrum', () => {
    const before = fixture('fno.py');
    const after = applyFix(before, 'einsum-channel-mixing');
    assert.equal(
      after,
      before.replace(
        'torch.einsum("bixy,ioxy->boxy", x_ft[:, :, :self.modes1, :self.modes2], self.weights1)',
        'x_ft[:, :, :self.modes1, :self.modes2][:, 0, None, :, :] * self.weights1[0, None, :, :, :]',
      ),
    );
  });

  test('no edit is offered when the in-channel count is not 1', () => {
    const src = fixture('fno.py').replace('SpectralConv2d(1, 32, 12, 12)', 'SpectralConv2d(4, 32, 12, 12)');
    const f = scanSource(parser, 'x.py', 'python', src).findings.find((x) => x.rule === 'einsum-channel-mixing')!;
    assert.deepEqual(f.fixes, []);
  });
});

// A tiny dense-array model of NumPy/TF/PyTorch indexing and broadcasting, to check the broadcast
// rewrite against einsum itself.
interface Arr {
  shape: number[];
  data: number[];
}
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const strides = (s: number[]) => s.map((_, i) => size(s.slice(i + 1)));
function rand(shape: number[], seed: number): Arr {
  let x = seed;
  return {
    shape,
    data: Array.from({ length: size(shape) }, () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5),
  };
}
function einsum(spec: { a: string; b: string; out: string }, A: Arr, B: Arr, dims: Record<string, number>): Arr {
  const outShape = [...spec.out].map((L) => dims[L]!);
  const letters = [...new Set([...spec.a, ...spec.b])];
  const data = new Array(size(outShape)).fill(0);
  const idx: Record<string, number> = {};
  const loop = (i: number) => {
    if (i === letters.length) {
      const at = (sub: string, X: Arr) => [...sub].reduce((o, L, k) => o + idx[L]! * strides(X.shape)[k]!, 0);
      const o = [...spec.out].reduce((acc, L, k) => acc + idx[L]! * strides(outShape)[k]!, 0);
      data[o] += A.data[at(spec.a, A)]! * B.data[at(spec.b, B)]!;
      return;
    }
    for (let v = 0; v < dims[letters[i]!]!; v++) {
      idx[letters[i]!] = v;
      loop(i + 1);
    }
  };
  loop(0);
  return { shape: outShape, data };
}
/** X[index] for an index of ':', '0' and 'None'. */
function index(X: Arr, idx: string[]): Arr {
  const from: Array<number | null> = []; // the source axis of each output axis (null: a new axis)
  let axis = 0;
  for (const t of idx) {
    if (t === 'None') from.push(null);
    else if (t === '0') axis++;
    else from.push(axis++);
  }
  assert.equal(axis, X.shape.length);
  const shape = from.map((a) => (a === null ? 1 : X.shape[a]!));
  const src = strides(X.shape);
  const os = strides(shape);
  const data: number[] = [];
  for (let i = 0; i < size(shape); i++) {
    data.push(
      X.data[
        from.reduce<number>((o, a, j) => o + (a === null ? 0 : (Math.floor(i / os[j]!) % shape[j]!) * src[a]!), 0)
      ]!,
    );
  }
  return { shape, data };
}
function mul(A: Arr, B: Arr): Arr {
  const shape = A.shape.map((d, i) => Math.max(d, B.shape[i]!));
  const data: number[] = [];
  for (let i = 0; i < size(shape); i++) {
    const ix = shape.map((_, j) => Math.floor(i / strides(shape)[j]!) % shape[j]!);
    const at = (X: Arr) => ix.reduce((o, v, j) => o + (X.shape[j] === 1 ? 0 : v) * strides(X.shape)[j]!, 0);
    data.push(A.data[at(A)]! * B.data[at(B)]!);
  }
  return { shape, data };
}

describe('the broadcast rewrite computes what the einsum computes (property, naive reference)', () => {
  test('on random two-operand specs with one contracted axis of size 1', () => {
    const pool = 'abcdefg';
    let checked = 0;
    for (let seed = 1; checked < 200 && seed < 5000; seed++) {
      let x = seed;
      const r = (n: number) => (x = (x * 48271) % 2147483647) % n;
      const shuffle = (s: string[]) =>
        s
          .map((v) => [r(1000), v] as const)
          .sort((p, q) => p[0] - q[0])
          .map((p) => p[1]);
      const letters = shuffle([...pool]).slice(0, 3 + r(3));
      const c = letters[0]!;
      const rest = letters.slice(1);
      const inA = rest.filter(() => r(3) > 0);
      const inB = rest.filter((L) => !inA.includes(L) || r(2) === 0);
      const a = shuffle([c, ...inA]).join('');
      const b = shuffle([c, ...inB]).join('');
      const out = shuffle([...new Set([...inA, ...inB])]).join('');
      const spec = parseEinsum(`${a},${b}->${out}`);
      const ia = spec && broadcastIndex(a, out, c);
      const ib = spec && broadcastIndex(b, out, c);
      if (!spec || !ia || !ib) continue; // the rule offers no edit when a transpose would be needed
      const dims: Record<string, number> = { [c]: 1 };
      for (const L of rest) dims[L] = 1 + r(3);
      const A = rand(
        [...a].map((L) => dims[L]!),
        seed,
      );
      const B = rand(
        [...b].map((L) => dims[L]!),
        seed + 7,
      );
      const want = einsum(spec, A, B, dims);
      const got = mul(index(A, ia.split(', ')), index(B, ib.split(', ')));
      assert.deepEqual(got.shape, want.shape, `${a},${b}->${out}: ${ia} / ${ib}`);
      for (let i = 0; i < want.data.length; i++)
        assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-12, `${a},${b}->${out} element ${i}`);
      checked++;
    }
    assert.ok(checked >= 100, `only ${checked} specs admitted a rewrite`);
  });
});

describe('tf-spectral-removed', () => {
  test('renames tf.spectral to tf.signal (same arguments) in Python, whatever the alias; silent in tfjs code', () => {
    const before = 'import tensorflow as tf2\n\ndef f(k):\n    return tf2.spectral.rfft2d(k)\n';
    assert.equal(
      applyFix(before, 'tf-spectral-removed'),
      'import tensorflow as tf2\n\ndef f(k):\n    return tf2.signal.rfft2d(k)\n',
    );
    const signal = scanSource(parser, 'x.py', 'python', 'import tensorflow as tf\ny = tf.signal.rfft2d(x)\n');
    assert.deepEqual(
      signal.findings.filter((f) => f.rule === 'tf-spectral-removed'),
      [],
      'tf.signal is fine',
    );
    // tfjs still has tf.spectral.
    const js = scanSource(
      parser,
      'x.ts',
      'typescript',
      "import * as tf from '@tensorflow/tfjs';\nconst y = tf.spectral.rfft(x);\n",
    );
    assert.deepEqual(
      js.findings.filter((f) => f.rule === 'tf-spectral-removed'),
      [],
    );
  });
});
