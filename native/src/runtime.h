// The CUDA runtime calls the engine uses, loaded from libcudart at run time (no cuda_runtime.h needed),
// with every failure turned into a named error carrying the call that failed.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "loader.h"

namespace fconv {

typedef int cudaError_t;
typedef void* cudaEvent_t;
typedef void* cudaStream_t;

struct CudaFailure {
  std::string call;   // e.g. "cudaMalloc(4194304 bytes)"
  int code = 0;       // the cudaError_t
  std::string name;   // e.g. "cudaErrorMemoryAllocation"
};

class Runtime {
 public:
  // Loads libcudart from `dirs` (then by soname). False with `why` when it cannot.
  bool Open(const std::vector<std::string>& dirs, std::string* why);
  bool IsOpen() const { return lib_.handle != nullptr; }
  const LibraryReport& Library() const { return lib_; }

  // Each returns false and fills `f` on a CUDA error.
  bool Malloc(size_t bytes, int* id, CudaFailure* f);
  bool Free(int id, CudaFailure* f);
  // Frees every buffer still allocated (after an error: what the variants left); returns how many. The
  // engine's events stay: they belong to the engine, not to a variant.
  int FreeAll();
  void Close();   // FreeAll, destroys the events, then unloads libcudart
  // The CUDA major of the toolkit libraries (the libcudart family), the driver's version, and the newer
  // runtimes passed over.
  int Family() const { return family_; }
  int Driver() const { return driver_; }
  const std::vector<std::string>& Skipped() const { return skipped_; }
  bool Upload(int id, const void* src, size_t bytes, CudaFailure* f);
  bool Download(int id, void* dst, size_t bytes, CudaFailure* f);
  bool MemInfo(size_t* free_bytes, size_t* total_bytes, CudaFailure* f);
  bool EventCreate(int* id, CudaFailure* f);
  bool EventRecord(int id, CudaFailure* f);
  // Milliseconds between two recorded events; waits for `stop`.
  bool Elapsed(int start, int stop, float* ms, CudaFailure* f);
  size_t Allocated() const { return buffers_.size(); }
  // The device pointer of a buffer (nullptr when unknown) and its size.
  void* Ptr(int id, size_t* bytes = nullptr) const {
    auto it = buffers_.find(id);
    if (it == buffers_.end()) return nullptr;
    if (bytes != nullptr) *bytes = it->second.second;
    return it->second.first;
  }
  bool Synchronize(CudaFailure* f);

 private:
  bool Check(cudaError_t rc, const std::string& call, CudaFailure* f) const;
  void* Sym(const char* name) const { return Symbol(lib_, name); }

  LibraryReport lib_;
  int family_ = 0;
  int driver_ = 0;
  std::vector<std::string> skipped_;
  std::map<int, std::pair<void*, size_t>> buffers_;
  std::map<int, cudaEvent_t> events_;
  int next_id_ = 1;
};

}  // namespace fconv
