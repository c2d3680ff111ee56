#include "glibc_compat.h"
#include "ops.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>

#include "kernels_embed.h"

namespace fconv {

namespace {
// cuFFT
typedef int cufftHandle;
typedef int (*cufftPlanMany_t)(cufftHandle*, int, int*, int*, int, int, int*, int, int, int, int);
typedef int (*cufftExecR2C_t)(cufftHandle, float*, void*);
typedef int (*cufftExecC2R_t)(cufftHandle, void*, float*);
typedef int (*cufftDestroy_t)(cufftHandle);
constexpr int kCufftR2C = 0x2a;
constexpr int kCufftC2R = 0x2c;
const char* CufftName(int rc) {
  static const char* kNames[] = {"CUFFT_SUCCESS", "CUFFT_INVALID_PLAN", "CUFFT_ALLOC_FAILED", "CUFFT_INVALID_TYPE", "CUFFT_INVALID_VALUE",
                                 "CUFFT_INTERNAL_ERROR", "CUFFT_EXEC_FAILED", "CUFFT_SETUP_FAILED", "CUFFT_INVALID_SIZE", "CUFFT_UNALIGNED_DATA"};
  return rc >= 0 && rc < 10 ? kNames[rc] : "CUFFT error";
}
// cuBLAS
struct Cf {
  float x, y;
};
typedef int (*cublasCreate_t)(void**);
typedef int (*cublasDestroy_t)(void*);
typedef int (*cublasCgemmSB_t)(void*, int, int, int, int, int, const Cf*, const Cf*, int, long long, const Cf*, int, long long, const Cf*, Cf*, int, long long, int);
typedef const char* (*cublasGetStatusName_t)(int);
// driver API (modules)
typedef int (*cuModuleLoadData_t)(void**, const void*);
typedef int (*cuModuleGetFunction_t)(void**, void*, const char*);
typedef int (*cuLaunchKernel_t)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**);
typedef int (*cuModuleUnload_t)(void*);
typedef int (*cuGetErrorName_t)(int, const char**);
typedef int (*cuDeviceGetAttribute_t)(int*, int, int);
// NVRTC
typedef int (*nvrtcCreateProgram_t)(void**, const char*, const char*, int, const char* const*, const char* const*);
typedef int (*nvrtcCompileProgram_t)(void*, int, const char* const*);
typedef int (*nvrtcGetCUBINSize_t)(void*, size_t*);
typedef int (*nvrtcGetCUBIN_t)(void*, char*);
typedef int (*nvrtcVersion_t)(int*, int*);
typedef int (*nvrtcGetNumSupportedArchs_t)(int*);
typedef int (*nvrtcGetSupportedArchs_t)(int*);
typedef const char* (*nvrtcGetErrorString_t)(int);
typedef int (*nvrtcDestroyProgram_t)(void**);
typedef int (*nvrtcGetProgramLogSize_t)(void*, size_t*);
typedef int (*nvrtcGetProgramLog_t)(void*, char*);
// cuDNN
typedef int (*cudnnCreate_t)(void**);
typedef int (*cudnnDestroy_t)(void*);
typedef int (*cudnnCreateDesc_t)(void**);
typedef int (*cudnnDestroyDesc_t)(void*);
typedef int (*cudnnSetTensor4d_t)(void*, int, int, int, int, int, int);
typedef int (*cudnnSetFilter4d_t)(void*, int, int, int, int, int, int);
typedef int (*cudnnSetConv2d_t)(void*, int, int, int, int, int, int, int, int);
typedef int (*cudnnGetOutDim_t)(void*, void*, void*, int*, int*, int*, int*);
typedef int (*cudnnSetMathType_t)(void*, int);
typedef size_t (*cudnnGetVersion_t)();
struct CudnnFwdPerf {
  int algo;
  int status;
  float time;
  size_t memory;
  int determinism;
  int math;
  int reserved[3];
};
typedef int (*cudnnFind_t)(void*, void*, void*, void*, void*, int, int*, CudnnFwdPerf*);
typedef int (*cudnnWsSize_t)(void*, void*, void*, void*, void*, int, size_t*);
typedef int (*cudnnFwd_t)(void*, const void*, void*, const void*, void*, const void*, void*, int, void*, size_t, const void*, void*, void*);
typedef const char* (*cudnnGetErrorString_t)(int);
const char* kAlgoNames[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
constexpr int kAlgoCount = 8;
const char* kMathNames[] = {"DEFAULT", "TENSOR_OP", "TENSOR_OP_ALLOW_CONVERSION", "FMA"};
typedef int (*cudaFree_t)(void*);
typedef int (*cudaMalloc_t)(void**, size_t);
}  // namespace

#define FN(lib, type, name) reinterpret_cast<type>(Fn(lib, name))

static bool Fail(CudaFailure* f, const std::string& call, int code, const std::string& name) {
  f->call = call;
  f->code = code;
  f->name = name;
  return false;
}

int PtxIsaOfDriver(int driver) {
  // CUDA version → PTX ISA it introduced (12.6 and 12.7 kept 8.5).
  static const int kTable[][2] = {{11000, 70}, {11010, 71}, {11020, 72}, {11030, 73}, {11040, 74}, {11050, 75},
                                  {11060, 76}, {11070, 77}, {11080, 78}, {12000, 80}, {12010, 81}, {12020, 82},
                                  {12030, 83}, {12040, 84}, {12050, 85}, {12080, 87}, {12090, 88}, {13000, 90}};
  int isa = 0;
  for (const auto& row : kTable)
    if (driver >= row[0]) isa = row[1];
  return isa;
}

int PtxIsaOf(const char* ptx) {
  const char* v = std::strstr(ptx, ".version ");
  if (v == nullptr) return 0;
  int major = 0, minor = 0;
  if (std::sscanf(v + 9, "%d.%d", &major, &minor) != 2) return 0;
  return major * 10 + minor;
}

bool Ops::Open(const std::vector<std::string>& dirs, std::string* why, std::vector<std::string>* notes) {
  if (open_) return true;
  std::string rwhy;
  if (!rt_->Open(dirs, &rwhy)) {
    *why = rwhy;
    return false;
  }
  // Every early return below leaves nothing behind: handles created so far are released.
  struct Guard {
    Ops* ops;
    bool keep = false;
    ~Guard() {
      if (!keep) ops->Close();
    }
  } guard{this};
  open_ = true;  // so that Close() releases what a failed Open created
  const int family = rt_->Family();
  const int driver = rt_->Driver();
  notes->push_back("CUDA toolkit libraries of CUDA " + std::to_string(family) + " (the driver supports CUDA " +
                   std::to_string(driver / 1000) + "." + std::to_string((driver % 1000) / 10) + "): " + rt_->Library().path);
  for (const auto& s : rt_->Skipped()) notes->push_back("passed over " + s);
  // Make the runtime create and bind its primary context (the driver-API module calls use it).
  auto cfree = reinterpret_cast<cudaFree_t>(Symbol(rt_->Library(), "cudaFree"));
  int rc = cfree(nullptr);
  if (rc != 0) {
    *why = "cudaFree(NULL) to create the context failed: cudaError " + std::to_string(rc) + " (no usable GPU or driver)";
    return false;
  }
  cuda_ = LoadLibrary("cuda", dirs);
  cufft_ = LoadLibrary("cufft", dirs, family);
  cublas_ = LoadLibrary("cublas", dirs, family);
  if (cuda_.handle == nullptr) return *why = "libcuda.so.1 not found (" + cuda_.error + ")", false;
  if (cufft_.handle == nullptr) return *why = "libcufft of CUDA " + std::to_string(family) + " not found (" + cufft_.error + ")", false;
  if (cublas_.handle == nullptr) return *why = "libcublas of CUDA " + std::to_string(family) + " not found (" + cublas_.error + ")", false;
  for (const char* sym : {"cufftPlanMany", "cufftExecR2C", "cufftExecC2R", "cufftDestroy"})
    if (Fn(cufft_, sym) == nullptr) return *why = cufft_.path + " has no " + sym, false;
  for (const char* sym : {"cublasCreate_v2", "cublasDestroy_v2", "cublasCgemmStridedBatched"})
    if (Fn(cublas_, sym) == nullptr) return *why = cublas_.path + " has no " + sym, false;
  auto create = FN(cublas_, cublasCreate_t, "cublasCreate_v2");
  if ((rc = create(&blas_)) != 0) {
    blas_ = nullptr;
    return *why = "cublasCreate failed (status " + std::to_string(rc) + ")", false;
  }
  if (!OpenCudnn(dirs, notes)) notes->push_back("the spatial variants cannot run on the GPU: the spectral variants are checked against the host reference");
  if (!LoadKernels(dirs, why, notes)) return false;
  guard.keep = true;
  return true;
}

bool Ops::OpenCudnn(const std::vector<std::string>& dirs, std::vector<std::string>* notes) {
  cudnn_lib_ = LoadLibrary("cudnn", dirs);
  if (cudnn_lib_.handle == nullptr) {
    notes->push_back("libcudnn not found (" + cudnn_lib_.error + ")");
    return false;
  }
  for (const char* sym : {"cudnnCreate", "cudnnDestroy", "cudnnGetVersion", "cudnnGetErrorString", "cudnnCreateTensorDescriptor",
                          "cudnnCreateFilterDescriptor", "cudnnCreateConvolutionDescriptor", "cudnnSetConvolutionMathType",
                          "cudnnFindConvolutionForwardAlgorithm", "cudnnGetConvolutionForwardWorkspaceSize", "cudnnConvolutionForward"}) {
    if (Fn(cudnn_lib_, sym) == nullptr) {
      notes->push_back(cudnn_lib_.path + " has no " + sym);
      return false;
    }
  }
  cudnn_version_ = static_cast<int>(FN(cudnn_lib_, cudnnGetVersion_t, "cudnnGetVersion")());
  // cuDNN 9's libcudnn.so.9 is a shim that loads its sub-libraries by soname on first use; one missing from the
  // loader's path (a pip wheel's folder) fails then, or picks another cuDNN's. Load them from the shim's folder now.
  const std::string folder = FolderOf(cudnn_lib_);
  struct Sub {
    const char* so;
    bool required;
  };
  const std::vector<Sub> subs9 = {{"libcudnn_graph.so.9", true}, {"libcudnn_engines_precompiled.so.9", true},
                                   {"libcudnn_engines_runtime_compiled.so.9", false}, {"libcudnn_heuristic.so.9", true},
                                   {"libcudnn_ops.so.9", true}, {"libcudnn_cnn.so.9", true}};
  const std::vector<Sub> subs8 = {{"libcudnn_ops_infer.so.8", true}, {"libcudnn_cnn_infer.so.8", true}};
  const auto& subs = cudnn_version_ >= 90000 ? subs9 : subs8;
  std::vector<std::string> missing, loaded;
  for (const auto& sub : subs) {
    void* h = folder.empty() ? nullptr : dlopen((folder + "/" + sub.so).c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (h == nullptr) h = dlopen(sub.so, RTLD_NOW | RTLD_GLOBAL);
    if (h == nullptr) {
      if (sub.required) missing.push_back(sub.so);
      continue;
    }
    cudnn_subs_.push_back(h);
    loaded.push_back(sub.so);
  }
  const std::string version = std::to_string(cudnn_version_ / 10000) + "." + std::to_string((cudnn_version_ % 10000) / 100) + "." + std::to_string(cudnn_version_ % 100);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    notes->push_back("cuDNN " + version + " at " + cudnn_lib_.path + " is missing " + list + " (its sub-libraries must sit next to it)");
    return false;
  }
  int rc = FN(cudnn_lib_, cudnnCreate_t, "cudnnCreate")(&cudnn_);
  if (rc != 0) {
    cudnn_ = nullptr;
    auto es = FN(cudnn_lib_, cudnnGetErrorString_t, "cudnnGetErrorString");
    notes->push_back("cudnnCreate failed: " + std::string(es(rc) != nullptr ? es(rc) : "CUDNN error") + " (" + cudnn_lib_.path + ")");
    return false;
  }
  notes->push_back("cuDNN " + version + " (" + cudnn_lib_.path + (loaded.empty() ? "" : ", " + std::to_string(loaded.size()) + " sub-libraries loaded from its folder") + ")");
  return true;
}

bool Ops::LoadKernels(const std::vector<std::string>& dirs, std::string* why, std::vector<std::string>* notes) {
  auto load = FN(cuda_, cuModuleLoadData_t, "cuModuleLoadData");
  auto get = FN(cuda_, cuModuleGetFunction_t, "cuModuleGetFunction");
  auto err_name = FN(cuda_, cuGetErrorName_t, "cuGetErrorName");
  if (load == nullptr || get == nullptr || FN(cuda_, cuLaunchKernel_t, "cuLaunchKernel") == nullptr)
    return *why = "libcuda.so.1 has no cuModuleLoadData / cuModuleGetFunction / cuLaunchKernel", false;
  auto name_of = [&](int code) {
    const char* n = nullptr;
    if (err_name != nullptr) err_name(code, &n);
    return std::string(n != nullptr ? n : "CUresult") + " (" + std::to_string(code) + ")";
  };
  const int driver = rt_->Driver();
  const int driver_isa = PtxIsaOfDriver(driver);
  std::string ptx_problem;
  // 1. The PTX nvcc built, when this driver can JIT it (a driver older than the toolkit rejects newer PTX:
  //    CUDA_ERROR_UNSUPPORTED_PTX_VERSION; it is not even tried then).
  if (kKernelPtx[0] != '\0') {
    const int isa = PtxIsaOf(kKernelPtx);
    if (driver_isa != 0 && isa > driver_isa) {
      ptx_problem = "the embedded PTX is ISA " + std::to_string(isa / 10) + "." + std::to_string(isa % 10) +
                    ", newer than this driver's " + std::to_string(driver_isa / 10) + "." + std::to_string(driver_isa % 10);
    } else {
      int lrc = load(&module_, kKernelPtx);
      if (lrc == 0) kernels_how_ = std::string(kKernelBuild) + ", JIT-compiled by the driver";
      else {
        module_ = nullptr;
        ptx_problem = "the embedded PTX was rejected (" + name_of(lrc) + ")";
      }
    }
  }
  // 2. NVRTC of the same CUDA major as the runtime (never newer than the driver), straight to a CUBIN for this
  //    GPU's architecture: no PTX for the driver to JIT.
  if (module_ == nullptr) {
    nvrtc_ = LoadLibrary("nvrtc", dirs, rt_->Family());
    const std::string prefix = "no kernels: " + (ptx_problem.empty() ? std::string("built without nvcc") : ptx_problem);
    if (nvrtc_.handle == nullptr)
      return *why = prefix + ", and no libnvrtc of CUDA " + std::to_string(rt_->Family()) + " (" + nvrtc_.error + ")", false;
    const char* need[] = {"nvrtcVersion", "nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetCUBINSize", "nvrtcGetCUBIN",
                          "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", "nvrtcDestroyProgram", "nvrtcGetErrorString"};
    for (const char* sym : need)
      if (Fn(nvrtc_, sym) == nullptr) return *why = prefix + ", and " + nvrtc_.path + " has no " + sym + " (NVRTC older than 11.1?)", false;
    int vmajor = 0, vminor = 0;
    FN(nvrtc_, nvrtcVersion_t, "nvrtcVersion")(&vmajor, &vminor);
    nvrtc_version_ = std::to_string(vmajor) + "." + std::to_string(vminor);
    // NVRTC dlopens libnvrtc-builtins by soname: load it from NVRTC's own folder first (pip wheels).
    const std::string folder = FolderOf(nvrtc_);
    const std::string builtins = "libnvrtc-builtins.so." + nvrtc_version_;
    void* b = folder.empty() ? nullptr : dlopen((folder + "/" + builtins).c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (b == nullptr) b = dlopen(builtins.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (b == nullptr) {
      const std::string major_only = "libnvrtc-builtins.so." + std::to_string(vmajor);
      b = folder.empty() ? nullptr : dlopen((folder + "/" + major_only).c_str(), RTLD_NOW | RTLD_GLOBAL);
    }
    auto nvrtc_err = FN(nvrtc_, nvrtcGetErrorString_t, "nvrtcGetErrorString");
    auto check = [&](int code, const char* call) {
      if (code == 0) return true;
      *why = prefix + ", and " + call + " failed: " + (nvrtc_err(code) != nullptr ? nvrtc_err(code) : "NVRTC error") +
             (b == nullptr ? " (" + builtins + " not found next to " + nvrtc_.path + ")" : "");
      return false;
    };
    // The GPU's architecture, clamped to the newest this NVRTC compiles for.
    auto attr = FN(cuda_, cuDeviceGetAttribute_t, "cuDeviceGetAttribute");
    int major = 7, minor = 5;
    if (attr != nullptr) {
      attr(&major, 75, 0);
      attr(&minor, 76, 0);
    }
    int sm = major * 10 + minor;
    auto count = FN(nvrtc_, nvrtcGetNumSupportedArchs_t, "nvrtcGetNumSupportedArchs");
    auto archs = FN(nvrtc_, nvrtcGetSupportedArchs_t, "nvrtcGetSupportedArchs");
    std::string clamp;
    if (count != nullptr && archs != nullptr) {
      int n = 0;
      if (count(&n) == 0 && n > 0) {
        std::vector<int> list(n);
        if (archs(list.data()) == 0) {
          int best = 0;
          for (int a : list)
            if (a <= sm && a > best) best = a;
          if (best == 0) return *why = prefix + ", and NVRTC " + nvrtc_version_ + " cannot compile for sm_" + std::to_string(sm), false;
          if (best != sm) clamp = " (sm_" + std::to_string(sm) + " is newer than NVRTC " + nvrtc_version_ + " knows; the GPU runs sm_" + std::to_string(best) + " code)";
          sm = best;
        }
      }
    }
    const std::string arch = "-arch=sm_" + std::to_string(sm);
    void* prog = nullptr;
    if (!check(FN(nvrtc_, nvrtcCreateProgram_t, "nvrtcCreateProgram")(&prog, kKernelSource, "kernels.cu", 0, nullptr, nullptr), "nvrtcCreateProgram"))
      return false;
    const char* opts[] = {arch.c_str()};
    int crc = FN(nvrtc_, nvrtcCompileProgram_t, "nvrtcCompileProgram")(prog, 1, opts);
    if (crc != 0) {
      size_t n = 0;
      std::string log;
      if (FN(nvrtc_, nvrtcGetProgramLogSize_t, "nvrtcGetProgramLogSize")(prog, &n) == 0 && n > 0) {
        log.assign(n, '\0');
        FN(nvrtc_, nvrtcGetProgramLog_t, "nvrtcGetProgramLog")(prog, &log[0]);
        log.resize(std::strlen(log.c_str()));
      }
      FN(nvrtc_, nvrtcDestroyProgram_t, "nvrtcDestroyProgram")(&prog);
      check(crc, "nvrtcCompileProgram");
      if (!log.empty()) *why += ": " + log;
      return false;
    }
    size_t n = 0;
    std::string cubin;
    int grc = FN(nvrtc_, nvrtcGetCUBINSize_t, "nvrtcGetCUBINSize")(prog, &n);
    if (grc == 0) {
      cubin.assign(n, '\0');
      grc = FN(nvrtc_, nvrtcGetCUBIN_t, "nvrtcGetCUBIN")(prog, &cubin[0]);
    }
    FN(nvrtc_, nvrtcDestroyProgram_t, "nvrtcDestroyProgram")(&prog);
    if (!check(grc, "nvrtcGetCUBIN")) return false;
    int lrc = load(&module_, cubin.data());
    if (lrc != 0) {
      module_ = nullptr;
      return *why = prefix + ", and cuModuleLoadData rejected the NVRTC CUBIN: " + name_of(lrc), false;
    }
    kernels_how_ = "kernels compiled at run time by NVRTC " + nvrtc_version_ + " to a CUBIN for sm_" + std::to_string(sm) + clamp +
                   (ptx_problem.empty() ? "" : "; " + ptx_problem);
  }
  for (const char* k : {"fconv_permute4", "fconv_pad", "fconv_crop", "fconv_bcast_cmul", "fconv_copy2d"}) {
    void* fn = nullptr;
    if (get(&fn, module_, k) != 0) return *why = std::string("kernel ") + k + " missing from the module", false;
    functions_[k] = fn;
  }
  notes->push_back(kernels_how_);
  return true;
}

bool Ops::Launch(const char* name, long long n, void** params, CudaFailure* f) {
  auto launch = FN(cuda_, cuLaunchKernel_t, "cuLaunchKernel");
  unsigned block = 256;
  long long blocks = (n + block - 1) / block;
  unsigned grid = static_cast<unsigned>(blocks > 65535 ? 65535 : (blocks < 1 ? 1 : blocks));
  int rc = launch(functions_[name], grid, 1, 1, block, 1, 1, 0, nullptr, params, nullptr);
  if (rc == 0) return true;
  const char* en = nullptr;
  auto name_of = FN(cuda_, cuGetErrorName_t, "cuGetErrorName");
  if (name_of != nullptr) name_of(rc, &en);
  return Fail(f, std::string("cuLaunchKernel(") + name + ")", rc, en != nullptr ? en : "CUresult");
}

bool Ops::FftPlan(bool r2c, int batch, int n0, int n1, int* id, CudaFailure* f) {
  cufftHandle plan = 0;
  int n[2] = {n0, n1};
  int rc = FN(cufft_, cufftPlanMany_t, "cufftPlanMany")(&plan, 2, n, nullptr, 1, 0, nullptr, 1, 0, r2c ? kCufftR2C : kCufftC2R, batch);
  if (rc != 0) return Fail(f, "cufftPlanMany(" + std::string(r2c ? "R2C" : "C2R") + ", " + std::to_string(batch) + " × " + std::to_string(n0) + "×" + std::to_string(n1) + ")", rc, CufftName(rc));
  *id = next_plan_++;
  plans_[*id] = {plan, r2c};
  return true;
}

bool Ops::FftExec(int plan, int in, int out, CudaFailure* f) {
  auto it = plans_.find(plan);
  void* a = rt_->Ptr(in);
  void* b = rt_->Ptr(out);
  if (it == plans_.end() || a == nullptr || b == nullptr) return Fail(f, "cufftExec (unknown plan or buffer)", -1, "invalid argument");
  const bool r2c = it->second.second;
  int rc = r2c ? FN(cufft_, cufftExecR2C_t, "cufftExecR2C")(it->second.first, static_cast<float*>(a), b)
               : FN(cufft_, cufftExecC2R_t, "cufftExecC2R")(it->second.first, a, static_cast<float*>(b));
  if (rc != 0) return Fail(f, r2c ? "cufftExecR2C" : "cufftExecC2R", rc, CufftName(rc));
  return true;
}

bool Ops::FftDestroy(int plan, CudaFailure* f) {
  auto it = plans_.find(plan);
  if (it == plans_.end()) return Fail(f, "cufftDestroy (unknown plan)", -1, "invalid argument");
  int rc = FN(cufft_, cufftDestroy_t, "cufftDestroy")(it->second.first);
  plans_.erase(it);
  if (rc != 0) return Fail(f, "cufftDestroy", rc, CufftName(rc));
  return true;
}

bool Ops::Cgemm(int m, int n, int k, int a, long long sa, int b, long long sb, int c, long long sc, int batch, bool gauss, CudaFailure* f) {
  const Cf one{1, 0}, zero{0, 0};
  auto A = static_cast<const Cf*>(rt_->Ptr(a));
  auto B = static_cast<const Cf*>(rt_->Ptr(b));
  auto C = static_cast<Cf*>(rt_->Ptr(c));
  if (A == nullptr || B == nullptr || C == nullptr) return Fail(f, "cublasCgemmStridedBatched (unknown buffer)", -1, "invalid argument");
  const char* name = gauss ? "cublasCgemm3mStridedBatched" : "cublasCgemmStridedBatched";
  auto gemm = FN(cublas_, cublasCgemmSB_t, name);
  if (gemm == nullptr) return Fail(f, name, -1, "missing symbol");
  // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: swap the operands, no transposes.
  int rc = gemm(blas_, 0, 0, n, m, k, &one, B, n, sb, A, k, sa, &zero, C, n, sc, batch);
  if (rc == 0) return true;
  auto sn = FN(cublas_, cublasGetStatusName_t, "cublasGetStatusName");
  return Fail(f, std::string(name) + "(" + std::to_string(batch) + " × " + std::to_string(m) + "×" + std::to_string(k) + "·" + std::to_string(k) + "×" + std::to_string(n) + ")", rc, sn != nullptr ? sn(rc) : "CUBLAS error");
}

bool Ops::Permute4(int in, int out, const int d[4], const int p[4], int elem, CudaFailure* f) {
  void* a = rt_->Ptr(in);
  void* b = rt_->Ptr(out);
  if (a == nullptr || b == nullptr) return Fail(f, "fconv_permute4 (unknown buffer)", -1, "invalid argument");
  int args[9] = {d[0], d[1], d[2], d[3], p[0], p[1], p[2], p[3], elem};
  void* params[] = {&a, &b, &args[0], &args[1], &args[2], &args[3], &args[4], &args[5], &args[6], &args[7], &args[8]};
  return Launch("fconv_permute4", static_cast<long long>(d[0]) * d[1] * d[2] * d[3], params, f);
}

bool Ops::Pad(int in, int out, int batch, int h, int w, int c, int top, int left, int oh, int ow, bool circular, CudaFailure* f) {
  void* a = rt_->Ptr(in);
  void* b = rt_->Ptr(out);
  if (a == nullptr || b == nullptr) return Fail(f, "fconv_pad (unknown buffer)", -1, "invalid argument");
  int circ = circular ? 1 : 0;
  void* params[] = {&a, &b, &batch, &h, &w, &c, &top, &left, &oh, &ow, &circ};
  return Launch("fconv_pad", static_cast<long long>(batch) * oh * ow * c, params, f);
}

bool Ops::Crop(int in, int out, int batch, int h, int w, int top, int left, int oh, int ow, float scale, CudaFailure* f) {
  void* a = rt_->Ptr(in);
  void* b = rt_->Ptr(out);
  if (a == nullptr || b == nullptr) return Fail(f, "fconv_crop (unknown buffer)", -1, "invalid argument");
  void* params[] = {&a, &b, &batch, &h, &w, &top, &left, &oh, &ow, &scale};
  return Launch("fconv_crop", static_cast<long long>(batch) * oh * ow, params, f);
}

bool Ops::Copy2d(int in, int out, int batch, int ih, int iw, int oh, int ow, int rh, int rw, int it, int il, int ot, int ol, CudaFailure* f) {
  void* a = rt_->Ptr(in);
  void* b = rt_->Ptr(out);
  if (a == nullptr || b == nullptr) return Fail(f, "fconv_copy2d (unknown buffer)", -1, "invalid argument");
  void* params[] = {&a, &b, &batch, &ih, &iw, &oh, &ow, &rh, &rw, &it, &il, &ot, &ol};
  return Launch("fconv_copy2d", static_cast<long long>(batch) * rh * rw, params, f);
}

bool Ops::BcastCmul(int x, int k, int y, int batch, int outc, int freqs, CudaFailure* f) {
  void* a = rt_->Ptr(x);
  void* b = rt_->Ptr(k);
  void* c = rt_->Ptr(y);
  if (a == nullptr || b == nullptr || c == nullptr) return Fail(f, "fconv_bcast_cmul (unknown buffer)", -1, "invalid argument");
  void* params[] = {&a, &b, &c, &batch, &outc, &freqs};
  return Launch("fconv_bcast_cmul", static_cast<long long>(batch) * outc * freqs, params, f);
}

bool Ops::CudnnFail(CudaFailure* f, const std::string& call, int rc) const {
  auto es = FN(cudnn_lib_, cudnnGetErrorString_t, "cudnnGetErrorString");
  return Fail(f, call, rc, es != nullptr && es(rc) != nullptr ? es(rc) : "CUDNN error");
}

bool Ops::ConvPrepare(const ConvDesc& d, int* id, CudaFailure* f) {
  if (cudnn_ == nullptr) return Fail(f, "cuDNN", -1, "libcudnn not loaded");
  PreparedConv c;
  c.d = d;
  auto ct = FN(cudnn_lib_, cudnnCreateDesc_t, "cudnnCreateTensorDescriptor");
  int rc = ct(&c.x);
  if (rc == 0) rc = ct(&c.y);
  if (rc == 0) rc = FN(cudnn_lib_, cudnnCreateDesc_t, "cudnnCreateFilterDescriptor")(&c.w);
  if (rc == 0) rc = FN(cudnn_lib_, cudnnCreateDesc_t, "cudnnCreateConvolutionDescriptor")(&c.conv);
  if (rc != 0) {
    ReleaseConv(&c);
    return CudnnFail(f, "cudnnCreate*Descriptor", rc);
  }
  const int fmt = d.nhwc ? 1 : 0;
  std::string call = "cudnnSetTensor4dDescriptor(x)";
  rc = FN(cudnn_lib_, cudnnSetTensor4d_t, "cudnnSetTensor4dDescriptor")(c.x, fmt, 0, d.n, d.c, d.h, d.w);
  if (rc == 0) {
    call = "cudnnSetFilter4dDescriptor";
    rc = FN(cudnn_lib_, cudnnSetFilter4d_t, "cudnnSetFilter4dDescriptor")(c.w, 0, fmt, d.k, d.c, d.r, d.s);
  }
  if (rc == 0) {
    call = "cudnnSetConvolution2dDescriptor";
    rc = FN(cudnn_lib_, cudnnSetConv2d_t, "cudnnSetConvolution2dDescriptor")(c.conv, d.pad_h, d.pad_w, 1, 1, 1, 1, d.convolution ? 0 : 1, 0);
  }
  if (rc == 0) {
    // FP32 FMA math: on sm_80+ DEFAULT math may use TF32 tensor cores (10-bit mantissa), and a 784-term sum
    // would then sit near the spectral checks' tolerance.
    call = "cudnnSetConvolutionMathType(FMA)";
    rc = FN(cudnn_lib_, cudnnSetMathType_t, "cudnnSetConvolutionMathType")(c.conv, c.math);
  }
  int n = 0, ch = 0, h = 0, w = 0;
  if (rc == 0) {
    call = "cudnnGetConvolution2dForwardOutputDim";
    rc = FN(cudnn_lib_, cudnnGetOutDim_t, "cudnnGetConvolution2dForwardOutputDim")(c.conv, c.x, c.w, &n, &ch, &h, &w);
  }
  if (rc == 0) {
    call = "cudnnSetTensor4dDescriptor(y)";
    rc = FN(cudnn_lib_, cudnnSetTensor4d_t, "cudnnSetTensor4dDescriptor")(c.y, fmt, 0, n, ch, h, w);
  }
  if (rc != 0) {
    ReleaseConv(&c);
    return CudnnFail(f, call, rc);
  }
  *id = next_conv_++;
  convs_[*id] = c;
  return true;
}

bool Ops::ConvAlgorithms(int id, int x, int w, int y, std::vector<AlgoPerf>* out, CudaFailure* f) {
  auto it = convs_.find(id);
  if (it == convs_.end()) return Fail(f, "cudnnFindConvolutionForwardAlgorithm (unknown convolution)", -1, "invalid argument");
  PreparedConv& c = it->second;
  (void)x;
  (void)w;
  (void)y;
  CudnnFwdPerf perf[kAlgoCount];
  int returned = 0;
  int rc = FN(cudnn_lib_, cudnnFind_t, "cudnnFindConvolutionForwardAlgorithm")(cudnn_, c.x, c.w, c.conv, c.y, kAlgoCount, &returned, perf);
  if (rc != 0) return CudnnFail(f, "cudnnFindConvolutionForwardAlgorithm", rc);
  auto es = FN(cudnn_lib_, cudnnGetErrorString_t, "cudnnGetErrorString");
  for (int i = 0; i < returned; i++) {
    AlgoPerf p;
    p.algo = perf[i].algo >= 0 && perf[i].algo < kAlgoCount ? kAlgoNames[perf[i].algo] : std::to_string(perf[i].algo);
    p.status = perf[i].status == 0 ? "ok" : (es != nullptr ? es(perf[i].status) : std::to_string(perf[i].status));
    p.ms = perf[i].time;
    p.workspace = perf[i].memory;
    p.math = perf[i].math >= 0 && perf[i].math < 4 ? kMathNames[perf[i].math] : std::to_string(perf[i].math);
    out->push_back(p);
  }
  return true;
}

bool Ops::ConvSelect(int id, const std::string& algo, const std::string& math, CudaFailure* f) {
  auto it = convs_.find(id);
  if (it == convs_.end()) return Fail(f, "cudnnConvolutionForward (unknown convolution)", -1, "invalid argument");
  PreparedConv& c = it->second;
  int a = -1, m = -1;
  for (int i = 0; i < kAlgoCount; i++)
    if (algo == kAlgoNames[i]) a = i;
  for (int i = 0; i < 4; i++)
    if (math == kMathNames[i]) m = i;
  if (a < 0) return Fail(f, "cudnnConvolutionForward", -1, "unknown algorithm " + algo);
  if (m < 0) return Fail(f, "cudnnSetConvolutionMathType", -1, "unknown math type " + math);
  // The math type Find measured the algorithm with is the one it runs with.
  int rc = FN(cudnn_lib_, cudnnSetMathType_t, "cudnnSetConvolutionMathType")(c.conv, m);
  if (rc != 0) return CudnnFail(f, "cudnnSetConvolutionMathType(" + math + ")", rc);
  size_t ws = 0;
  rc = FN(cudnn_lib_, cudnnWsSize_t, "cudnnGetConvolutionForwardWorkspaceSize")(cudnn_, c.x, c.w, c.conv, c.y, a, &ws);
  if (rc != 0) return CudnnFail(f, "cudnnGetConvolutionForwardWorkspaceSize(" + algo + ")", rc);
  auto cfree = reinterpret_cast<cudaFree_t>(Symbol(rt_->Library(), "cudaFree"));
  if (c.workspace != nullptr) cfree(c.workspace);
  c.workspace = nullptr;
  c.workspace_bytes = 0;
  if (ws > 0) {
    auto cmalloc = reinterpret_cast<cudaMalloc_t>(Symbol(rt_->Library(), "cudaMalloc"));
    int mrc = cmalloc(&c.workspace, ws);
    if (mrc != 0) {
      c.workspace = nullptr;
      return Fail(f, "cudaMalloc(cuDNN workspace, " + std::to_string(ws) + " bytes)", mrc, mrc == 2 ? "cudaErrorMemoryAllocation" : "cudaError");
    }
    c.workspace_bytes = ws;
  }
  c.algo = a;
  c.math = m;
  return true;
}

bool Ops::ConvRun(int id, int x, int w, int y, CudaFailure* f) {
  auto it = convs_.find(id);
  if (it == convs_.end() || it->second.algo < 0) return Fail(f, "cudnnConvolutionForward (convolution not prepared)", -1, "invalid argument");
  const PreparedConv& c = it->second;
  const float one = 1.0f, zero = 0.0f;
  int rc = FN(cudnn_lib_, cudnnFwd_t, "cudnnConvolutionForward")(cudnn_, &one, c.x, rt_->Ptr(x), c.w, rt_->Ptr(w), c.conv, c.algo, c.workspace,
                                                                  c.workspace_bytes, &zero, c.y, rt_->Ptr(y));
  if (rc != 0) return CudnnFail(f, std::string("cudnnConvolutionForward(") + kAlgoNames[c.algo] + ")", rc);
  return true;
}

void Ops::ReleaseConv(PreparedConv* c) {
  auto td = FN(cudnn_lib_, cudnnDestroyDesc_t, "cudnnDestroyTensorDescriptor");
  auto fd = FN(cudnn_lib_, cudnnDestroyDesc_t, "cudnnDestroyFilterDescriptor");
  auto cd = FN(cudnn_lib_, cudnnDestroyDesc_t, "cudnnDestroyConvolutionDescriptor");
  if (c->x != nullptr && td != nullptr) td(c->x);
  if (c->y != nullptr && td != nullptr) td(c->y);
  if (c->w != nullptr && fd != nullptr) fd(c->w);
  if (c->conv != nullptr && cd != nullptr) cd(c->conv);
  if (c->workspace != nullptr && rt_->IsOpen()) reinterpret_cast<cudaFree_t>(Symbol(rt_->Library(), "cudaFree"))(c->workspace);
  *c = PreparedConv();
}

bool Ops::ConvRelease(int id, CudaFailure* f) {
  auto it = convs_.find(id);
  if (it == convs_.end()) return Fail(f, "cudnnDestroy*Descriptor (unknown convolution)", -1, "invalid argument");
  ReleaseConv(&it->second);
  convs_.erase(it);
  return true;
}

void Ops::Close() {
  if (!open_) return;
  auto destroy = FN(cufft_, cufftDestroy_t, "cufftDestroy");
  for (auto& p : plans_)
    if (destroy != nullptr) destroy(p.second.first);
  plans_.clear();
  for (auto& c : convs_) ReleaseConv(&c.second);
  convs_.clear();
  if (blas_ != nullptr) FN(cublas_, cublasDestroy_t, "cublasDestroy_v2")(blas_);
  blas_ = nullptr;
  if (cudnn_ != nullptr) FN(cudnn_lib_, cudnnDestroy_t, "cudnnDestroy")(cudnn_);
  cudnn_ = nullptr;
  if (module_ != nullptr && FN(cuda_, cuModuleUnload_t, "cuModuleUnload") != nullptr) FN(cuda_, cuModuleUnload_t, "cuModuleUnload")(module_);
  module_ = nullptr;
  functions_.clear();
  kernels_how_.clear();
  open_ = false;
}

}  // namespace fconv
