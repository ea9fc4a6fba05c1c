// AVX2+FMA 4x24 microkernel (XNNPACK f32-gemm-4x24 / MLAS sgemm style): 12 ymm accumulators,
// per k step 3 loads of the packed B panel, 4 broadcasts of the packed A panel, 12 FMAs.
#include <immintrin.h>

#include "common/unroll.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
namespace {

inline __m256i TailMask(size_t n) {  // first n lanes set, n in [0, 8]
  static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
}

// NV vectors of 8 columns (NV * 8 <= kNR); B panels always have kNR columns.
template <int NV>
inline void Tile(size_t mr, size_t nc, size_t k, const float* a, const float* b, float* c,
                 size_t ldc, const GemmEpilogue& ep) {
  __m256 acc[kMR][NV];  // constant indices only (Unroll): kept in registers
  Unroll<kMR>([&](auto r) {
    const __m256 rb = ep.row_bias != nullptr ? _mm256_broadcast_ss(ep.row_bias + r) : _mm256_setzero_ps();
    Unroll<NV>([&](auto v) {
      acc[r][v] = ep.col_bias != nullptr ? _mm256_add_ps(rb, _mm256_loadu_ps(ep.col_bias + 8 * v)) : rb;
    });
  });
  for (size_t p = 0; p < k; ++p) {
    __m256 bv[NV];
    Unroll<NV>([&](auto v) { bv[v] = _mm256_loadu_ps(b + 8 * v); });
    Unroll<kMR>([&](auto r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      Unroll<NV>([&](auto v) { acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]); });
    });
    a += kMR;
    b += kNR;
  }
  const __m256 vmin = _mm256_set1_ps(ep.min), vmax = _mm256_set1_ps(ep.max);
  Unroll<kMR>([&](auto r) {
    if (r >= mr) return;
    float* cr = c + r * ldc;
    Unroll<NV>([&](auto v) {
      __m256 y = _mm256_min_ps(_mm256_max_ps(acc[r][v], vmin), vmax);
      const size_t col = 8 * static_cast<size_t>(v);
      if (col + 8 <= nc) {
        _mm256_storeu_ps(cr + col, y);
      } else if (col < nc) {
        _mm256_maskstore_ps(cr + col, TailMask(nc - col), y);
      }
    });
  });
}

}  // namespace

void GemmUkernel4x24Avx2(size_t mr, size_t nc, size_t k, const float* a, const float* b, float* c,
                         size_t ldc, const GemmEpilogue& ep) {
  if (nc > 16) {
    Tile<3>(mr, nc, k, a, b, c, ldc, ep);
  } else if (nc > 8) {
    Tile<2>(mr, nc, k, a, b, c, ldc, ep);
  } else {
    Tile<1>(mr, nc, k, a, b, c, ldc, ep);
  }
}

}  // namespace f32
}  // namespace layerq
