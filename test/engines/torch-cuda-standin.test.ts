/**
 * The torch engine's CUDA set-up against a stand-in `torch` (no GPU here): the flags the runs and the probe share
 * (device set, cuDNN autotuner, TF32 off), read back — with torch ≥ 2.9's fp32_precision forced to "ieee" where it
 * still says "tf32" — and cuDNN's version number shown as a version for cuDNN 8 and 9 (issue 28, item 4 and the
 * guards). Plain python3 with the stand-in first on sys.path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmtCudnn } from '../../src/core/units';
import { ROOT, tempDir } from '../helpers';

/** A `torch` package with only what python/fconv_torch_probe.py touches at import and in fp32_math. */
function standInTorch(cudnnVersion: number, precision: string | null): string {
  const dir = tempDir('fconv-faketorch-');
  fs.mkdirSync(path.join(dir, 'torch', 'nn'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'torch', '__init__.py'),
    [
      'import types',
      'calls = []',
      'class _NS(types.SimpleNamespace):',
      '    pass',
      `_conv = _NS(${precision === null ? '' : `fp32_precision=${JSON.stringify(precision)}`})`,
      `_matmul = _NS(allow_tf32=True${precision === null ? '' : `, fp32_precision=${JSON.stringify(precision)}`})`,
      'class _Cudnn(types.SimpleNamespace):',
      '    def version(self):',
      `        return ${cudnnVersion}`,
      '    def is_available(self):',
      '        return True',
      'backends = _NS(cudnn=_Cudnn(benchmark=False, allow_tf32=True, conv=_conv), cuda=_NS(matmul=_matmul))',
      'class cuda:',
      '    @staticmethod',
      '    def set_device(d):',
      '        calls.append(("set_device", d))',
      'def device(d):',
      '    return d',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'torch', 'nn', '__init__.py'), '');
  fs.writeFileSync(path.join(dir, 'torch', 'nn', 'functional.py'), '');
  return dir;
}

function run(fake: string, code: string) {
  const r = spawnSync(
    'python3',
    [
      '-c',
      `import sys; sys.path[:0] = [${JSON.stringify(fake)}, ${JSON.stringify(path.join(ROOT, 'python'))}]\n${code}`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const CODE = [
  'import json, torch',
  'from fconv_torch_probe import cudnn_version, fp32_math',
  'read = fp32_math("cuda:1")',
  'b = torch.backends',
  'print(json.dumps({"read": read, "calls": torch.calls, "benchmark": b.cudnn.benchmark, "version": cudnn_version()}))',
].join('\n');

test('CUDA runs and the probe: device set (cuda:N too), autotuner on, TF32 off, fp32_precision read back and forced to ieee', () => {
  const out = run(standInTorch(90100, 'tf32'), CODE);
  assert.deepEqual(out.calls, [['set_device', 'cuda:1']], 'the device is set, not left at GPU 0');
  assert.equal(out.benchmark, true);
  assert.deepEqual(out.read, [
    'cudnn.allow_tf32=False',
    'matmul.allow_tf32=False',
    'cudnn.conv.fp32_precision=ieee',
    'cuda.matmul.fp32_precision=ieee',
  ]);
  assert.equal(out.version, '9.1.0');
  // A torch before 2.9 (no fp32_precision) and cuDNN 8: the legacy flags only, and 8907 reads 8.9.7, not 0.89.7.
  const old = run(standInTorch(8907, null), CODE);
  assert.deepEqual(old.read, ['cudnn.allow_tf32=False', 'matmul.allow_tf32=False']);
  assert.equal(old.version, '8.9.7');
});

test("cuDNN's version number as a version on the Node side too: cuDNN 8 and 9 encodings", () => {
  assert.equal(fmtCudnn(8907), '8.9.7');
  assert.equal(fmtCudnn(8100), '8.1.0');
  assert.equal(fmtCudnn(90100), '9.1.0');
  assert.equal(fmtCudnn(91002), '9.10.2');
});

test("profile-layer and optimize on a GPU: the memory budget caps torch's allocator (cuDNN's autotuner then skips workspaces past it), and an out-of-memory error in the user's code says so", () => {
  // Debian's python3 (torch 1.13) loads the modules; a stand-in torch.cuda takes the calls.
  const code = [
    'import json, types',
    'import fconv_layer, fconv_layer_load',
    'calls = []',
    'class Props: total_memory = 80 * 2 ** 30',
    'cuda = types.SimpleNamespace(get_device_properties=lambda d: Props,',
    '    set_per_process_memory_fraction=lambda f, d: calls.append([f, d.type]), memory_reserved=lambda d: 0)',
    'fake = types.SimpleNamespace(cuda=cuda)',
    'over = lambda used: None',
    'cpu = fconv_layer.torch_memory_watch(fake, {"memoryBudgetBytes": 4 * 2 ** 30}, over, types.SimpleNamespace(type="cpu"))',
    'cpu.__exit__()',
    'before = list(calls)',
    'w = fconv_layer.torch_memory_watch(fake, {"memoryBudgetBytes": 4 * 2 ** 30}, over, types.SimpleNamespace(type="cuda"))',
    'w.__exit__()',
    'class OutOfMemoryError(RuntimeError): pass',
    'try:',
    '    raise OutOfMemoryError("CUDA out of memory. Tried to allocate 6.00 GiB")',
    'except OutOfMemoryError as e:',
    '    oom = str(fconv_layer_load.user_error(e, lambda f: False, "in forward"))',
    'try:',
    '    raise ValueError("shapes do not match")',
    'except ValueError as e:',
    '    other = str(fconv_layer_load.user_error(e, lambda f: False, "in forward"))',
    'print(json.dumps({"before": before, "calls": calls, "oom": oom, "other": other}))',
  ].join('\n');
  const r = spawnSync(
    '/usr/bin/python3',
    ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))})\n${code}`],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(out.before, [], 'a CPU run caps nothing');
  assert.deepEqual(out.calls, [[0.05, 'cuda']], '4 GiB of an 80 GiB GPU');
  assert.equal(
    out.oom,
    "OutOfMemoryError: CUDA out of memory. Tried to allocate 6.00 GiB (torch's allocator was capped at the memory budget of 4096 MiB (of the GPU's 81920 MiB): --max-memory (fourierConv.maxMemory) raises it) (in forward)",
  );
  assert.equal(out.other, 'ValueError: shapes do not match (in forward)');
});
