/**
 * The native addon against stand-in CUDA libraries (test/engines/native-standins.ts): what a first run on a
 * real machine would hit and the JS stand-in cannot see — PTX newer than the driver (then an NVRTC CUBIN of
 * the runtime's CUDA major, for the GPU's architecture clamped to what NVRTC knows, with its builtins found
 * next to it), libraries of mixed CUDA majors, cuDNN 9's sub-libraries, the math type, plan and descriptor
 * lifetimes, events that outlive freeAll, and cleanup after a failed open. Each scenario runs in its own
 * Node process with its own libraries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST, ROOT, tempDir } from '../helpers';
import { scenario, standins } from './native-standins';

const ADDON = path.join(DIST, 'native', 'fconv_cuda.node');
const root = tempDir('fconv-native-');
/** Whether the build embedded nvcc's PTX (an nvcc was there) and its ISA. */
const embedded = (() => {
  const h = fs.readFileSync(path.join(ROOT, 'native', 'gen', 'kernels_embed.h'), 'utf8');
  const ptx = h.split('kKernelPtx[] = R"FCONV(')[1]?.split(')FCONV"')[0] ?? '';
  const m = /\.version (\d+)\.(\d+)/.exec(ptx);
  return m ? Number(m[1]) * 10 + Number(m[2]) : 0;
})();

const OPEN = `out.open = addon.open(dirs); out.ops = addon.openOps(dirs);`;

test('a CUDA 12.4 driver with CUDA 12 and 13 libraries side by side: every toolkit library of CUDA 12, kernels as an NVRTC 12 CUBIN for sm_90', () => {
  const dir = standins(root);
  const r = scenario(
    ADDON,
    dir,
    { FAKE_DRIVER: '12040', FAKE_CC: '90', FAKE_PTX_MAX: '84' },
    `out.d = addon.discover(dirs); ${OPEN}`,
  );
  const d = r.out.d as {
    libraries: Array<{ name: string; path: string }>;
    toolkit: { major: number; skipped: string[] };
  };
  assert.equal(d.toolkit.major, 12);
  assert.match(d.toolkit.skipped[0]!, /libcudart\.so\.13 \(CUDA 13: newer than the driver's CUDA 12\.4\)/);
  const lib = (n: string) => path.basename(d.libraries.find((l) => l.name === n)!.path);
  assert.deepEqual(['cudart', 'cufft', 'cublas', 'nvrtc'].map(lib), [
    'libcudart.so.12',
    'libcufft.so.11',
    'libcublas.so.12',
    'libnvrtc.so.12',
  ]);
  const ops = r.out.ops as {
    ok: boolean;
    reason: string;
    notes: string[];
    toolkit: number;
    nvrtc: string;
    kernels: string;
  };
  assert.equal(ops.ok, true, ops.reason);
  assert.equal(ops.toolkit, 12);
  assert.equal(ops.nvrtc, '12.4');
  if (embedded > 84) assert.match(ops.kernels, /; the embedded PTX is ISA \d\.\d, newer than this driver's 8\.4$/);
  assert.match(ops.kernels, /^kernels compiled at run time by NVRTC 12\.4 to a CUBIN for sm_90/);
  assert.ok(r.log.includes('nvrtc12: option -arch=sm_90'), r.log.join('\n'));
  assert.ok(r.log.includes('cuda: load CUBIN sm_90'));
  assert.ok(!r.log.some((l) => /^(cufft|cublas|nvrtc)13/.test(l)), 'nothing of CUDA 13 is used');
  if (embedded > 84) assert.ok(!r.log.some((l) => l.startsWith('cuda: reject PTX')), 'PTX too new is not even tried');
});

test('a driver that runs the embedded PTX loads it; a GPU newer than NVRTC knows gets the newest architecture NVRTC has', () => {
  const dir = standins(root);
  if (embedded) {
    const ok = scenario(ADDON, dir, { FAKE_DRIVER: '13000', FAKE_CC: '120', FAKE_PTX_MAX: '90' }, OPEN);
    const ops = ok.out.ops as { ok: boolean; kernels: string; toolkit: number };
    assert.equal(ops.ok, true);
    assert.equal(ops.toolkit, 13);
    assert.match(ops.kernels, /^PTX \(compute_\d+\) built by .*, JIT-compiled by the driver$/);
    assert.ok(ok.log.some((l) => /^cuda: load PTX /.test(l)));
  }
  const clamp = scenario(ADDON, dir, { FAKE_DRIVER: '12040', FAKE_CC: '100', FAKE_PTX_MAX: '84' }, OPEN);
  const ops = clamp.out.ops as { ok: boolean; reason: string; kernels: string };
  assert.equal(ops.ok, true, ops.reason);
  assert.match(ops.kernels, /CUBIN for sm_90 \(sm_100 is newer than NVRTC 12\.4 knows; the GPU runs sm_90 code\)/);
});

test("NVRTC without its builtins library: a named error, and nothing is left open (cuBLAS's handle is destroyed)", () => {
  const dir = standins(root, { noBuiltins: true });
  const r = scenario(
    ADDON,
    dir,
    { FAKE_DRIVER: '12040', FAKE_CC: '90', FAKE_PTX_MAX: embedded ? '10' : '84' },
    `${OPEN} out.stats = addon.stats();`,
  );
  const ops = r.out.ops as { ok: boolean; reason: string };
  assert.equal(ops.ok, false);
  assert.match(
    ops.reason,
    /nvrtcCompileProgram failed: NVRTC_ERROR_BUILTIN_OPERATION_FAILURE \(libnvrtc-builtins\.so\.12\.4 not found next to .*libnvrtc\.so\.12\)/,
  );
  assert.deepEqual(
    r.log.filter((l) => l.startsWith('cublas') || l.startsWith('cudnn: create') || l.startsWith('cudnn: destroy')),
    ['cublas12: create', 'cudnn: create', 'cublas12: destroy', 'cudnn: destroy'],
  );
  assert.deepEqual(r.out.stats, { plans: 0, convs: 0, buffers: 0 });
});

test('no libcudart the driver can run: the newer one is named as passed over, not loaded', () => {
  const dir = standins(root, { families: [13] });
  const r = scenario(ADDON, dir, { FAKE_DRIVER: '12040' }, OPEN);
  const open = r.out.open as { ok: boolean; reason: string };
  // A libcudart.so.12 elsewhere on this machine's loader path would be taken instead; here there is none.
  if (!open.ok) assert.match(open.reason, /passed over, newer than the driver: .*libcudart\.so\.13 \(CUDA 13/);
  else assert.ok(!open.reason && !/libcudart\.so\.13$/.test((r.out.open as { path: string }).path));
});

test("cuDNN 9 with a sub-library missing from its folder: cuDNN is off with the reason, the shim's cudnnCreate is never reached", () => {
  const dir = standins(root, { missingCudnnSubs: ['libcudnn_cnn.so.9'] });
  const r = scenario(ADDON, dir, { FAKE_DRIVER: '12040', FAKE_CC: '90', FAKE_PTX_MAX: '84' }, OPEN);
  const ops = r.out.ops as { ok: boolean; cudnn: boolean; notes: string[] };
  assert.equal(ops.ok, true);
  assert.equal(ops.cudnn, false);
  assert.ok(
    ops.notes.some((n) => /^cuDNN 9\.1\.0 at .*libcudnn\.so\.9 is missing libcudnn_cnn\.so\.9/.test(n)),
    ops.notes.join('\n'),
  );
  assert.ok(!r.log.some((l) => l.startsWith('cudnn: create')));
  // With every sub-library next to the shim, they are loaded from there and cudnnCreate finds them.
  const full = scenario(ADDON, standins(root), { FAKE_DRIVER: '12040', FAKE_CC: '90', FAKE_PTX_MAX: '84' }, OPEN);
  assert.equal((full.out.ops as { cudnn: boolean }).cudnn, true);
  assert.ok((full.out.ops as { notes: string[] }).notes.some((n) => /6 sub-libraries loaded from its folder/.test(n)));
});

test('a convolution: descriptors and FMA math once, Find with FMA, its workspace once, then only launches; plans and descriptors freed; events outlive freeAll', () => {
  const dir = standins(root);
  const r = scenario(
    ADDON,
    dir,
    { FAKE_DRIVER: '12040', FAKE_CC: '90', FAKE_PTX_MAX: '84' },
    `${OPEN}
    const id = addon.convPrepare({ n: 1, c: 1, h: 4, w: 4, k: 1, r: 3, s: 3, padH: 0, padW: 0, nhwc: false, convolution: false });
    out.algos = addon.convAlgorithms(id);
    addon.convSelect(id, out.algos[0].algo, out.algos[0].math);
    const x = addon.alloc(64), w = addon.alloc(64), y = addon.alloc(64);
    const e = [addon.eventCreate(), addon.eventCreate()];
    require('fs').appendFileSync(process.env.FAKE_LOG, 'timed: start\\n');
    for (let i = 0; i < 3; i++) addon.convRun(id, x, w, y);
    require('fs').appendFileSync(process.env.FAKE_LOG, 'timed: end\\n');
    const p = addon.fftPlan({ r2c: true, batch: 1, n0: 4, n1: 4 });
    addon.fftPlan({ r2c: false, batch: 1, n0: 4, n1: 4 });
    out.before = addon.stats();
    addon.fftDestroy(p);
    addon.convRelease(id);
    out.freed = addon.freeAll();
    addon.eventRecord(e[0]); addon.eventRecord(e[1]);
    out.elapsed = addon.elapsed(e[0], e[1]);
    out.after = addon.stats();
    addon.close();
    out.closed = addon.stats();`,
  );
  assert.equal(r.out.thrown, undefined, String(r.out.thrown));
  assert.deepEqual(
    (r.out.algos as Array<{ math: string }>).map((a) => a.math),
    ['FMA', 'FMA'],
  );
  const timed = r.log.slice(r.log.indexOf('timed: start') + 1, r.log.indexOf('timed: end'));
  assert.deepEqual(
    timed,
    Array(3).fill('cudnn: forward algo 1 math 3 workspace 4096'),
    'only launches between the events',
  );
  assert.equal(r.log.filter((l) => l === 'cudnn: workspace size').length, 1);
  assert.ok(r.log.indexOf('cudnn: math 3') < r.log.indexOf('cudnn: find (math 3)'), 'FMA before Find');
  assert.deepEqual(r.out.before, { plans: 2, convs: 1, buffers: 3 });
  assert.equal(r.out.freed, 3);
  assert.equal(r.out.elapsed, 0, 'the events still work after freeAll');
  assert.deepEqual(r.out.after, { plans: 1, convs: 0, buffers: 0 });
  assert.deepEqual(r.out.closed, { plans: 0, convs: 0, buffers: 0 });
  assert.equal(r.log.filter((l) => l.startsWith('cudnn: descriptor create')).length, 4);
  assert.equal(r.log.filter((l) => l.startsWith('cudnn: descriptor destroy')).length, 4);
  assert.equal(
    r.log.filter((l) => l === 'cudart: event destroy').length,
    2,
    'close destroys the events, freeAll did not',
  );
  assert.ok(r.log.indexOf('cudart: event destroy') > r.log.indexOf('cufft12: destroy (alive 0)'));
});

test("a library's workspace allocation failure (CUFFT_ALLOC_FAILED) is an out-of-memory error, not an internal one", () => {
  const dir = standins(root);
  const r = scenario(
    ADDON,
    dir,
    { FAKE_DRIVER: '12040', FAKE_CC: '90', FAKE_PTX_MAX: '84', FAKE_CUFFT_PLAN_FAIL: '2' },
    `${OPEN}
    try {
      addon.fftPlan({ r2c: true, batch: 1, n0: 4, n1: 4 });
      out.planned = true;
    } catch (e) {
      out.error = { name: e.name, codeName: e.codeName, outOfMemory: e.outOfMemory, message: e.message };
    }
    addon.close();`,
  );
  assert.equal(r.out.planned, undefined, JSON.stringify(r.out));
  assert.deepEqual(r.out.error, {
    name: 'CudaError',
    codeName: 'CUFFT_ALLOC_FAILED',
    outOfMemory: true,
    message: 'cufftPlanMany(R2C, 1 × 4×4) failed: CUFFT_ALLOC_FAILED (2)',
  });
});

test("a toolkit's stubs/ folder in the search path is never the driver: libcuda.so.1 from a real folder, the unversioned stub skipped", () => {
  const dir = standins(root);
  // A stubs folder listed first, as LD_LIBRARY_PATH=/usr/local/cuda/lib64/stubs:… puts it.
  const stubs = path.join(dir, 'stubs');
  fs.mkdirSync(stubs, { recursive: true });
  fs.copyFileSync(path.join(dir, 'libcuda.so.1'), path.join(stubs, 'libcuda.so.1'));
  fs.copyFileSync(path.join(dir, 'libcuda.so.1'), path.join(stubs, 'libcuda.so'));
  const r = scenario(
    ADDON,
    dir,
    { FAKE_DRIVER: '12040', FAKE_CC: '90', FAKE_PTX_MAX: '84' },
    `out.d = addon.discover([${JSON.stringify(stubs)}, ...dirs]);`,
  );
  const d = r.out.d as { libraries: Array<{ name: string; path: string; tried: string[] }> };
  const cuda = d.libraries.find((l) => l.name === 'cuda')!;
  assert.equal(cuda.path, path.join(dir, 'libcuda.so.1'));
  assert.ok(
    cuda.tried.every((t) => !t.includes('/stubs')),
    cuda.tried.join(', '),
  );
  assert.equal(cuda.tried[0], 'libcuda.so.1', "the system loader's driver is tried first");
});
