{
  "targets": [
    {
      "target_name": "fconv_cuda",
      "sources": ["src/addon.cc", "src/loader.cc", "src/runtime.cc", "src/ops.cc"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti"],
      "libraries": ["-ldl"],
      "include_dirs": ["gen"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
