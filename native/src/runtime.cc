#include "glibc_compat.h"
#include "runtime.h"

#include <dlfcn.h>

namespace fconv {

namespace {
typedef cudaError_t (*cudaMalloc_t)(void**, size_t);
typedef cudaError_t (*cudaFree_t)(void*);
typedef cudaError_t (*cudaMemcpy_t)(void*, const void*, size_t, int);
typedef cudaError_t (*cudaMemGetInfo_t)(size_t*, size_t*);
typedef const char* (*cudaGetErrorName_t)(cudaError_t);
typedef cudaError_t (*cudaEventCreate_t)(cudaEvent_t*);
typedef cudaError_t (*cudaEventRecord_t)(cudaEvent_t, cudaStream_t);
typedef cudaError_t (*cudaEventSynchronize_t)(cudaEvent_t);
typedef cudaError_t (*cudaEventElapsedTime_t)(float*, cudaEvent_t, cudaEvent_t);
typedef cudaError_t (*cudaEventDestroy_t)(cudaEvent_t);
constexpr int kHostToDevice = 1;
constexpr int kDeviceToHost = 2;
constexpr cudaError_t kMissingSymbol = -1;
}  // namespace

bool Runtime::Open(const std::vector<std::string>& dirs, std::string* why) {
  if (IsOpen()) return true;
  driver_ = DriverVersion(dirs);
  skipped_.clear();
  lib_ = LoadRuntime(dirs, driver_, &family_, &skipped_);
  if (!IsOpen()) {
    *why = "libcudart not found (" + lib_.error + ")";
    if (!skipped_.empty()) {
      *why += "; passed over, newer than the driver:";
      for (const auto& s : skipped_) *why += " " + s;
    }
    return false;
  }
  for (const char* s : {"cudaMalloc", "cudaFree", "cudaMemcpy", "cudaMemGetInfo", "cudaGetErrorName", "cudaEventCreate", "cudaEventRecord",
                        "cudaEventSynchronize", "cudaEventElapsedTime"}) {
    if (Sym(s) == nullptr) {
      *why = std::string(lib_.path) + " has no " + s + ": not a CUDA runtime library";
      lib_.handle = nullptr;
      return false;
    }
  }
  return true;
}

bool Runtime::Check(cudaError_t rc, const std::string& call, CudaFailure* f) const {
  if (rc == 0) return true;
  f->call = call;
  f->code = rc;
  if (rc == kMissingSymbol) {
    f->name = "missing symbol";
    return false;
  }
  auto name_of = reinterpret_cast<cudaGetErrorName_t>(Sym("cudaGetErrorName"));
  const char* n = name_of != nullptr ? name_of(rc) : nullptr;
  f->name = n != nullptr ? n : "cudaError " + std::to_string(rc);
  return false;
}

bool Runtime::Malloc(size_t bytes, int* id, CudaFailure* f) {
  void* p = nullptr;
  auto fn = reinterpret_cast<cudaMalloc_t>(Sym("cudaMalloc"));
  if (!Check(fn != nullptr ? fn(&p, bytes) : kMissingSymbol, "cudaMalloc(" + std::to_string(bytes) + " bytes)", f)) return false;
  *id = next_id_++;
  buffers_[*id] = {p, bytes};
  return true;
}

bool Runtime::Free(int id, CudaFailure* f) {
  auto it = buffers_.find(id);
  if (it == buffers_.end()) return Check(kMissingSymbol, "cudaFree(unknown buffer " + std::to_string(id) + ")", f);
  auto fn = reinterpret_cast<cudaFree_t>(Sym("cudaFree"));
  void* p = it->second.first;
  buffers_.erase(it);
  return Check(fn != nullptr ? fn(p) : kMissingSymbol, "cudaFree", f);
}

int Runtime::FreeAll() {
  auto fn = reinterpret_cast<cudaFree_t>(Sym("cudaFree"));
  int n = 0;
  for (auto& b : buffers_) {
    if (fn != nullptr) fn(b.second.first);
    n++;
  }
  buffers_.clear();
  return n;
}

bool Runtime::Synchronize(CudaFailure* f) {
  typedef cudaError_t (*sync_t)();
  auto fn = reinterpret_cast<sync_t>(Sym("cudaDeviceSynchronize"));
  return Check(fn != nullptr ? fn() : kMissingSymbol, "cudaDeviceSynchronize", f);
}

void Runtime::Close() {
  if (!IsOpen()) return;
  FreeAll();
  auto destroy = reinterpret_cast<cudaEventDestroy_t>(Sym("cudaEventDestroy"));
  for (auto& e : events_) {
    if (destroy != nullptr) destroy(e.second);
  }
  events_.clear();
  dlclose(lib_.handle);
  lib_ = LibraryReport();
  family_ = 0;
}

bool Runtime::Upload(int id, const void* src, size_t bytes, CudaFailure* f) {
  auto it = buffers_.find(id);
  if (it == buffers_.end() || bytes > it->second.second) return Check(kMissingSymbol, "cudaMemcpy(host → device): buffer " + std::to_string(id) + " is unknown or too small", f);
  auto fn = reinterpret_cast<cudaMemcpy_t>(Sym("cudaMemcpy"));
  return Check(fn != nullptr ? fn(it->second.first, src, bytes, kHostToDevice) : kMissingSymbol, "cudaMemcpy(host → device, " + std::to_string(bytes) + " bytes)", f);
}

bool Runtime::Download(int id, void* dst, size_t bytes, CudaFailure* f) {
  auto it = buffers_.find(id);
  if (it == buffers_.end() || bytes > it->second.second) return Check(kMissingSymbol, "cudaMemcpy(device → host): buffer " + std::to_string(id) + " is unknown or too small", f);
  auto fn = reinterpret_cast<cudaMemcpy_t>(Sym("cudaMemcpy"));
  return Check(fn != nullptr ? fn(dst, it->second.first, bytes, kDeviceToHost) : kMissingSymbol, "cudaMemcpy(device → host, " + std::to_string(bytes) + " bytes)", f);
}

bool Runtime::MemInfo(size_t* free_bytes, size_t* total_bytes, CudaFailure* f) {
  auto fn = reinterpret_cast<cudaMemGetInfo_t>(Sym("cudaMemGetInfo"));
  return Check(fn != nullptr ? fn(free_bytes, total_bytes) : kMissingSymbol, "cudaMemGetInfo", f);
}

bool Runtime::EventCreate(int* id, CudaFailure* f) {
  cudaEvent_t e = nullptr;
  auto fn = reinterpret_cast<cudaEventCreate_t>(Sym("cudaEventCreate"));
  if (!Check(fn != nullptr ? fn(&e) : kMissingSymbol, "cudaEventCreate", f)) return false;
  *id = next_id_++;
  events_[*id] = e;
  return true;
}

bool Runtime::EventRecord(int id, CudaFailure* f) {
  auto it = events_.find(id);
  if (it == events_.end()) return Check(kMissingSymbol, "cudaEventRecord(unknown event " + std::to_string(id) + ")", f);
  auto fn = reinterpret_cast<cudaEventRecord_t>(Sym("cudaEventRecord"));
  return Check(fn != nullptr ? fn(it->second, nullptr) : kMissingSymbol, "cudaEventRecord", f);
}

bool Runtime::Elapsed(int start, int stop, float* ms, CudaFailure* f) {
  auto a = events_.find(start), b = events_.find(stop);
  if (a == events_.end() || b == events_.end()) return Check(kMissingSymbol, "cudaEventElapsedTime(unknown event)", f);
  auto sync = reinterpret_cast<cudaEventSynchronize_t>(Sym("cudaEventSynchronize"));
  if (!Check(sync != nullptr ? sync(b->second) : kMissingSymbol, "cudaEventSynchronize", f)) return false;
  auto fn = reinterpret_cast<cudaEventElapsedTime_t>(Sym("cudaEventElapsedTime"));
  return Check(fn != nullptr ? fn(ms, a->second, b->second) : kMissingSymbol, "cudaEventElapsedTime", f);
}

}  // namespace fconv
