// NEON microkernels for the packed q8 GEMM (pairs weight layout of q8-gemm.h). Activations are
// widened to int16 when packed and multiplied by int16 weights with smlal (16 x 16 -> 32 bit
// multiply-accumulate): exact for all inputs, whereas int8 smull + smlal into int16 overflows
// (-128 * -128 twice is 32768). The int32 lanes wrap mod 2^32 like the reference.
//
// Panel layout of this ISA (64 bytes per step of 2 k values): x[k][16 pixels], x[k+1][16
// pixels] as int16, so each weight is a lane operand (smlal by element).
#include <arm_neon.h>

#include "common/unroll.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-gemm/q8-neon-common.h"

namespace layerq {
namespace {

// Row r of a 4-row tile: lanes 2r (k) and 2r + 1 (k + 1) of the weight vector.
template <int R>
inline void Row(int32x4_t* c, int16x8_t x0a, int16x8_t x0b, int16x8_t x1a, int16x8_t x1b, int16x8_t w) {
  c[0] = vmlal_laneq_s16(c[0], vget_low_s16(x0a), w, 2 * R);
  c[1] = vmlal_high_laneq_s16(c[1], x0a, w, 2 * R);
  c[2] = vmlal_laneq_s16(c[2], vget_low_s16(x0b), w, 2 * R);
  c[3] = vmlal_high_laneq_s16(c[3], x0b, w, 2 * R);
  c[0] = vmlal_laneq_s16(c[0], vget_low_s16(x1a), w, 2 * R + 1);
  c[1] = vmlal_high_laneq_s16(c[1], x1a, w, 2 * R + 1);
  c[2] = vmlal_laneq_s16(c[2], vget_low_s16(x1b), w, 2 * R + 1);
  c[3] = vmlal_high_laneq_s16(c[3], x1b, w, 2 * R + 1);
}

void Gemm4x16(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias,
              int32_t* acc, bool init) {
  int32x4_t c[4][4];  // constant indices only (Unroll): kept in registers
  Unroll<4>([&](auto r) { Unroll<4>([&](auto q) { c[r][q] = init ? vdupq_n_s32(bias[r]) : vld1q_s32(acc + r * kQ8Nr + q * 4); }); });
  for (size_t s = 0; s < steps; ++s) {
    const int16x8_t x0a = vld1q_s16(panel), x0b = vld1q_s16(panel + 8);
    const int16x8_t x1a = vld1q_s16(panel + 16), x1b = vld1q_s16(panel + 24);
    const int16x8_t wv = vld1q_s16(reinterpret_cast<const int16_t*>(w));  // r0k0 r0k1 r1k0 ...
    Row<0>(c[0], x0a, x0b, x1a, x1b, wv);
    Row<1>(c[1], x0a, x0b, x1a, x1b, wv);
    Row<2>(c[2], x0a, x0b, x1a, x1b, wv);
    Row<3>(c[3], x0a, x0b, x1a, x1b, wv);
    panel += 32;
    w += 4;
  }
  Unroll<4>([&](auto r) { Unroll<4>([&](auto q) { vst1q_s32(acc + r * kQ8Nr + q * 4, c[r][q]); }); });
}

void Gemm1x16(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias,
              int32_t* acc, bool init) {
  int32x4_t c[4];
  Unroll<4>([&](auto q) { c[q] = init ? vdupq_n_s32(bias[0]) : vld1q_s32(acc + q * 4); });
  for (size_t s = 0; s < steps; ++s) {
    const int16x4_t wv = vreinterpret_s16_s32(vld1_dup_s32(w));  // k, k+1, k, k+1
    const int16x8_t x0a = vld1q_s16(panel), x0b = vld1q_s16(panel + 8);
    const int16x8_t x1a = vld1q_s16(panel + 16), x1b = vld1q_s16(panel + 24);
    c[0] = vmlal_lane_s16(c[0], vget_low_s16(x0a), wv, 0);
    c[1] = vmlal_high_lane_s16(c[1], x0a, wv, 0);
    c[2] = vmlal_lane_s16(c[2], vget_low_s16(x0b), wv, 0);
    c[3] = vmlal_high_lane_s16(c[3], x0b, wv, 0);
    c[0] = vmlal_lane_s16(c[0], vget_low_s16(x1a), wv, 1);
    c[1] = vmlal_high_lane_s16(c[1], x1a, wv, 1);
    c[2] = vmlal_lane_s16(c[2], vget_low_s16(x1b), wv, 1);
    c[3] = vmlal_high_lane_s16(c[3], x1b, wv, 1);
    panel += 32;
    ++w;
  }
  Unroll<4>([&](auto q) { vst1q_s32(acc + q * 4, c[q]); });
}

}  // namespace

const Q8GemmUkernels kQ8GemmNeon = {2, 4, Gemm4x16, Gemm1x16, Q8NeonPackPanel<Q8NeonPairStep>,
                                    Q8NeonPackPanelRuns<Q8NeonPairStep>, Q8NeonStoreU8, Q8NeonStoreF32};

}  // namespace layerq
