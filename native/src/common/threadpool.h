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

// Threads used by ParallelFor (>= 1). Default: hardware concurrency, or LAYERQ_THREADS.
int ThreadCount();
void SetThreadCount(int threads);

}  // namespace layerq
