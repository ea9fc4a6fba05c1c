// Direct conv microkernels over a zero-padded, stride-phase-split copy of the input (an
// implicit im2col: a table of K tap offsets replaces the K x pixels im2col matrix).
//
// For stride s the padded input of each channel is split into s*s phase planes, so that the
// tap (ky, kx) of the output pixel (oy, ox) reads phase (ky*dh % s, kx*dw % s) at row
// oy + ky*dh / s, column ox + kx*dw / s: 8 neighbouring output pixels of a row are 8
// contiguous floats for every stride and dilation.
#pragma once
#include <cstddef>
#include <cstdint>

namespace layerq {
namespace f32 {

constexpr size_t kDirectSegments = 3;  // 8-pixel segments per tile (4 x 24 accumulators)

// A tile: up to kDirectSegments segments of 8 output pixels (of one output row each).
struct DirectTile {
  size_t count = 0;                       // segments used, 1..kDirectSegments
  const float* b[kDirectSegments] = {};   // input at tap offset 0 for the segment's first pixel
  float* c[kDirectSegments] = {};         // output of row 0 (first channel of the A panel)
  size_t len[kDirectSegments] = {};       // valid pixels of the segment, 1..8
};

// c[v][r * ldc + j] = clamp(row_bias[r] + sum_k a[k * 4 + r] * b[v][offsets[k] + j], min, max)
// for r < mr, j < len[v]. Reads 8 floats at every b[v] + offsets[k].
using ConvDirectUkernelFn = void (*)(size_t mr, size_t k, const float* a, const int32_t* offsets,
                                     const DirectTile& tile, size_t ldc, const float* row_bias,
                                     float min, float max);

void ConvDirectUkernelScalar(size_t mr, size_t k, const float* a, const int32_t* offsets,
                             const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max);
#if defined(__x86_64__) || defined(_M_X64)
void ConvDirectUkernelAvx2(size_t mr, size_t k, const float* a, const int32_t* offsets,
                           const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max);
#endif

}  // namespace f32
}  // namespace layerq
