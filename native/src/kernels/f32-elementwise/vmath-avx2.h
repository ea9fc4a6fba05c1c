// AVX2 vector maths shared by the -avx2.cc files (include only from files built with -mavx2).
#pragma once
#include <immintrin.h>

namespace layerq {
namespace f32 {

// exp(z) for z <= 0 (z > 0 is clamped to 0); 0 below -87 (where float exp turns subnormal).
// exp(z) = 2^n * exp(r), n = round(z / ln2), |r| <= ln2 / 2, degree-6 Taylor polynomial:
// truncation error < 2e-7 relative.
inline __m256 ExpNonPositive(__m256 z) {
  const __m256 lo = _mm256_set1_ps(-87.0f);
  const __m256 underflow = _mm256_cmp_ps(z, lo, _CMP_GE_OQ);
  z = _mm256_min_ps(_mm256_max_ps(z, lo), _mm256_setzero_ps());
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(z, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), z);  // ln2 high bits
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);   // ln2 low bits
  __m256 p = _mm256_set1_ps(1.0f / 720.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), underflow);
}

inline __m256i TailMask(size_t n) {  // first n lanes set, n in [0, 8]
  static const int kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
}

}  // namespace f32
}  // namespace layerq
