{
  "targets": [
    {
      "target_name": "fconv_cuda",
      "sources": ["src/addon.cc", "src/loader.cc", "src/runtime.cc", "src/ops.cc"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti"],
      "libraries": ["-L<(module_root_dir)/gen/stub", "-Wl,--no-as-needed", "-l:libdl.so.2", "-Wl,--as-needed"],
      "include_dirs": ["gen"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
