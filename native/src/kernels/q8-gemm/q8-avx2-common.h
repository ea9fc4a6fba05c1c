// AVX2 helpers shared by the q8 microkernels (include only from *-avx2.cc files): the output
// stage (requantize or dequantize 16 int32 accumulators, exactly the reference's float
// operations) and the strided 16-pixel load of the conv paths.
#pragma once
#include <immintrin.h>

#include <cstring>

#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

// 16 consecutive output pixels of one input row at stride 1 (16 bytes) or 2 (32 bytes, even
// bytes kept). Reads whole vectors: the caller guarantees the bytes exist.
template <int kStride>
inline __m128i Q8LoadPixels16(const uint8_t* p) {
  static_assert(kStride == 1 || kStride == 2, "stride 1 or 2");
  if (kStride == 1) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i even = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), even);
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(v, 0x08));
}

// Writes the first n of 16 bytes to dst[p * stride].
inline void Q8StoreU8x16(__m128i b, size_t n, uint8_t* dst, size_t stride) {
  if (n == 16 && stride == 1) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b);
    return;
  }
  alignas(16) uint8_t t[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(t), b);
  for (size_t p = 0; p < n; ++p) dst[p * stride] = t[p];
}

class Q8RequantAvx2 {
 public:
  explicit Q8RequantAvx2(const Q8Output& o)
      : lo_(_mm256_set1_ps(static_cast<float>(o.qmin - o.zero))),
        hi_(_mm256_set1_ps(static_cast<float>(o.qmax - o.zero))),
        flo_(_mm256_set1_ps(o.fmin)),
        fhi_(_mm256_set1_ps(o.fmax)),
        zero_(_mm256_set1_epi32(o.zero)) {}

  // uint8 of 16 accumulators: float multiply (never fused), clamp to the integer bounds (the
  // same as clamping after rounding, since they are integers; NaN goes to lo like the
  // reference), round half to even (default MXCSR), add the zero point, pack.
  __m128i U8x16(__m256i a0, __m256i a1, float multiplier) const {
    const __m256 m = _mm256_set1_ps(multiplier);
    const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(Requant8(a0, m), Requant8(a1, m)), 0xD8);
    return _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
  }

  // float32 of 16 accumulators, first n stored to dst[p * stride].
  void StoreF32x16(__m256i a0, __m256i a1, float scale, size_t n, float* dst, size_t stride) const {
    const __m256 s = _mm256_set1_ps(scale);
    const __m256 f0 = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a0), s), flo_), fhi_);
    const __m256 f1 = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a1), s), flo_), fhi_);
    if (n == 16 && stride == 1) {
      _mm256_storeu_ps(dst, f0);
      _mm256_storeu_ps(dst + 8, f1);
      return;
    }
    alignas(32) float t[16];
    _mm256_store_ps(t, f0);
    _mm256_store_ps(t + 8, f1);
    for (size_t p = 0; p < n; ++p) dst[p * stride] = t[p];
  }

 private:
  __m256i Requant8(__m256i acc, __m256 m) const {
    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), m);
    f = _mm256_min_ps(_mm256_max_ps(f, lo_), hi_);
    return _mm256_add_epi32(_mm256_cvtps_epi32(f), zero_);
  }

  __m256 lo_, hi_, flo_, fhi_;
  __m256i zero_;
};

}  // namespace
}  // namespace layerq
