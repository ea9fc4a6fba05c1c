// Peak probe driver: which probes this CPU runs, and their timing on 1..N threads.
#include "bench/peak-probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/cpu.h"

namespace layerq {

std::vector<PeakProbe> AvailablePeakProbes() {
  std::vector<PeakProbe> probes;
  const CpuFeatures& f = DetectedFeatures();
  (void)f;
#if defined(__x86_64__) || defined(_M_X64)
  if (f.avx2_fma) AppendPeakProbesAvx2(&probes);
  if (f.avx512) AppendPeakProbesAvx512(&probes);
#endif
#if defined(__aarch64__)
  AppendPeakProbesNeon(&probes);
#endif
  return probes;
}

namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Wall time of `threads` threads each running `iterations` iterations, started together.
double TimeLoops(const PeakProbe& probe, int threads, uint64_t iterations) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      probe.loop(iterations);
    });
  }
  while (ready.load() < threads - 1) std::this_thread::yield();
  const auto t0 = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  probe.loop(iterations);
  for (auto& th : pool) th.join();
  return Seconds(t0, std::chrono::steady_clock::now());
}

}  // namespace

double MeasurePeak(const PeakProbe& probe, int threads, double min_seconds, int repeats) {
  threads = std::max(1, threads);
  uint64_t iterations = 1000;
  // Grow the loop until one run takes at least min_seconds (the first runs also warm the
  // core up to its vector clock).
  for (;;) {
    const double s = TimeLoops(probe, threads, iterations);
    if (s >= min_seconds || iterations > (uint64_t{1} << 40)) break;
    const double grow = s > 0 ? std::min(16.0, std::max(1.5, 1.2 * min_seconds / s)) : 16.0;
    iterations = static_cast<uint64_t>(static_cast<double>(iterations) * grow);
  }
  double best = 0;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const double s = TimeLoops(probe, threads, iterations);
    best = std::max(best, probe.ops_per_iteration * static_cast<double>(iterations) * threads / s);
  }
  return best;
}

}  // namespace layerq
