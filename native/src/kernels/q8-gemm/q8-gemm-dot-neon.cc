// NEON dot-product microkernel for the packed q8 GEMM (quads layout of q8-gemm.h), for CPUs with
// the Armv8.2 dot product (Q8HasNeonDot): sdot multiplies 4 int8 activations by 4 int8 weights
// and adds the 4 products to an int32 lane, exactly. Activations are packed as x - 128 (int8)
// and the packed quad bias adds 128 * sum_k w back, so the int32 sums equal the reference's
// (mod 2^32). An 8-row block runs as two 4-row halves of 16 accumulators each.
#include <arm_neon.h>

#include "common/unroll.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-gemm/q8-neon-common.h"

#pragma GCC target("arch=armv8.2-a+dotprod")

namespace layerq {
namespace {

// acc[8][16] (+)= sum over steps of 8 rows' weight quads x 16 pixel quads. c is indexed by
// Unroll's constants only, so it stays in 16 registers.
void Gemm8x16Dot(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias, int32_t* acc,
                 bool init) {
  Unroll<2>([&](auto h) {
    int32x4_t c[4][4];
    Unroll<4>([&](auto r) {
      Unroll<4>([&](auto q) { c[r][q] = init ? vdupq_n_s32(bias[4 * h + r]) : vld1q_s32(acc + (4 * h + r) * kQ8Nr + q * 4); });
    });
    const int8_t* xp = reinterpret_cast<const int8_t*>(panel);
    const int8_t* wp = reinterpret_cast<const int8_t*>(w) + 16 * h;  // rows 4h..4h+3 of each 32-byte step
    for (size_t s = 0; s < steps; ++s) {
      int8x16_t x[4];
      Unroll<4>([&](auto q) { x[q] = vld1q_s8(xp + 16 * q); });
      const int8x16_t wv = vld1q_s8(wp);
      Unroll<4>([&](auto r) { Unroll<4>([&](auto q) { c[r][q] = vdotq_laneq_s32(c[r][q], x[q], wv, r); }); });
      xp += 64;
      wp += 32;
    }
    Unroll<4>([&](auto r) { Unroll<4>([&](auto q) { vst1q_s32(acc + (4 * h + r) * kQ8Nr + q * 4, c[r][q]); }); });
  });
}

}  // namespace

const Q8GemmUkernels kQ8GemmNeonDot = Q8NeonRowBlockUkernels<Q8NeonSignedQuadStep>(Gemm8x16Dot, /*signed_quads=*/true);

}  // namespace layerq
