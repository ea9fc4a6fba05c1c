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

}  // namespace f32
}  // namespace layerq
