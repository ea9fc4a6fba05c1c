// NEON depthwise plane: 4 output columns per vector in the interior (every horizontal tap in
// bounds); stride 1 loads directly, stride 2 deinterleaves with ld2; borders go scalar.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/f32-dwconv/f32-dwconv.h"

namespace layerq {
namespace f32 {

void DwConvPlaneNeon(const float* x, size_t h, size_t w, const float* taps, float bias, const ConvShape& s,
                     size_t ho, size_t wo, float min, float max, float* out) {
  const size_t sw = s.sw;
  const size_t span = (s.kw - 1) * s.dw;
  const size_t ox_lo = std::min(wo, (s.pl + sw - 1) / sw);
  const float32x4_t vmin = vdupq_n_f32(min), vmax = vdupq_n_f32(max);
  for (size_t oy = 0; oy < ho; ++oy) {
    float* orow = out + oy * wo;
    size_t ox = 0;
    for (; ox < ox_lo; ++ox) orow[ox] = std::min(std::max(DwConvPoint(x, h, w, taps, bias, s, oy, ox), min), max);
    if (sw == 1 || sw == 2) {
      // Last float read by a vector at ox: (ox + 3) * sw - pl + span (+1 for stride 2's pair load).
      for (; ox + 4 <= wo; ox += 4) {
        const size_t last = (ox + 3) * sw + span + (sw == 2 ? 1 : 0);
        if (last >= w + s.pl) break;
        float32x4_t acc = vdupq_n_f32(bias);
        for (size_t ky = 0; ky < s.kh; ++ky) {
          const long iy = static_cast<long>(oy * s.sh + ky * s.dh) - static_cast<long>(s.pt);
          if (iy < 0 || iy >= static_cast<long>(h)) continue;
          const float* row = x + iy * w + (ox * sw - s.pl);
          for (size_t kx = 0; kx < s.kw; ++kx) {
            const float* p = row + kx * s.dw;
            acc = vfmaq_n_f32(acc, sw == 1 ? vld1q_f32(p) : vld2q_f32(p).val[0], taps[ky * s.kw + kx]);
          }
        }
        vst1q_f32(orow + ox, vminq_f32(vmaxq_f32(acc, vmin), vmax));
      }
    }
    for (; ox < wo; ++ox) orow[ox] = std::min(std::max(DwConvPoint(x, h, w, taps, bias, s, oy, ox), min), max);
  }
}

}  // namespace f32
}  // namespace layerq
