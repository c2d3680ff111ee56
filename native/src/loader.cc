#include "glibc_compat.h"
#include "loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <map>

// What GCC ≥ 11's <new>/allocator headers call for an impossible array size, defined here instead of taken from
// libstdc++ 3.4.29 (see glibc_compat.h). Built with -fno-exceptions: it aborts, as the library would on a throw.
namespace std {
[[noreturn]] void __throw_bad_array_new_length() { std::abort(); }
}  // namespace std

namespace fconv {

namespace {
// Per library: CUDA major → soname. cuFFT's own major is one below the toolkit's since CUDA 12.
const std::map<std::string, std::map<int, std::string>>& Table() {
  static const std::map<std::string, std::map<int, std::string>> kTable = {
      {"cudart", {{13, "libcudart.so.13"}, {12, "libcudart.so.12"}, {11, "libcudart.so.11.0"}}},
      {"cufft", {{13, "libcufft.so.12"}, {12, "libcufft.so.11"}, {11, "libcufft.so.10"}}},
      {"cublas", {{13, "libcublas.so.13"}, {12, "libcublas.so.12"}, {11, "libcublas.so.11"}}},
      {"nvrtc", {{13, "libnvrtc.so.13"}, {12, "libnvrtc.so.12"}, {11, "libnvrtc.so.11.2"}}},
  };
  return kTable;
}
}  // namespace

const std::vector<int>& Families() {
  static const std::vector<int> kFamilies = {13, 12, 11};
  return kFamilies;
}

const std::vector<std::string>& SonamesOf(const std::string& name) {
  static const std::map<std::string, std::vector<std::string>> kSonames = {
      {"cuda", {"libcuda.so.1", "libcuda.so"}},
      {"cudart", {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"}},
      {"cufft", {"libcufft.so.12", "libcufft.so.11", "libcufft.so.10", "libcufft.so"}},
      {"cublas", {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}},
      // cuDNN 9 and 8 are built for both CUDA 12 and 13 (11.8): their soname does not carry the family.
      {"cudnn", {"libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"}},
      {"nvrtc", {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}},
  };
  static const std::vector<std::string> kNone;
  auto it = kSonames.find(name);
  return it == kSonames.end() ? kNone : it->second;
}

std::vector<std::string> SonamesFor(const std::string& name, int family) {
  if (family == 0) return SonamesOf(name);
  auto t = Table().find(name);
  if (t == Table().end()) return SonamesOf(name);  // cuda, cudnn: not tied to a toolkit family
  auto so = t->second.find(family);
  if (so == t->second.end()) return {};
  return {so->second};
}

LibraryReport LoadLibrary(const std::string& name, const std::vector<std::string>& dirs, int family, bool bare) {
  LibraryReport r;
  r.name = name;
  const std::vector<std::string> sonames = SonamesFor(name, family);
  std::vector<std::string> candidates;
  // The driver: the system's libcuda.so.1 first (the loader finds the installed driver), and never a toolkit's
  // stubs/ folder (its libcuda.so is a link-time stub: every call fails with CUDA_ERROR_STUB_LIBRARY); a folder's
  // unversioned libcuda.so only after every libcuda.so.1.
  const bool driver = name == "cuda";
  const auto stubs = [](const std::string& dir) {
    return (dir.size() >= 6 && dir.compare(dir.size() - 6, 6, "/stubs") == 0) || dir.find("/stubs/") != std::string::npos;
  };
  if (driver) {
    if (bare) candidates.push_back("libcuda.so.1");
    for (const auto& so : sonames)
      for (const auto& dir : dirs)
        if (!stubs(dir)) candidates.push_back(dir + "/" + so);
    if (bare) candidates.push_back("libcuda.so");
  } else {
    for (const auto& dir : dirs)
      for (const auto& so : sonames) candidates.push_back(dir + "/" + so);
    if (bare)
      for (const auto& so : sonames) candidates.push_back(so);
  }
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
  if (sonames.empty()) first_error = "no " + name + " library for CUDA " + std::to_string(family);
  r.error = first_error;
  return r;
}

void* Symbol(const LibraryReport& lib, const char* symbol) {
  if (lib.handle == nullptr) return nullptr;
  return dlsym(lib.handle, symbol);
}

int DriverVersion(const std::vector<std::string>& dirs) {
  LibraryReport cuda = LoadLibrary("cuda", dirs);
  typedef int (*cuDriverGetVersion_t)(int*);
  auto fn = reinterpret_cast<cuDriverGetVersion_t>(Symbol(cuda, "cuDriverGetVersion"));
  int v = 0;
  if (fn == nullptr || fn(&v) != 0) return 0;
  return v;
}

LibraryReport LoadRuntime(const std::vector<std::string>& dirs, int driver_version, int* family,
                          std::vector<std::string>* skipped) {
  const int driver_major = driver_version / 1000;
  LibraryReport last;
  last.name = "cudart";
  *family = 0;
  // Runtimes newer than the driver refuse to start ("no usable GPU"): never taken, but said.
  if (driver_version != 0) {
    for (int f : Families()) {
      if (f <= driver_major) continue;
      LibraryReport probe = LoadLibrary("cudart", dirs, f);
      if (probe.handle != nullptr) {
        skipped->push_back(probe.path + " (CUDA " + std::to_string(f) + ": newer than the driver's CUDA " +
                           std::to_string(driver_major) + "." + std::to_string((driver_version % 1000) / 10) + ")");
        dlclose(probe.handle);
      }
    }
  }
  auto allowed = [&](int f) { return driver_version == 0 || f <= driver_major; };
  // The search folders in their order (the first folder with a usable runtime decides the family), then the
  // dynamic loader's own search, newest family first.
  std::vector<std::vector<std::string>> passes;
  for (const auto& d : dirs) passes.push_back({d});
  passes.push_back({});
  for (size_t p = 0; p < passes.size(); p++) {
    const bool bare = p + 1 == passes.size();
    for (int f : Families()) {
      if (!allowed(f)) continue;
      LibraryReport r = LoadLibrary("cudart", passes[p], f, bare);
      for (const auto& t : r.tried) last.tried.push_back(t);
      if (r.handle != nullptr) {
        r.tried = last.tried;
        *family = f;
        return r;
      }
      if (last.error.empty() && bare) last.error = r.error;
    }
  }
  return last;
}

std::string FolderOf(const LibraryReport& lib) {
  if (lib.path.empty()) return "";
  auto slash = lib.path.find_last_of('/');
  return slash == std::string::npos ? "" : lib.path.substr(0, slash);
}

}  // namespace fconv
