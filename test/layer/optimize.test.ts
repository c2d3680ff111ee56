/**
 * `fconv optimize` ("make it fast"): the rewrites of FNO spectral convolutions in the styles people write them
 * (1-D, 2-D, 3-D; corners and centred; einsum inline, in a staticmethod, a helper, a partial, an equation built at
 * run time; (in, out) and (out, in) weights; norms) load the original's state_dict and compute what it computes,
 * forward and gradients — checked here by a script of the test's own, apart from the tool's proof; what it cannot
 * read it refuses and writes nothing; a rewrite the proof rejects is never written; --out is never overwritten
 * without --force; the user's exception maps to their line.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { choose, optimizeMeasuredSchema } from '../../src/core/optimize';
import { loadParser } from '../../src/platform/grammars';
import type { SourceParser } from '../../src/scan/index';
import { type RewritePlan, applyRewrite, planRewrite } from '../../src/scan/optimize';
import { CLI, tempDir, torchPython } from '../helpers';

const found = torchPython();
assert.ok(found, 'a Python with torch is installed (the CI installs python3-torch)');
const PY = found;
/** PyTorch 2.x beside Debian's 1.13 (scripts/install-torch-venv.sh; CI installs it): torch.compile, torch 2 paths. */
const TORCH2 = process.env.FCONV_TORCH2_PYTHON ?? path.join(__dirname, '..', '..', '.venv-torch', 'bin', 'python');
assert.ok(fs.existsSync(TORCH2), `PyTorch 2.x at ${TORCH2} (bash scripts/install-torch-venv.sh makes it)`);
const FIX = path.join(__dirname, 'fixtures', 'fno_styles.py');
const CORPUS = path.join(__dirname, '..', 'scan', 'fno-corpus');
let parser: SourceParser;
before(async () => {
  parser = await loadParser();
});

const plan = (text: string, cls: string) => planRewrite(parser.parse('python', text), text, cls);

function fconv(args: string[], python = PY) {
  const r = spawnSync(process.execPath, [CLI, 'optimize', ...args, '--python', python, '--no-progress'], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd: tempDir('fconv-opt-cwd-'),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** class → (constructor arguments, input shape): small, so the check runs in seconds. */
const CASES: Record<string, [string, number[]]> = {
  SpectralConv1d: ['3, 5, 6', [2, 3, 20]],
  SpectralConv2d: ['3, 4, 4, 5', [2, 3, 16, 18]],
  HelperOrtho: ['4, 3', [2, 4, 12, 12]],
  OutInWeights: ['3, 4', [2, 3, 16, 16]],
  SpectralConv3d: ['2, 3, 3, 3, 2', [2, 2, 8, 10, 8]],
  CentredModes: ['3, 2, (6, 8)', [2, 3, 16, 15]],
};

test('every rewrite of every style loads the original state_dict and matches it: outputs and gradients, torch 1.13 and 2.x (a check of the test own)', () => {
  const text = fs.readFileSync(FIX, 'utf8');
  const dir = tempDir('fconv-opt-eq-');
  let all = text;
  const names: [string, string][] = [];
  for (const cls of Object.keys(CASES)) {
    const p = plan(all, cls);
    assert.ok(!('refused' in p), `${cls}: ${'refused' in p ? p.refused : ''}`);
    const r = p as RewritePlan;
    assert.deepEqual(
      r.candidates.map((c) => c.id),
      ['partial', 'batched', 'partial+batched', 'partial+batched+matmul-grad'],
      cls,
    );
    for (const c of r.candidates) {
      const name = `${cls}_${c.id.replace(/\W+/g, '_')}`;
      // Beside the original (a new name); the helper once.
      const q = plan(all, cls) as RewritePlan;
      all = applyRewrite(all, q, c, name);
      names.push([cls, name]);
    }
  }
  const file = path.join(dir, 'styles.py');
  fs.writeFileSync(file, all);
  const script = `
import sys, torch
torch.manual_seed(0)
ns = {"__name__": "styles"}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), ns)
cases = ${JSON.stringify(Object.fromEntries(Object.entries(CASES).map(([k, [a, s]]) => [k, [a, s]])))}
worst = 0.0
for cls, new in ${JSON.stringify(names)}:
    args = eval("(" + cases[cls][0] + ",)")
    ref = ns[cls](*args)
    # Trained-looking weights: not the constructor's, so a rewrite cannot pass by re-initialising.
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn_like(p))
    mine = ns[new](*args)
    mine.load_state_dict(ref.state_dict(), strict=True)
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in ref.named_parameters()], new
    for draw in range(2):
        x = torch.randn(*cases[cls][1], requires_grad=True)
        for train in (False, True):
            with torch.set_grad_enabled(train):
                a, b = ref(x), mine(x)
                err = (a - b).abs().max().item() / a.abs().max().item()
                assert err < 1e-4, (new, train, err)
                worst = max(worst, err)
            if train:
                g = torch.randn_like(a)
                ga = torch.autograd.grad((a * g).sum(), [x] + list(ref.parameters()))
                gb = torch.autograd.grad((b * g).sum(), [x] + list(mine.parameters()))
                for u, v in zip(ga, gb):
                    err = (u - v).abs().max().item() / u.abs().max().item()
                    assert err < 1e-4, (new, "grad", err)
                    worst = max(worst, err)
print("ok", len(${JSON.stringify(names)}), worst)
`;
  for (const py of [PY, TORCH2]) {
    const r = spawnSync(py, ['-c', script, file], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, `${py}: ${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, new RegExp(`^ok ${names.length} `));
  }
});

test('the scanner corpus: the 2021 script, the tensorly helper and the centred layer are read; the 2020 torch.rfft one is refused with what to do', () => {
  const read = (f: string) => fs.readFileSync(path.join(CORPUS, f), 'utf8');
  for (const [f, cls] of [
    ['fno2d_2021.py', 'SpectralConv2d'],
    ['tensorly_kxky.py', 'SpectralConv2D'],
    ['fno1d_3d.py', 'SpectralConv1d'],
    ['fno1d_3d.py', 'SpectralConv3d'],
  ] as const) {
    const p = plan(read(f), cls);
    assert.ok(!('refused' in p), `${f} ${cls}: ${'refused' in p ? p.refused : ''}`);
    assert.ok(p.understood.some((u) => /zero-filled spectrum/.test(u)));
  }
  const legacy = plan(read('fno2d_2020.py'), 'SpectralConv2d');
  assert.ok('refused' in legacy);
  assert.match(legacy.refused, /torch\.rfft.*removed in PyTorch 1\.8.*port it to torch\.fft\.rfft2/);
  // The centred one uses tltorch's FactorizedTensor: read (its equation is built at run time: assumed, then proven).
  const centred = plan(read('spectral_conv_centered.py'), 'SpectralConv');
  assert.ok(!('refused' in centred));
  assert.ok(centred.understood.some((u) => /built at run time/.test(u)));
  // neuraloperator's shape: axes computed at run time — refused, naming the value and what to write instead.
  const factory = plan(read('neuralop_factory.py'), 'SpectralConv');
  assert.ok('refused' in factory);
  assert.match(
    factory.refused,
    /rfftn\(…, dim=fft_dims\) takes its axes from a value computed at run time.*dim=\(-2, -1\)/,
  );
});

test('a layer it cannot read: it says what it read and why, exits 1 and writes nothing', () => {
  const out = path.join(tempDir('fconv-opt-out-'), 'fast.py');
  const r = fconv([FIX, '--class', 'MaskedSpectrum', '--init', '3, 4', '--input-shape', '2,3,16,16', '--out', out]);
  assert.equal(r.code, 1, r.err);
  assert.match(
    r.err,
    /MaskedSpectrum cannot be rewritten: line \d+: "out_ft = out_ft \* self\.mask" uses the spectrum/,
  );
  assert.match(r.err, /what it read:\n.*torch\.fft\.rfft2/);
  assert.match(r.err, /nothing was written/);
  assert.ok(!fs.existsSync(out));
});

test('a rewrite the proof rejects is never chosen: the batched product drops the conjugation the helper does; only the rewrites that keep the product can be written', () => {
  const out = path.join(tempDir('fconv-opt-out-'), 'fast.py');
  const r = fconv([
    FIX,
    '--class',
    'ConjugatedWeights',
    '--init',
    '3, 4',
    '--input-shape',
    '2,3,16,16',
    '--reps',
    '3',
    '--no-compile',
    '--no-lines',
    '--out',
    out,
  ]);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  for (const id of ['batched', 'partial\\+batched', 'partial\\+batched\\+matmul-grad'])
    assert.match(r.out, new RegExp(`\\n  ${id} +not used: not equal: [^\\n]* differs by`));
  assert.doesNotMatch(r.out, /\n {2}partial +not used/);
  // What is written (when the partial transforms pay here) keeps their product, conjugation and all.
  if (r.code === 0) {
    assert.match(r.out, /Chosen: partial —/);
    assert.match(
      fs.readFileSync(out, 'utf8'),
      /contract_conj\(x_ft\[:, :, :self\.modes, :self\.modes\], self\.weights1\)/,
    );
  } else {
    assert.match(r.out, /Nothing written/);
    assert.ok(!fs.existsSync(out));
  }
});

test('the FNO 2021 layer end to end: proven, timed against yours, written to --out with the measured comments; --out is not overwritten without --force', () => {
  const dir = tempDir('fconv-opt-out-');
  const src = path.join(dir, 'fno.py');
  fs.copyFileSync(path.join(CORPUS, 'fno2d_2021.py'), src);
  const out = path.join(dir, 'fast.py');
  const r = fconv([
    src,
    '--class',
    'SpectralConv2d',
    '--init',
    '8, 8, 6, 6',
    '--input-shape',
    '4,8,32,32',
    '--reps',
    '5',
    '--no-compile',
    '--json',
    '--out',
    out,
  ]);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  const j = JSON.parse(r.out);
  const m = optimizeMeasuredSchema.parse(j.measured);
  assert.equal(m.candidates.length, 4);
  for (const c of m.candidates) {
    assert.equal(c.failed, undefined, `${c.id}: ${c.failed}`);
    assert.ok(c.errors && Object.keys(c.errors).includes('output') && Object.keys(c.errors).includes('d/dinput'));
    assert.ok(Object.keys(c.errors).some((k) => k === 'grad weights1'));
    assert.ok(c.timing?.forward && c.timing.train);
  }
  // What was chosen is what the rule chooses from these numbers; written only then.
  const { best } = choose(m, 'both');
  assert.equal(j.chosen, best?.id ?? null);
  if (best) {
    assert.equal(r.code, 0);
    const written = fs.readFileSync(out, 'utf8');
    assert.match(written, /# fconv optimize \[partial\]/);
    assert.match(written, /# {3}measured .*forward [\d.]+ → [\d.]+ ms, training step [\d.]+ → [\d.]+ ms \(torch /);
    // The rest of the file is as it was: the training script's top level and the other class.
    assert.match(written, /class Block\(nn\.Module\):/);
    assert.match(written, /^x = torch\.randn\(BATCH, WIDTH, 64, 64\)$/m);
    // Per line, both: profile-layer's lines for yours and the rewrite.
    assert.ok(j.lines.yours.lines.length > 0 && j.lines.rewrite.lines.length > 0);
    // The rewrite's lines are the chosen candidate's: a batched one multiplies with one bmm; partial transforms only
    // the kept columns. (Which one is chosen depends on the timing: both are proven.)
    const texts = j.lines.rewrite.lines.map((l: { text: string }) => l.text).join('\n');
    if (/batched/.test(best.id)) assert.match(texts, /torch\.bmm/);
    else assert.match(texts, /torch\.fft\.rfft\(x, dim=-1\)\[\.\.\., :self\.modes2\]/);
  } else {
    assert.equal(r.code, 1);
    assert.ok(!fs.existsSync(out));
  }
  fs.writeFileSync(out, 'mine\n');
  const again = fconv([src, '--class', 'SpectralConv2d', '--input-shape', '4,8,32,32', '--out', out]);
  assert.equal(again.code, 2);
  assert.match(again.err, /--out .*fast\.py exists: give --force/);
  assert.equal(fs.readFileSync(out, 'utf8'), 'mine\n');
});

test("the user's exception maps to their line", () => {
  const dir = tempDir('fconv-opt-raise-');
  const src = path.join(dir, 'bad.py');
  fs.writeFileSync(
    src,
    fs
      .readFileSync(path.join(CORPUS, 'fno2d_2021.py'), 'utf8')
      .replace(
        '        self.in_channels = in_channels\n',
        '        self.in_channels = in_channels\n        raise ValueError("no weights file")\n',
      ),
  );
  const r = fconv([src, '--class', 'SpectralConv2d', '--init', '4, 4, 3, 3', '--input-shape', '2,4,16,16']);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.py:16: .*ValueError: no weights file/);
});

test('on PyTorch 2.x: torch.compile of yours is one more candidate, its compile time apart, judged like the rewrites', () => {
  const r = fconv(
    [
      path.join(CORPUS, 'fno2d_2021.py'),
      '--class',
      'SpectralConv2d',
      '--init',
      '4, 4, 3, 3',
      '--input-shape',
      '2,4,16,16',
      '--reps',
      '3',
      '--no-lines',
      '--json',
    ],
    TORCH2,
  );
  assert.ok(r.code === 0 || r.code === 1, r.err);
  const j = JSON.parse(r.out);
  const m = optimizeMeasuredSchema.parse(j.measured);
  assert.match(m.version, /^2\./);
  const compiled = m.candidates.find((c) => c.compile);
  assert.ok(compiled, 'the torch.compile candidate');
  assert.equal(compiled.id, 'torch.compile');
  // Either it compiled (then proven and timed, the compile time reported apart) or it says why not.
  if (compiled.failed) assert.doesNotMatch(compiled.failed, /has no torch\.compile/);
  else {
    assert.ok(compiled.compileMs !== undefined && compiled.compileMs > 0);
    assert.ok(compiled.timing?.forward && compiled.timing.train);
    assert.ok((compiled.errors?.output ?? 1) <= 1e-4);
  }
  // Never written as the rewrite: the chosen one is a rewrite of the source.
  assert.notEqual(j.chosen, 'torch.compile');
});

const TF_PY = process.env.FCONV_TF_PYTHON ?? path.join(__dirname, '..', '..', '.venv-tf', 'bin', 'python');

test("the question's Keras layer: its einsum rewritten (broadcast, matmul), proven on its weights with TensorFlow, XLA tried, the rewrite matching it in a check of the test's own", () => {
  assert.ok(fs.existsSync(TF_PY), `TensorFlow's Python at ${TF_PY} (scripts/install-tf-venv.sh makes it)`);
  const dir = tempDir('fconv-opt-keras-');
  const out = path.join(dir, 'fast.py');
  const src = path.join(__dirname, 'fixtures', 'keras_question.py');
  const r = fconv(
    [
      src,
      '--class',
      'Fourier_Conv2D',
      '--init',
      '6',
      '--input-shape',
      '4,8,8,2',
      '--input-dtype',
      'complex64',
      '--reps',
      '3',
      '--no-lines',
      '--json',
      '--out',
      out,
    ],
    TF_PY,
  );
  assert.ok(r.code === 0 || r.code === 1, r.err);
  const j = JSON.parse(r.out);
  const m = optimizeMeasuredSchema.parse(j.measured);
  assert.equal(m.framework, 'tensorflow');
  assert.deepEqual(
    m.candidates.map((c) => c.id),
    ['broadcast', 'matmul', 'XLA (jit_compile)'],
  );
  for (const c of m.candidates.filter((c) => !c.compile)) {
    assert.equal(c.failed, undefined, `${c.id}: ${c.failed}`);
    assert.ok(Object.keys(c.errors ?? {}).includes('d/dinput'));
    assert.ok(Object.keys(c.errors ?? {}).some((k) => /^grad .*kernel/.test(k)));
  }
  const { best } = choose(m, 'both');
  assert.equal(j.chosen, best?.id ?? null);
  assert.equal(fs.existsSync(out), !!best);
  // The test's own check: each rewrite, given the original's weights, computes what it computes.
  const check = `
import sys, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
def load(path):
    text = open(path).read().split("open('SHOULD_NOT_EXIST.txt'")[0]
    ns = {}
    exec(compile(text, path, "exec"), ns)
    return ns["Fourier_Conv2D"]
A, B = load(sys.argv[1]), load(sys.argv[2])
a, b = A(6), B(6)
a.build((4, 8, 8, 2)); b.build((4, 8, 8, 2))
a.set_weights([tf.random.normal(w.shape).numpy() for w in a.weights])
b.set_weights(a.get_weights())
x = tf.complex(tf.random.normal((4, 8, 8, 2)), tf.random.normal((4, 8, 8, 2)))
with tf.GradientTape(persistent=True) as t:
    t.watch(x)
    ya, yb = a(x), b(x)
    la = tf.reduce_sum(tf.math.real(ya) * 1.3 - tf.math.imag(ya))
    lb = tf.reduce_sum(tf.math.real(yb) * 1.3 - tf.math.imag(yb))
err = lambda u, v: float(tf.reduce_max(tf.abs(u - v)) / tf.reduce_max(tf.abs(v)))
worst = max([err(yb, ya)] + [err(g, h) for g, h in zip(t.gradient(lb, [x] + b.trainable_weights), t.gradient(la, [x] + a.trainable_weights))])
assert worst < 1e-4, worst
print("ok", worst)
`;
  const text = fs.readFileSync(src, 'utf8');
  const p = plan(text, 'Fourier_Conv2D') as RewritePlan;
  for (const cand of p.candidates) {
    const file = path.join(dir, `${cand.id}.py`);
    fs.writeFileSync(file, applyRewrite(text, p, cand));
    assert.ok(
      fs.readFileSync(file, 'utf8').includes(`# fconv optimize [${cand.id}]: tf.einsum("ijkl,jklo->ijko") of line 21`),
    );
    const c = spawnSync(TF_PY, ['-c', check, src, file], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(c.status, 0, `${cand.id}: ${c.stderr.slice(-3000)}`);
    assert.match(c.stdout, /^ok /m);
  }
});
