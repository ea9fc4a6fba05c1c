// AVX-512 depthwise plane: 16 output columns per vector in the interior (every horizontal tap in
// bounds); stride 1 loads directly, stride 2 deinterleaves two loads; borders go scalar.
#include <immintrin.h>

#include <algorithm>

#include "kernels/f32-dwconv/f32-dwconv.h"

namespace layerq {
namespace f32 {
namespace {

// x[0], x[2], ..., x[30]: reads x[0..31].
inline __m512 LoadEven(const float* x) {
  const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_permutex2var_ps(_mm512_loadu_ps(x), idx, _mm512_loadu_ps(x + 16));
}

}  // namespace

void DwConvPlaneAvx512(const float* x, size_t h, size_t w, const float* taps, float bias,
                       const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out) {
  const size_t sw = s.sw;
  // Vector columns [ox_lo, ox_hi): first tap ix >= 0 and the last float read < w.
  const size_t span = (s.kw - 1) * s.dw;
  const size_t ox_lo = std::min(wo, (s.pl + sw - 1) / sw);
  const __m512 vmin = _mm512_set1_ps(min), vmax = _mm512_set1_ps(max);
  for (size_t oy = 0; oy < ho; ++oy) {
    float* orow = out + oy * wo;
    size_t ox = 0;
    for (; ox < ox_lo; ++ox) orow[ox] = std::min(std::max(DwConvPoint(x, h, w, taps, bias, s, oy, ox), min), max);
    if (sw == 1 || sw == 2) {
      // Last float read by a vector at ox: (ox + 15) * sw - pl + span (+1 for stride 2's pair load).
      for (; ox + 16 <= wo; ox += 16) {
        const size_t last = (ox + 15) * sw + span + (sw == 2 ? 1 : 0);
        if (last >= w + s.pl) break;
        __m512 acc = _mm512_set1_ps(bias);
        for (size_t ky = 0; ky < s.kh; ++ky) {
          const long iy = static_cast<long>(oy * s.sh + ky * s.dh) - static_cast<long>(s.pt);
          if (iy < 0 || iy >= static_cast<long>(h)) continue;
          const float* row = x + iy * w + (ox * sw - s.pl);
          for (size_t kx = 0; kx < s.kw; ++kx) {
            const __m512 t = _mm512_set1_ps(*(taps + ky * s.kw + kx));
            const float* p = row + kx * s.dw;
            acc = _mm512_fmadd_ps(t, sw == 1 ? _mm512_loadu_ps(p) : LoadEven(p), acc);
          }
        }
        _mm512_storeu_ps(orow + ox, _mm512_min_ps(_mm512_max_ps(acc, vmin), vmax));
      }
    }
    for (; ox < wo; ++ox) orow[ox] = std::min(std::max(DwConvPoint(x, h, w, taps, bias, s, oy, ox), min), max);
  }
}

}  // namespace f32
}  // namespace layerq
