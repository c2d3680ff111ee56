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
  bool ConvForward(const ConvDesc& d, int x, int w, int y, const std::string& algo, CudaFailure* f);
  bool ConvAlgorithms(const ConvDesc& d, int x, int w, int y, std::vector<AlgoPerf>* out, CudaFailure* f);
  void Close();
  std::string KernelSource() const { return kernels_how_; }

 private:
  bool Launch(const char* name, long long n, void** params, CudaFailure* f);
  bool ConvSetup(const ConvDesc& d, CudaFailure* f);
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
  void* x_desc_ = nullptr;
  void* y_desc_ = nullptr;
  void* w_desc_ = nullptr;
  void* conv_desc_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
};

}  // namespace fconv
