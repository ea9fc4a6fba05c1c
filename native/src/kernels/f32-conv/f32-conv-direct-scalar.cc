#include <algorithm>

#include "kernels/f32-conv/f32-conv-direct.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {

void ConvDirectUkernelScalar(size_t mr, size_t k, const float* a, const int32_t* offsets,
                             const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max) {
  for (size_t v = 0; v < tile.count; ++v) {
    float acc[kMR][8];
    for (size_t r = 0; r < kMR; ++r) std::fill(acc[r], acc[r] + 8, row_bias[r]);
    for (size_t p = 0; p < k; ++p) {
      const float* b = tile.b[v] + offsets[p];
      for (size_t r = 0; r < kMR; ++r) {
        for (size_t j = 0; j < 8; ++j) acc[r][j] += a[p * kMR + r] * b[j];
      }
    }
    for (size_t r = 0; r < mr; ++r) {
      for (size_t j = 0; j < tile.len[v]; ++j) tile.c[v][r * ldc + j] = std::min(std::max(acc[r][j], min), max);
    }
  }
}

}  // namespace f32
}  // namespace layerq
