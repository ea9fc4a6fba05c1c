// NEON building blocks shared by the q8 kernels (include only from *-neon.cc files; everything
// is TU-local): the activation panel packers for every step layout, the output stage
// (requantize or dequantize 16 int32 accumulators, exactly the reference's float operations) and
// the ukernel table of the 8-row (sdot, usmmla) kernels.
#pragma once
#include <arm_neon.h>

#include <cstring>

#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

// Pairs (smlal by element): rows k and k + 1 of 16 pixels, each widened to int16, k-major.
// Each Step: kStep k values (rows of 16 pixels) in, kPanel int16 elements of panel out.
struct Q8NeonPairStep {
  static constexpr size_t kStep = 2, kPanel = 32;
  static void Emit(const uint8x16_t* rows, int16_t* out) {
    vst1q_s16(out, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(rows[0]))));
    vst1q_s16(out + 8, vreinterpretq_s16_u16(vmovl_high_u8(rows[0])));
    vst1q_s16(out + 16, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(rows[1]))));
    vst1q_s16(out + 24, vreinterpretq_s16_u16(vmovl_high_u8(rows[1])));
  }
};

// Signed quads (sdot): 16 pixels x (x[k], x[k+1], x[k+2], x[k+3]) in pixel order, each byte
// x - 128 as int8 (x ^ 0x80); the packed weights' quad bias adds 128 * sum_k w back.
struct Q8NeonSignedQuadStep {
  static constexpr size_t kStep = 4, kPanel = 32;
  static void Emit(const uint8x16_t* rows, int16_t* out) {
    const uint8x16_t a = vzip1q_u8(rows[0], rows[1]), b = vzip2q_u8(rows[0], rows[1]);
    const uint8x16_t c = vzip1q_u8(rows[2], rows[3]), d = vzip2q_u8(rows[2], rows[3]);
    const uint8x16_t flip = vdupq_n_u8(0x80);
    uint8_t* o = reinterpret_cast<uint8_t*>(out);
    vst1q_u8(o, veorq_u8(vreinterpretq_u8_u16(vzip1q_u16(vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(c))), flip));
    vst1q_u8(o + 16, veorq_u8(vreinterpretq_u8_u16(vzip2q_u16(vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(c))), flip));
    vst1q_u8(o + 32, veorq_u8(vreinterpretq_u8_u16(vzip1q_u16(vreinterpretq_u16_u8(b), vreinterpretq_u16_u8(d))), flip));
    vst1q_u8(o + 48, veorq_u8(vreinterpretq_u8_u16(vzip2q_u16(vreinterpretq_u16_u8(b), vreinterpretq_u16_u8(d))), flip));
  }
};

// Octs (usmmla): 16 pixels x (x[k], ..., x[k+7]) as uint8, two pixels per 16 bytes: the 2x8
// operand of usmmla for pixels (2j, 2j + 1). An 8x16 byte transpose by zips of 8, 16, 32 bits.
struct Q8NeonOctStep {
  static constexpr size_t kStep = 8, kPanel = 64;
  static void Emit(const uint8x16_t* rows, int16_t* out) {
    uint16x8_t k01[2], k23[2], k45[2], k67[2];  // [pixels 0-7, 8-15] of byte pairs (k, k+1)
    for (int h = 0; h < 2; ++h) {
      auto zip = [h](uint8x16_t a, uint8x16_t b) { return vreinterpretq_u16_u8(h ? vzip2q_u8(a, b) : vzip1q_u8(a, b)); };
      k01[h] = zip(rows[0], rows[1]), k23[h] = zip(rows[2], rows[3]);
      k45[h] = zip(rows[4], rows[5]), k67[h] = zip(rows[6], rows[7]);
    }
    uint8_t* o = reinterpret_cast<uint8_t*>(out);
    for (int q = 0; q < 4; ++q) {  // pixels 4q .. 4q + 3
      const int h = q / 2;
      const uint32x4_t lo = vreinterpretq_u32_u16(q % 2 ? vzip2q_u16(k01[h], k23[h]) : vzip1q_u16(k01[h], k23[h]));  // k 0-3
      const uint32x4_t hi = vreinterpretq_u32_u16(q % 2 ? vzip2q_u16(k45[h], k67[h]) : vzip1q_u16(k45[h], k67[h]));  // k 4-7
      vst1q_u8(o + 32 * q, vreinterpretq_u8_u32(vzip1q_u32(lo, hi)));
      vst1q_u8(o + 32 * q + 16, vreinterpretq_u8_u32(vzip2q_u32(lo, hi)));
    }
  }
};

// Panel from 16 columns of col (uint8 [K][col_stride]): k past K reads as 0 (the packed weights
// are zero there), columns past np as 0 (never stored).
template <class Step>
void Q8NeonPackPanel(const uint8_t* col, size_t col_stride, size_t k, size_t np, int16_t* panel) {
  uint8_t t[Step::kStep][kQ8Nr];
  uint8x16_t rows[Step::kStep];
  for (size_t s = 0; s * Step::kStep < k; ++s) {
    for (size_t j = 0; j < Step::kStep; ++j) {
      const size_t i = s * Step::kStep + j;
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
    Step::Emit(rows, panel + s * Step::kPanel);
  }
}

// 16 output pixels of one input row: 16 bytes at stride 1, the even bytes of 32 at stride 2.
template <int kStride>
inline uint8x16_t Q8NeonLoadPixels16(const uint8_t* p) {
  if (kStride == 1) return vld1q_u8(p);
  return vld2q_u8(p).val[0];
}

template <class Step, int kStride>
void Q8NeonPackRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  uint8x16_t mask[kQ8Nr];
  const uint8_t iota_bytes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8x16_t iota = vld1q_u8(iota_bytes);
  for (size_t r = 0; r < runs.count; ++r) {
    mask[r] = vandq_u8(vcgeq_u8(iota, vdupq_n_u8(runs.begin[r])), vcltq_u8(iota, vdupq_n_u8(runs.end[r])));
  }
  auto row = [&](size_t i) {
    if (i >= k) return vdupq_n_u8(0);
    const uint8_t* s = src + koff[i];
    uint8x16_t v = Q8NeonLoadPixels16<kStride>(s + runs.base[0]);
    for (size_t r = 1; r < runs.count; ++r) v = vbslq_u8(mask[r], Q8NeonLoadPixels16<kStride>(s + runs.base[r]), v);
    return v;
  };
  uint8x16_t rows[Step::kStep];
  for (size_t s = 0; s * Step::kStep < k; ++s) {
    for (size_t j = 0; j < Step::kStep; ++j) rows[j] = row(s * Step::kStep + j);
    Step::Emit(rows, panel + s * Step::kPanel);
  }
}

template <class Step>
void Q8NeonPackRunsGeneric(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  uint8_t t[Step::kStep][kQ8Nr];
  uint8x16_t rows[Step::kStep];
  for (size_t s = 0; s * Step::kStep < k; ++s) {
    for (size_t j = 0; j < Step::kStep; ++j) {
      std::memset(t[j], 0, kQ8Nr);
      const size_t i = s * Step::kStep + j;
      if (i < k) Q8GatherRuns(src + koff[i], runs, t[j]);
      rows[j] = vld1q_u8(t[j]);
    }
    Step::Emit(rows, panel + s * Step::kPanel);
  }
}

template <class Step>
void Q8NeonPackPanelRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  if (runs.stride == 1) return Q8NeonPackRuns<Step, 1>(src, koff, k, runs, panel);
  if (runs.stride == 2) return Q8NeonPackRuns<Step, 2>(src, koff, k, runs, panel);
  Q8NeonPackRunsGeneric<Step>(src, koff, k, runs, panel);
}

// Output stage, the reference's float operations: multiply (never fused: nothing to fuse with),
// clamp with maxnm/minnm (NaN goes to lo, as in the reference), round half to even (fcvtns).
inline void Q8NeonStoreU8(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
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

inline void Q8NeonStoreF32(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
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

// The table of an 8-row kernel (sdot quads, usmmla octs) on Step's panels: these packers and
// output stages, and the pairs kernels for one-row weights (8 rows would mostly be wasted).
template <class Step>
constexpr Q8GemmUkernels Q8NeonRowBlockUkernels(decltype(Q8GemmUkernels::gemm) gemm, bool signed_quads) {
  return {Step::kStep, 8, gemm, nullptr, Q8NeonPackPanel<Step>, Q8NeonPackPanelRuns<Step>, Q8NeonStoreU8, Q8NeonStoreF32,
          &kQ8GemmNeon, signed_quads};
}

}  // namespace
}  // namespace layerq
