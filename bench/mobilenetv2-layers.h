// The harness of the per-layer kernel benches (conv-layers.cc: f32, q8-conv-layers.cc: int8):
// MobileNetV2's (224x224) conv shapes, or ResNet-20's 3x3 convs (`resnet`), one at a time at
// batch N, per layer the best of R runs in process CPU time and wall time, and the count-weighted
// totals by kind.
// Arguments: [N=16] [threads=1] [pw|dw|stem|resnet|""] [R=3].
#pragma once
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "common/threadpool.h"

namespace layerq_bench {

struct Layer {
  const char* kind;  // "stem", "dw" (depthwise) or "pw" (1x1)
  size_t cin, cout, k, s, hw;
  int count;  // layers of this shape in the network
  size_t group() const { return std::string(kind) == "dw" ? cin : 1; }
  size_t out() const { return (hw + 2 * (k / 2) - k) / s + 1; }  // pad k / 2
};

inline const std::vector<Layer>& MobileNetV2Layers() {
  static const std::vector<Layer> ls = {
      {"stem", 3, 32, 3, 2, 224, 1}, {"dw", 32, 32, 3, 1, 112, 1}, {"pw", 32, 16, 1, 1, 112, 1},
      {"pw", 16, 96, 1, 1, 112, 1}, {"dw", 96, 96, 3, 2, 112, 1}, {"pw", 96, 24, 1, 1, 56, 1},
      {"pw", 24, 144, 1, 1, 56, 2}, {"dw", 144, 144, 3, 1, 56, 1}, {"pw", 144, 24, 1, 1, 56, 1},
      {"dw", 144, 144, 3, 2, 56, 1}, {"pw", 144, 32, 1, 1, 28, 1},
      {"pw", 32, 192, 1, 1, 28, 3}, {"dw", 192, 192, 3, 1, 28, 2}, {"pw", 192, 32, 1, 1, 28, 2},
      {"dw", 192, 192, 3, 2, 28, 1}, {"pw", 192, 64, 1, 1, 14, 1},
      {"pw", 64, 384, 1, 1, 14, 4}, {"dw", 384, 384, 3, 1, 14, 4}, {"pw", 384, 64, 1, 1, 14, 3},
      {"pw", 384, 96, 1, 1, 14, 1}, {"pw", 96, 576, 1, 1, 14, 3}, {"dw", 576, 576, 3, 1, 14, 2},
      {"pw", 576, 96, 1, 1, 14, 2}, {"dw", 576, 576, 3, 2, 14, 1}, {"pw", 576, 160, 1, 1, 7, 1},
      {"pw", 160, 960, 1, 1, 7, 3}, {"dw", 960, 960, 3, 1, 7, 3}, {"pw", 960, 160, 1, 1, 7, 2},
      {"pw", 960, 320, 1, 1, 7, 1}, {"pw", 320, 1280, 1, 1, 7, 1},
  };
  return ls;
}

// ResNet-20's (CIFAR, 32x32) 3x3 convs, for the int8 row kernel (`resnet` as the filter).
inline const std::vector<Layer>& ResNet20Layers() {
  static const std::vector<Layer> ls = {
      {"conv", 3, 16, 3, 1, 32, 1},  {"conv", 16, 16, 3, 1, 32, 6}, {"conv", 16, 32, 3, 2, 32, 1},
      {"conv", 32, 32, 3, 1, 16, 5}, {"conv", 32, 64, 3, 2, 16, 1}, {"conv", 64, 64, 3, 1, 8, 5},
  };
  return ls;
}

inline double NowMs(clockid_t c) {
  timespec t;
  clock_gettime(c, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

// `prepare(layer, n)` builds a layer's weights and buffers and returns the call to time (run once
// before timing); `unit` names the rate ("GFLOPS", "GOPS").
inline void RunLayers(int argc, char** argv, const char* unit,
                      const std::function<std::function<void()>(const Layer&, size_t)>& prepare) {
  const size_t n = argc > 1 ? atoi(argv[1]) : 16;
  const int threads = argc > 2 ? atoi(argv[2]) : 1;
  const std::string only = argc > 3 ? argv[3] : "";
  const int reps = argc > 4 ? atoi(argv[4]) : 3;
  layerq::SetThreadCount(threads);
  double tot_cpu = 0, tot_wall = 0, cat[3] = {0, 0, 0};
  const bool resnet = only == "resnet";
  for (const Layer& l : resnet ? ResNet20Layers() : MobileNetV2Layers()) {
    if (!resnet && !only.empty() && only != l.kind) continue;
    const std::function<void()> run = prepare(l, n);
    run();
    double best_c = 1e30, best_w = 1e30;
    for (int r = 0; r < reps; ++r) {
      const double c0 = NowMs(CLOCK_PROCESS_CPUTIME_ID), w0 = NowMs(CLOCK_MONOTONIC);
      run();
      best_c = std::min(best_c, NowMs(CLOCK_PROCESS_CPUTIME_ID) - c0);
      best_w = std::min(best_w, NowMs(CLOCK_MONOTONIC) - w0);
    }
    const double ops = 2.0 * n * l.out() * l.out() * l.cout * (l.cin / l.group()) * l.k * l.k;
    printf("%-4s %4zu->%-4zu k%zu s%zu @%-3zu x%d  cpu %7.2f ms  wall %7.2f ms  %6.1f %s(cpu)\n", l.kind, l.cin, l.cout,
           l.k, l.s, l.hw, l.count, best_c, best_w, ops / best_c * 1e-6, unit);
    tot_cpu += best_c * l.count;
    tot_wall += best_w * l.count;
    cat[std::string(l.kind) == "pw" ? 0 : std::string(l.kind) == "dw" ? 1 : 2] += best_c * l.count;  // stem or conv
  }
  printf("TOTAL cpu %.1f ms (pw %.1f dw %.1f stem/conv %.1f)  wall %.1f ms  [n=%zu threads=%d isa=%s]\n", tot_cpu, cat[0],
         cat[1], cat[2], tot_wall, n, threads, layerq::IsaName(layerq::ActiveIsa()));
}

}  // namespace layerq_bench
