// f32 2D pooling over NCHW planes (ONNX MaxPool / AveragePool / GlobalAveragePool semantics).
#pragma once
#include <cstddef>

namespace layerq {
namespace f32 {

struct PoolShape {
  size_t kh = 1, kw = 1, sh = 1, sw = 1;
  size_t pt = 0, pl = 0, pb = 0, pr = 0;  // pads: top, left, bottom, right
  bool ceil_mode = false;
  bool count_include_pad = false;  // average pool divisor counts pad cells
};

// ONNX/PyTorch output size: floor or ceil of (in + pads - k) / s + 1, and in ceil mode the
// last window must start inside the input or the left/top padding.
size_t PoolOutDim(size_t in, size_t k, size_t stride, size_t pad0, size_t pad1, bool ceil_mode);

// One plane: x [h, w] -> out [ho, wo].
using PoolPlaneFn = void (*)(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho,
                             size_t wo, float* out);
void MaxPoolPlaneScalar(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out);
void AvgPoolPlaneScalar(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out);
using MeanFn = float (*)(const float* x, size_t n);
float MeanScalar(const float* x, size_t n);
#if defined(__x86_64__) || defined(_M_X64)
void MaxPoolPlaneAvx2(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out);
void AvgPoolPlaneAvx2(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out);
float MeanAvx2(const float* x, size_t n);
#endif

// Single output cell of the scalar reference (also the border path of the SIMD kernels).
float MaxPoolPoint(const float* x, size_t h, size_t w, const PoolShape& s, size_t oy, size_t ox);
float AvgPoolPoint(const float* x, size_t h, size_t w, const PoolShape& s, size_t oy, size_t ox);

// x [n, c, h, w] -> out [n, c, ho, wo]; multithreaded over planes.
void MaxPool2d(const float* x, size_t n, size_t c, size_t h, size_t w, const PoolShape& s, float* out);
void AvgPool2d(const float* x, size_t n, size_t c, size_t h, size_t w, const PoolShape& s, float* out);
// x [planes, hw] -> out [planes].
void GlobalAvgPool(const float* x, size_t planes, size_t hw, float* out);

}  // namespace f32
}  // namespace layerq
