// MobileNetV2 (224x224) conv layers through layerq's f32 Conv2d, one layer shape at a time, batch
// N: per layer the best of R runs, process CPU time and wall time, and the count-weighted total.
// Kernel-only figures (no engine, no N-API); the README's ImageNet-speed section quotes them.
// Build and run (from the repository root; the static kernel library of a cmake build):
//   cmake -S . -B build/kernels -DCMAKE_BUILD_TYPE=Release && cmake --build build/kernels --target layerq_kernels
//   g++ -O2 -std=c++17 -Inative/src bench/conv-layers.cc build/kernels/liblayerq_kernels.a -lpthread -o build/conv-layers
//   build/conv-layers [N=16] [threads=1] [pw|dw|stem|""] [R=3]
#include <time.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>
#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/f32-conv/f32-conv.h"
using namespace layerq;
using namespace layerq::f32;
struct L { const char* kind; size_t cin, cout, k, s, hw; int count; };
static double now(clockid_t c) { timespec t; clock_gettime(c, &t); return t.tv_sec * 1e3 + t.tv_nsec * 1e-6; }
int main(int argc, char** argv) {
  size_t n = argc > 1 ? atoi(argv[1]) : 16;
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  const char* only = argc > 3 ? argv[3] : "";
  int reps = argc > 4 ? atoi(argv[4]) : 3;
  SetThreadCount(threads);
  std::vector<L> ls = {
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
  double tot_cpu = 0, tot_wall = 0, cat[3] = {0, 0, 0};
  std::vector<float> x, y;
  for (const L& l : ls) {
    if (*only && std::string(only) != l.kind) continue;
    ConvShape s;
    s.cin = l.cin; s.cout = l.cout; s.kh = s.kw = l.k; s.sh = s.sw = l.s;
    s.pt = s.pl = s.pb = s.pr = l.k / 2;
    s.group = std::string(l.kind) == "dw" ? l.cin : 1;
    std::vector<float> wts(l.cout * l.cin / s.group * l.k * l.k), bias(l.cout);
    for (size_t i = 0; i < wts.size(); ++i) wts[i] = ((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01f * i;
    PackedConv pc = PackConv(wts.data(), bias.data(), s, 0.0f, 6.0f);
    const size_t ho = ConvOutDim(l.hw, l.k, l.s, l.k / 2, l.k / 2, 1);
    x.assign(n * l.cin * l.hw * l.hw, 0.0f);
    for (size_t i = 0; i < x.size(); ++i) x[i] = ((i * 31) % 97) / 97.0f;
    y.assign(n * l.cout * ho * ho, 0.0f);
    Conv2d(pc, x.data(), n, l.hw, l.hw, y.data());
    double best_c = 1e30, best_w = 1e30;
    for (int r = 0; r < reps; ++r) {
      double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
      Conv2d(pc, x.data(), n, l.hw, l.hw, y.data());
      best_c = std::min(best_c, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
      best_w = std::min(best_w, now(CLOCK_MONOTONIC) - w0);
    }
    double flops = 2.0 * n * ho * ho * l.cout * (l.cin / s.group) * l.k * l.k;
    printf("%-4s %4zu->%-4zu k%zu s%zu @%-3zu x%d  cpu %7.2f ms  wall %7.2f ms  %6.1f GFLOPS(cpu)\n", l.kind, l.cin, l.cout,
           l.k, l.s, l.hw, l.count, best_c, best_w, flops / best_c * 1e-6);
    tot_cpu += best_c * l.count; tot_wall += best_w * l.count;
    cat[std::string(l.kind) == "pw" ? 0 : std::string(l.kind) == "dw" ? 1 : 2] += best_c * l.count;
  }
  printf("TOTAL cpu %.1f ms (pw %.1f dw %.1f stem %.1f)  wall %.1f ms  [n=%zu threads=%d isa=%s]\n", tot_cpu, cat[0], cat[1], cat[2], tot_wall, n, threads, IsaName(ActiveIsa()));
}
