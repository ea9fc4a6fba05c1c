// NEON 4x24 microkernel: 24 q-register accumulators (4 rows x 6 vectors of 4 columns); per k
// step 6 loads of the packed B panel, one load of the packed A column (4 rows), 24 FMAs by lane.
#include <arm_neon.h>

#include "common/unroll.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
void GemmUkernel4x24Neon(size_t mr, size_t nc, size_t k, const float* a, const float* b, float* c,
                         size_t ldc, const GemmEpilogue& ep) {
  float32x4_t acc[kMR][6];  // constant indices only (Unroll): kept in registers
  Unroll<kMR>([&](auto r) {
    const float32x4_t rb = vdupq_n_f32(ep.row_bias != nullptr ? ep.row_bias[r] : 0.0f);
    Unroll<6>([&](auto j) { acc[r][j] = ep.col_bias != nullptr ? vaddq_f32(rb, vld1q_f32(ep.col_bias + 4 * j)) : rb; });
  });
  for (size_t p = 0; p < k; ++p) {
    float32x4_t bv[6];
    Unroll<6>([&](auto j) { bv[j] = vld1q_f32(b + 4 * j); });
    const float32x4_t av = vld1q_f32(a);
    Unroll<kMR>([&](auto r) { Unroll<6>([&](auto j) { acc[r][j] = vfmaq_laneq_f32(acc[r][j], bv[j], av, r); }); });
    a += kMR;
    b += kNR;
  }
  const float32x4_t vmin = vdupq_n_f32(ep.min), vmax = vdupq_n_f32(ep.max);
  Unroll<kMR>([&](auto r) {
    if (r >= mr) return;
    float* cr = c + r * ldc;
    Unroll<6>([&](auto j) {
      const float32x4_t y = vminq_f32(vmaxq_f32(acc[r][j], vmin), vmax);
      if (4 * j + 4 <= nc) {
        vst1q_f32(cr + 4 * j, y);
      } else if (4 * j < nc) {
        float t[4];
        vst1q_f32(t, y);
        for (size_t q = 4 * j; q < nc; ++q) cr[q] = t[q - 4 * j];
      }
    });
  });
}

}  // namespace f32
}  // namespace layerq
