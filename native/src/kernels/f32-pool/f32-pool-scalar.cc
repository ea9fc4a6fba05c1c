#include <algorithm>

#include "kernels/f32-pool/f32-pool.h"

namespace layerq {
namespace f32 {

float MaxPoolPoint(const float* x, size_t h, size_t w, const PoolShape& s, size_t oy, size_t ox) {
  const long y0 = static_cast<long>(oy * s.sh) - static_cast<long>(s.pt);
  const long x0 = static_cast<long>(ox * s.sw) - static_cast<long>(s.pl);
  const long ys = std::max(y0, 0L), ye = std::min(y0 + static_cast<long>(s.kh), static_cast<long>(h));
  const long xs = std::max(x0, 0L), xe = std::min(x0 + static_cast<long>(s.kw), static_cast<long>(w));
  float m = -__builtin_inff();
  for (long y = ys; y < ye; ++y) {
    for (long xx = xs; xx < xe; ++xx) m = std::max(m, x[y * static_cast<long>(w) + xx]);
  }
  return m;
}

float AvgPoolPoint(const float* x, size_t h, size_t w, const PoolShape& s, size_t oy, size_t ox) {
  const long y0 = static_cast<long>(oy * s.sh) - static_cast<long>(s.pt);
  const long x0 = static_cast<long>(ox * s.sw) - static_cast<long>(s.pl);
  // count_include_pad counts cells inside the padded input, not past it (ceil-mode overhang).
  const long ype = std::min(y0 + static_cast<long>(s.kh), static_cast<long>(h + s.pb));
  const long xpe = std::min(x0 + static_cast<long>(s.kw), static_cast<long>(w + s.pr));
  const long ys = std::max(y0, 0L), ye = std::min(y0 + static_cast<long>(s.kh), static_cast<long>(h));
  const long xs = std::max(x0, 0L), xe = std::min(x0 + static_cast<long>(s.kw), static_cast<long>(w));
  float sum = 0.0f;
  for (long y = ys; y < ye; ++y) {
    for (long xx = xs; xx < xe; ++xx) sum += x[y * static_cast<long>(w) + xx];
  }
  const long count = s.count_include_pad ? (ype - y0) * (xpe - x0) : (ye - ys) * (xe - xs);
  return count > 0 ? sum / static_cast<float>(count) : 0.0f;
}

void MaxPoolPlaneScalar(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out) {
  for (size_t oy = 0; oy < ho; ++oy) {
    for (size_t ox = 0; ox < wo; ++ox) out[oy * wo + ox] = MaxPoolPoint(x, h, w, s, oy, ox);
  }
}

void AvgPoolPlaneScalar(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out) {
  for (size_t oy = 0; oy < ho; ++oy) {
    for (size_t ox = 0; ox < wo; ++ox) out[oy * wo + ox] = AvgPoolPoint(x, h, w, s, oy, ox);
  }
}

float MeanScalar(const float* x, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += x[i];
  return n > 0 ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
}

}  // namespace f32
}  // namespace layerq
