// Run-time loading of the CUDA libraries: no link-time dependency on CUDA, so the addon builds and
// loads on machines without it and says what is missing. The few prototypes and enum values used are
// declared here (the CUDA headers are not needed to build).
//
// Toolkit libraries come from one CUDA major (a "family"), never mixed: the driver's version is read
// first (cuDriverGetVersion), and the newest family whose libcudart loads and is not newer than the
// driver is taken; libcufft, libcublas and libnvrtc are then loaded from that family only.
#pragma once
#include <string>
#include <vector>

namespace fconv {

struct LibraryReport {
  std::string name;                  // e.g. "cudart"
  std::vector<std::string> tried;    // every path or soname tried, in order
  std::string path;                  // what loaded ("" if none)
  std::string error;                 // the last dlerror() when none loaded
  void* handle = nullptr;
};

// The sonames tried for each library, newest first (every family).
const std::vector<std::string>& SonamesOf(const std::string& name);

// The sonames of `name` in the toolkit of CUDA major `family` (0: every family, newest first). The unversioned
// libX.so comes last only when `family` is 0.
std::vector<std::string> SonamesFor(const std::string& name, int family);

// Tries `dirs` (each joined with each soname), then (unless `bare` is false) the bare sonames (the dynamic
// loader's own search).
LibraryReport LoadLibrary(const std::string& name, const std::vector<std::string>& dirs, int family = 0, bool bare = true);

// A symbol of a loaded library, or nullptr.
void* Symbol(const LibraryReport& lib, const char* symbol);

// The driver's CUDA version (e.g. 12040), from libcuda's cuDriverGetVersion; 0 when there is no driver.
int DriverVersion(const std::vector<std::string>& dirs);

// The CUDA toolkit majors this addon knows, newest first.
const std::vector<int>& Families();

// libcudart of the newest family not newer than the driver (`driver_version` 0: any), with the family chosen
// in `*family` (0 when none loaded) and why each newer one was passed over in `*skipped`. The search folders
// are tried for every family before the loader's own search: a folder the user named wins over the system's.
LibraryReport LoadRuntime(const std::vector<std::string>& dirs, int driver_version, int* family,
                          std::vector<std::string>* skipped);

// The folder a loaded library came from ("" when unknown).
std::string FolderOf(const LibraryReport& lib);

}  // namespace fconv
