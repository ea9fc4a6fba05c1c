// NEON microkernels for the packed q8 GEMM (pairs weight layout of q8-gemm.h). Activations are
// widened to int16 when packed and multiplied by int16 weights with smlal (16 x 16 -> 32 bit
// multiply-accumulate): exact for all inputs, whereas int8 smull + smlal into int16 overflows
// (-128 * -128 twice is 32768). The int32 lanes wrap mod 2^32 like the reference.
//
// Panel layout of this ISA (64 bytes per step of 2 k values): x[k][16 pixels], x[k+1][16
// pixels] as int16, so each weight is a lane operand (smlal by element).
#include <arm_neon.h>

#include <cstring>

#include "kernels/q8-gemm/q8-gemm.h"

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
  int32x4_t c[4][4];
  for (int r = 0; r < 4; ++r)
    for (int q = 0; q < 4; ++q) c[r][q] = init ? vdupq_n_s32(bias[r]) : vld1q_s32(acc + r * kQ8Nr + q * 4);
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
  for (int r = 0; r < 4; ++r)
    for (int q = 0; q < 4; ++q) vst1q_s32(acc + r * kQ8Nr + q * 4, c[r][q]);
}

void Gemm1x16(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias,
              int32_t* acc, bool init) {
  int32x4_t c[4];
  for (int q = 0; q < 4; ++q) c[q] = init ? vdupq_n_s32(bias[0]) : vld1q_s32(acc + q * 4);
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
  for (int q = 0; q < 4; ++q) vst1q_s32(acc + q * 4, c[q]);
}

// One step: rows k and k + 1 (16 uint8 pixels each), widened.
inline void EmitStep(uint8x16_t r0, uint8x16_t r1, int16_t* out) {
  vst1q_s16(out, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(r0))));
  vst1q_s16(out + 8, vreinterpretq_s16_u16(vmovl_high_u8(r0)));
  vst1q_s16(out + 16, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(r1))));
  vst1q_s16(out + 24, vreinterpretq_s16_u16(vmovl_high_u8(r1)));
}

void PackPanel(const uint8_t* col, size_t col_stride, size_t k, size_t np, int16_t* panel) {
  uint8_t t[2][kQ8Nr];
  for (size_t s = 0; 2 * s < k; ++s) {
    uint8x16_t rows[2];
    for (size_t j = 0; j < 2; ++j) {
      const size_t i = 2 * s + j;
      if (i >= k) {
        rows[j] = vdupq_n_u8(0);
      } else if (np == kQ8Nr) {
        rows[j] = vld1q_u8(col + i * col_stride);
      } else {
        std::memset(t[j], 0, kQ8Nr);
        std::memcpy(t[j], col + i * col_stride, np);
        rows[j] = vld1q_u8(t[j]);
      }
    }
    EmitStep(rows[0], rows[1], panel + s * 32);
  }
}

// 16 output pixels of one input row: 16 bytes at stride 1, the even bytes of 32 at stride 2.
template <int kStride>
inline uint8x16_t LoadPixels16(const uint8_t* p) {
  if (kStride == 1) return vld1q_u8(p);
  return vld2q_u8(p).val[0];
}

template <int kStride>
void PackRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  uint8x16_t mask[kQ8Nr];
  const uint8_t iota_bytes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8x16_t iota = vld1q_u8(iota_bytes);
  for (size_t r = 0; r < runs.count; ++r) {
    mask[r] = vandq_u8(vcgeq_u8(iota, vdupq_n_u8(runs.begin[r])), vcltq_u8(iota, vdupq_n_u8(runs.end[r])));
  }
  auto row = [&](size_t i) {
    if (i >= k) return vdupq_n_u8(0);
    const uint8_t* s = src + koff[i];
    uint8x16_t v = LoadPixels16<kStride>(s + runs.base[0]);
    for (size_t r = 1; r < runs.count; ++r) v = vbslq_u8(mask[r], LoadPixels16<kStride>(s + runs.base[r]), v);
    return v;
  };
  for (size_t s = 0; 2 * s < k; ++s) EmitStep(row(2 * s), row(2 * s + 1), panel + s * 32);
}

void PackRunsGeneric(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  uint8_t t[2][kQ8Nr];
  for (size_t s = 0; 2 * s < k; ++s) {
    for (size_t j = 0; j < 2; ++j) {
      std::memset(t[j], 0, kQ8Nr);
      const size_t i = 2 * s + j;
      if (i >= k) continue;
      const uint8_t* row = src + koff[i];
      for (size_t r = 0; r < runs.count; ++r)
        for (size_t d = runs.begin[r]; d < runs.end[r]; ++d) t[j][d] = row[runs.base[r] + static_cast<int64_t>(d * runs.stride)];
    }
    EmitStep(vld1q_u8(t[0]), vld1q_u8(t[1]), panel + s * 32);
  }
}

void PackPanelRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  if (runs.stride == 1) return PackRuns<1>(src, koff, k, runs, panel);
  if (runs.stride == 2) return PackRuns<2>(src, koff, k, runs, panel);
  PackRunsGeneric(src, koff, k, runs, panel);
}

// Output stage, the reference's float operations: multiply (never fused: nothing to fuse with),
// clamp with maxnm/minnm (NaN goes to lo, as in the reference), round half to even (fcvtns).
void StoreU8(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
             uint8_t* out, size_t row_stride, size_t col_stride) {
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(o.qmin - o.zero));
  const float32x4_t hi = vdupq_n_f32(static_cast<float>(o.qmax - o.zero));
  const int32x4_t zero = vdupq_n_s32(o.zero);
  for (size_t r = 0; r < mr; ++r) {
    const float32x4_t m = vdupq_n_f32(scales[r]);
    int16x4_t h[4];
    for (int q = 0; q < 4; ++q) {
      float32x4_t f = vmulq_f32(vcvtq_f32_s32(vld1q_s32(acc + r * kQ8Nr + q * 4)), m);
      f = vminnmq_f32(vmaxnmq_f32(f, lo), hi);
      h[q] = vqmovn_s32(vaddq_s32(vcvtnq_s32_f32(f), zero));
    }
    const uint8x16_t b = vcombine_u8(vqmovun_s16(vcombine_s16(h[0], h[1])), vqmovun_s16(vcombine_s16(h[2], h[3])));
    uint8_t* dst = out + r * row_stride;
    if (np == kQ8Nr && col_stride == 1) {
      vst1q_u8(dst, b);
    } else {
      uint8_t t[kQ8Nr];
      vst1q_u8(t, b);
      for (size_t p = 0; p < np; ++p) dst[p * col_stride] = t[p];
    }
  }
}

void StoreF32(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
              float* out, size_t row_stride, size_t col_stride) {
  const float32x4_t lo = vdupq_n_f32(o.fmin), hi = vdupq_n_f32(o.fmax);
  for (size_t r = 0; r < mr; ++r) {
    const float32x4_t s = vdupq_n_f32(scales[r]);
    float t[kQ8Nr];
    for (int q = 0; q < 4; ++q) {
      const float32x4_t f = vmulq_f32(vcvtq_f32_s32(vld1q_s32(acc + r * kQ8Nr + q * 4)), s);
      vst1q_f32(t + q * 4, vminnmq_f32(vmaxnmq_f32(f, lo), hi));
    }
    float* dst = out + r * row_stride;
    for (size_t p = 0; p < np; ++p) dst[p * col_stride] = t[p];
  }
}

}  // namespace

const Q8GemmUkernels kQ8GemmNeon = {2, 4, Gemm4x16, Gemm1x16, PackPanel, PackPanelRuns, StoreU8, StoreF32};

}  // namespace layerq
