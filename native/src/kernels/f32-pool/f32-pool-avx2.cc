// AVX2 pooling: 8 output columns per vector where the window is inside the input horizontally
// (stride 1 direct loads, stride 2 deinterleaved); borders and other strides go scalar.
#include <immintrin.h>

#include <algorithm>

#include "kernels/f32-pool/f32-pool.h"

namespace layerq {
namespace f32 {
namespace {

inline __m256 LoadStrided(const float* x, size_t stride) {
  if (stride == 1) return _mm256_loadu_ps(x);
  const __m256 lo = _mm256_loadu_ps(x), hi = _mm256_loadu_ps(x + 8);
  const __m256 packed = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(packed), _MM_SHUFFLE(3, 1, 2, 0)));
}

template <bool kMax>
void PoolPlane(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out) {
  const size_t sw = s.sw;
  const size_t ox_lo = std::min(wo, (s.pl + sw - 1) / sw);
  for (size_t oy = 0; oy < ho; ++oy) {
    float* orow = out + oy * wo;
    size_t ox = 0;
    auto point = [&](size_t c) { return kMax ? MaxPoolPoint(x, h, w, s, oy, c) : AvgPoolPoint(x, h, w, s, oy, c); };
    for (; ox < ox_lo; ++ox) orow[ox] = point(ox);
    const long y0 = static_cast<long>(oy * s.sh) - static_cast<long>(s.pt);
    const long ys = std::max(y0, 0L), ye = std::min(y0 + static_cast<long>(s.kh), static_cast<long>(h));
    if ((sw == 1 || sw == 2) && ys < ye) {
      // Interior columns share one divisor: the window is fully inside horizontally.
      const long rows = s.count_include_pad
                            ? std::min(y0 + static_cast<long>(s.kh), static_cast<long>(h + s.pb)) - y0
                            : ye - ys;
      const __m256 inv = _mm256_set1_ps(1.0f / static_cast<float>(rows * static_cast<long>(s.kw)));
      for (; ox + 8 <= wo; ox += 8) {
        const size_t last = (ox + 7) * sw + (s.kw - 1) + (sw == 2 ? 1 : 0);
        if (last >= w + s.pl) break;
        __m256 acc = _mm256_set1_ps(kMax ? -__builtin_inff() : 0.0f);
        for (long y = ys; y < ye; ++y) {
          const float* row = x + y * static_cast<long>(w) + (ox * sw - s.pl);
          for (size_t kx = 0; kx < s.kw; ++kx) {
            const __m256 v = LoadStrided(row + kx, sw);
            acc = kMax ? _mm256_max_ps(acc, v) : _mm256_add_ps(acc, v);
          }
        }
        _mm256_storeu_ps(orow + ox, kMax ? acc : _mm256_mul_ps(acc, inv));
      }
    }
    for (; ox < wo; ++ox) orow[ox] = point(ox);
  }
}

}  // namespace

void MaxPoolPlaneAvx2(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out) {
  PoolPlane<true>(x, h, w, s, ho, wo, out);
}

void AvgPoolPlaneAvx2(const float* x, size_t h, size_t w, const PoolShape& s, size_t ho, size_t wo, float* out) {
  PoolPlane<false>(x, h, w, s, ho, wo, out);
}

float MeanAvx2(const float* x, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(x + i));
    acc1 = _mm256_add_ps(acc1, _mm256_loadu_ps(x + i + 8));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
  double sum = 0.0;
  for (int l = 0; l < 8; ++l) sum += lanes[l];
  for (; i < n; ++i) sum += x[i];
  return n > 0 ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
}

}  // namespace f32
}  // namespace layerq
