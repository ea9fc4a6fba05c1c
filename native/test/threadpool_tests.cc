// The thread pool under hostile counts: requests past kMaxThreads are clamped, zero and
// negative counts mean one thread, and ParallelFor still covers every index exactly once; a
// SerialScope keeps it on the calling thread.
#include <atomic>
#include <cstdio>
#include <thread>
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

// Inside a SerialScope (nested too) ParallelFor makes one call over the whole range on the
// calling thread; after the scopes end it splits again.
int CheckSerialScope() {
  SetThreadCount(3);
  int failed = 0;
  auto calls = [] {
    std::atomic<int> count{0};
    std::atomic<bool> other_thread{false};
    const std::thread::id self = std::this_thread::get_id();
    ParallelFor(1000, 1, [&](size_t, size_t) {
      count.fetch_add(1);
      if (std::this_thread::get_id() != self) other_thread.store(true);
    });
    return other_thread.load() ? -count.load() : count.load();
  };
  {
    SerialScope outer;
    {
      SerialScope inner;
      if (calls() != 1) { std::printf("FAIL threadpool: nested SerialScope split the range\n"); ++failed; }
    }
    if (calls() != 1) { std::printf("FAIL threadpool: SerialScope split the range after an inner scope ended\n"); ++failed; }
  }
  const int after = calls();
  if (after == 1) { std::printf("FAIL threadpool: ParallelFor still serial after the SerialScope ended\n"); ++failed; }
  return failed;
}

}  // namespace

int RunThreadpoolTests() {
  int failed = 0;
  for (int t : {1, 3, 0, -5, kMaxThreads + 1, 1 << 30}) failed += CheckCovers(t);
  failed += CheckSerialScope();
  SetThreadCount(2);
  return failed;
}

}  // namespace layerq
