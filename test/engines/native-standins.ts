/**
 * Stand-in CUDA libraries (C++, built with g++ into a folder) for testing the native addon's library
 * handling on a machine without a GPU: a driver whose CUDA version, compute capability and PTX ISA limit
 * come from the environment (FAKE_DRIVER, FAKE_CC, FAKE_PTX_MAX) and that loads PTX only up to that ISA and
 * CUBINs always; NVRTC of CUDA 12 and 13 (their architectures, their builtins library, CUBIN output); cuFFT,
 * cuBLAS and a cuDNN 9 shim that needs its sub-libraries already loaded, as the real one finds them by soname.
 * Every call of interest is appended to the file FAKE_LOG, one line each.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const COMMON = `
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
static void fake_log(const char* fmt, ...) {
  const char* p = std::getenv("FAKE_LOG");
  if (!p) return;
  FILE* f = std::fopen(p, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(f, fmt, ap);
  va_end(ap);
  std::fputc('\\n', f);
  std::fclose(f);
}
static int env_int(const char* k, int d) { const char* v = std::getenv(k); return v ? std::atoi(v) : d; }
`;

const CUDA = `
extern "C" {
int cuInit(unsigned) { return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int i) { *d = i; return 0; }
int cuDeviceGetName(char* n, int len, int) { std::snprintf(n, len, "Stand-in GPU"); return 0; }
int cuDeviceGetAttribute(int* v, int attr, int) {
  int cc = env_int("FAKE_CC", 90);
  *v = attr == 75 ? cc / 10 : attr == 76 ? cc % 10 : attr == 16 ? 132 : 0;
  return 0;
}
int cuDeviceTotalMem_v2(size_t* b, int) { *b = (size_t)80 << 30; return 0; }
int cuDriverGetVersion(int* v) { *v = env_int("FAKE_DRIVER", 12040); return 0; }
int cuGetErrorName(int rc, const char** n) {
  *n = rc == 222 ? "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" : rc == 209 ? "CUDA_ERROR_NO_BINARY_FOR_GPU" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
int cuModuleLoadData(void** m, const void* image) {
  const char* p = static_cast<const char*>(image);
  if (std::memcmp(p, "\\x7f" "ELF", 4) == 0) {
    int sm = std::atoi(p + 4);
    if (sm > env_int("FAKE_CC", 90)) { fake_log("cuda: reject CUBIN sm_%d", sm); return 209; }
    fake_log("cuda: load CUBIN sm_%d", sm);
    *m = (void*)1;
    return 0;
  }
  const char* v = std::strstr(p, ".version ");
  int maj = 0, min = 0;
  if (v) std::sscanf(v + 9, "%d.%d", &maj, &min);
  if (maj * 10 + min > env_int("FAKE_PTX_MAX", 84)) { fake_log("cuda: reject PTX %d.%d", maj, min); return 222; }
  fake_log("cuda: load PTX %d.%d", maj, min);
  *m = (void*)2;
  return 0;
}
int cuModuleGetFunction(void** f, void*, const char* name) { *f = (void*)name; return 0; }
int cuLaunchKernel(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**) { return 0; }
int cuModuleUnload(void*) { fake_log("cuda: unload"); return 0; }
}
`;

const CUDART = `
#include <chrono>
extern "C" {
int cudaMalloc(void** p, size_t n) { *p = std::malloc(n ? n : 1); return 0; }
int cudaFree(void* p) { std::free(p); return 0; }
int cudaMemcpy(void* d, const void* s, size_t n, int) { std::memcpy(d, s, n); return 0; }
int cudaMemGetInfo(size_t* f, size_t* t) { *f = *t = (size_t)80 << 30; return 0; }
const char* cudaGetErrorName(int) { return "cudaErrorUnknown"; }
int cudaEventCreate(void** e) { *e = std::malloc(sizeof(double)); fake_log("cudart: event create"); return 0; }
int cudaEventDestroy(void* e) { std::free(e); fake_log("cudart: event destroy"); return 0; }
int cudaEventRecord(void* e, void*) { *static_cast<double*>(e) = 0; return 0; }
int cudaEventSynchronize(void*) { return 0; }
int cudaEventElapsedTime(float* ms, void*, void*) { *ms = 0; return 0; }
int cudaDeviceSynchronize() { return 0; }
}
`;

const CUFFT = `
static int alive = 0, next_plan = 0;
extern "C" {
int cufftPlanMany(int* plan, int, int*, int*, int, int, int*, int, int, int, int) {
  if (int rc = env_int("FAKE_CUFFT_PLAN_FAIL", 0)) return rc;
  *plan = ++next_plan; fake_log("cufft%d: plan (alive %d)", TAG, ++alive); return 0;
}
int cufftExecR2C(int, float*, void*) { return 0; }
int cufftExecC2R(int, void*, float*) { return 0; }
int cufftDestroy(int) { fake_log("cufft%d: destroy (alive %d)", TAG, --alive); return 0; }
}
`;

const CUBLAS = `
extern "C" {
int cublasCreate_v2(void** h) { *h = (void*)1; fake_log("cublas%d: create", TAG); return env_int("FAKE_CUBLAS_FAIL", 0); }
int cublasDestroy_v2(void*) { fake_log("cublas%d: destroy", TAG); return 0; }
int cublasCgemmStridedBatched(void*, int, int, int, int, int, const void*, const void*, int, long long, const void*, int, long long, const void*, void*, int, long long, int) { return 0; }
int cublasCgemm3mStridedBatched(void*, int, int, int, int, int, const void*, const void*, int, long long, const void*, int, long long, const void*, void*, int, long long, int) { return 0; }
const char* cublasGetStatusName(int) { return "CUBLAS_STATUS_STANDIN"; }
}
`;

/** NVRTC: TAG is the CUDA major; MINOR its minor; ARCHS the architectures it compiles for. */
const NVRTC = `
static const int kArchs[] = {ARCHS};
static const int kN = sizeof(kArchs) / sizeof(kArchs[0]);
struct Prog { int sm; };
extern "C" {
int nvrtcVersion(int* a, int* b) { *a = TAG; *b = MINOR; return 0; }
int nvrtcGetNumSupportedArchs(int* n) { *n = kN; return 0; }
int nvrtcGetSupportedArchs(int* a) { for (int i = 0; i < kN; i++) a[i] = kArchs[i]; return 0; }
int nvrtcCreateProgram(void** p, const char*, const char*, int, const char* const*, const char* const*) { *p = new Prog{0}; return 0; }
int nvrtcCompileProgram(void* p, int n, const char* const* opts) {
  char builtins[64];
  std::snprintf(builtins, sizeof builtins, "libnvrtc-builtins.so.%d.%d", TAG, MINOR);
  if (!dlopen(builtins, RTLD_NOW | RTLD_NOLOAD)) { fake_log("nvrtc%d: builtins missing", TAG); return 7; }
  for (int i = 0; i < n; i++) {
    fake_log("nvrtc%d: option %s", TAG, opts[i]);
    int sm = 0;
    if (std::sscanf(opts[i], "-arch=sm_%d", &sm) == 1) {
      bool ok = false;
      for (int j = 0; j < kN; j++) ok = ok || kArchs[j] == sm;
      if (!ok) return 5;
      static_cast<Prog*>(p)->sm = sm;
    }
  }
  return 0;
}
int nvrtcGetCUBINSize(void*, size_t* n) { *n = 16; return 0; }
int nvrtcGetCUBIN(void* p, char* out) { std::memcpy(out, "\\x7f" "ELF", 4); std::snprintf(out + 4, 12, "%d", static_cast<Prog*>(p)->sm); return 0; }
int nvrtcGetProgramLogSize(void*, size_t* n) { *n = 32; return 0; }
int nvrtcGetProgramLog(void*, char* log) { std::snprintf(log, 32, "stand-in compile log"); return 0; }
int nvrtcDestroyProgram(void** p) { delete static_cast<Prog*>(*p); *p = nullptr; return 0; }
const char* nvrtcGetErrorString(int rc) { return rc == 7 ? "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE" : rc == 5 ? "NVRTC_ERROR_INVALID_OPTION" : "NVRTC_ERROR"; }
}
`;

const CUDNN_SUBS = [
  'libcudnn_graph.so.9',
  'libcudnn_engines_precompiled.so.9',
  'libcudnn_engines_runtime_compiled.so.9',
  'libcudnn_heuristic.so.9',
  'libcudnn_ops.so.9',
  'libcudnn_cnn.so.9',
];

const CUDNN = `
struct Desc { int math = 0; };
static const char* kSubs[] = {"libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9"};
struct Perf { int algo; int status; float time; size_t memory; int determinism; int math; int reserved[3]; };
extern "C" {
size_t cudnnGetVersion() { return 90100; }
const char* cudnnGetErrorString(int rc) { return rc == 4002 ? "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED" : rc == 0 ? "CUDNN_STATUS_SUCCESS" : "CUDNN_STATUS_STANDIN"; }
int cudnnCreate(void** h) {
  // The real shim loads its sub-libraries by soname here: only those already loaded (or on the path) are found.
  for (const char* s : kSubs) if (!dlopen(s, RTLD_NOW)) { fake_log("cudnn: sub-library %s not found", s); return 4002; }
  *h = (void*)1;
  fake_log("cudnn: create");
  return 0;
}
int cudnnDestroy(void*) { fake_log("cudnn: destroy"); return 0; }
int cudnnCreateTensorDescriptor(void** d) { *d = new Desc; fake_log("cudnn: descriptor create"); return 0; }
int cudnnCreateFilterDescriptor(void** d) { *d = new Desc; fake_log("cudnn: descriptor create"); return 0; }
int cudnnCreateConvolutionDescriptor(void** d) { *d = new Desc; fake_log("cudnn: descriptor create"); return 0; }
int cudnnDestroyTensorDescriptor(void* d) { delete static_cast<Desc*>(d); fake_log("cudnn: descriptor destroy"); return 0; }
int cudnnDestroyFilterDescriptor(void* d) { delete static_cast<Desc*>(d); fake_log("cudnn: descriptor destroy"); return 0; }
int cudnnDestroyConvolutionDescriptor(void* d) { delete static_cast<Desc*>(d); fake_log("cudnn: descriptor destroy"); return 0; }
int cudnnSetTensor4dDescriptor(void*, int, int, int, int, int, int) { fake_log("cudnn: set"); return 0; }
int cudnnSetFilter4dDescriptor(void*, int, int, int, int, int, int) { fake_log("cudnn: set"); return 0; }
int cudnnSetConvolution2dDescriptor(void*, int, int, int, int, int, int, int, int) { fake_log("cudnn: set"); return 0; }
int cudnnSetConvolutionMathType(void* d, int m) { static_cast<Desc*>(d)->math = m; fake_log("cudnn: math %d", m); return 0; }
int cudnnGetConvolution2dForwardOutputDim(void*, void*, void*, int* n, int* c, int* h, int* w) { *n = 1; *c = 1; *h = 1; *w = 1; return 0; }
int cudnnFindConvolutionForwardAlgorithm(void*, void*, void*, void* conv, void*, int, int* returned, Perf* perf) {
  int math = static_cast<Desc*>(conv)->math;
  perf[0] = Perf{1, 0, 0.02f, 4096, 1, math, {0, 0, 0}};
  perf[1] = Perf{6, 0, 0.05f, 0, 1, math, {0, 0, 0}};
  *returned = 2;
  fake_log("cudnn: find (math %d)", math);
  return 0;
}
int cudnnGetConvolutionForwardWorkspaceSize(void*, void*, void*, void*, void*, int, size_t* ws) { *ws = 4096; fake_log("cudnn: workspace size"); return 0; }
int cudnnConvolutionForward(void*, const void*, void*, const void*, void*, const void*, void* conv, int algo, void*, size_t ws, const void*, void*, void*) {
  fake_log("cudnn: forward algo %d math %d workspace %zu", algo, static_cast<Desc*>(conv)->math, ws);
  return 0;
}
}
`;

function build(dir: string, file: string, body: string, defines: Record<string, string | number> = {}, soname = file) {
  execFileSync(
    'g++',
    [
      '-shared',
      '-fPIC',
      '-std=c++17',
      `-Wl,-soname,${soname}`,
      ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`),
      '-x',
      'c++',
      '-',
      '-o',
      path.join(dir, file),
      '-ldl',
    ],
    { input: COMMON + body },
  );
}

export interface StandinOptions {
  /** Toolkit majors whose cudart, cufft, cublas and nvrtc are put in the folder. */
  families?: number[];
  /** NVRTC without its builtins library next to it. */
  noBuiltins?: boolean;
  /** No NVRTC at all. */
  noNvrtc?: boolean;
  /** cuDNN 9 sub-libraries to leave out. */
  missingCudnnSubs?: string[];
  noCudnn?: boolean;
}

/** A folder of stand-in CUDA libraries; built once per option set and cached under `root`. */
export function standins(root: string, o: StandinOptions = {}): string {
  const dir = fs.mkdtempSync(path.join(root, 'cuda-'));
  build(dir, 'libcuda.so.1', CUDA);
  const families = o.families ?? [12, 13];
  for (const f of families) {
    build(dir, f === 11 ? 'libcudart.so.11.0' : `libcudart.so.${f}`, CUDART);
    build(dir, `libcufft.so.${f - 1}`, CUFFT, { TAG: f });
    build(dir, `libcublas.so.${f}`, CUBLAS, { TAG: f });
    if (!o.noNvrtc) {
      const minor = f === 12 ? 4 : 0;
      const archs = f === 12 ? '75,80,86,89,90' : '75,80,86,89,90,100,120';
      build(dir, `libnvrtc.so.${f}`, NVRTC, { TAG: f, MINOR: minor, ARCHS: archs });
      if (!o.noBuiltins)
        build(dir, `libnvrtc-builtins.so.${f}.${minor}`, 'extern "C" int nvrtc_builtins() { return 0; }');
    }
  }
  if (!o.noCudnn) {
    build(dir, 'libcudnn.so.9', CUDNN);
    for (const sub of CUDNN_SUBS)
      if (!o.missingCudnnSubs?.includes(sub)) build(dir, sub, 'extern "C" int cudnn_sub() { return 0; }');
  }
  return dir;
}

/**
 * Runs `script` (the body of an async function given `addon`, `dirs`) in a fresh Node process with the stand-in
 * environment, so that each scenario loads its own libraries; returns what it printed as JSON and the log lines.
 */
export function scenario(
  addonPath: string,
  dir: string,
  env: Record<string, string>,
  script: string,
): { out: Record<string, unknown>; log: string[]; stderr: string } {
  const log = path.join(dir, `log-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const code = `const addon = require(${JSON.stringify(addonPath)}); const dirs = [${JSON.stringify(dir)}];
(async () => { const out = {}; ${script}; process.stdout.write(JSON.stringify(out)); })().catch((e) => { process.stdout.write(JSON.stringify({ thrown: e.message })); });`;
  const r = spawnSync(process.execPath, ['-e', code], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', FAKE_LOG: log, ...env },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`scenario exited ${r.status}: ${r.stderr}`);
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  return { out: JSON.parse(r.stdout) as Record<string, unknown>, log: lines, stderr: r.stderr };
}
