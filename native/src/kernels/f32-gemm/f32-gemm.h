// f32 GEMM: packed-panel layout, microkernel contract and the driver (bias + clamp epilogue).
//
// The microkernel computes a kMR x kNR tile of C = A * B where both operands come packed:
//   A panel: K x kMR floats, k-major (a[k * kMR + r] is row r, column k), rows past M are 0.
//   B panel: K x kNR floats, k-major (b[k * kNR + j] is row k, column j), columns past N are 0.
// Both ISAs share these layouts, so weights packed once serve whichever path is active.
// Conv uses weights as A (rows = output channels) and im2col pixels as B (columns = pixels, so
// NCHW rows are stored contiguously); Gemm uses activations as A and the constant weight as B.
#pragma once
#include <cstddef>
#include <vector>

#include "common/cpu.h"

namespace layerq {
namespace f32 {

constexpr size_t kMR = 4;
constexpr size_t kNR = 24;

// Epilogue of a tile: acc starts at row_bias[r] (per output row, may be null) plus col_bias[j]
// (per column, may be null), then C = clamp(acc + A*B, min, max). Only the top-left mr x nc
// corner (mr <= kMR, nc <= kNR) is stored, row r at c + r * ldc.
struct GemmEpilogue {
  const float* row_bias;
  const float* col_bias;
  float min;
  float max;
};

using GemmUkernelFn = void (*)(size_t mr, size_t nc, size_t k, const float* a, const float* b,
                               float* c, size_t ldc, const GemmEpilogue& ep);

void GemmUkernel4x24Scalar(size_t mr, size_t nc, size_t k, const float* a, const float* b,
                           float* c, size_t ldc, const GemmEpilogue& ep);
#if defined(__x86_64__) || defined(_M_X64)
void GemmUkernel4x24Avx2(size_t mr, size_t nc, size_t k, const float* a, const float* b,
                         float* c, size_t ldc, const GemmEpilogue& ep);
void GemmUkernel4x24Avx512(size_t mr, size_t nc, size_t k, const float* a, const float* b,
                           float* c, size_t ldc, const GemmEpilogue& ep);
#endif
#if defined(__aarch64__)
void GemmUkernel4x24Neon(size_t mr, size_t nc, size_t k, const float* a, const float* b,
                         float* c, size_t ldc, const GemmEpilogue& ep);
#endif

// The GEMM microkernels of one ISA path (as Q8GemmUkernels for int8): chosen once per call
// from ActiveIsa(), never by a switch in each entry point.
struct GemmUkernels {
  GemmUkernelFn gemm;  // kMR x kNR tile
};
// The table of `isa` (every path has one: the scalar table is the reference).
const GemmUkernels& GemmUkernelsFor(Isa isa);

// Packs rows [m0, m0 + mr) of a row-major matrix (element (m, k) at src[m * ld + k]) into one
// A panel of K x kMR floats, zero-filling rows past mr.
void PackAPanel(const float* src, size_t ld, size_t mr, size_t k, float* dst);

// Constant right-hand side of Y = alpha * A * B + beta * bias, packed once.
struct PackedGemmB {
  size_t k = 0, n = 0;
  std::vector<float> panels;  // ceil(n / kNR) panels of k x kNR, alpha folded in
  std::vector<float> bias;    // beta * bias, padded to a multiple of kNR (zeros without bias)
  float min = -__builtin_inff(), max = __builtin_inff();
};

// b is [K, N] row-major (trans_b false) or [N, K] (trans_b true); bias [N] or null.
PackedGemmB PackGemmB(const float* b, size_t k, size_t n, bool trans_b, const float* bias,
                      float alpha, float beta, float min, float max);

// out[M, N] = clamp(a[M, K] * B + bias). Multithreaded over M x N tiles.
void Gemm(const PackedGemmB& packed, const float* a, size_t m, float* out);

}  // namespace f32
}  // namespace layerq
