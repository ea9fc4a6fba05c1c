// A fixed pool of worker threads shared by all kernels. Kernels split work with ParallelFor;
// the calling thread takes part, so a pool of N threads uses N cores.
#pragma once
#include <cstddef>
#include <functional>

namespace layerq {

// Runs fn(begin, end) over [0, n) split into contiguous chunks of at least `grain` items,
// one chunk per worker at most, and returns when all are done. Calls from inside a worker run
// serially (no nested parallelism). Safe to call from several threads: calls are serialised.
void ParallelFor(size_t n, size_t grain, const std::function<void(size_t begin, size_t end)>& fn);

// While one lives, ParallelFor on this thread runs serially: a job too small to pay for waking
// the workers (a wake-up and the wait for the slowest of them cost tens of microseconds on a
// busy machine, as much as a batch-1 conv) runs on the calling thread alone. Nests.
class SerialScope {
 public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool was_;
};

// Most threads a pool runs: requests above it are clamped (a hostile --threads or
// LAYERQ_THREADS cannot exhaust the process's threads).
constexpr int kMaxThreads = 256;

// Threads used by ParallelFor (1..kMaxThreads). Default: hardware concurrency, or LAYERQ_THREADS.
int ThreadCount();
// Threads a ParallelFor called here would use: 1 inside a worker or a SerialScope (the call runs
// serially), else ThreadCount(). Kernels size their tasks by it: an inverted-residual block's
// strip runs its convs serially, where splitting an image into tasks for two threads only
// repeats each task's copy of its input (a stem's phase split, four times a strip).
int ParallelWidth();
// Resizes the pool to `threads` clamped to [1, kMaxThreads]. Never throws: when the system
// refuses to create a thread, the pool keeps the threads it got (at least the caller's own).
void SetThreadCount(int threads);

// Tests only: every thread yields between claiming a chunk and running it, so that a call that
// follows another at once meets workers still inside the previous one.
void YieldAfterClaimForTesting(bool on);

}  // namespace layerq
