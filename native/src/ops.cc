#include "ops.h"

#include <dlfcn.h>

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
typedef int (*nvrtcGetPTXSize_t)(void*, size_t*);
typedef int (*nvrtcGetPTX_t)(void*, char*);
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

bool Ops::Open(const std::vector<std::string>& dirs, std::string* why, std::vector<std::string>* notes) {
  if (open_) return true;
  std::string rwhy;
  if (!rt_->Open(dirs, &rwhy)) {
    *why = rwhy;
    return false;
  }
  // Make the runtime create and bind its primary context (the driver-API module calls use it).
  auto cfree = reinterpret_cast<cudaFree_t>(Symbol(rt_->Library(), "cudaFree"));
  int rc = cfree(nullptr);
  if (rc != 0) {
    *why = "cudaFree(NULL) to create the context failed: cudaError " + std::to_string(rc) + " (no usable GPU or driver)";
    return false;
  }
  cuda_ = LoadLibrary("cuda", dirs);
  cufft_ = LoadLibrary("cufft", dirs);
  cublas_ = LoadLibrary("cublas", dirs);
  cudnn_lib_ = LoadLibrary("cudnn", dirs);
  if (cuda_.handle == nullptr) return *why = "libcuda.so.1 not found (" + cuda_.error + ")", false;
  if (cufft_.handle == nullptr) return *why = "libcufft not found (" + cufft_.error + ")", false;
  if (cublas_.handle == nullptr) return *why = "libcublas not found (" + cublas_.error + ")", false;
  auto create = FN(cublas_, cublasCreate_t, "cublasCreate_v2");
  if (create == nullptr || create(&blas_) != 0) return *why = "cublasCreate failed", false;
  if (cudnn_lib_.handle != nullptr) {
    auto dcreate = FN(cudnn_lib_, cudnnCreate_t, "cudnnCreate");
    if (dcreate == nullptr || dcreate(&cudnn_) != 0) {
      cudnn_ = nullptr;
      notes->push_back("cudnnCreate failed: the spatial variants cannot run");
    }
  } else {
    notes->push_back("libcudnn not found (" + cudnn_lib_.error + "): the spatial variants cannot run");
  }
  // The kernels: the PTX nvcc built, when this driver accepts it (a driver older than the toolkit
  // rejects newer PTX); else compiled now by NVRTC for this GPU.
  auto load = FN(cuda_, cuModuleLoadData_t, "cuModuleLoadData");
  auto err_name = FN(cuda_, cuGetErrorName_t, "cuGetErrorName");
  auto name_of = [&](int rc) {
    const char* n = nullptr;
    if (err_name != nullptr) err_name(rc, &n);
    return std::string(n != nullptr ? n : "CUresult") + " (" + std::to_string(rc) + ")";
  };
  if (load == nullptr) return *why = "libcuda.so.1 has no cuModuleLoadData", false;
  std::string ptx_problem;
  if (kKernelPtx[0] != '\0') {
    int lrc = load(&module_, kKernelPtx);
    if (lrc == 0) kernels_how_ = kKernelBuild;
    else ptx_problem = std::string("the PTX built by nvcc was rejected (") + name_of(lrc) + ", a driver older than the toolkit?)";
  }
  if (module_ == nullptr) {
    nvrtc_ = LoadLibrary("nvrtc", dirs);
    if (nvrtc_.handle == nullptr) return *why = "no kernels: " + (ptx_problem.empty() ? std::string("built without nvcc") : ptx_problem) + " and libnvrtc not found (" + nvrtc_.error + ")", false;
    auto attr = FN(cuda_, cuDeviceGetAttribute_t, "cuDeviceGetAttribute");
    int major = 7, minor = 5;
    if (attr != nullptr) {
      attr(&major, 75, 0);
      attr(&minor, 76, 0);
    }
    std::string arch = "--gpu-architecture=compute_" + std::to_string(major) + std::to_string(minor);
    void* prog = nullptr;
    FN(nvrtc_, nvrtcCreateProgram_t, "nvrtcCreateProgram")(&prog, kKernelSource, "kernels.cu", 0, nullptr, nullptr);
    const char* opts[] = {arch.c_str()};
    if (FN(nvrtc_, nvrtcCompileProgram_t, "nvrtcCompileProgram")(prog, 1, opts) != 0) {
      size_t n = 0;
      FN(nvrtc_, nvrtcGetProgramLogSize_t, "nvrtcGetProgramLogSize")(prog, &n);
      std::string log(n, '\0');
      FN(nvrtc_, nvrtcGetProgramLog_t, "nvrtcGetProgramLog")(prog, &log[0]);
      FN(nvrtc_, nvrtcDestroyProgram_t, "nvrtcDestroyProgram")(&prog);
      return *why = "NVRTC could not compile the kernels: " + log, false;
    }
    size_t n = 0;
    FN(nvrtc_, nvrtcGetPTXSize_t, "nvrtcGetPTXSize")(prog, &n);
    std::string ptx(n, '\0');
    FN(nvrtc_, nvrtcGetPTX_t, "nvrtcGetPTX")(prog, &ptx[0]);
    FN(nvrtc_, nvrtcDestroyProgram_t, "nvrtcDestroyProgram")(&prog);
    int lrc = load(&module_, ptx.c_str());
    if (lrc != 0) return *why = "cuModuleLoadData rejected the NVRTC kernels: " + name_of(lrc), false;
    kernels_how_ = "kernels compiled at run time by NVRTC (" + arch.substr(21) + ")" + (ptx_problem.empty() ? "" : "; " + ptx_problem);
  }
  auto get = FN(cuda_, cuModuleGetFunction_t, "cuModuleGetFunction");
  for (const char* k : {"fconv_permute4", "fconv_pad", "fconv_crop", "fconv_bcast_cmul", "fconv_copy2d"}) {
    void* fn = nullptr;
    if (get(&fn, module_, k) != 0) return *why = std::string("kernel ") + k + " missing from the module", false;
    functions_[k] = fn;
  }
  notes->push_back(kernels_how_);
  open_ = true;
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

bool Ops::ConvSetup(const ConvDesc& d, CudaFailure* f) {
  if (cudnn_ == nullptr) return Fail(f, "cuDNN", -1, "libcudnn not loaded");
  auto err = [&](const char* call, int rc) {
    auto es = FN(cudnn_lib_, cudnnGetErrorString_t, "cudnnGetErrorString");
    return Fail(f, call, rc, es != nullptr ? es(rc) : "CUDNN error");
  };
  if (x_desc_ == nullptr) {
    auto ct = FN(cudnn_lib_, cudnnCreateDesc_t, "cudnnCreateTensorDescriptor");
    ct(&x_desc_);
    ct(&y_desc_);
    FN(cudnn_lib_, cudnnCreateDesc_t, "cudnnCreateFilterDescriptor")(&w_desc_);
    FN(cudnn_lib_, cudnnCreateDesc_t, "cudnnCreateConvolutionDescriptor")(&conv_desc_);
  }
  int fmt = d.nhwc ? 1 : 0;
  int rc = FN(cudnn_lib_, cudnnSetTensor4d_t, "cudnnSetTensor4dDescriptor")(x_desc_, fmt, 0, d.n, d.c, d.h, d.w);
  if (rc != 0) return err("cudnnSetTensor4dDescriptor(x)", rc);
  rc = FN(cudnn_lib_, cudnnSetFilter4d_t, "cudnnSetFilter4dDescriptor")(w_desc_, 0, fmt, d.k, d.c, d.r, d.s);
  if (rc != 0) return err("cudnnSetFilter4dDescriptor", rc);
  rc = FN(cudnn_lib_, cudnnSetConv2d_t, "cudnnSetConvolution2dDescriptor")(conv_desc_, d.pad_h, d.pad_w, 1, 1, 1, 1, d.convolution ? 0 : 1, 0);
  if (rc != 0) return err("cudnnSetConvolution2dDescriptor", rc);
  int n = 0, c = 0, h = 0, w = 0;
  rc = FN(cudnn_lib_, cudnnGetOutDim_t, "cudnnGetConvolution2dForwardOutputDim")(conv_desc_, x_desc_, w_desc_, &n, &c, &h, &w);
  if (rc != 0) return err("cudnnGetConvolution2dForwardOutputDim", rc);
  rc = FN(cudnn_lib_, cudnnSetTensor4d_t, "cudnnSetTensor4dDescriptor")(y_desc_, fmt, 0, n, c, h, w);
  if (rc != 0) return err("cudnnSetTensor4dDescriptor(y)", rc);
  return true;
}

bool Ops::ConvAlgorithms(const ConvDesc& d, int x, int w, int y, std::vector<AlgoPerf>* out, CudaFailure* f) {
  (void)x;
  (void)w;
  (void)y;
  if (!ConvSetup(d, f)) return false;
  CudnnFwdPerf perf[kAlgoCount];
  int returned = 0;
  int rc = FN(cudnn_lib_, cudnnFind_t, "cudnnFindConvolutionForwardAlgorithm")(cudnn_, x_desc_, w_desc_, conv_desc_, y_desc_, kAlgoCount, &returned, perf);
  if (rc != 0) {
    auto es = FN(cudnn_lib_, cudnnGetErrorString_t, "cudnnGetErrorString");
    return Fail(f, "cudnnFindConvolutionForwardAlgorithm", rc, es != nullptr ? es(rc) : "CUDNN error");
  }
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

bool Ops::ConvForward(const ConvDesc& d, int x, int w, int y, const std::string& algo, CudaFailure* f) {
  if (!ConvSetup(d, f)) return false;
  int a = -1;
  for (int i = 0; i < kAlgoCount; i++)
    if (algo == kAlgoNames[i]) a = i;
  if (a < 0) return Fail(f, "cudnnConvolutionForward", -1, "unknown algorithm " + algo);
  auto es = FN(cudnn_lib_, cudnnGetErrorString_t, "cudnnGetErrorString");
  size_t ws = 0;
  int rc = FN(cudnn_lib_, cudnnWsSize_t, "cudnnGetConvolutionForwardWorkspaceSize")(cudnn_, x_desc_, w_desc_, conv_desc_, y_desc_, a, &ws);
  if (rc != 0) return Fail(f, "cudnnGetConvolutionForwardWorkspaceSize(" + algo + ")", rc, es != nullptr ? es(rc) : "CUDNN error");
  if (ws > workspace_bytes_) {
    auto cfree = reinterpret_cast<cudaFree_t>(Symbol(rt_->Library(), "cudaFree"));
    auto cmalloc = reinterpret_cast<cudaMalloc_t>(Symbol(rt_->Library(), "cudaMalloc"));
    if (workspace_ != nullptr) cfree(workspace_);
    workspace_ = nullptr;
    workspace_bytes_ = 0;
    int mrc = cmalloc(&workspace_, ws);
    if (mrc != 0) return Fail(f, "cudaMalloc(cuDNN workspace, " + std::to_string(ws) + " bytes)", mrc, mrc == 2 ? "cudaErrorMemoryAllocation" : "cudaError");
    workspace_bytes_ = ws;
  }
  const float one = 1.0f, zero = 0.0f;
  rc = FN(cudnn_lib_, cudnnFwd_t, "cudnnConvolutionForward")(cudnn_, &one, x_desc_, rt_->Ptr(x), w_desc_, rt_->Ptr(w), conv_desc_, a, workspace_, workspace_bytes_, &zero, y_desc_, rt_->Ptr(y));
  if (rc != 0) return Fail(f, "cudnnConvolutionForward(" + algo + ")", rc, es != nullptr ? es(rc) : "CUDNN error");
  return true;
}

void Ops::Close() {
  if (!open_) return;
  auto destroy = FN(cufft_, cufftDestroy_t, "cufftDestroy");
  for (auto& p : plans_) destroy(p.second.first);
  plans_.clear();
  if (blas_ != nullptr) FN(cublas_, cublasDestroy_t, "cublasDestroy_v2")(blas_);
  blas_ = nullptr;
  if (cudnn_ != nullptr) {
    auto dd = FN(cudnn_lib_, cudnnDestroyDesc_t, "cudnnDestroyTensorDescriptor");
    if (x_desc_ != nullptr) dd(x_desc_), dd(y_desc_);
    if (w_desc_ != nullptr) FN(cudnn_lib_, cudnnDestroyDesc_t, "cudnnDestroyFilterDescriptor")(w_desc_);
    if (conv_desc_ != nullptr) FN(cudnn_lib_, cudnnDestroyDesc_t, "cudnnDestroyConvolutionDescriptor")(conv_desc_);
    FN(cudnn_lib_, cudnnDestroy_t, "cudnnDestroy")(cudnn_);
  }
  cudnn_ = nullptr;
  x_desc_ = y_desc_ = w_desc_ = conv_desc_ = nullptr;
  if (workspace_ != nullptr) reinterpret_cast<cudaFree_t>(Symbol(rt_->Library(), "cudaFree"))(workspace_);
  workspace_ = nullptr;
  workspace_bytes_ = 0;
  if (module_ != nullptr) FN(cuda_, cuModuleUnload_t, "cuModuleUnload")(module_);
  module_ = nullptr;
  functions_.clear();
  open_ = false;
}

}  // namespace fconv
