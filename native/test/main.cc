// Shared entry point of the native test binary: runs every kernel family's suite that is
// linked in (each suite file defines layerq::Run<Family>Tests(), returning its failure count).
#include <cstdio>

namespace layerq {
__attribute__((weak)) int RunF32Tests();
__attribute__((weak)) int RunInt8Tests();
__attribute__((weak)) int RunThreadpoolTests();
__attribute__((weak)) int RunBenchTests();
}  // namespace layerq

int main() {
  struct Suite { const char* name; int (*run)(); };
  const Suite suites[] = {{"f32", layerq::RunF32Tests}, {"int8", layerq::RunInt8Tests},
                          {"threadpool", layerq::RunThreadpoolTests}, {"bench", layerq::RunBenchTests}};
  int failed = 0;
  for (const Suite& s : suites) {
    if (s.run == nullptr) continue;
    const int f = s.run();
    std::printf("[%s] %s\n", s.name, f == 0 ? "ok" : "FAILED");
    failed += f;
  }
  return failed == 0 ? 0 : 1;
}
