// AVX-512 building blocks shared by the q8 kernels (include only from files compiled for
// AVX-512 F + BW; everything is TU-local): lane masks, guarded loads, stores of 16 lanes and the
// output stage of 16 int32 accumulators, exactly the reference's float operations (as the AVX2 stage of q8-avx2-common.h).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

inline __mmask16 Q8Lanes16(size_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }
inline __mmask64 Q8Lanes64(size_t n) { return n >= 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1; }

// 64 bytes from p, those outside [begin, end) zero and never read: an unmasked load where all of
// them lie inside (masked loads are several times slower on some CPUs).
inline __m512i Q8LoadInside(const uint8_t* p, const uint8_t* begin, const uint8_t* end) {
  if (p >= begin && p + 64 <= end) return _mm512_loadu_si512(p);
  const size_t lo = p < begin ? static_cast<size_t>(begin - p) : 0;
  const size_t hi = p + 64 <= end ? 64 : p < end ? static_cast<size_t>(end - p) : 0;
  return _mm512_maskz_loadu_epi8(hi > lo ? Q8Lanes64(hi) & ~Q8Lanes64(lo) : 0, p);
}

// The low byte of each of the 16 int32 lanes, in order: in-lane byte shuffles, then the four
// lanes' first dwords together (vpmovdb would do it in one, but GCC folds it into a store to
// memory, which some CPUs, AMD Zen 4 and 5, run an order of magnitude slower).
inline __m128i Q8LowBytes(__m512i v) {
  const __m512i lows = _mm512_shuffle_epi8(v, _mm512_set4_epi32(-1, -1, -1, 0x0C080400));
  return _mm512_castsi512_si128(
      _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), lows));
}

// The lanes `k` of 16 bytes or 16 floats to dst (unmasked when all 16: masked stores are several
// times slower on some CPUs).
inline void Q8StoreBytes(__m128i b, __mmask16 k, uint8_t* dst) {
  if (k == 0xFFFF) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b);
  } else {
    _mm_mask_storeu_epi8(dst, k, b);
  }
}
inline void Q8StoreF32(__m512 v, __mmask16 k, float* dst) {
  if (k == 0xFFFF) {
    _mm512_storeu_ps(dst, v);
  } else {
    _mm512_mask_storeu_ps(dst, k, v);
  }
}

// uint8 as clamp(nearbyint(acc * m) + zero, qmin, qmax) with the product capped at qmax - zero
// before rounding (an integer: the same result; a NaN gets through the cap as vminps's second
// operand and converts to INT32_MIN, then qmin), float as clamp(acc * scale, fmin, fmax). Lanes
// outside `k` are not stored; all 16 with unmasked stores (masked ones are several times slower on
// some CPUs).
class Q8Requant512 {
 public:
  explicit Q8Requant512(const Q8Output& o)
      : hi_(_mm512_set1_ps(static_cast<float>(o.qmax - o.zero))),
        flo_(_mm512_set1_ps(o.fmin)),
        fhi_(_mm512_set1_ps(o.fmax)),
        zero_(_mm512_set1_epi32(o.zero)),
        qmin_(_mm512_set1_epi32(o.qmin)) {}

  // The 16 codes (int32 lanes) and the 16 floats, unstored.
  __m512i Codes(__m512i acc, float multiplier) const {
    const __m512 f = _mm512_min_ps(hi_, _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(multiplier)));
    return _mm512_max_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(f), zero_), qmin_);
  }
  __m512 Floats(__m512i acc, float scale) const {
    const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(scale));
    return _mm512_min_ps(_mm512_max_ps(f, flo_), fhi_);
  }

  void U8(__m512i acc, float multiplier, __mmask16 k, uint8_t* dst) const {
    Q8StoreBytes(Q8LowBytes(Codes(acc, multiplier)), k, dst);
  }
  void F32(__m512i acc, float scale, __mmask16 k, float* dst) const { Q8StoreF32(Floats(acc, scale), k, dst); }

 private:
  __m512 hi_, flo_, fhi_;
  __m512i zero_, qmin_;
};

}  // namespace
}  // namespace layerq
