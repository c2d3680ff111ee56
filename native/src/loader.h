// Run-time loading of the CUDA libraries: no link-time dependency on CUDA, so the addon builds and
// loads on machines without it and says what is missing. The few prototypes and enum values used are
// declared here (the CUDA headers are not needed to build).
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

// The sonames tried for each library, newest first.
const std::vector<std::string>& SonamesOf(const std::string& name);

// Tries `dirs` (each joined with each soname), then the bare sonames (the dynamic loader's own search).
LibraryReport LoadLibrary(const std::string& name, const std::vector<std::string>& dirs);

// A symbol of a loaded library, or nullptr.
void* Symbol(const LibraryReport& lib, const char* symbol);

}  // namespace fconv
