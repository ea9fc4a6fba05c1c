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

// Segments of 8 output pixels per tile for the scalar and AVX2 kernels (4 x 24 accumulators).
constexpr size_t kDirectSegments = 3;
// AVX-512 kernels: segments of 16 pixels, up to 6 per tile (4 x 96 accumulators, 24 zmm).
constexpr size_t kDirectSegmentsAvx512 = 6;
constexpr size_t kMaxDirectSegments = 6;

// A tile: up to kMaxDirectSegments segments of `width` output pixels (8, or 16 for AVX-512) of
// one output row each, or, for AVX-512 on output rows of at most 8 pixels, "two-row" segments:
// lanes 0..7 are pixels of one row (b, c, len) and lanes 8..15 of the next row (b2, c2, len2).
struct DirectTile {
  size_t count = 0;                          // segments used, 1..kMaxDirectSegments
  const float* b[kMaxDirectSegments] = {};   // input at tap offset 0 for the segment's first pixel
  float* c[kMaxDirectSegments] = {};         // output of row 0 (first channel of the A panel)
  size_t len[kMaxDirectSegments] = {};       // valid pixels of the segment, 1..width
  // Two-row segments only (else unused): the second row's input, output and valid pixels
  // (0..8; when 0, b2 repeats b so that the unused lanes still read in bounds).
  const float* b2[kMaxDirectSegments] = {};
  float* c2[kMaxDirectSegments] = {};
  size_t len2[kMaxDirectSegments] = {};
};

// c[v][r * ldc + j] = clamp(row_bias[r] + sum_k a[k * 4 + r] * b[v][offsets[k] + j], min, max)
// for r < mr, j < len[v] (and likewise c2/b2/len2 for two-row segments). Reads `width` floats
// at every b[v] + offsets[k] (8 floats at b[v] and b2[v] for two-row segments).
using ConvDirectUkernelFn = void (*)(size_t mr, size_t k, const float* a, const int32_t* offsets,
                                     const DirectTile& tile, size_t ldc, const float* row_bias,
                                     float min, float max);

void ConvDirectUkernelScalar(size_t mr, size_t k, const float* a, const int32_t* offsets,
                             const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max);
#if defined(__x86_64__) || defined(_M_X64)
void ConvDirectUkernelAvx2(size_t mr, size_t k, const float* a, const int32_t* offsets,
                           const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max);
// Half segments, up to kDirectSegments per tile: lanes 0..3 read b[v] and write c[v] (len[v] of
// them), lanes 4..7 read b2[v] and write c2[v] (len2[v], 0..4; when 0, b2 repeats b). Pointwise
// convs on 2x2 maps: each half one image's 4 pixels, so the batch needs no copy into rows.
void ConvDirectUkernelAvx2Halves(size_t mr, size_t k, const float* a, const int32_t* offsets,
                                 const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max);
// 16-pixel segments, up to kDirectSegmentsAvx512 per tile.
void ConvDirectUkernelAvx512(size_t mr, size_t k, const float* a, const int32_t* offsets,
                             const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max);
// Two-row segments (output rows of <= 8 pixels), up to kDirectSegmentsAvx512 per tile.
void ConvDirectUkernelAvx512TwoRow(size_t mr, size_t k, const float* a, const int32_t* offsets,
                                   const DirectTile& tile, size_t ldc, const float* row_bias,
                                   float min, float max);
#endif
#if defined(__aarch64__)
// 8-pixel segments (two q registers), up to kDirectSegments per tile.
void ConvDirectUkernelNeon(size_t mr, size_t k, const float* a, const int32_t* offsets,
                           const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max);
#endif

}  // namespace f32
}  // namespace layerq
