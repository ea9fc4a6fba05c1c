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

// Flat kernel body; kTaps > 0 fixes the tap count (weights held in registers when broadcast).
template <bool kLaneWeights, size_t kTaps>
void Flat(const DwFlatPlan& p, const float* src, const float* w, const float* bias, size_t v0, size_t v1,
          float* out) {
  const size_t taps = kTaps > 0 ? kTaps : p.taps;
  const __m512 vmin = _mm512_set1_ps(p.min), vmax = _mm512_set1_ps(p.max);
  __m512 wv[kTaps > 0 ? kTaps : 1];
  if (!kLaneWeights && kTaps > 0) {
    for (size_t t = 0; t < kTaps; ++t) wv[t] = _mm512_set1_ps(w[t]);
  }
  for (size_t v = v0; v < v1; ++v) {
    const float* sv = src + v * p.step;
    const uint32_t* m = p.masks + v * taps;
    __m512 acc = kLaneWeights ? _mm512_loadu_ps(bias + v * 16) : _mm512_set1_ps(*bias);
    const float* wl = w + v * taps * 16;
    for (size_t t = 0; t < taps; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m[t]), sv + p.offsets[t]);
      const __m512 wt = kLaneWeights ? _mm512_loadu_ps(wl + t * 16) : kTaps > 0 ? wv[t] : _mm512_set1_ps(w[t]);
      acc = _mm512_fmadd_ps(wt, xv, acc);
    }
    acc = _mm512_min_ps(_mm512_max_ps(acc, vmin), vmax);
    const __mmask16 st = static_cast<__mmask16>(p.store[v]);
    if (st == 0xffff) {
      _mm512_storeu_ps(out + v * p.step, acc);
    } else {
      _mm512_mask_storeu_ps(out + v * p.step, st, acc);
    }
  }
}

}  // namespace

void DwConvFlatAvx512(const DwFlatPlan& p, const float* src, const float* w, const float* bias, size_t v0,
                      size_t v1, float* out) {
  if (p.lane_weights) {
    if (p.taps == 9) return Flat<true, 9>(p, src, w, bias, v0, v1, out);
    return Flat<true, 0>(p, src, w, bias, v0, v1, out);
  }
  if (p.taps == 9) return Flat<false, 9>(p, src, w, bias, v0, v1, out);
  return Flat<false, 0>(p, src, w, bias, v0, v1, out);
}

void DwConvSplit2Avx512(const float* x, size_t planes, size_t h, size_t w, size_t wo, size_t plane_stride,
                        size_t phase_stride, float* dst) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (size_t c = 0; c < planes; ++c) {
    for (size_t iy = 0; iy < h; ++iy) {
      const float* row = x + (c * h + iy) * w;
      float* de = dst + (iy % 2) * 2 * phase_stride + c * plane_stride + (iy / 2) * wo;
      float* dodd = de + phase_stride;
      // 32 input columns -> 16 even, 16 odd per step.
      for (size_t i = 0; i < w; i += 32) {
        const size_t n = std::min<size_t>(32, w - i), ne = (n + 1) / 2, no = n / 2;
        const __mmask16 lo = static_cast<__mmask16>(n >= 16 ? 0xffff : (1u << n) - 1);
        const __mmask16 hi = static_cast<__mmask16>(n <= 16 ? 0 : n >= 32 ? 0xffff : (1u << (n - 16)) - 1);
        const __m512 a = _mm512_maskz_loadu_ps(lo, row + i), b = _mm512_maskz_loadu_ps(hi, row + i + 16);
        _mm512_mask_storeu_ps(de + i / 2, static_cast<__mmask16>(ne >= 16 ? 0xffff : (1u << ne) - 1),
                              _mm512_permutex2var_ps(a, even, b));
        _mm512_mask_storeu_ps(dodd + i / 2, static_cast<__mmask16>(no >= 16 ? 0xffff : (1u << no) - 1),
                              _mm512_permutex2var_ps(a, odd, b));
      }
    }
  }
}

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
