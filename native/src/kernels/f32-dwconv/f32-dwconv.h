// f32 depthwise Conv2d (group == cin == cout) over NCHW.
//
// Two kernels per ISA:
// - the plane kernel (DwConvPlane*): one output plane from one input plane, any geometry;
//   the scalar one is the reference every path is tested against;
// - the flat kernel (DwConvFlat*): output pixels taken as a flat run of L-lane vectors (L = 16
//   AVX-512, 8 AVX2), each tap one masked load at a fixed offset from the vector's first pixel,
//   so image borders cost nothing but a precomputed lane mask. It reads a "phase plane" layout
//   whose row stride is the output width: the input itself for stride 1 with wo == w, else a
//   stride-phase split copy (DwConvPhaseSplit*). Planes of fewer than L output pixels pack
//   several channels into one vector (per-lane weights).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/f32-conv/f32-conv.h"

namespace layerq {
namespace f32 {

// out[ho, wo] = clamp(bias + sum_{ky,kx} w[ky * kw + kx] * x[iy, ix], min, max); taps that
// fall in the padding count as 0.
using DwConvPlaneFn = void (*)(const float* x, size_t h, size_t w, const float* taps, float bias,
                               const ConvShape& s, size_t ho, size_t wo, float min, float max,
                               float* out);

void DwConvPlaneScalar(const float* x, size_t h, size_t w, const float* taps, float bias,
                       const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out);

// Geometry of the flat kernel, built once per call (f32-dwconv.cc) and shared by all threads.
// Vector v covers output floats [v * step, v * step + lanes) of a block (lanes whose store bit
// is clear are not written); tap t of lane l reads src[v * step + offsets[t] + l] when bit l of
// masks[v * taps + t] is set, else 0.
struct DwFlatPlan {
  size_t lanes = 0, taps = 0, step = 0;
  const int32_t* offsets = nullptr;  // [taps]
  const uint32_t* masks = nullptr;   // [vectors][taps]
  const uint32_t* store = nullptr;   // [vectors]
  // false: w = taps[taps], bias = one float, broadcast to every lane (one channel per block);
  // true: w = [vectors][taps][lanes] and bias = [vectors][lanes], per-lane (packed channels).
  bool lane_weights = false;
  float min = 0, max = 0;
};

// Vectors [v0, v1) of one block: src and out point at the block's first float.
using DwConvFlatFn = void (*)(const DwFlatPlan& p, const float* src, const float* w, const float* bias,
                              size_t v0, size_t v1, float* out);

// Stride-2 phase split of `planes` planes of h x w (plane stride h * w): phase (ry, rx) of plane c
// goes to dst + (ry * 2 + rx) * phase_stride + c * plane_stride, row r at r * wo, holding
// x[2r + ry][2c + rx] for c < ceil((w - rx) / 2) (<= wo; other cells are left as they are).
using DwConvSplit2Fn = void (*)(const float* x, size_t planes, size_t h, size_t w, size_t wo, size_t plane_stride,
                                size_t phase_stride, float* dst);
void DwConvSplit2Scalar(const float* x, size_t planes, size_t h, size_t w, size_t wo, size_t plane_stride,
                        size_t phase_stride, float* dst);

// 3x3, pad 1, stride 1 or 2 with output rows of wo | lanes pixels (MobileNet's depthwise layers
// from 16x16 down): each input vector is loaded once and shifted in registers (one output row
// left/right, one row up/down) instead of one masked unaligned load per tap. Vector v covers
// output floats [v * lanes, v * lanes + lanes) of a block: one plane (packed = false; src the
// input plane for stride 1, for stride 2 four stride-phase planes of ho x wo (row stride wo;
// (0,0), (0,1), (1,0), (1,1), phase_stride floats apart, cells past the input zero)), or
// lanes / (ho * wo) whole planes (packed = true, per-lane weights as in DwFlatPlan, or the
// plain taps when a plane fills the vector).
struct Dw3x3Plan {
  size_t wo = 0, stride = 1, vectors = 0, phase_stride = 0;
  size_t tail = 0;  // valid lanes of the last vector (of the plane, or of the image when packed)
  bool packed = false;
  bool one_plane = false;  // packed with 16-pixel planes: w = taps [c][9], bias [c], broadcast
  uint32_t left = 0, right = 0;  // lanes whose left (ox > 0) / right (ox < wo - 1) neighbour exists
  uint32_t top = 0, bottom = 0;  // packed: lanes whose row above (oy > 0) / below (oy < ho - 1) exists
  // Stride 2 read directly (h == 2 * ho, w == 2 * wo, no phase split): the input behind vector v
  // is the 64 floats at src + v * 64; phase vector k lane l is float gather[k][l] of them (bit 4:
  // which of a pair of 16-float loads; bit 5 of it set in blend[k]: the second pair).
  bool direct = false;
  int32_t gather[4][16] = {};
  uint32_t blend[4] = {};
  float min = 0, max = 0;
};
using DwConv3x3Fn = void (*)(const Dw3x3Plan& p, const float* src, const float* w, const float* bias, size_t v0,
                             size_t v1, float* out);

// Output rows [y0, y1) of one plane of the 3x3 row kernel (DwConv3x3RowsAvx2 below).
using DwConv3x3RowsFn = void (*)(const float* x, size_t row0, size_t h, size_t w, const float* taps, float bias,
                                 size_t stride, size_t y0, size_t y1, size_t wo, float min, float max,
                                 const float* zero, float* out);

#if defined(__x86_64__) || defined(_M_X64)
void DwConv3x3Avx512(const Dw3x3Plan& p, const float* src, const float* w, const float* bias, size_t v0, size_t v1,
                     float* out);
// 3x3, pad 1, dilation 1, stride 1 or 2, one plane, row by row: 8-pixel vectors of an output
// row, each tap an unaligned load (stride 2: two pairs of loads deinterleaved), lane masks only on
// a row's first and last vectors; stride 1 runs two output rows at a time (they share two input
// rows) and three vectors at a time in the interior (independent accumulators). Rows above or
// below the plane read `zero` (at least w + 16 zero floats). A window of the plane: output rows
// [y0, y1) (out holds them, wo floats apart) from x holding the plane's rows from row0 on (every
// row of [0, h) those output rows read; the whole plane: row0 = 0, y0 = 0, y1 = ho).
void DwConv3x3RowsAvx2(const float* x, size_t row0, size_t h, size_t w, const float* taps, float bias, size_t stride,
                       size_t y0, size_t y1, size_t wo, float min, float max, const float* zero, float* out);
// 3x3, pad 1, dilation 1, stride 1 or 2, one small plane (output rows of 4 to 23 pixels: the row
// kernel above would mask every vector) read from a zero-padded copy that it writes first: input
// row iy (of x, h x w) at xp + (iy + 1) * ws + 1. Every other cell of xp must be zero (the kernel
// never writes them), ws >= w + 2 and ws >= wo8 + 2 (stride 1) or 2 * wo8 + 1 (stride 2), and xp
// holds max(h + 2, S * (ho4 - 1) + 3) rows (wo8, ho4: wo and ho rounded up to multiples of 8 and 4).
// Four output rows at a time; rows past ho go to `scratch` (wo8 floats).
void DwConv3x3PaddedAvx2(const float* x, size_t h, size_t w, float* xp, size_t ws, const float* taps, float bias,
                         size_t stride, size_t ho, size_t wo, float min, float max, float* scratch, float* out);
// 3x3, pad 1, stride 1, dilation 1 on `planes` consecutive 4x4 planes (x and out: 16 floats each;
// taps [planes][9], bias [planes]).
void DwConv3x3Plane4x4Avx2(const float* x, size_t planes, const float* taps, const float* bias, float min, float max,
                           float* out);
void DwConvPlaneAvx2(const float* x, size_t h, size_t w, const float* taps, float bias,
                     const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out);
void DwConvPlaneAvx512(const float* x, size_t h, size_t w, const float* taps, float bias,
                       const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out);
void DwConvFlatAvx2(const DwFlatPlan& p, const float* src, const float* w, const float* bias, size_t v0,
                    size_t v1, float* out);
void DwConvFlatAvx512(const DwFlatPlan& p, const float* src, const float* w, const float* bias, size_t v0,
                      size_t v1, float* out);
void DwConvSplit2Avx512(const float* x, size_t planes, size_t h, size_t w, size_t wo, size_t plane_stride,
                        size_t phase_stride, float* dst);
#endif

#if defined(__aarch64__)
void DwConvPlaneNeon(const float* x, size_t h, size_t w, const float* taps, float bias,
                     const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out);
#endif

// Depthwise conv of a packed depthwise PackedConv (f32-conv.h): x [n, c, h, w] -> out [n, c, ho, wo].
// Picks the flat kernel of the active ISA when the geometry allows, else the plane kernel.
void DepthwiseConv2d(const PackedConv& pc, const float* x, size_t n, size_t h, size_t w, float* out);

// Output rows [y0, y1) of one image's depthwise conv, on the calling thread, from x holding the
// image's input rows from row0 on (every row of [0, h) those output rows read; channel c's at
// x + c * x_stride) into out [c][y1 - y0][wo]. False, with nothing written, where no row kernel
// applies (the caller then runs DepthwiseConv2d on the rows with the pads adjusted).
bool DepthwiseConv2dRows(const PackedConv& pc, const float* x, size_t row0, size_t x_stride, size_t h, size_t w,
                         size_t y0, size_t y1, float* out);

// Whether rows of this conv's output computed apart (DepthwiseConv2dRows, or DepthwiseConv2d on
// some input rows with the pads adjusted) equal DepthwiseConv2d's bit for bit on the active
// path: every kernel sums the bias and then the taps in order, on any rows, except the AVX-512
// register-shift kernel (output rows of a divisor of 16 pixels), which sums each kernel row first.
bool DepthwiseRowsExact(const PackedConv& pc, size_t wo);

// One output element with full bounds checks (borders of the SIMD plane paths use it too).
inline float DwConvPoint(const float* x, size_t h, size_t w, const float* taps, float bias,
                         const ConvShape& s, size_t oy, size_t ox) {
  float acc = bias;
  for (size_t ky = 0; ky < s.kh; ++ky) {
    const long iy = static_cast<long>(oy * s.sh + ky * s.dh) - static_cast<long>(s.pt);
    if (iy < 0 || iy >= static_cast<long>(h)) continue;
    for (size_t kx = 0; kx < s.kw; ++kx) {
      const long ix = static_cast<long>(ox * s.sw + kx * s.dw) - static_cast<long>(s.pl);
      if (ix < 0 || ix >= static_cast<long>(w)) continue;
      acc += taps[ky * s.kw + kx] * x[iy * static_cast<long>(w) + ix];
    }
  }
  return acc;
}

}  // namespace f32
}  // namespace layerq
