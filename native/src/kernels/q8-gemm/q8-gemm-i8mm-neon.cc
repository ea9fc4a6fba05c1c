// NEON i8mm microkernel for the packed q8 GEMM (octs layout of q8-gemm.h), for CPUs with Armv8.6
// i8mm (Q8HasNeonI8mm): usmmla multiplies a 2x8 uint8 matrix (two pixels' 8 activations) by the
// transpose of a 2x8 int8 matrix (two output channels' 8 weights) and adds the 2x2 int32 result
// to one register, exactly: 32 products per instruction against sdot's 16. Unsigned activations
// times signed weights, so the activations are packed as they are and the GEMM starts from the
// folded bias (no x - 128 as with sdot). The tile layout follows XNNPACK's and MLAS's smmla
// kernels: accumulators hold 2x2 blocks, de-interleaved into rows only when stored. An 8-row
// block runs as two 4-row halves: 2 row pairs x 8 pixel pairs = 16 accumulators, 8 activation
// and 2 weight registers per step.
#include <arm_neon.h>

#include "common/unroll.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-gemm/q8-neon-common.h"

#pragma GCC target("arch=armv8.2-a+i8mm")

namespace layerq {
namespace {

// acc[8][16] (+)= sum over steps of 8 rows' weight octs x 16 pixel octs. c[rp][j] holds rows
// (4h + 2rp, 4h + 2rp + 1) x pixels (2j, 2j + 1) as [p0 r0, p0 r1, p1 r0, p1 r1].
void Gemm8x16I8mm(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias, int32_t* acc,
                  bool init) {
  Unroll<2>([&](auto h) {
    int32x4_t c[2][8];
    Unroll<2>([&](auto rp) {
      const size_t r = 4 * h + 2 * rp;
      if (init) {
        const int32x2_t b = vld1_s32(bias + r);
        Unroll<8>([&](auto j) { c[rp][j] = vcombine_s32(b, b); });
      } else {
        Unroll<4>([&](auto q) {
          const int32x4_t r0 = vld1q_s32(acc + r * kQ8Nr + 4 * q), r1 = vld1q_s32(acc + (r + 1) * kQ8Nr + 4 * q);
          c[rp][2 * q] = vzip1q_s32(r0, r1);
          c[rp][2 * q + 1] = vzip2q_s32(r0, r1);
        });
      }
    });
    const uint8_t* xp = reinterpret_cast<const uint8_t*>(panel);
    const int8_t* wp = reinterpret_cast<const int8_t*>(w) + 32 * h;  // rows 4h..4h+3 of each 64-byte step
    for (size_t s = 0; s < steps; ++s) {
      uint8x16_t x[8];
      Unroll<8>([&](auto j) { x[j] = vld1q_u8(xp + 16 * j); });
      const int8x16_t w01 = vld1q_s8(wp), w23 = vld1q_s8(wp + 16);
      Unroll<8>([&](auto j) {
        c[0][j] = vusmmlaq_s32(c[0][j], x[j], w01);
        c[1][j] = vusmmlaq_s32(c[1][j], x[j], w23);
      });
      xp += 128;
      wp += 64;
    }
    Unroll<2>([&](auto rp) {
      const size_t r = 4 * h + 2 * rp;
      Unroll<4>([&](auto q) {
        vst1q_s32(acc + r * kQ8Nr + 4 * q, vuzp1q_s32(c[rp][2 * q], c[rp][2 * q + 1]));
        vst1q_s32(acc + (r + 1) * kQ8Nr + 4 * q, vuzp2q_s32(c[rp][2 * q], c[rp][2 * q + 1]));
      });
    });
  });
}

}  // namespace

const Q8GemmUkernels kQ8GemmNeonI8mm = Q8NeonRowBlockUkernels<Q8NeonOctStep>(Gemm8x16I8mm, /*signed_quads=*/false);

}  // namespace layerq
