// MobileNetV2 (224x224) conv layers through layerq's int8 Q8Conv2d (W8A8 per-channel, uint8
// output), one layer shape at a time, batch N: per layer the best of R runs, process CPU time and
// wall time, and the count-weighted total. Kernel-only figures (no engine, no N-API).
// Build and run (from the repository root; the static kernel library of a cmake build):
//   cmake -S . -B build/kernels -DCMAKE_BUILD_TYPE=Release && cmake --build build/kernels --target layerq_kernels
//   g++ -O2 -std=c++17 -Inative/src bench/q8-conv-layers.cc build/kernels/liblayerq_kernels.a -lpthread -o build/q8-conv-layers
//   build/q8-conv-layers [N=16] [threads=1] [pw|dw|stem|""] [R=3]
#include <time.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>
#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/q8-conv/q8-conv.h"
using namespace layerq;
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
  for (const L& l : ls) {
    if (*only && std::string(only) != l.kind) continue;
    Q8ConvShape s;
    s.cin = l.cin; s.cout = l.cout; s.kh = s.kw = l.k; s.stride_h = s.stride_w = l.s;
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = l.k / 2;
    s.group = std::string(l.kind) == "dw" ? l.cin : 1;
    std::vector<int8_t> wts(l.cout * l.cin / s.group * l.k * l.k);
    std::vector<int32_t> bias(l.cout);
    for (size_t i = 0; i < wts.size(); ++i) wts[i] = static_cast<int8_t>((i * 7919) % 255 - 127);
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<int32_t>(i * 37) - 500;
    Q8QuantParams q;
    q.inputScale = 0.02f; q.inputZero = 3;
    q.weightScale.assign(l.cout, 0.0f);
    for (size_t c = 0; c < l.cout; ++c) q.weightScale[c] = 0.001f + 0.0001f * (c % 7);
    q.output.kind = Q8OutputKind::kUint8; q.output.zero = 0; q.output.qmin = 0; q.output.qmax = 255; q.output.outputScale = 0.03f;
    Q8PackedConv pc(s, wts.data(), bias.data(), q);
    const size_t ho = s.OutH(l.hw);
    std::vector<uint8_t> x(n * l.cin * l.hw * l.hw), y(n * l.cout * ho * ho);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>((i * 31) % 97);
    auto Conv2d = [&](const Q8PackedConv& c, const uint8_t* xx, size_t nn, size_t hh, size_t ww, uint8_t* yy) { Q8Conv2d(c, xx, nn, hh, ww, yy); };
    Conv2d(pc, x.data(), n, l.hw, l.hw, y.data());
    double best_c = 1e30, best_w = 1e30;
    for (int r = 0; r < reps; ++r) {
      double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
      Conv2d(pc, x.data(), n, l.hw, l.hw, y.data());
      best_c = std::min(best_c, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
      best_w = std::min(best_w, now(CLOCK_MONOTONIC) - w0);
    }
    double flops = 2.0 * n * ho * ho * l.cout * (l.cin / s.group) * l.k * l.k;
    printf("%-4s %4zu->%-4zu k%zu s%zu @%-3zu x%d  cpu %7.2f ms  wall %7.2f ms  %6.1f GOPS(cpu)\n", l.kind, l.cin, l.cout,
           l.k, l.s, l.hw, l.count, best_c, best_w, flops / best_c * 1e-6);
    tot_cpu += best_c * l.count; tot_wall += best_w * l.count;
    cat[std::string(l.kind) == "pw" ? 0 : std::string(l.kind) == "dw" ? 1 : 2] += best_c * l.count;
  }
  printf("TOTAL cpu %.1f ms (pw %.1f dw %.1f stem %.1f)  wall %.1f ms  [n=%zu threads=%d isa=%s]\n", tot_cpu, cat[0], cat[1], cat[2], tot_wall, n, threads, IsaName(ActiveIsa()));
}
