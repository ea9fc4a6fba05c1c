// NEON direct conv microkernel: 4 output channels x up to 3 segments of 8 pixels = 24 q-register
// accumulators; per tap 2 loads per segment (at the tap's offset), one load of the 4 channels'
// weights, FMAs by lane.
#include <arm_neon.h>

#include "common/unroll.h"
#include "kernels/f32-conv/f32-conv-direct.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
namespace {

template <int NV>
void Tile(size_t mr, size_t k, const float* a, const int32_t* offsets, const DirectTile& t, size_t ldc,
          const float* row_bias, float min, float max) {
  float32x4_t acc[kMR][NV][2];  // constant indices only (Unroll): kept in registers
  Unroll<kMR>([&](auto r) {
    const float32x4_t rb = vdupq_n_f32(row_bias[r]);
    Unroll<NV>([&](auto v) { acc[r][v][0] = acc[r][v][1] = rb; });
  });
  for (size_t p = 0; p < k; ++p) {
    const ptrdiff_t off = offsets[p];
    const float32x4_t av = vld1q_f32(a);
    Unroll<NV>([&](auto v) {
      const float32x4_t b0 = vld1q_f32(t.b[v] + off), b1 = vld1q_f32(t.b[v] + off + 4);
      Unroll<kMR>([&](auto r) {
        acc[r][v][0] = vfmaq_laneq_f32(acc[r][v][0], b0, av, r);
        acc[r][v][1] = vfmaq_laneq_f32(acc[r][v][1], b1, av, r);
      });
    });
    a += kMR;
  }
  const float32x4_t vmin = vdupq_n_f32(min), vmax = vdupq_n_f32(max);
  Unroll<NV>([&](auto v) {
    Unroll<kMR>([&](auto r) {
      if (r >= mr) return;
      float* c = t.c[v] + r * ldc;
      const float32x4_t y0 = vminq_f32(vmaxq_f32(acc[r][v][0], vmin), vmax);
      const float32x4_t y1 = vminq_f32(vmaxq_f32(acc[r][v][1], vmin), vmax);
      if (t.len[v] == 8) {
        vst1q_f32(c, y0);
        vst1q_f32(c + 4, y1);
      } else {
        float tmp[8];
        vst1q_f32(tmp, y0);
        vst1q_f32(tmp + 4, y1);
        for (size_t j = 0; j < t.len[v]; ++j) c[j] = tmp[j];
      }
    });
  });
}

}  // namespace

void ConvDirectUkernelNeon(size_t mr, size_t k, const float* a, const int32_t* offsets, const DirectTile& tile,
                           size_t ldc, const float* row_bias, float min, float max) {
  switch (tile.count) {
    case 3: return Tile<3>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
    case 2: return Tile<2>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
    default: return Tile<1>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
  }
}

}  // namespace f32
}  // namespace layerq
