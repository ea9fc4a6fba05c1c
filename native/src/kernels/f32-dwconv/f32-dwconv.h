// f32 depthwise Conv2d (group == cin == cout), direct: one output plane from one input plane.
#pragma once
#include <cstddef>

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
#if defined(__x86_64__) || defined(_M_X64)
void DwConvPlaneAvx2(const float* x, size_t h, size_t w, const float* taps, float bias,
                     const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out);
void DwConvPlaneAvx512(const float* x, size_t h, size_t w, const float* taps, float bias,
                       const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out);
#endif

// One output element with full bounds checks (borders of the SIMD path use it too).
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
