// Force-included (-include) into every source of the Node addon (CMakeLists.txt, LAYERQ_ADDON):
// keeps the prebuilt addon loadable with the libstdc++ of GCC 11 (RHEL 9, Amazon Linux 2023),
// not only GCC >= 12. GCC 12's headers bind std::condition_variable::wait(unique_lock&) to a
// symbol version new in GCC 12 (GLIBCXX_3.4.30); the same function has been exported since
// GCC 4.4 under GLIBCXX_3.4.11, which is what is bound here. Only for dynamic links against
// libstdc++.so (a static link has no symbol versions, so the native test binaries skip this).
#pragma once
#include <cstddef>  // defines __GLIBCXX__ when the library is libstdc++
#if defined(__GLIBCXX__) && defined(__linux__) && defined(__ELF__)
__asm__(".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,"
        "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
#endif
