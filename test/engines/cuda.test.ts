import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AddonUnavailableError,
  type Discovery,
  describeDiscovery,
  isCudaError,
  loadAddon,
  searchDirs,
  unavailableReason,
} from '../../src/engines/cuda/discovery';
import { CLI, DIST, tempDir } from '../helpers';

const ADDON = path.join(DIST, 'native', 'fconv_cuda.node');
const tmp = () => tempDir('fconv-cuda-');

/** A shared library with the given soname and exported C functions (returning 0). */
function fakeLib(dir: string, file: string, fns: string[] = ['fconv_fake']): string {
  const src = fns.map((f) => `extern "C" int ${f}() { return 0; }`).join('\n');
  const out = path.join(dir, file);
  execFileSync('g++', ['-shared', '-fPIC', '-x', 'c++', '-', '-o', out], { input: src });
  return out;
}

test('the CUDA addon builds with -Wall -Werror and loads on a machine without CUDA', () => {
  assert.ok(fs.existsSync(ADDON), `${ADDON} was built by npm run build`);
  const addon = loadAddon([ADDON]);
  assert.equal(addon.abi, '2');
  assert.equal(typeof addon.discover, 'function');
});

test('the addon loads where Node 20 runs: no GLIBC_ above 2.28, no GLIBCXX_ above 3.4.25 (GCC 8), dl* from libdl.so.2 at their old versions', () => {
  const dyn = execFileSync('objdump', ['-T', ADDON], { encoding: 'utf8' });
  const versions = (re: RegExp) =>
    [...dyn.matchAll(re)].map((m) => m[1]!.split('.').map(Number)).sort((a, b) => cmp(b, a));
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const glibc = versions(/\(GLIBC_([\d.]+)\)/g)[0]!;
  assert.ok(cmp(glibc, [2, 28]) <= 0, `highest GLIBC_ ${glibc.join('.')}`);
  const cxx = versions(/\(GLIBCXX_([\d.]+)\)/g)[0] ?? [0];
  assert.ok(cmp(cxx, [3, 4, 25]) <= 0, `highest GLIBCXX_ ${cxx.join('.')}`);
  for (const fn of ['dlopen', 'dlsym', 'dlclose', 'dlerror'])
    assert.match(dyn, new RegExp(`\\(GLIBC_2\\.(2\\.5|17)\\)\\s+${fn}$`, 'm'), fn);
  const refs = execFileSync('objdump', ['-p', ADDON], { encoding: 'utf8' });
  assert.match(refs, /NEEDED\s+libdl\.so\.2/);
  assert.match(refs, /required from libdl\.so\.2:/);
});

test('without a driver the addon says "no CUDA driver" and which libraries it tried, instead of failing', () => {
  const d = loadAddon([ADDON]).discover([]);
  assert.equal(d.driver.ok, false);
  assert.match(d.driver.reason, /^no CUDA driver: libcuda\.so\.1 not found/);
  assert.equal(unavailableReason(d), d.driver.reason);
  const cufft = d.libraries.find((l) => l.name === 'cufft')!;
  const family = d.toolkit?.major;
  // With a libcudart on the loader's path, only that CUDA major's cuFFT is tried (libcufft.so.12 is CUDA 13's);
  // with none, every major, newest first.
  if (family) assert.deepEqual(cufft.tried, [`libcufft.so.${family - 1}`]);
  else assert.deepEqual(cufft.tried.slice(0, 2), ['libcufft.so.12', 'libcufft.so.11'], 'newest soname first');
  assert.deepEqual(
    d.libraries.map((l) => l.name),
    ['cuda', 'cudart', 'cufft', 'cublas', 'cudnn', 'nvrtc'],
  );
});

test('libraries are taken from the search folders first, and a libcuda without the driver API is named as such', () => {
  const dir = tmp();
  const lib = fakeLib(dir, 'libcufft.so.12');
  fakeLib(dir, 'libcuda.so.1', ['cuSomethingElse']);
  const d = loadAddon([ADDON]).discover([dir]);
  const cufft = d.libraries.find((l) => l.name === 'cufft')!;
  assert.equal(cufft.path, lib);
  assert.equal(cufft.tried[0], lib);
  assert.match(d.driver.reason, /lacks the driver API entry points/);
  const lines = describeDiscovery(d, [{ dir, from: 'FCONV_CUDA_LIB_DIRS' }]);
  assert.ok(lines.includes(`cufft: ${lib} (from FCONV_CUDA_LIB_DIRS)`), lines.join('\n'));
});

test('search order: setting, FCONV_CUDA_LIB_DIRS, CUDA_HOME, LD_LIBRARY_PATH, system, then nvidia/*/lib in site-packages', () => {
  const sp = tmp();
  for (const p of ['cufft', 'cudnn']) fs.mkdirSync(path.join(sp, 'nvidia', p, 'lib'), { recursive: true });
  fs.mkdirSync(path.join(sp, 'nvidia', 'no-lib'), { recursive: true });
  const dirs = searchDirs({
    setting: ['/s'],
    env: { FCONV_CUDA_LIB_DIRS: '/e1:/e2', CUDA_HOME: '/cuda', LD_LIBRARY_PATH: '/ld:/s' },
    sitePackages: [sp],
  });
  const order = dirs.map((d) => `${d.from}:${d.dir}`);
  assert.deepEqual(order.slice(0, 6), [
    'setting:/s',
    'FCONV_CUDA_LIB_DIRS:/e1',
    'FCONV_CUDA_LIB_DIRS:/e2',
    'CUDA_HOME:/cuda/lib64',
    'CUDA_HOME:/cuda/lib',
    'CUDA_HOME:/cuda/targets/x86_64-linux/lib',
  ]);
  assert.ok(order.indexOf('LD_LIBRARY_PATH:/ld') > order.indexOf('CUDA_HOME:/cuda/lib'));
  assert.equal(order.filter((o) => o.endsWith(':/s')).length, 1, 'a folder is searched once');
  const pySite = dirs.filter((d) => d.from.startsWith('site-packages'));
  assert.deepEqual(
    pySite.map((d) => d.dir),
    [path.join(sp, 'nvidia', 'cudnn', 'lib'), path.join(sp, 'nvidia', 'cufft', 'lib')],
  );
  assert.ok(dirs.indexOf(pySite[0]!) > dirs.findIndex((d) => d.from === 'system'));
});

test('the engine is unavailable with a reason when a required library is missing, available when all are there', () => {
  const lib = (name: string, p: string | null) => ({
    name,
    tried: [`lib${name}.so`],
    path: p,
    error: p ? '' : 'not found',
  });
  const gpu = {
    ok: true,
    reason: '',
    devices: [
      { index: 0, name: 'NVIDIA H100 80GB HBM3', smCount: 132, computeCapability: '9.0', memoryTotal: 80 * 2 ** 30 },
    ],
  };
  const missing: Discovery = {
    libraries: [
      lib('cuda', '/x/libcuda.so.1'),
      lib('cudart', '/x/libcudart.so.12'),
      lib('cufft', null),
      lib('cublas', null),
    ],
    driver: gpu,
  };
  assert.match(unavailableReason(missing)!, /^missing libcufft, libcublas/);
  const all: Discovery = {
    ...missing,
    libraries: missing.libraries.map((l) => ({ ...l, path: `/x/lib${l.name}.so` })),
  };
  assert.equal(unavailableReason(all), undefined);
  assert.match(describeDiscovery(all, []).at(-1)!, /GPU 0 NVIDIA H100 80GB HBM3 \(sm 9\.0, 132 SMs, 80 GiB\)/);
  assert.throws(() => loadAddon(['/nope/fconv_cuda.node']), AddonUnavailableError);
  // The addon is built on demand, not by npm install: the message says how.
  assert.throws(() => loadAddon(['/nope/fconv_cuda.node']), /not built .*npm run build:native/);
});

test('fconv devices reports the GPU, the CUDA libraries found where, and why the engine is unavailable', () => {
  const dir = tmp();
  fakeLib(dir, 'libcublas.so.12');
  fakeLib(dir, 'libcudart.so.12');
  const r = spawnSync(process.execPath, [CLI, 'devices', '--json', '--cuda-lib-dirs', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.cuda.available, false);
  assert.match(j.cuda.reason, /no CUDA driver/);
  assert.equal(j.cuda.searchDirs[0].dir, dir);
  // The named folder's CUDA 12 runtime wins over any system one, and cuBLAS comes from the same major.
  assert.equal(j.cuda.discovery.toolkit.major, 12);
  assert.equal(
    j.cuda.discovery.libraries.find((l: { name: string }) => l.name === 'cublas').path,
    path.join(dir, 'libcublas.so.12'),
  );
  const text = spawnSync(process.execPath, [CLI, 'devices', '--cuda-lib-dirs', dir], { encoding: 'utf8' }).stdout;
  assert.match(text, /toolkit: CUDA 12 libraries/);
});

/**
 * A stand-in libcudart on host memory: malloc as cudaMalloc (failing above 1 MiB like an out-of-memory GPU), a clock
 * as events.
 */
const FAKE_CUDART = `
#include <cstdlib>
#include <cstring>
#include <chrono>
extern "C" {
static const size_t kLimit = 1 << 20;
int cudaMalloc(void** p, size_t n) { if (n > kLimit) return 2; *p = std::malloc(n); return 0; }
int cudaFree(void* p) { std::free(p); return 0; }
int cudaMemcpy(void* d, const void* s, size_t n, int kind) { if (kind != 1 && kind != 2) return 21; std::memcpy(d, s, n); return 0; }
int cudaMemGetInfo(size_t* f, size_t* t) { *f = kLimit; *t = kLimit; return 0; }
const char* cudaGetErrorName(int e) { return e == 2 ? "cudaErrorMemoryAllocation" : e == 21 ? "cudaErrorInvalidMemcpyDirection" : "cudaErrorUnknown"; }
int cudaEventCreate(void** e) { *e = std::malloc(sizeof(double)); return 0; }
int cudaEventRecord(void* e, void*) { *static_cast<double*>(e) = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); return 0; }
int cudaEventSynchronize(void*) { return 0; }
int cudaEventElapsedTime(float* ms, void* a, void* b) { *ms = static_cast<float>(*static_cast<double*>(b) - *static_cast<double*>(a)); return 0; }
int cudaEventDestroy(void* e) { std::free(e); return 0; }
}
`;

test('device buffers, copies and event timing through the runtime; a failed call is a CudaError naming it, and freeAll releases everything', () => {
  const dir = tmp();
  const lib = path.join(dir, 'libcudart.so.12');
  execFileSync('g++', ['-shared', '-fPIC', '-x', 'c++', '-', '-o', lib], { input: FAKE_CUDART });
  const addon = loadAddon([ADDON]);
  addon.close();
  assert.throws(() => addon.alloc(16), /not open: call open\(\) first/);
  const opened = addon.open([dir]);
  assert.equal(opened.ok, true, opened.reason);
  assert.equal(opened.path, lib);
  try {
    const id = addon.alloc(4 * 1000);
    const data = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5);
    addon.upload(id, data);
    assert.deepEqual(addon.download(id, 1000), data, 'round trip through the device buffer');
    assert.throws(
      () => addon.upload(id, new Float32Array(2000)),
      (e: unknown) => isCudaError(e) && /buffer \d+ is unknown or too small/.test(e.call),
    );
    const [a, b] = [addon.eventCreate(), addon.eventCreate()];
    addon.eventRecord(a);
    const until = Date.now() + 20;
    while (Date.now() < until) {
      /* 20 ms of host time between the events */
    }
    addon.eventRecord(b);
    const ms = addon.elapsed(a, b);
    assert.ok(ms >= 19 && ms < 200, `${ms} ms`);
    assert.deepEqual(addon.memInfo(), { free: 1 << 20, total: 1 << 20 });
    let oom: unknown;
    try {
      addon.alloc(8 << 20);
    } catch (e) {
      oom = e;
    }
    assert.ok(isCudaError(oom));
    assert.equal(oom.call, `cudaMalloc(${8 << 20} bytes)`);
    assert.equal(oom.codeName, 'cudaErrorMemoryAllocation');
    assert.equal(oom.code, 2);
    assert.equal(oom.outOfMemory, true);
    assert.equal(oom.message, `cudaMalloc(${8 << 20} bytes) failed: cudaErrorMemoryAllocation (2)`);
    addon.alloc(64);
    assert.equal(addon.allocated(), 2);
    assert.equal(addon.freeAll(), 2, 'what the engine allocated is freed after the error');
    assert.equal(addon.allocated(), 0);
  } finally {
    addon.close();
  }
});

test('a real libcudart without a driver gives a named error, not a crash', () => {
  const addon = loadAddon([ADDON]);
  addon.close();
  const opened = addon.open([]);
  if (!opened.ok) {
    // no CUDA runtime on this machine at all: the reason says so
    assert.match(opened.reason, /libcudart not found/);
    return;
  }
  try {
    assert.throws(
      () => addon.alloc(1024),
      (e: unknown) => isCudaError(e) && e.call === 'cudaMalloc(1024 bytes)' && /^cudaError/.test(e.codeName),
    );
  } finally {
    addon.close();
  }
});

test('scripts/gpu-check.sh on a machine without a GPU writes its JSON with the reason and exits 3', () => {
  const out = path.join(tmp(), 'gpu-check.json');
  const r = spawnSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'gpu-check.sh'), out], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 3, r.stderr);
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(j.cudaAvailable, false);
  assert.match(j.devices.cuda.reason, /no CUDA driver/);
  assert.ok(Array.isArray(j.devices.cuda.discovery.libraries), 'the library discovery is in the file');
  assert.deepEqual(j.cases, []);
  // Nothing could be judged: every goal null, none failed; each part skipped with its reason.
  assert.ok(
    Object.values(j.goals).every((g) => g === null),
    JSON.stringify(j.goals),
  );
  assert.deepEqual(j.failedGoals, []);
  assert.deepEqual(
    j.skipped.map((s: { name: string }) => s.name),
    ['torch engine', 'CUDA engine'],
  );
  assert.ok('driverVersion' in j && 'toolkitMajor' in j, 'the driver version and the toolkit major are reported');
});

test('gpu-check keeps its time budget: a case that no longer fits is skipped with the reason, the JSON written as it goes', () => {
  const out = path.join(tmp(), 'gpu-check.json');
  // The torch part on the CPU (a dry run of the script), with a budget that fits only the first case.
  const r = spawnSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'gpu-check.sh'), out], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, FCONV_GPU_CHECK_TORCH_DEVICE: 'cpu', FCONV_GPU_CHECK_BUDGET_S: '25' },
  });
  assert.ok(r.status === 0 || r.status === 4, `${r.status}: ${r.stderr}`);
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.ok(j.wallSeconds < 40, `within the budget: ${j.wallSeconds} s`);
  assert.match(j.ran[1].name, /^torch: seed case/);
  assert.ok(j.ran[1].seconds < 25, 'the case ran under its limit from the budget');
  const skipped = j.skipped.map((s: { name: string; why: string }) => `${s.name}: ${s.why}`);
  assert.ok(
    skipped.some((s: string) => /^torch: FNO preset.*: \d+ s of the 25 s budget left, 20 s needed$/.test(s)),
    skipped.join('\n'),
  );
  assert.deepEqual(
    j.failedGoals,
    Object.keys(j.goals).filter((k) => j.goals[k] === false),
  );
  assert.equal(r.status, j.failedGoals.length ? 4 : 0, 'the exit code follows the goals');
});
