// fconv_cuda: the native CUDA engine's addon (N-API). This first part loads the libraries at run
// time and reports what it found where, and the GPU(s) the driver sees; the pipelines come on top.
#include "glibc_compat.h"
#include <node_api.h>

#include <cstdio>
#include <string>
#include <vector>

#include "loader.h"
#include "ops.h"
#include "runtime.h"

namespace {

// CUDA driver API, declared here (cuda.h is not needed to build).
typedef int CUresult;
typedef int CUdevice;
typedef CUresult (*cuInit_t)(unsigned int);
typedef CUresult (*cuDeviceGetCount_t)(int*);
typedef CUresult (*cuDeviceGet_t)(CUdevice*, int);
typedef CUresult (*cuDeviceGetName_t)(char*, int, CUdevice);
typedef CUresult (*cuDeviceGetAttribute_t)(int*, int, CUdevice);
typedef CUresult (*cuDeviceTotalMem_t)(size_t*, CUdevice);
typedef CUresult (*cuDriverGetVersion_t)(int*);
typedef CUresult (*cuGetErrorName_t)(CUresult, const char**);
constexpr int kAttrMultiprocessorCount = 16;
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;

#define NAPI_OK(call)                                                  \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, "FCONV_NAPI", "N-API call failed: " #call); \
      return nullptr;                                                  \
    }                                                                  \
  } while (0)

napi_value Str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

napi_value Num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

void Set(napi_env env, napi_value obj, const char* key, napi_value v) { napi_set_named_property(env, obj, key, v); }

std::vector<std::string> StringArray(napi_env env, napi_value arr) {
  std::vector<std::string> out;
  bool is_array = false;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array) return out;
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, arr, i, &el) != napi_ok) continue;
    size_t len = 0;
    if (napi_get_value_string_utf8(env, el, nullptr, 0, &len) != napi_ok) continue;
    std::string s(len, '\0');
    napi_get_value_string_utf8(env, el, &s[0], len + 1, &len);
    out.push_back(s);
  }
  return out;
}

napi_value Report(napi_env env, const fconv::LibraryReport& r) {
  napi_value o, tried;
  napi_create_object(env, &o);
  Set(env, o, "name", Str(env, r.name));
  napi_create_array_with_length(env, r.tried.size(), &tried);
  for (size_t i = 0; i < r.tried.size(); i++) napi_set_element(env, tried, i, Str(env, r.tried[i]));
  Set(env, o, "tried", tried);
  napi_value path;
  if (r.path.empty()) napi_get_null(env, &path);
  else path = Str(env, r.path);
  Set(env, o, "path", path);
  Set(env, o, "error", Str(env, r.error));
  return o;
}

std::string DriverError(const fconv::LibraryReport& cuda, CUresult rc) {
  auto name_of = reinterpret_cast<cuGetErrorName_t>(fconv::Symbol(cuda, "cuGetErrorName"));
  const char* name = nullptr;
  if (name_of != nullptr && name_of(rc, &name) == 0 && name != nullptr) return std::string(name) + " (" + std::to_string(rc) + ")";
  return "CUresult " + std::to_string(rc);
}

// discover(dirs: string[]) → { libraries: LibraryReport[], driver: { ok, reason, version, devices[] } }
napi_value Discover(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  std::vector<std::string> dirs = argc > 0 ? StringArray(env, argv[0]) : std::vector<std::string>();

  napi_value result, libs;
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_create_array(env, &libs));
  // The driver first: its CUDA version caps the toolkit family; then libcudart of the newest family not newer
  // than it, and the other toolkit libraries of that family only (never a mix of CUDA majors).
  fconv::LibraryReport cuda = fconv::LoadLibrary("cuda", dirs);
  const int driver_version = fconv::DriverVersion(dirs);
  int family = 0;
  std::vector<std::string> skipped;
  fconv::LibraryReport cudart = fconv::LoadRuntime(dirs, driver_version, &family, &skipped);
  std::vector<fconv::LibraryReport> reports = {cuda, cudart};
  for (const char* name : {"cufft", "cublas", "cudnn", "nvrtc"}) reports.push_back(fconv::LoadLibrary(name, dirs, family));
  for (size_t i = 0; i < reports.size(); i++) NAPI_OK(napi_set_element(env, libs, i, Report(env, reports[i])));
  Set(env, result, "libraries", libs);
  napi_value toolkit, skipped_arr;
  NAPI_OK(napi_create_object(env, &toolkit));
  napi_value fam;
  if (family == 0) napi_get_null(env, &fam);
  else fam = Num(env, family);
  Set(env, toolkit, "major", fam);
  NAPI_OK(napi_create_array_with_length(env, skipped.size(), &skipped_arr));
  for (size_t i = 0; i < skipped.size(); i++) napi_set_element(env, skipped_arr, i, Str(env, skipped[i]));
  Set(env, toolkit, "skipped", skipped_arr);
  Set(env, result, "toolkit", toolkit);

  napi_value driver, devices;
  NAPI_OK(napi_create_object(env, &driver));
  NAPI_OK(napi_create_array(env, &devices));
  Set(env, driver, "devices", devices);
  bool ok = false;
  std::string reason;
  if (cuda.handle == nullptr) {
    reason = "no CUDA driver: libcuda.so.1 not found (" + cuda.error + ")";
  } else {
    auto init = reinterpret_cast<cuInit_t>(fconv::Symbol(cuda, "cuInit"));
    auto count_of = reinterpret_cast<cuDeviceGetCount_t>(fconv::Symbol(cuda, "cuDeviceGetCount"));
    auto get = reinterpret_cast<cuDeviceGet_t>(fconv::Symbol(cuda, "cuDeviceGet"));
    auto name_of = reinterpret_cast<cuDeviceGetName_t>(fconv::Symbol(cuda, "cuDeviceGetName"));
    auto attr = reinterpret_cast<cuDeviceGetAttribute_t>(fconv::Symbol(cuda, "cuDeviceGetAttribute"));
    auto total = reinterpret_cast<cuDeviceTotalMem_t>(fconv::Symbol(cuda, "cuDeviceTotalMem_v2"));
    auto version = reinterpret_cast<cuDriverGetVersion_t>(fconv::Symbol(cuda, "cuDriverGetVersion"));
    if (init == nullptr || count_of == nullptr || get == nullptr || name_of == nullptr || attr == nullptr) {
      reason = "libcuda.so.1 lacks the driver API entry points (cuInit…): not an NVIDIA driver library";
    } else {
      int v = 0;
      if (version != nullptr && version(&v) == 0) Set(env, driver, "version", Num(env, v));
      CUresult rc = init(0);
      int n = 0;
      if (rc != 0) {
        reason = "cuInit failed: " + DriverError(cuda, rc);
      } else if ((rc = count_of(&n)) != 0 || n == 0) {
        reason = rc != 0 ? "cuDeviceGetCount failed: " + DriverError(cuda, rc) : "the driver sees no GPU";
      } else {
        ok = true;
        for (int i = 0; i < n; i++) {
          CUdevice d;
          if (get(&d, i) != 0) continue;
          char name[256] = {0};
          name_of(name, sizeof(name) - 1, d);
          int sm = 0, major = 0, minor = 0;
          attr(&sm, kAttrMultiprocessorCount, d);
          attr(&major, kAttrComputeCapabilityMajor, d);
          attr(&minor, kAttrComputeCapabilityMinor, d);
          size_t bytes = 0;
          if (total != nullptr) total(&bytes, d);
          napi_value dev;
          napi_create_object(env, &dev);
          Set(env, dev, "index", Num(env, i));
          Set(env, dev, "name", Str(env, name));
          Set(env, dev, "smCount", Num(env, sm));
          Set(env, dev, "computeCapability", Str(env, std::to_string(major) + "." + std::to_string(minor)));
          Set(env, dev, "memoryTotal", Num(env, static_cast<double>(bytes)));
          napi_set_element(env, devices, i, dev);
        }
      }
    }
  }
  napi_value okv;
  napi_get_boolean(env, ok, &okv);
  Set(env, driver, "ok", okv);
  Set(env, driver, "reason", Str(env, reason));
  Set(env, result, "driver", driver);
  return result;
}

// ---- the runtime: device buffers, copies, events. Every CUDA failure throws a CudaError naming the call.

fconv::Runtime g_rt;
fconv::Ops g_ops(&g_rt);

napi_value Throw(napi_env env, const fconv::CudaFailure& f) {
  std::string msg = f.call + " failed: " + f.name + " (" + std::to_string(f.code) + ")";
  napi_value m, err;
  napi_create_string_utf8(env, msg.c_str(), msg.size(), &m);
  napi_create_error(env, nullptr, m, &err);
  Set(env, err, "name", Str(env, "CudaError"));
  Set(env, err, "call", Str(env, f.call));
  Set(env, err, "code", Num(env, f.code));
  Set(env, err, "codeName", Str(env, f.name));
  napi_value oom;
  // Out of memory however the library says it: the runtime's allocation error, the driver's, or a cuFFT / cuBLAS /
  // cuDNN workspace that could not be allocated (CUFFT_ALLOC_FAILED, CUBLAS_STATUS_ALLOC_FAILED,
  // CUDNN_STATUS_ALLOC_FAILED): a memory error for the user, not an internal one.
  napi_get_boolean(env,
                   f.name == "cudaErrorMemoryAllocation" || f.name == "CUDA_ERROR_OUT_OF_MEMORY" ||
                       f.name.find("ALLOC_FAILED") != std::string::npos,
                   &oom);
  Set(env, err, "outOfMemory", oom);
  // Errors that poison the CUDA context for the rest of the process (illegal address, launch failure, …):
  // every later call fails too, so the engine worker must be restarted.
  const bool sticky = f.code == 700 || f.code == 702 || f.code == 710 || f.code == 214 || (f.code >= 714 && f.code <= 719);
  napi_value st;
  napi_get_boolean(env, sticky, &st);
  Set(env, err, "sticky", st);
  napi_throw(env, err);
  return nullptr;
}

// Runs one fallible CUDA call (it fills `f` on failure) and throws the CudaError it names.
#define CUDA_CALL(expr)                \
  do {                                 \
    fconv::CudaFailure f;              \
    if (!(expr)) return Throw(env, f); \
  } while (0)

napi_value ThrowPlain(napi_env env, const std::string& msg) {
  napi_throw_error(env, "FCONV_CUDA", msg.c_str());
  return nullptr;
}

bool Args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < want) {
    napi_throw_type_error(env, "FCONV_ARGS", "missing arguments");
    return false;
  }
  return true;
}

bool IntArg(napi_env env, napi_value v, int64_t* out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "FCONV_ARGS", "expected a number");
    return false;
  }
  return true;
}

napi_value NeedOpen(napi_env env) { return ThrowPlain(env, "the CUDA runtime is not open: call open() first"); }

// open(dirs) → { ok, reason, path }
napi_value Open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, 1, argv)) return nullptr;
  std::string why;
  bool ok = g_rt.Open(StringArray(env, argv[0]), &why);
  napi_value o, okv;
  napi_create_object(env, &o);
  napi_get_boolean(env, ok, &okv);
  Set(env, o, "ok", okv);
  Set(env, o, "reason", Str(env, why));
  Set(env, o, "path", Str(env, g_rt.Library().path));
  return o;
}

napi_value Alloc(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t bytes = 0;
  if (!Args(env, info, 1, argv) || !IntArg(env, argv[0], &bytes)) return nullptr;
  if (!g_rt.IsOpen()) return NeedOpen(env);
  if (bytes <= 0) return ThrowPlain(env, "alloc: bytes must be positive");
  int id = 0;
  CUDA_CALL(g_rt.Malloc(static_cast<size_t>(bytes), &id, &f));
  return Num(env, id);
}

napi_value Free(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t id = 0;
  if (!Args(env, info, 1, argv) || !IntArg(env, argv[0], &id)) return nullptr;
  if (!g_rt.IsOpen()) return NeedOpen(env);
  CUDA_CALL(g_rt.Free(static_cast<int>(id), &f));
  return nullptr;
}

napi_value FreeAll(napi_env env, napi_callback_info) { return Num(env, g_rt.IsOpen() ? g_rt.FreeAll() : 0); }

napi_value Close(napi_env env, napi_callback_info) {
  g_ops.Close();
  g_rt.Close();
  return nullptr;
}

napi_value Allocated(napi_env env, napi_callback_info) { return Num(env, static_cast<double>(g_rt.Allocated())); }

napi_value Upload(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t id = 0;
  if (!Args(env, info, 2, argv) || !IntArg(env, argv[0], &id)) return nullptr;
  if (!g_rt.IsOpen()) return NeedOpen(env);
  bool is_typed = false;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed) return ThrowPlain(env, "upload: expected a Float32Array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr);
  if (type != napi_float32_array) return ThrowPlain(env, "upload: expected a Float32Array");
  CUDA_CALL(g_rt.Upload(static_cast<int>(id), data, length * sizeof(float), &f));
  return nullptr;
}

napi_value Download(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t id = 0, length = 0;
  if (!Args(env, info, 2, argv) || !IntArg(env, argv[0], &id) || !IntArg(env, argv[1], &length)) return nullptr;
  if (!g_rt.IsOpen()) return NeedOpen(env);
  if (length <= 0) return ThrowPlain(env, "download: length must be positive");
  napi_value buffer, array;
  void* data = nullptr;
  if (napi_create_arraybuffer(env, static_cast<size_t>(length) * sizeof(float), &data, &buffer) != napi_ok) return ThrowPlain(env, "download: out of host memory");
  CUDA_CALL(g_rt.Download(static_cast<int>(id), data, static_cast<size_t>(length) * sizeof(float), &f));
  napi_create_typedarray(env, napi_float32_array, static_cast<size_t>(length), buffer, 0, &array);
  return array;
}

napi_value MemInfo(napi_env env, napi_callback_info) {
  if (!g_rt.IsOpen()) return NeedOpen(env);
  size_t free_bytes = 0, total = 0;
  CUDA_CALL(g_rt.MemInfo(&free_bytes, &total, &f));
  napi_value o;
  napi_create_object(env, &o);
  Set(env, o, "free", Num(env, static_cast<double>(free_bytes)));
  Set(env, o, "total", Num(env, static_cast<double>(total)));
  return o;
}

napi_value EventCreate(napi_env env, napi_callback_info) {
  if (!g_rt.IsOpen()) return NeedOpen(env);
  int id = 0;
  CUDA_CALL(g_rt.EventCreate(&id, &f));
  return Num(env, id);
}

napi_value EventRecord(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t id = 0;
  if (!Args(env, info, 1, argv) || !IntArg(env, argv[0], &id)) return nullptr;
  if (!g_rt.IsOpen()) return NeedOpen(env);
  CUDA_CALL(g_rt.EventRecord(static_cast<int>(id), &f));
  return nullptr;
}

napi_value Elapsed(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t a = 0, b = 0;
  if (!Args(env, info, 2, argv) || !IntArg(env, argv[0], &a) || !IntArg(env, argv[1], &b)) return nullptr;
  if (!g_rt.IsOpen()) return NeedOpen(env);
  float ms = 0;
  CUDA_CALL(g_rt.Elapsed(static_cast<int>(a), static_cast<int>(b), &ms, &f));
  return Num(env, ms);
}

// ---- operations: options objects with named numbers; failures throw CudaError.

bool Field(napi_env env, napi_value obj, const char* key, double* out) {
  napi_value v;
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has || napi_get_named_property(env, obj, key, &v) != napi_ok ||
      napi_get_value_double(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "FCONV_ARGS", (std::string("missing numeric option ") + key).c_str());
    return false;
  }
  return true;
}

bool Ints(napi_env env, napi_value obj, std::initializer_list<const char*> keys, std::vector<long long>* out) {
  for (const char* k : keys) {
    double d = 0;
    if (!Field(env, obj, k, &d)) return false;
    out->push_back(static_cast<long long>(d));
  }
  return true;
}

bool BoolField(napi_env env, napi_value obj, const char* key) {
  napi_value v;
  bool has = false, b = false;
  if (napi_has_named_property(env, obj, key, &has) == napi_ok && has && napi_get_named_property(env, obj, key, &v) == napi_ok) napi_get_value_bool(env, v, &b);
  return b;
}

napi_value NeedOps(napi_env env) { return ThrowPlain(env, "the CUDA operations are not open: call openOps() first"); }

// openOps(dirs) → { ok, reason, notes[] }
napi_value OpenOps(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, 1, argv)) return nullptr;
  std::string why;
  std::vector<std::string> notes;
  bool ok = g_ops.Open(StringArray(env, argv[0]), &why, &notes);
  napi_value o, okv, arr;
  napi_create_object(env, &o);
  napi_get_boolean(env, ok, &okv);
  Set(env, o, "ok", okv);
  Set(env, o, "reason", Str(env, why));
  napi_create_array_with_length(env, notes.size(), &arr);
  for (size_t i = 0; i < notes.size(); i++) napi_set_element(env, arr, i, Str(env, notes[i]));
  Set(env, o, "notes", arr);
  napi_value cudnn;
  napi_get_boolean(env, g_ops.HasCudnn(), &cudnn);
  Set(env, o, "cudnn", cudnn);
  Set(env, o, "toolkit", Num(env, g_rt.Family()));
  Set(env, o, "driver", Num(env, g_rt.Driver()));
  Set(env, o, "nvrtc", Str(env, g_ops.NvrtcVersion()));
  Set(env, o, "cudnnVersion", Num(env, g_ops.CudnnVersion()));
  Set(env, o, "kernels", Str(env, g_ops.KernelSource()));
  return o;
}

// fftPlan({ r2c, batch, n0, n1 }) → plan id
napi_value FftPlan(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"batch", "n0", "n1"}, &v)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  int id = 0;
  CUDA_CALL(g_ops.FftPlan(BoolField(env, argv[0], "r2c"), static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), &id, &f));
  return Num(env, id);
}

napi_value FftExec(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"plan", "input", "output"}, &v)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.FftExec(static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), &f));
  return nullptr;
}

napi_value FftDestroy(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t plan = 0;
  if (!Args(env, info, 1, argv) || !IntArg(env, argv[0], &plan)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.FftDestroy(static_cast<int>(plan), &f));
  return nullptr;
}

// cgemm({ m, n, k, a, strideA, b, strideB, c, strideC, batch, gauss }): row-major C = A·B per batch, complex
napi_value Cgemm(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"m", "n", "k", "a", "strideA", "b", "strideB", "c", "strideC", "batch"}, &v)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.Cgemm(static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), static_cast<int>(v[3]), v[4], static_cast<int>(v[5]), v[6],
                       static_cast<int>(v[7]), v[8], static_cast<int>(v[9]), BoolField(env, argv[0], "gauss"), &f));
  return nullptr;
}

// permute({ input, output, d0, d1, d2, d3, p0, p1, p2, p3, elem })
napi_value Permute(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"input", "output", "d0", "d1", "d2", "d3", "p0", "p1", "p2", "p3", "elem"}, &v)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  int d[4] = {static_cast<int>(v[2]), static_cast<int>(v[3]), static_cast<int>(v[4]), static_cast<int>(v[5])};
  int p[4] = {static_cast<int>(v[6]), static_cast<int>(v[7]), static_cast<int>(v[8]), static_cast<int>(v[9])};
  CUDA_CALL(g_ops.Permute4(static_cast<int>(v[0]), static_cast<int>(v[1]), d, p, static_cast<int>(v[10]), &f));
  return nullptr;
}

// pad({ input, output, batch, h, w, c, top, left, oh, ow, circular })
napi_value Pad(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"input", "output", "batch", "h", "w", "c", "top", "left", "oh", "ow"}, &v)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.Pad(static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), static_cast<int>(v[3]), static_cast<int>(v[4]), static_cast<int>(v[5]),
                     static_cast<int>(v[6]), static_cast<int>(v[7]), static_cast<int>(v[8]), static_cast<int>(v[9]), BoolField(env, argv[0], "circular"), &f));
  return nullptr;
}

// copy2d({ input, output, batch, ih, iw, oh, ow, rh, rw, it, il, ot, ol })
napi_value Copy2d(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"input", "output", "batch", "ih", "iw", "oh", "ow", "rh", "rw", "it", "il", "ot", "ol"}, &v)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  int a[13];
  for (int i = 0; i < 13; i++) a[i] = static_cast<int>(v[i]);
  CUDA_CALL(g_ops.Copy2d(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], &f));
  return nullptr;
}

// crop({ input, output, batch, h, w, top, left, oh, ow, scale })
napi_value Crop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  double scale = 1;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"input", "output", "batch", "h", "w", "top", "left", "oh", "ow"}, &v) || !Field(env, argv[0], "scale", &scale)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.Crop(static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), static_cast<int>(v[3]), static_cast<int>(v[4]), static_cast<int>(v[5]),
                      static_cast<int>(v[6]), static_cast<int>(v[7]), static_cast<int>(v[8]), static_cast<float>(scale), &f));
  return nullptr;
}

// bcastCmul({ x, k, y, batch, out, freqs })
napi_value BcastCmul(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<long long> v;
  if (!Args(env, info, 1, argv) || !Ints(env, argv[0], {"x", "k", "y", "batch", "out", "freqs"}, &v)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.BcastCmul(static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), static_cast<int>(v[3]), static_cast<int>(v[4]), static_cast<int>(v[5]), &f));
  return nullptr;
}

bool ConvDescOf(napi_env env, napi_value o, fconv::ConvDesc* d) {
  std::vector<long long> v;
  if (!Ints(env, o, {"n", "c", "h", "w", "k", "r", "s", "padH", "padW"}, &v)) return false;
  *d = fconv::ConvDesc{static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), static_cast<int>(v[3]), static_cast<int>(v[4]), static_cast<int>(v[5]),
                       static_cast<int>(v[6]), static_cast<int>(v[7]), static_cast<int>(v[8]), BoolField(env, o, "nhwc"), BoolField(env, o, "convolution")};
  return true;
}

// convPrepare({ n, c, h, w, k, r, s, padH, padW, nhwc, convolution }) → id: descriptors built once, FMA math.
napi_value ConvPrepare(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, 1, argv)) return nullptr;
  fconv::ConvDesc d;
  if (!ConvDescOf(env, argv[0], &d)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  int id = 0;
  CUDA_CALL(g_ops.ConvPrepare(d, &id, &f));
  return Num(env, id);
}

// convAlgorithms(id) → [{ algo, status, ms, workspace, math }] (cudnnFindConvolutionForwardAlgorithm)
napi_value ConvAlgorithms(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t id = 0;
  if (!Args(env, info, 1, argv) || !IntArg(env, argv[0], &id)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  std::vector<fconv::AlgoPerf> perf;
  CUDA_CALL(g_ops.ConvAlgorithms(static_cast<int>(id), 0, 0, 0, &perf, &f));
  napi_value arr;
  napi_create_array_with_length(env, perf.size(), &arr);
  for (size_t i = 0; i < perf.size(); i++) {
    napi_value o;
    napi_create_object(env, &o);
    Set(env, o, "algo", Str(env, perf[i].algo));
    Set(env, o, "status", Str(env, perf[i].status));
    Set(env, o, "ms", Num(env, perf[i].ms));
    Set(env, o, "workspace", Num(env, static_cast<double>(perf[i].workspace)));
    Set(env, o, "math", Str(env, perf[i].math));
    napi_set_element(env, arr, i, o);
  }
  return arr;
}

// convSelect(id, algo, math): the algorithm and the math type Find measured it with; its workspace, once.
napi_value ConvSelect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t id = 0;
  if (!Args(env, info, 3, argv) || !IntArg(env, argv[0], &id)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  napi_value pair;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, argv[1]);
  napi_set_element(env, pair, 1, argv[2]);
  std::vector<std::string> am = StringArray(env, pair);
  if (am.size() != 2) return ThrowPlain(env, "convSelect: pass (id, algo, math) as strings");
  CUDA_CALL(g_ops.ConvSelect(static_cast<int>(id), am[0], am[1], &f));
  return nullptr;
}

// convRun(id, x, filter, y): only cudnnConvolutionForward (what the events time).
napi_value ConvRun(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t id = 0, x = 0, w = 0, y = 0;
  if (!Args(env, info, 4, argv) || !IntArg(env, argv[0], &id) || !IntArg(env, argv[1], &x) || !IntArg(env, argv[2], &w) ||
      !IntArg(env, argv[3], &y))
    return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.ConvRun(static_cast<int>(id), static_cast<int>(x), static_cast<int>(w), static_cast<int>(y), &f));
  return nullptr;
}

napi_value ConvRelease(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t id = 0;
  if (!Args(env, info, 1, argv) || !IntArg(env, argv[0], &id)) return nullptr;
  if (!g_ops.IsOpen()) return NeedOps(env);
  CUDA_CALL(g_ops.ConvRelease(static_cast<int>(id), &f));
  return nullptr;
}

// stats() → { plans, convs, buffers }: what is alive (a long-lived worker returns to 0 after each run).
napi_value Stats(napi_env env, napi_callback_info) {
  napi_value o;
  napi_create_object(env, &o);
  Set(env, o, "plans", Num(env, static_cast<double>(g_ops.Plans())));
  Set(env, o, "convs", Num(env, static_cast<double>(g_ops.Convs())));
  Set(env, o, "buffers", Num(env, static_cast<double>(g_rt.Allocated())));
  return o;
}

napi_value Synchronize(napi_env env, napi_callback_info) {
  if (!g_rt.IsOpen()) return NeedOpen(env);
  CUDA_CALL(g_rt.Synchronize(&f));
  return nullptr;
}

napi_value CloseOps(napi_env env, napi_callback_info) {
  g_ops.Close();
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback cb;
  } fns[] = {{"discover", Discover}, {"open", Open}, {"alloc", Alloc}, {"free", Free}, {"freeAll", FreeAll}, {"close", Close}, {"allocated", Allocated},
             {"upload", Upload}, {"download", Download}, {"memInfo", MemInfo}, {"eventCreate", EventCreate}, {"eventRecord", EventRecord},
             {"elapsed", Elapsed}, {"openOps", OpenOps}, {"closeOps", CloseOps}, {"fftPlan", FftPlan}, {"fftExec", FftExec}, {"fftDestroy", FftDestroy}, {"cgemm", Cgemm},
             {"permute", Permute}, {"pad", Pad}, {"crop", Crop}, {"copy2d", Copy2d}, {"bcastCmul", BcastCmul}, {"convPrepare", ConvPrepare},
             {"convAlgorithms", ConvAlgorithms}, {"convSelect", ConvSelect}, {"convRun", ConvRun}, {"convRelease", ConvRelease}, {"stats", Stats},
             {"synchronize", Synchronize}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  napi_value ver = Str(env, "2");
  napi_set_named_property(env, exports, "abi", ver);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
