// The thread pool under hostile counts: requests past kMaxThreads are clamped, zero and
// negative counts mean one thread, and ParallelFor still covers every index exactly once; a
// SerialScope keeps it on the calling thread; calls back to back with preempted workers neither
// repeat a chunk nor hang.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
// calling thread, and ParallelWidth() says 1 (kernels size their tasks by it); after the scopes
// end it splits again, over ThreadCount() threads.
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
  if (ParallelWidth() != 3) { std::printf("FAIL threadpool: ParallelWidth %d outside a scope, want 3\n", ParallelWidth()); ++failed; }
  {
    SerialScope outer;
    {
      SerialScope inner;
      if (calls() != 1) { std::printf("FAIL threadpool: nested SerialScope split the range\n"); ++failed; }
    }
    if (calls() != 1) { std::printf("FAIL threadpool: SerialScope split the range after an inner scope ended\n"); ++failed; }
    if (ParallelWidth() != 1) { std::printf("FAIL threadpool: ParallelWidth %d in a SerialScope, want 1\n", ParallelWidth()); ++failed; }
  }
  const int after = calls();
  if (after == 1) { std::printf("FAIL threadpool: ParallelFor still serial after the SerialScope ended\n"); ++failed; }
  if (ParallelWidth() != 3) { std::printf("FAIL threadpool: ParallelWidth %d after the scope, want 3\n", ParallelWidth()); ++failed; }
  return failed;
}

// Calls back to back with more workers than cores and each thread yielding after it claims a
// chunk: a worker still inside one call when the next begins must neither run a chunk of the new
// call twice nor lose count of them (the pool once did both, and its caller then waited forever:
// a watchdog turns that hang into a failure).
int CheckBackToBackCalls() {
  SetThreadCount(8);
  YieldAfterClaimForTesting(true);
  std::atomic<bool> finished{false};
  std::thread watchdog([&finished] {
    for (int i = 0; i < 1200 && !finished.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!finished.load()) {
      std::printf("FAIL threadpool: back-to-back calls hang (a call never returned in 120 s)\n");
      std::fflush(stdout);
      std::_Exit(1);
    }
  });
  int failed = 0;
  for (int call = 0; call < 3000 && failed == 0; ++call) {
    const size_t n = 8 + call % 57;
    std::vector<std::atomic<int>> hits(n);
    ParallelFor(n, 1, [&hits](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
    });
    for (size_t i = 0; i < n; ++i) {
      if (hits[i].load() != 1) {
        std::printf("FAIL threadpool: back-to-back call %d: index %zu run %d times\n", call, i, hits[i].load());
        ++failed;
        break;
      }
    }
  }
  YieldAfterClaimForTesting(false);
  finished.store(true);
  watchdog.join();
  return failed;
}

}  // namespace

int RunThreadpoolTests() {
  int failed = 0;
  for (int t : {1, 3, 0, -5, kMaxThreads + 1, 1 << 30}) failed += CheckCovers(t);
  failed += CheckSerialScope();
  failed += CheckBackToBackCalls();
  SetThreadCount(2);
  return failed;
}

}  // namespace layerq
