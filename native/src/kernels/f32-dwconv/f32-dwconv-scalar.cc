#include <algorithm>

#include "kernels/f32-dwconv/f32-dwconv.h"

namespace layerq {
namespace f32 {

void DwConvPlaneScalar(const float* x, size_t h, size_t w, const float* taps, float bias,
                       const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out) {
  for (size_t oy = 0; oy < ho; ++oy) {
    for (size_t ox = 0; ox < wo; ++ox) {
      out[oy * wo + ox] = std::min(std::max(DwConvPoint(x, h, w, taps, bias, s, oy, ox), min), max);
    }
  }
}

void DwConvSplit2Scalar(const float* x, size_t planes, size_t h, size_t w, size_t wo, size_t plane_stride,
                        size_t phase_stride, float* dst) {
  for (size_t c = 0; c < planes; ++c) {
    for (size_t iy = 0; iy < h; ++iy) {
      const float* row = x + (c * h + iy) * w;
      float* even = dst + (iy % 2) * 2 * phase_stride + c * plane_stride + (iy / 2) * wo;
      float* odd = even + phase_stride;
      for (size_t i = 0; 2 * i < w; ++i) even[i] = row[2 * i];
      for (size_t i = 0; 2 * i + 1 < w; ++i) odd[i] = row[2 * i + 1];
    }
  }
}

}  // namespace f32
}  // namespace layerq
