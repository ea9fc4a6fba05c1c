// Gram rows of a block of patches, one ISA per file (f32-rounding-scalar.cc, -avx2.cc): the
// same loops compiled with each ISA's flags (AVX2 adds 4-lane FMA; each path is deterministic
// for any thread count, the two differ in the last bits since FMA rounds once).
#pragma once
#include <algorithm>
#include <cstddef>

namespace layerq {
namespace f32 {

constexpr size_t kSyrkTile = 4;  // Gram rows updated together (one patch load feeds four)

// s[i][j] += sum_r p[r][i] p[r][j] for i in [i0, i0 + kSyrkTile), j >= i, r ascending; p is
// [rows][k], s is [k][k].
using SyrkTileFn = void (*)(const double* p, size_t rows, size_t k, size_t i0, double* s);
void SyrkTileScalar(const double* p, size_t rows, size_t k, size_t i0, double* s);
void SyrkTileAvx2(const double* p, size_t rows, size_t k, size_t i0, double* s);

#ifdef LAYERQ_SYRK_TILE_BODY
// Entries left of the diagonal inside the tile are written but never read.
static void SyrkTileBody(const double* p, size_t rows, size_t k, size_t i0, double* s) {
  const size_t ni = std::min(kSyrkTile, k - i0);
  double* __restrict s0 = s + i0 * k;
  if (ni == kSyrkTile) {
    double* __restrict s1 = s0 + k;
    double* __restrict s2 = s1 + k;
    double* __restrict s3 = s2 + k;
    for (size_t r = 0; r < rows; ++r) {
      const double* __restrict pr = p + r * k;
      const double a0 = pr[i0], a1 = pr[i0 + 1], a2 = pr[i0 + 2], a3 = pr[i0 + 3];
      for (size_t j = i0; j < k; ++j) {
        const double v = pr[j];
        s0[j] += a0 * v, s1[j] += a1 * v, s2[j] += a2 * v, s3[j] += a3 * v;
      }
    }
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    const double* __restrict pr = p + r * k;
    for (size_t t = 0; t < ni; ++t) {
      const double a = pr[i0 + t];
      double* __restrict st = s0 + t * k;
      for (size_t j = i0 + t; j < k; ++j) st[j] += a * pr[j];
    }
  }
}
#endif

}  // namespace f32
}  // namespace layerq
