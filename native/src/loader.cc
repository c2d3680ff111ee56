#include "loader.h"

#include <dlfcn.h>

#include <map>

namespace fconv {

const std::vector<std::string>& SonamesOf(const std::string& name) {
  static const std::map<std::string, std::vector<std::string>> kSonames = {
      {"cuda", {"libcuda.so.1", "libcuda.so"}},
      {"cudart", {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"}},
      {"cufft", {"libcufft.so.12", "libcufft.so.11", "libcufft.so.10", "libcufft.so"}},
      {"cublas", {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}},
      {"cudnn", {"libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"}},
      {"nvrtc", {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}},
  };
  static const std::vector<std::string> kNone;
  auto it = kSonames.find(name);
  return it == kSonames.end() ? kNone : it->second;
}

LibraryReport LoadLibrary(const std::string& name, const std::vector<std::string>& dirs) {
  LibraryReport r;
  r.name = name;
  std::vector<std::string> candidates;
  for (const auto& dir : dirs) {
    for (const auto& so : SonamesOf(name)) candidates.push_back(dir + "/" + so);
  }
  for (const auto& so : SonamesOf(name)) candidates.push_back(so);
  std::string first_error;
  for (const auto& c : candidates) {
    r.tried.push_back(c);
    // RTLD_GLOBAL: cuDNN and cuBLAS load their sibling libraries (cublasLt, cudnn_* sub-libraries) by soname.
    void* h = dlopen(c.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (h != nullptr) {
      r.handle = h;
      char origin[4096] = {0};
      r.path = dlinfo(h, RTLD_DI_ORIGIN, origin) == 0 ? std::string(origin) + "/" + c.substr(c.find_last_of('/') + 1) : c;
      r.error.clear();
      return r;
    }
    const char* e = dlerror();
    // Keep the loader's answer for the preferred bare soname: the one a user can act on.
    if (first_error.empty() && c.find('/') == std::string::npos) first_error = e != nullptr ? e : "unknown dlopen error";
  }
  r.error = first_error;
  return r;
}

void* Symbol(const LibraryReport& lib, const char* symbol) {
  if (lib.handle == nullptr) return nullptr;
  return dlsym(lib.handle, symbol);
}

}  // namespace fconv
