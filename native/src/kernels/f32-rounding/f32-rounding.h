// Weight rounding fitted to a layer's calibration inputs (GPTQ / OBQ-style local
// reconstruction, Frantar et al. 2022): instead of rounding each weight to its nearest grid
// point, round input columns one at a time and push each rounding error onto the columns not
// yet rounded, weighted by the inverse Hessian H = sum x x^T of the layer's inputs, so that
// ||W X - s Q X||^2 over the calibration inputs X stays small.
//
// Layouts (all row-major):
// - Gram / Hessian h: double [group][K][K], K = (Cin / group) * kh * kw for Conv, the input
//   width for Gemm. A patch's elements are ordered (ci, ky, kx), the order of one output
//   channel's weights in the ONNX Conv weight [Cout, Cin / group, kh, kw].
// - weights w: float [Cout][K] (row c = output channel c, flattened as the ONNX weight); rows
//   [g * Cout / group, (g + 1) * Cout / group) belong to group g.
// - codes: int8 [Cout][K].
// Portable C++ only (no SIMD paths): the work is O(K^3) per group plus O(rows K^2) for the
// Gram matrix, small next to calibration itself.
#pragma once
#include <cstddef>
#include <cstdint>

namespace layerq {
namespace f32 {

struct GramConvShape {
  size_t n = 0, c = 0, h = 0, w = 0;  // input [N, C, H, W]
  size_t kh = 1, kw = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  size_t dilation_h = 1, dilation_w = 1;
  size_t group = 1;
  size_t K() const { return c / group * kh * kw; }
  // Output size; 0 when the kernel extent exceeds the padded input.
  size_t OutH() const;
  size_t OutW() const;
};

// h[g] += sum over sampled output positions of patch_g patch_g^T, zero padding giving zeros.
// Positions are the flattened (n, oy, ox) indices 0, stride, 2 stride, ... (stride >= 1);
// returns how many were added (the same for every group). Each entry of h is summed in
// ascending position order by a single thread, so the result does not depend on the thread
// count. Throws std::invalid_argument on an inconsistent shape.
size_t AccumulateConvGram(const GramConvShape& s, const float* x, size_t position_stride, double* h);

// Gemm form: x [rows][k]; rows 0, stride, 2 stride, ... are added to h [k][k].
size_t AccumulateGemmGram(const float* x, size_t rows, size_t k, size_t row_stride, double* h);

struct FitRoundingParams {
  size_t cout = 0, k = 0, group = 1;
  const float* scale = nullptr;  // [scale_count]: 1 (per tensor) or cout, finite and > 0
  size_t scale_count = 1;
  int32_t qmin = -127, qmax = 127;  // within [-128, 127]
  double damp = 0.01;               // relative: damp * mean(diag H) is added to the diagonal
};

// GPTQ rounding of w [cout][k] against h [group][k][k] into codes [cout][k]:
//   q_k = clamp(roundHalfEven(w_k / s_c), qmin, qmax) (double), err = (w_k - q_k s_c) / U_kk,
//   w_j -= err U_kj for j > k, where U is the upper Cholesky factor of (H + damping)^-1.
// Inputs never seen (H_kk == 0) get H_kk = 1: their columns round to nearest. When the damped
// H of a group is not positive definite, damping is raised x10 up to 4 times, then the group
// falls back to nearest rounding. Returns the number of groups that fell back.
size_t FitRounding(const FitRoundingParams& p, const float* w, const double* h, int8_t* codes);

}  // namespace f32
}  // namespace layerq
