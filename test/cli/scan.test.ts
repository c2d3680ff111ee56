import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { scanJsonSchema, scanReportSchema } from '../../src/scan/report-schema';
import { CLI, tempDir } from '../helpers';

const FIX = path.join(__dirname, '..', 'scan', 'fixtures');
const fconv = (args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, 'scan', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('fconv scan prints file:line:column, severity, rule and message, the layers with their spec, and exits 1 on a warning', () => {
  const r = fconv([path.join(FIX, 'seed_layer.py')]);
  assert.equal(r.code, 1, r.err);
  assert.match(
    r.out,
    /seed_layer\.py:19:22: warning \[rfft-axes\] tf\.spectral\.rfft2d transforms the innermost two axes/,
  );
  assert.match(r.out, /seed_layer\.py:21:19: information \[einsum-channel-mixing\]/);
  assert.match(r.out, /quick fix: Replace the K = 1 einsum by a broadcast multiply/);
  assert.match(
    r.out,
    /seed_layer\.py:5: layer Fourier Fourier_Conv2D: batch 32, 28×28, 1→32 channels, kernel 28×28, vs Conv2D 3×3, circular, NHWC\n/,
  );
  // tf.spectral (TensorFlow 1.x) is a warning of its own: it raises on TF 2.x.
  assert.match(r.out, /4 warnings, 5 information in 1 file/);
  assert.match(r.out, /warning \[tf-spectral-removed\] tf\.spectral\.rfft2d/);
});

test('fconv scan --json lists findings[] with file, line, rule, severity and message, and the layers', () => {
  const r = fconv(['--json', FIX]);
  assert.equal(r.code, 1, r.err);
  const j = scanReportSchema.parse(JSON.parse(r.out));
  assert.equal(j.schemaVersion, 1);
  assert.deepEqual(
    j.files.map((f) => path.basename(f.file)),
    ['fno.py', 'seed_layer.py', 'spectral.ts', 'training_filler.py'],
  );
  for (const f of j.findings) {
    assert.ok(f.message.length > 20);
    assert.match(f.docs, /^docs\/rules\.md#[a-z0-9-]+$/);
  }
  const seed = j.findings.filter((f) => f.file.endsWith('seed_layer.py'));
  assert.deepEqual(seed.map((f) => `${f.line}:${f.rule}`).sort(), [
    '19:kernel-spectrum-per-call',
    '19:rfft-axes',
    '19:tf-spectral-removed',
    '20:complex-transpose',
    '21:circular-convolution',
    '21:einsum-channel-mixing',
    '25:output-shape-mismatch',
    '30:conv2d-fft-payoff',
    '30:uneven-comparison',
  ]);
  const ts = j.files.find((f) => f.file.endsWith('spectral.ts'))!;
  assert.deepEqual(ts.layers.find((l) => l.kind === 'conv2d')!.missing, ['batch']);
  assert.equal(j.summary.warnings, j.findings.filter((f) => f.severity === 'warning').length);
});

test('fconv scan exits 0 when there is no warning, and says so', () => {
  const dir = tempDir('fconv-scan-');
  const file = path.join(dir, 'model.py');
  fs.writeFileSync(
    file,
    'import torch\nimport torch.nn as nn\nconv = nn.Conv2d(3, 64, 3)\nx = torch.randn(8, 3, 64, 64)\n',
  );
  const r = fconv([file]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /information \[conv2d-fft-payoff\]/);
  assert.match(r.out, /0 warnings, 1 information in 1 file/);
  fs.writeFileSync(file, 'print("no layers here")\n');
  assert.equal(fconv([file]).code, 0);
});

test('fconv scan usage errors exit 2 with a clear message', () => {
  for (const [args, msg] of [
    [[], /scan needs at least one file or folder/],
    [['/nonexistent/x.py'], /no such file or folder: \/nonexistent\/x\.py/],
    [
      [path.join(FIX, '..', 'rules.test.ts').replace('rules.test.ts', '../../README.md')],
      /not a Python, TypeScript or JavaScript file/,
    ],
    [['--device', 'Voodoo2', path.join(FIX, 'fno.py')], /unknown device "Voodoo2"/],
    [['--max-chars', 'lots', path.join(FIX, 'fno.py')], /--max-chars must be a positive whole number/],
  ] as Array<[string[], RegExp]>) {
    const r = fconv(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, msg);
    assert.equal(r.out, '');
  }
});

test('fconv scan skips files over --max-chars with a line on stderr (exit 2: nothing was scanned)', () => {
  const r = fconv(['--max-chars', '50', path.join(FIX, 'fno.py')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /skipped .*fno\.py: \d+ characters, over the 50-character limit/);
});

test('schema/scan-v1.schema.json is the JSON Schema of the scan report (npm run gen-schema keeps it in sync)', () => {
  const file = path.join(__dirname, '..', '..', 'schema', 'scan-v1.schema.json');
  assert.deepEqual(
    JSON.parse(fs.readFileSync(file, 'utf8')),
    scanJsonSchema(),
    'run `npm run gen-schema` after changing the schema',
  );
});

test('hostile trees: a FIFO and a link to /dev/zero named .py are said and never read; the other files are scanned at once', () => {
  const dir = tempDir('fconv-scan-hostile-');
  fs.copyFileSync(path.join(FIX, 'seed_layer.py'), path.join(dir, 'layer.py'));
  spawnSync('mkfifo', [path.join(dir, 'pipe.py')]);
  fs.symlinkSync('/dev/zero', path.join(dir, 'zero.py'));
  const started = Date.now();
  const r = fconv([dir]);
  assert.ok(Date.now() - started < 20_000, 'did not block on the FIFO or read /dev/zero');
  // Inputs that could not be read make the exit 2; what could be read is reported all the same.
  assert.equal(r.code, 2, r.err);
  assert.match(r.out, /layer\.py:19:22: warning \[rfft-axes\]/);
  assert.match(r.err, /cannot read .*pipe\.py \(not a regular file \(a FIFO, socket or device\): not read\)/);
  assert.match(r.err, /cannot read .*zero\.py \(a symbolic link: links inside a scanned folder are not followed\)/);
  // Named on the command line, the link is followed to a device and refused too.
  const direct = fconv([path.join(dir, 'zero.py')]);
  assert.match(direct.err, /zero\.py \(not a regular file/);
  // A source over --max-chars is not read whole (the scanner skips it).
  fs.writeFileSync(path.join(dir, 'big.py'), `# ${'x'.repeat(5000)}\n`);
  const big = fconv(['--max-chars', '100', '--json', path.join(dir, 'big.py')]);
  assert.ok(scanReportSchema.parse(JSON.parse(big.out)).files[0]!.skipped, big.out);
});
