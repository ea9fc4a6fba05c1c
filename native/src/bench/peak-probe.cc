// Peak probe driver: which probes this CPU runs, and their timing on 1..N threads.
#include "bench/peak-probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
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

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct LoopTimes {
  double wall = 0;
  std::vector<double> cpu;  // per thread
};

// Wall time of `threads` threads each running `iterations` iterations, started together, and
// each thread's CPU time.
LoopTimes TimeLoops(const PeakProbe& probe, int threads, uint64_t iterations) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  LoopTimes t;
  t.cpu.assign(threads, 0.0);
  auto body = [&](int i) {
    const double c0 = ThreadCpuSeconds();
    probe.loop(iterations);
    t.cpu[i] = ThreadCpuSeconds() - c0;
  };
  for (int i = 1; i < threads; ++i) {
    pool.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      body(i);
    });
  }
  while (ready.load() < threads - 1) std::this_thread::yield();
  const auto t0 = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  body(0);
  for (auto& th : pool) th.join();
  t.wall = Seconds(t0, std::chrono::steady_clock::now());
  return t;
}

}  // namespace

PeakRate MeasurePeak(const PeakProbe& probe, int threads, double min_seconds, int repeats) {
  threads = std::max(1, threads);
  uint64_t iterations = 1000;
  // Grow the loop until one run takes at least min_seconds (the first runs also warm the
  // core up to its vector clock).
  for (;;) {
    const double s = TimeLoops(probe, threads, iterations).wall;
    if (s >= min_seconds || iterations > (uint64_t{1} << 40)) break;
    const double grow = s > 0 ? std::min(16.0, std::max(1.5, 1.2 * min_seconds / s)) : 16.0;
    iterations = static_cast<uint64_t>(static_cast<double>(iterations) * grow);
  }
  PeakRate best;
  const double ops = probe.ops_per_iteration * static_cast<double>(iterations);
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const LoopTimes t = TimeLoops(probe, threads, iterations);
    best.wall = std::max(best.wall, ops * threads / t.wall);
    double cpu = 0;
    for (double c : t.cpu) cpu += c > 0 ? ops / c : 0;
    best.cpu = std::max(best.cpu, cpu);
  }
  return best;
}

}  // namespace layerq
