// MobileNetV2 (224x224) inverted-residual blocks through layerq's f32 kernels, batch N: each
// block layer by layer (three Conv2d calls, intermediates in memory) against BlockConv2d (strips
// whose intermediates stay in L2), the two alternating. Per block the best of R runs (wall time),
// whether the two agree bit for bit, and the totals of the blocks the engine fuses (marked *:
// intermediates of at least 1 MiB an image, BLOCK_FUSE_BYTES in src/engine/lower-f32.ts) and
// of all. The last argument forces strips of that many rows (tests' BlockStripRowsForTesting).
// Build and run (from the repository root; the static kernel library of a cmake build):
//   cmake -S . -B build/kernels -DCMAKE_BUILD_TYPE=Release && cmake --build build/kernels --target layerq_kernels
//   g++ -O2 -std=c++17 -Inative/src bench/block-layers.cc build/kernels/liblayerq_kernels.a -lpthread -o build/block-layers
//   build/block-layers [N=16] [threads=2] [R=5] [strip rows]
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/f32-conv/f32-block.h"

using namespace layerq::f32;

namespace {

struct BlockShape {
  size_t cin, ce, cout, hw, s;  // ce == cin: no expansion
  int count;
  size_t ek = 1, es = 1;  // the expansion's kernel and stride: 3 and 2 for the stem (hw its input)
};

double NowMs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

PackedConv Pack(size_t cin, size_t cout, size_t k, size_t stride, size_t group, float max, unsigned seed) {
  ConvShape s;
  s.cin = cin; s.cout = cout; s.kh = s.kw = k; s.sh = s.sw = stride; s.group = group;
  s.pt = s.pl = s.pb = s.pr = k / 2;
  std::vector<float> w(cout * cin / group * k * k), b(cout);
  for (size_t i = 0; i < w.size(); ++i) w[i] = (((i + seed) * 7919) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.01f * i;
  return PackConv(w.data(), b.data(), s, max > 0 ? 0.0f : -INFINITY, max > 0 ? max : INFINITY);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? atoi(argv[1]) : 16;
  const int threads = argc > 2 ? atoi(argv[2]) : 2;
  const int reps = argc > 3 ? atoi(argv[3]) : 5;
  layerq::SetThreadCount(threads);
  if (argc > 4) BlockStripRowsForTesting(atoi(argv[4]));
  const std::vector<BlockShape> blocks = {
      // The stem (3x3 stride 2) with the first block (no expansion of its own), as the engine
      // fuses them; then that block alone (x0: for comparison, not in the totals).
      {3, 32, 16, 224, 1, 1, 3, 2}, {32, 32, 16, 112, 1, 0},  {16, 96, 24, 112, 2, 1}, {24, 144, 24, 56, 1, 1}, {24, 144, 32, 56, 2, 1},
      {32, 192, 32, 28, 1, 2},  {32, 192, 64, 28, 2, 1}, {64, 384, 64, 14, 1, 3}, {64, 384, 96, 14, 1, 1},
      {96, 576, 96, 14, 1, 2},  {96, 576, 160, 14, 2, 1}, {160, 960, 160, 7, 1, 2}, {160, 960, 320, 7, 1, 1},
  };
  double tot_layers = 0, tot_block = 0, fused_layers = 0, fused_block = 0;
  for (const BlockShape& b : blocks) {
    const bool expand = b.ce != b.cin || b.ek != 1;
    const PackedConv e = Pack(b.cin, b.ce, b.ek, b.es, 1, 6.0f, 1), dw = Pack(b.ce, b.ce, 3, b.s, b.ce, 6.0f, 2);
    const PackedConv p = Pack(b.ce, b.cout, 1, 1, 1, 0.0f, 3);
    const PackedBlock block = PackBlock(expand ? &e : nullptr, dw, p);
    const size_t he = (b.hw - 1) / b.es + 1, ho = (he - 1) / b.s + 1;  // the depthwise conv's input, the output
    std::vector<float> x(n * b.cin * b.hw * b.hw), t1(n * b.ce * he * he), t2(n * b.ce * ho * ho);
    std::vector<float> y1(n * b.cout * ho * ho), y2(y1.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = ((i * 31) % 97) / 97.0f;
    auto layers = [&] {
      const float* src = x.data();
      if (expand) { Conv2d(e, x.data(), n, b.hw, b.hw, t1.data()); src = t1.data(); }
      Conv2d(dw, src, n, he, he, t2.data());
      Conv2d(p, t2.data(), n, ho, ho, y1.data());
    };
    auto fused = [&] { BlockConv2d(block, x.data(), n, b.hw, b.hw, y2.data()); };
    double best_l = 1e30, best_b = 1e30;
    layers(); fused();
    for (int r = 0; r < reps; ++r) {
      double t0 = NowMs(); layers(); best_l = std::min(best_l, NowMs() - t0);
      t0 = NowMs(); fused(); best_b = std::min(best_b, NowMs() - t0);
    }
    size_t diff = 0;
    for (size_t i = 0; i < y1.size(); ++i) diff += y1[i] != y2[i];
    const bool engine_fuses = std::max(expand ? b.ce * he * he : 0, b.ce * ho * ho) * sizeof(float) >= (1u << 20);
    printf("%4zu->%4zu->%4zu @%-3zu s%zu x%d %c layers %7.2f ms  block %7.2f ms  %.2fx  %s\n", b.cin, b.ce, b.cout, b.hw,
           b.s, b.count, engine_fuses ? '*' : ' ', best_l, best_b, best_l / best_b, diff ? "MISMATCH" : "bit-exact");
    tot_layers += best_l * b.count;
    tot_block += best_b * b.count;
    if (engine_fuses) {
      fused_layers += best_l * b.count;
      fused_block += best_b * b.count;
    }
  }
  printf("FUSED (*) layers %.2f ms  block %.2f ms  %.2fx\n", fused_layers, fused_block, fused_layers / fused_block);
  printf("ALL   layers %.2f ms  block %.2f ms  %.2fx  [n=%zu threads=%d isa=%s]\n", tot_layers, tot_block,
         tot_layers / tot_block, n, threads, layerq::IsaName(layerq::ActiveIsa()));
}
