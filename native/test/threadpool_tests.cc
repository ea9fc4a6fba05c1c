// The thread pool under hostile counts: requests past kMaxThreads are clamped, zero and
// negative counts mean one thread, and ParallelFor still covers every index exactly once.
#include <atomic>
#include <cstdio>
#include <vector>

#include "common/threadpool.h"

namespace layerq {

namespace {

int CheckCovers(int threads) {
  SetThreadCount(threads);
  const int got = ThreadCount();
  int failed = 0;
  if (got < 1 || got > kMaxThreads) {
    std::printf("FAIL threadpool: SetThreadCount(%d) gave %d threads (want 1..%d)\n", threads, got, kMaxThreads);
    ++failed;
  }
  const size_t n = 10007;
  std::vector<std::atomic<int>> hits(n);
  ParallelFor(n, 7, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
  });
  for (size_t i = 0; i < n; ++i) {
    if (hits[i].load() != 1) {
      std::printf("FAIL threadpool: %d threads: index %zu run %d times\n", threads, i, hits[i].load());
      return failed + 1;
    }
  }
  return failed;
}

}  // namespace

int RunThreadpoolTests() {
  int failed = 0;
  for (int t : {1, 3, 0, -5, kMaxThreads + 1, 1 << 30}) failed += CheckCovers(t);
  SetThreadCount(2);
  return failed;
}

}  // namespace layerq
