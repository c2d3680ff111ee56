// The engine's operations on device buffers: cuFFT 2-D R2C/C2R plans, cuBLAS complex strided-batched
// GEMM (and its 3-multiplication form), the engine's own kernels (PTX from nvcc, else NVRTC), and cuDNN
// convolution forward with its algorithm table. All loaded at run time; every failure is a CudaFailure.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "loader.h"
#include "runtime.h"

namespace fconv {

struct ConvDesc {
  int n, c, h, w;      // input
  int k, r, s;         // filters: out channels, height, width
  int pad_h, pad_w;    // symmetric zero padding
  bool nhwc;           // tensor and filter format
  bool convolution;    // true: convolution (flipped kernel), false: cross-correlation
};

struct AlgoPerf {
  std::string algo;
  std::string status;
  float ms;
  size_t workspace;
  std::string math;
};

// A convolution prepared once per variant: its own descriptors (math type FMA: no TF32, the reference must be
// FP32-exact), the algorithm chosen and its workspace, so a timed call only launches.
struct PreparedConv {
  ConvDesc d;
  void* x = nullptr;
  void* y = nullptr;
  void* w = nullptr;
  void* conv = nullptr;
  int algo = -1;
  int math = 3;  // CUDNN_FMA_MATH
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

class Ops {
 public:
  explicit Ops(Runtime* rt) : rt_(rt) {}
  // Loads libcuda (modules), libcufft, libcublas, libcudnn (optional) and the kernels.
  bool Open(const std::vector<std::string>& dirs, std::string* why, std::vector<std::string>* notes);
  bool IsOpen() const { return open_; }
  bool HasCudnn() const { return cudnn_ != nullptr; }

  bool FftPlan(bool r2c, int batch, int n0, int n1, int* id, CudaFailure* f);
  bool FftExec(int plan, int in, int out, CudaFailure* f);
  bool FftDestroy(int plan, CudaFailure* f);
  // Row-major C[b] (m×n) = A[b] (m×k) · B[b] (k×n), complex; strides in complex elements.
  bool Cgemm(int m, int n, int k, int a, long long stride_a, int b, long long stride_b, int c, long long stride_c, int batch, bool gauss, CudaFailure* f);
  bool Permute4(int in, int out, const int d[4], const int p[4], int elem, CudaFailure* f);
  bool Pad(int in, int out, int batch, int h, int w, int c, int top, int left, int oh, int ow, bool circular, CudaFailure* f);
  bool Crop(int in, int out, int batch, int h, int w, int top, int left, int oh, int ow, float scale, CudaFailure* f);
  bool BcastCmul(int x, int k, int y, int batch, int outc, int freqs, CudaFailure* f);
  // A rh × rw block of each of `batch` maps copied from (it, il) of in (ih × iw) to (ot, ol) of out (oh × ow).
  bool Copy2d(int in, int out, int batch, int ih, int iw, int oh, int ow, int rh, int rw, int it, int il, int ot, int ol, CudaFailure* f);
  // Descriptors built once; Find (FMA math); the chosen algorithm's math type and workspace applied once;
  // then Run only launches cudnnConvolutionForward. Release frees the descriptors and the workspace.
  bool ConvPrepare(const ConvDesc& d, int* id, CudaFailure* f);
  bool ConvAlgorithms(int id, int x, int w, int y, std::vector<AlgoPerf>* out, CudaFailure* f);
  bool ConvSelect(int id, const std::string& algo, const std::string& math, CudaFailure* f);
  bool ConvRun(int id, int x, int w, int y, CudaFailure* f);
  bool ConvRelease(int id, CudaFailure* f);
  void Close();
  std::string KernelSource() const { return kernels_how_; }
  // cuFFT plans and prepared convolutions alive (a long-lived worker must come back to 0 after each run).
  size_t Plans() const { return plans_.size(); }
  size_t Convs() const { return convs_.size(); }
  // The NVRTC and cuDNN in use: "12.4" / 90100 (0 when none).
  std::string NvrtcVersion() const { return nvrtc_version_; }
  int CudnnVersion() const { return cudnn_version_; }

 private:
  bool Launch(const char* name, long long n, void** params, CudaFailure* f);
  bool LoadKernels(const std::vector<std::string>& dirs, std::string* why, std::vector<std::string>* notes);
  bool OpenCudnn(const std::vector<std::string>& dirs, std::vector<std::string>* notes);
  void ReleaseConv(PreparedConv* c);
  bool CudnnFail(CudaFailure* f, const std::string& call, int rc) const;
  void* Fn(const LibraryReport& lib, const char* name) const { return Symbol(lib, name); }

  Runtime* rt_;
  bool open_ = false;
  LibraryReport cuda_, cufft_, cublas_, cudnn_lib_, nvrtc_;
  void* blas_ = nullptr;
  void* cudnn_ = nullptr;
  void* module_ = nullptr;
  std::map<std::string, void*> functions_;
  std::map<int, std::pair<int, bool>> plans_;  // id → (cufftHandle, R2C)
  int next_plan_ = 1;
  std::string kernels_how_;
  std::map<int, PreparedConv> convs_;
  int next_conv_ = 1;
  std::string nvrtc_version_;
  int cudnn_version_ = 0;
  std::vector<void*> cudnn_subs_;
};

// The newest PTX ISA a driver of CUDA version `driver` (e.g. 12040) JIT-compiles, as major*10+minor (84 = 8.4);
// 0 when unknown. From the PTX ISA release notes (docs.nvidia.com/cuda/parallel-thread-execution).
int PtxIsaOfDriver(int driver);
// The `.version X.Y` of a PTX text as X*10+Y; 0 when absent.
int PtxIsaOf(const char* ptx);

}  // namespace fconv
