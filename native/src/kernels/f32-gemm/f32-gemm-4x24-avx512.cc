// AVX-512 4x24 microkernel over the same packed panels as the AVX2 one: columns 0..15 in one
// zmm and 16..23 in one ymm (AVX-512VL) per row, 8 accumulators; tails stored with lane masks.
#include <immintrin.h>

#include "common/unroll.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
namespace {

inline __mmask16 FirstLanes(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }  // n <= 16

// kHigh: columns 16..23 are computed too (nc > 16).
template <bool kHigh>
inline void Tile(size_t mr, size_t nc, size_t k, const float* a, const float* b, float* c,
                 size_t ldc, const GemmEpilogue& ep) {
  __m512 lo[kMR];  // constant indices only (Unroll): kept in registers
  __m256 hi[kMR];
  Unroll<kMR>([&](auto r) {
    const float rb = ep.row_bias != nullptr ? ep.row_bias[r] : 0.0f;
    lo[r] = _mm512_set1_ps(rb);
    hi[r] = _mm256_set1_ps(rb);
    if (ep.col_bias != nullptr) {
      lo[r] = _mm512_add_ps(lo[r], _mm512_loadu_ps(ep.col_bias));
      if (kHigh) hi[r] = _mm256_add_ps(hi[r], _mm256_loadu_ps(ep.col_bias + 16));
    }
  });
  for (size_t p = 0; p < k; ++p) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m256 b1 = kHigh ? _mm256_loadu_ps(b + 16) : _mm256_setzero_ps();
    Unroll<kMR>([&](auto r) {
      lo[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), b0, lo[r]);
      if (kHigh) hi[r] = _mm256_fmadd_ps(_mm256_set1_ps(a[r]), b1, hi[r]);
    });
    a += kMR;
    b += kNR;
  }
  const __m512 vmin = _mm512_set1_ps(ep.min), vmax = _mm512_set1_ps(ep.max);
  const __mmask16 mlo = FirstLanes(nc < 16 ? nc : 16);
  const __mmask8 mhi = static_cast<__mmask8>(kHigh ? (1u << (nc - 16)) - 1u : 0u);
  Unroll<kMR>([&](auto r) {
    if (r >= mr) return;
    float* cr = c + r * ldc;
    _mm512_mask_storeu_ps(cr, mlo, _mm512_min_ps(_mm512_max_ps(lo[r], vmin), vmax));
    if (kHigh) {
      const __m256 y = _mm256_min_ps(_mm256_max_ps(hi[r], _mm512_castps512_ps256(vmin)), _mm512_castps512_ps256(vmax));
      _mm256_mask_storeu_ps(cr + 16, mhi, y);
    }
  });
}

}  // namespace

void GemmUkernel4x24Avx512(size_t mr, size_t nc, size_t k, const float* a, const float* b, float* c,
                           size_t ldc, const GemmEpilogue& ep) {
  if (nc > 16) {
    Tile<true>(mr, nc, k, a, b, c, ldc, ep);
  } else {
    Tile<false>(mr, nc, k, a, b, c, ldc, ep);
  }
}

}  // namespace f32
}  // namespace layerq
