// Gram rows of a block of patches, one ISA per file (f32-rounding-scalar.cc, -avx2.cc): the
// same loops compiled with each ISA's flags (AVX2 adds 4-lane FMA; each path is deterministic
// for any thread count, the two differ in the last bits since FMA rounds once).
#pragma once
#include <algorithm>
#include <cstddef>

namespace layerq {
namespace f32 {

constexpr size_t kSyrkTile = 4;  // Gram rows computed together
constexpr size_t kSyrkCols = 8;  // columns of the register tile (8 independent FMA chains on AVX2)

// s[i][j] += sum_r p[r][i] p[r][j] for i in [i0, i0 + kSyrkTile), j >= i0 (entries left of
// the diagonal inside the tile are written but never read); r ascending into a zeroed
// accumulator, then added to s. p is [rows][k], s is [k][k].
using SyrkTileFn = void (*)(const double* p, size_t rows, size_t k, size_t i0, double* s);
void SyrkTileScalar(const double* p, size_t rows, size_t k, size_t i0, double* s);
void SyrkTileAvx2(const double* p, size_t rows, size_t k, size_t i0, double* s);

#ifdef LAYERQ_SYRK_TILE_BODY
// A 4 x 8 block of s summed in registers over the block's patches (32 multiply-adds per patch
// for 12 loads), then added to s.
static void SyrkTileBody(const double* p, size_t rows, size_t k, size_t i0, double* s) {
  const size_t ni = std::min(kSyrkTile, k - i0);
  size_t j = i0;
  for (; ni == kSyrkTile && j + kSyrkCols <= k; j += kSyrkCols) {
    double acc[kSyrkTile][kSyrkCols] = {};
    for (size_t r = 0; r < rows; ++r) {
      const double* pr = p + r * k;
      for (size_t a = 0; a < kSyrkTile; ++a)
        for (size_t b = 0; b < kSyrkCols; ++b) acc[a][b] += pr[i0 + a] * pr[j + b];
    }
    for (size_t a = 0; a < kSyrkTile; ++a)
      for (size_t b = 0; b < kSyrkCols; ++b) s[(i0 + a) * k + j + b] += acc[a][b];
  }
  for (; j < k; ++j) {  // last columns, and the last rows when k is not a multiple of the tile
    double acc[kSyrkTile] = {};
    for (size_t r = 0; r < rows; ++r)
      for (size_t a = 0; a < ni; ++a) acc[a] += p[r * k + i0 + a] * p[r * k + j];
    for (size_t a = 0; a < ni; ++a) s[(i0 + a) * k + j] += acc[a];
  }
}
#endif

}  // namespace f32
}  // namespace layerq
