// Portable 4x24 microkernel: the reference the SIMD microkernels are tested against, and the
// path for CPUs without a SIMD kernel.
#include "kernels/f32-gemm/f32-gemm.h"

#include <algorithm>

namespace layerq {
namespace f32 {

void GemmUkernel4x24Scalar(size_t mr, size_t nc, size_t k, const float* a, const float* b,
                           float* c, size_t ldc, const GemmEpilogue& ep) {
  float acc[kMR][kNR];
  for (size_t r = 0; r < kMR; ++r) {
    for (size_t j = 0; j < kNR; ++j) {
      float v = 0.0f;
      if (ep.row_bias != nullptr) v += ep.row_bias[r];
      if (ep.col_bias != nullptr) v += ep.col_bias[j];
      acc[r][j] = v;
    }
  }
  for (size_t p = 0; p < k; ++p) {
    const float* ap = a + p * kMR;
    const float* bp = b + p * kNR;
    for (size_t r = 0; r < kMR; ++r) {
      for (size_t j = 0; j < kNR; ++j) acc[r][j] += ap[r] * bp[j];
    }
  }
  for (size_t r = 0; r < mr; ++r) {
    for (size_t j = 0; j < nc; ++j) c[r * ldc + j] = std::min(std::max(acc[r][j], ep.min), ep.max);
  }
}

}  // namespace f32
}  // namespace layerq
