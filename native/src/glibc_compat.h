// The addon must load where Node 20 runs (glibc ≥ 2.28 and GCC 8's libstdc++: RHEL 8, Ubuntu 20.04). The
// dynamic-loader calls are linked against a stub libdl.so.2 (scripts/build-native.mjs) so that they reference
// dlopen@GLIBC_2.2.5 & co. from libdl.so.2, as an addon built on an old system does, instead of glibc 2.34's
// dlopen@GLIBC_2.34 in libc; and the one libstdc++ helper newer headers reference (GLIBCXX_3.4.29) is defined
// in loader.cc. libstdc++ is not linked statically: GCC 12's static libstdc++ and libgcc bring glibc 2.32–2.36
// symbols (arc4random, __libc_single_threaded, _dl_find_object). The test suite checks the built addon with
// `objdump -T`: no GLIBC_ version above 2.28, no GLIBCXX_ above 3.4.25. Included first by every source file.
#pragma once
