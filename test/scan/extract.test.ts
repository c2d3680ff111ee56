/**
 * What profile-layer takes from a file (src/scan/extract.ts): the imports, the definitions and constants the
 * class reaches (transitively), never the rest of the top level; the constructor's arguments from a call with
 * literal / constant arguments; what is missing otherwise; the nn.Module classes for the CodeLens.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadParser } from '../../src/platform/grammars';
import {
  inputShapeGuess,
  type LayerExtract,
  extractLayer,
  initFor,
  initProblem,
  initTemplate,
  moduleClasses,
} from '../../src/scan/extract';
import type { SourceParser } from '../../src/scan/index';

let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});

const SRC = `from __future__ import annotations
import os
import torch
import torch.nn as nn
try:
    import wandb
except ImportError:
    wandb = None

SCALE = 0.5
N = SCALE * 4
DEVICE = torch.device("cuda")
data = torch.load("x.pt")
print("training")


def helper(a):
    return inner(a) * SCALE


def inner(a):
    return a


def unused():
    os.system("rm -rf /")


@torch.no_grad()
def decorated(x):
    return x


class Base(nn.Module):
    def __init__(self, width, modes=N):
        super().__init__()


class Layer(Base):
    def forward(self, x):
        return decorated(helper(x))


class Other(nn.Module):
    def forward(self, x):
        return torch.fft.rfft2(x)


model = Layer(16, modes=N)
for epoch in range(10):
    model(data)
`;

function extract(src: string, cls: string): LayerExtract {
  const tree = parser.parse('python', src);
  try {
    const x = extractLayer(tree, cls);
    assert.ok(!('error' in x), 'error' in x ? x.error : '');
    return x;
  } finally {
    tree.delete();
  }
}

test('only the imports and what the class reaches, each at its own line', () => {
  const x = extract(SRC, 'Layer');
  const byBind = new Map(x.chunks.map((c) => [c.binds.join(','), c]));
  for (const name of ['helper', 'inner', 'decorated', 'Base', 'Layer', 'SCALE', 'N'])
    assert.ok(byBind.has(name), `${name} taken`);
  for (const name of ['unused', 'Other', 'data', 'model', 'DEVICE']) assert.ok(!byBind.has(name), `${name} not taken`);
  assert.ok(!x.chunks.some((c) => /print|torch\.load|for epoch/.test(c.source)), 'no top-level statement runs');
  assert.equal(byBind.get('helper')!.line, 17);
  assert.match(byBind.get('decorated')!.source, /^@torch\.no_grad\(\)\ndef decorated/);
  // Imports all come along; `used` says whether the layer needs them (a failing unused one is skipped).
  assert.equal(byBind.get('torch')!.used, true);
  assert.equal(byBind.get('nn')!.used, true);
  assert.equal(byBind.get('os')!.used, false);
  assert.equal(byBind.get('wandb')!.kind, 'import');
  assert.equal(byBind.get('wandb')!.used, false);
  assert.equal(byBind.get('__future__')!.line, 1);
  assert.deepEqual(x.constants.sort(), ['N', 'SCALE']);
  assert.equal(x.classLine, 39);
});

test("the constructor: the file's call with constant arguments, else defaults, else what is missing", () => {
  const x = extract(SRC, 'Layer');
  // Layer has no __init__: its base's parameters.
  assert.deepEqual(x.params, [{ name: 'width' }, { name: 'modes', default: 'N' }]);
  assert.deepEqual(x.call, { args: '16, modes=N', line: 49 });
  assert.deepEqual(initFor(x), { args: '16, modes=N', from: 'file', line: 49 });
  assert.deepEqual(initFor(x, ' 8 '), { args: '8', from: '--init' });
  // A call whose arguments are not constants does not count.
  const y = extract(SRC.replace('model = Layer(16, modes=N)', 'model = Layer(len(data))'), 'Layer');
  assert.equal(y.call, undefined);
  assert.deepEqual(y.missing, ['width']);
  const init = initFor(y);
  assert.ok('missing' in init);
  assert.equal(initTemplate(init.params), 'width=, modes=N');
  const z = extract(SRC, 'Other');
  assert.deepEqual(initFor(z), { args: '', from: 'defaults' });
});

test('an unknown class names the nn.Module classes of the file', () => {
  const tree = parser.parse('python', SRC);
  const x = extractLayer(tree, 'Missing');
  assert.ok('error' in x);
  assert.match(x.error, /no class Missing .*layer classes here: Base, Layer, Other/);
  tree.delete();
});

test('moduleClasses: nn.Module subclasses (through in-file bases), with FFT / Conv2d use and forward span', () => {
  const tree = parser.parse(
    'python',
    `${SRC}\nclass Plain:\n    pass\n\n\nclass WithConv(Layer):\n    def __init__(self):\n        self.c = nn.Conv2d(1, 1, 3)\n`,
  );
  const cs = moduleClasses(tree);
  tree.delete();
  assert.deepEqual(
    cs.map((c) => c.name),
    ['Base', 'Layer', 'Other', 'WithConv'],
  );
  const other = cs.find((c) => c.name === 'Other')!;
  assert.equal(other.fourier, true);
  assert.deepEqual(other.forward, { start: 45, end: 46 });
  assert.equal(cs.find((c) => c.name === 'WithConv')!.conv, true);
  assert.equal(cs.find((c) => c.name === 'Base')!.fourier, false);
});

test('moduleClasses: Keras layers however Layer is imported, their call() span; a torch class named Layer stays torch', () => {
  const keras = `import tensorflow as tf
from tensorflow.keras.layers import Layer
import keras


class Fourier_Conv2D(Layer):
    def call(self, x):
        k = tf.signal.rfft2d(self.kernel)
        return tf.einsum('ijkl,jklo->ijko', x, k)


class Mix(keras.layers.Layer):
    def call(self, x):
        return x


class Deeper(Fourier_Conv2D):
    pass


class Net(tf.keras.Model):
    def call(self, x):
        return tf.keras.layers.Conv2D(4, 3)(x)


class NotALayer(object):
    pass
`;
  const tree = parser.parse('python', keras);
  const cs = moduleClasses(tree);
  const x = extractLayer(tree, 'Fourier_Conv2D');
  tree.delete();
  assert.deepEqual(
    cs.map((c) => [c.name, c.framework]),
    [
      ['Fourier_Conv2D', 'keras'],
      ['Mix', 'keras'],
      ['Deeper', 'keras'],
      ['Net', 'keras'],
    ],
  );
  const fc = cs.find((c) => c.name === 'Fourier_Conv2D')!;
  assert.equal(fc.fourier, true);
  assert.deepEqual(fc.forward, { start: 7, end: 9 });
  assert.equal(cs.find((c) => c.name === 'Net')!.conv, true);
  assert.equal(cs.find((c) => c.name === 'Mix')!.fourier, false);
  assert.ok(!('error' in x));
  assert.equal(x.framework, 'keras');

  // The torch source above defines its own `class Layer(nn.Module)`: its subclasses are torch's.
  const t = parser.parse('python', `${SRC}\nclass WithConv(Layer):\n    pass\n`);
  const tc = moduleClasses(t);
  t.delete();
  assert.ok(
    tc.every((c) => c.framework === 'torch'),
    JSON.stringify(tc.map((c) => [c.name, c.framework])),
  );
});

test('free names only: attribute and keyword names, parameters and locals do not pull in top-level definitions', () => {
  const src = `import torch


def view(x):
    return x


def dim(x):
    return x


def scale(x):
    return x


def local(x):
    return x


class L(torch.nn.Module):
    def forward(self, x, local=None):
        y = x.view(-1).sum(dim=0)
        for i in range(2):
            y = y + i
        return scale(y)
`;
  const x = extract(src, 'L');
  const binds = x.chunks.flatMap((c) => c.binds);
  assert.ok(binds.includes('scale'), 'scale() is called: taken');
  for (const name of ['view', 'dim', 'local']) assert.ok(!binds.includes(name), `${name} is not a free name of L`);
});

test('a try block runs its imports and fallbacks only: no else or finally body, every line at its place', () => {
  const src = `import torch
try:
    import wandb
    wandb.init()
except ImportError:
    wandb = None
    print("no wandb")
else:
    wandb.log({})
finally:
    print("done")

try:
    import tqdm
finally:
    cleanup()

try:
    import rich
except ImportError: rich = None; setup()


class L(torch.nn.Module):
    def forward(self, x):
        return x
`;
  const x = extract(src, 'L');
  const wandb = x.chunks.find((c) => c.binds.includes('wandb'))!;
  assert.equal(wandb.line, 2);
  assert.equal(
    wandb.source,
    ['try:', '    import wandb', '', 'except ImportError:', '    wandb = None', '', '', '', '', ''].join('\n'),
  );
  const tqdm = x.chunks.find((c) => c.binds.includes('tqdm'))!;
  assert.equal(tqdm.source, ['try:', '    import tqdm', 'finally: pass', ''].join('\n'));
  const rich = x.chunks.find((c) => c.binds.includes('rich'))!;
  assert.equal(rich.source, ['try:', '    import rich', 'except ImportError: rich = None'].join('\n'));
  // Every line at its place: as many lines as the block has in the file; nothing but imports and fallbacks.
  for (const c of [wandb, tqdm, rich]) assert.doesNotMatch(c.source, /wandb\.init|wandb\.log|print|cleanup|setup/);
});

test('a value only a skipped top-level call sets is reported with its line', () => {
  const src = `import torch
DEVICE = torch.device("cuda")
N = 4


class L(torch.nn.Module):
    def forward(self, x):
        return x.to(DEVICE) * N
`;
  const x = extract(src, 'L');
  assert.deepEqual(x.skipped, [{ name: 'DEVICE', line: 2, text: 'DEVICE = torch.device("cuda")' }]);
  assert.deepEqual(x.constants, ['N']);
});

test('a class defined twice is refused with both lines; a syntax error above the class is named; --init may name any module constant', () => {
  const twice = parser.parse(
    'python',
    'import torch\n\nclass L(torch.nn.Module):\n    pass\n\n\nclass L(torch.nn.Module):\n    pass\n',
  );
  const t = extractLayer(twice, 'L');
  twice.delete();
  assert.ok('error' in t);
  assert.match(t.error, /class L is defined 2 times \(lines 3 and 7\)/);

  const broken = parser.parse('python', 'import torch\nx = f(1,\n\nclass After(torch.nn.Module):\n    pass\n');
  const b = extractLayer(broken, 'After');
  broken.delete();
  assert.ok('error' in b);
  assert.match(b.error, /no class After .*syntax error at line 2/);

  const consts = parser.parse(
    'python',
    'import torch\nWIDTH = 32\nOTHER = 5\n\nclass L(torch.nn.Module):\n    def __init__(self, w):\n        super().__init__()\n',
  );
  const c = extractLayer(consts, 'L', 'WIDTH');
  consts.delete();
  assert.ok(!('error' in c));
  assert.deepEqual(c.constants, ['WIDTH']);
});

test('initProblem: the constructor box checks as the user types, as the Python side will', () => {
  const parse = (s: string) => parser.parse('python', s);
  const ok = (t: string) => assert.equal(initProblem(t, ['WIDTH', 'MODES'], parse), undefined, t);
  ok('');
  ok('32, 32, 12, 12');
  ok('in_channels=32, out_channels=32, modes=(12, 12)');
  ok('WIDTH, WIDTH, MODES, modes2=MODES * 2, act=None, name="fno", scale=-1.5e-3');
  const bad = (t: string, re: RegExp) => assert.match(initProblem(t, ['WIDTH'], parse) ?? '', re, t);
  bad('in_channels=, out_channels=, modes1=', /^in_channels has no value yet$/);
  bad('32, out_channels=', /^out_channels has no value yet$/);
  bad('32, (12, 12', /not a Python argument list/);
  bad('32), (2', /not a Python argument list/);
  bad('torch.randn(3)', /is a call: give literals/);
  bad('32, width', /^width is not a literal or a module constant of the file$/);
  bad('*shape', /unpacking/);
});

test("the shape box starts from what the file feeds the class: model(torch.randn(…)), x = …; model(x), a tuple, tf's normal", () => {
  const f = [
    'import torch',
    'BATCH = 20',
    'class FNO2d(nn.Module):',
    '    pass',
    'if __name__ == "__main__":',
    '    model = FNO2d(12, 12, 32)',
    '    x = torch.randn(BATCH, 64, 64, 3)',
    '    y = model(x)',
    '    k = Fourier_Conv2D(32)',
    '    k(tf.random.normal([32, 28, 28, 1]))',
    '    other = Other()',
    '    other(torch.rand((4, 8, 8, 3), dtype=torch.float32))',
  ].join('\n');
  assert.deepEqual(inputShapeGuess(f, 'FNO2d'), [20, 64, 64, 3], 'x = torch.randn(BATCH, …) then model(x)');
  assert.deepEqual(inputShapeGuess(f, 'Fourier_Conv2D'), [32, 28, 28, 1]);
  assert.deepEqual(inputShapeGuess(f, 'Other'), [4, 8, 8, 3], 'a tuple with a dtype after it');
  // No instance called, a dimension that is not a literal or a module constant: no guess.
  assert.equal(inputShapeGuess(f, 'Missing'), undefined);
  assert.equal(inputShapeGuess(f.replace('BATCH, 64', 'n, 64'), 'FNO2d'), undefined);
});
