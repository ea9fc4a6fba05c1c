// AVX2 depthwise plane: 8 output columns per vector in the interior (every horizontal tap in
// bounds); stride 1 loads directly, stride 2 deinterleaves two loads; borders go scalar.
#include <immintrin.h>

#include <algorithm>

#include "common/unroll.h"
#include "kernels/f32-dwconv/f32-dwconv.h"

namespace layerq {
namespace f32 {
namespace {

// x[0], x[2], ..., x[14]: reads x[0..15].
inline __m256 LoadEven(const float* x) {
  const __m256 lo = _mm256_loadu_ps(x), hi = _mm256_loadu_ps(x + 8);
  const __m256 packed = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));  // a0 a2 b0 b2 | a4 a6 b4 b6
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(packed), _MM_SHUFFLE(3, 1, 2, 0)));
}

// Lane mask (all-ones int32 lanes) for the low 8 bits of `bits`.
inline __m256i LaneMask(uint32_t bits) {
  const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), sel), sel);
}

// Flat kernel body; kTaps > 0 fixes the tap count (weights held in registers when broadcast).
template <bool kLaneWeights, size_t kTaps>
void Flat(const DwFlatPlan& p, const float* src, const float* w, const float* bias, size_t v0, size_t v1,
          float* out) {
  const size_t taps = kTaps > 0 ? kTaps : p.taps;
  const __m256 vmin = _mm256_set1_ps(p.min), vmax = _mm256_set1_ps(p.max);
  __m256 wv[kTaps > 0 ? kTaps : 1];
  if (!kLaneWeights && kTaps > 0) {
    for (size_t t = 0; t < kTaps; ++t) wv[t] = _mm256_set1_ps(w[t]);
  }
  for (size_t v = v0; v < v1; ++v) {
    const float* sv = src + v * p.step;
    const uint32_t* m = p.masks + v * taps;
    __m256 acc = kLaneWeights ? _mm256_loadu_ps(bias + v * 8) : _mm256_set1_ps(*bias);
    const float* wl = w + v * taps * 8;
    for (size_t t = 0; t < taps; ++t) {
      const float* ptr = sv + p.offsets[t];
      const __m256 xv = m[t] == 0xff ? _mm256_loadu_ps(ptr) : _mm256_maskload_ps(ptr, LaneMask(m[t]));
      const __m256 wt = kLaneWeights ? _mm256_loadu_ps(wl + t * 8) : kTaps > 0 ? wv[t] : _mm256_set1_ps(w[t]);
      acc = _mm256_fmadd_ps(wt, xv, acc);
    }
    acc = _mm256_min_ps(_mm256_max_ps(acc, vmin), vmax);
    const uint32_t st = p.store[v];
    if (st == 0xff) {
      _mm256_storeu_ps(out + v * p.step, acc);
    } else {
      _mm256_maskstore_ps(out + v * p.step, LaneMask(st), acc);
    }
  }
}

}  // namespace

void DwConvFlatAvx2(const DwFlatPlan& p, const float* src, const float* w, const float* bias, size_t v0,
                    size_t v1, float* out) {
  if (p.lane_weights) {
    if (p.taps == 9) return Flat<true, 9>(p, src, w, bias, v0, v1, out);
    return Flat<true, 0>(p, src, w, bias, v0, v1, out);
  }
  if (p.taps == 9) return Flat<false, 9>(p, src, w, bias, v0, v1, out);
  return Flat<false, 0>(p, src, w, bias, v0, v1, out);
}

void DwConvPlaneAvx2(const float* x, size_t h, size_t w, const float* taps, float bias,
                     const ConvShape& s, size_t ho, size_t wo, float min, float max, float* out) {
  const size_t sw = s.sw;
  // Vector columns [ox_lo, ox_hi): first tap ix >= 0 and the last float read < w.
  const size_t span = (s.kw - 1) * s.dw;
  const size_t ox_lo = std::min(wo, (s.pl + sw - 1) / sw);
  const __m256 vmin = _mm256_set1_ps(min), vmax = _mm256_set1_ps(max);
  for (size_t oy = 0; oy < ho; ++oy) {
    float* orow = out + oy * wo;
    size_t ox = 0;
    for (; ox < ox_lo; ++ox) orow[ox] = std::min(std::max(DwConvPoint(x, h, w, taps, bias, s, oy, ox), min), max);
    if (sw == 1 || sw == 2) {
      // Last float read by a vector at ox: (ox + 7) * sw - pl + span (+1 for stride 2's pair load).
      for (; ox + 8 <= wo; ox += 8) {
        const size_t last = (ox + 7) * sw + span + (sw == 2 ? 1 : 0);
        if (last >= w + s.pl) break;
        __m256 acc = _mm256_set1_ps(bias);
        for (size_t ky = 0; ky < s.kh; ++ky) {
          const long iy = static_cast<long>(oy * s.sh + ky * s.dh) - static_cast<long>(s.pt);
          if (iy < 0 || iy >= static_cast<long>(h)) continue;
          const float* row = x + iy * w + (ox * sw - s.pl);
          for (size_t kx = 0; kx < s.kw; ++kx) {
            const __m256 t = _mm256_broadcast_ss(taps + ky * s.kw + kx);
            const float* p = row + kx * s.dw;
            acc = _mm256_fmadd_ps(t, sw == 1 ? _mm256_loadu_ps(p) : LoadEven(p), acc);
          }
        }
        _mm256_storeu_ps(orow + ox, _mm256_min_ps(_mm256_max_ps(acc, vmin), vmax));
      }
    }
    for (; ox < wo; ++ox) orow[ox] = std::min(std::max(DwConvPoint(x, h, w, taps, bias, s, oy, ox), min), max);
  }
}

}  // namespace f32
}  // namespace layerq

// ---------------------------------------------------------------------------------------------
// 3x3, pad 1, dilation 1, stride 1 or 2, row by row (DwConv3x3RowsAvx2 in f32-dwconv.h).

namespace layerq {
namespace f32 {
namespace {

// Lanes l with 0 <= col0 + l < w (all-ones int32 lanes).
inline __m256i ColMask(long col0, size_t w) {
  const __m256i idx = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(col0)));
  return _mm256_and_si256(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(-1)),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(w)), idx));
}

template <bool kMasked>
inline __m256 Load(const float* row, long col, size_t w) {
  if constexpr (kMasked) {
    return _mm256_maskload_ps(row + col, ColMask(col, w));
  } else {
    return _mm256_loadu_ps(row + col);
  }
}

// R output rows x V vectors of 8 pixels starting at output column ox. rows[i] is input row
// S * oy - 1 + i (or a zero row), i < S * (R - 1) + 3; kMasked: V == 1, loads masked to the
// input columns and the store to the output columns. Stride 2 keeps its deinterleaved vectors in
// lane order 0 1 4 5 2 3 6 7 (shuffle_ps without the cross-lane fix) and permutes the sums once.
template <int S, int R, int V, bool kMasked>
inline void Block(const float* const* rows, size_t w, size_t ox, size_t wo, const __m256* wt, __m256 vb,
                  __m256 vmin, __m256 vmax, float* const* orows) {
  constexpr int kRows = S * (R - 1) + 3;
  __m256 acc[R][V];
  Unroll<R>([&](auto r) { Unroll<V>([&](auto v) { acc[r][v] = vb; }); });
  Unroll<kRows>([&](auto i) {
    const float* row = rows[i];
    Unroll<V>([&](auto v) {
      const long o = static_cast<long>(ox + 8 * v);
      __m256 xv[3];
      if constexpr (S == 1) {
        Unroll<3>([&](auto kx) { xv[kx] = Load<kMasked>(row, o + static_cast<long>(kx) - 1, w); });
      } else {
        const __m256 a = Load<kMasked>(row, 2 * o, w), b = Load<kMasked>(row, 2 * o + 8, w);
        const __m256 c = Load<kMasked>(row, 2 * o - 1, w), d = Load<kMasked>(row, 2 * o + 7, w);
        xv[0] = _mm256_shuffle_ps(c, d, _MM_SHUFFLE(2, 0, 2, 0));  // columns 2x - 1
        xv[1] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // 2x
        xv[2] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));  // 2x + 1
      }
      Unroll<R>([&](auto r) {
        constexpr int ky = static_cast<int>(i) - S * static_cast<int>(r);
        if constexpr (ky >= 0 && ky < 3) {
          Unroll<3>([&](auto kx) { acc[r][v] = _mm256_fmadd_ps(wt[ky * 3 + kx], xv[kx], acc[r][v]); });
        }
      });
    });
  });
  Unroll<R>([&](auto r) {
    Unroll<V>([&](auto v) {
      __m256 y = _mm256_min_ps(_mm256_max_ps(acc[r][v], vmin), vmax);
      if constexpr (S == 2) y = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(y), _MM_SHUFFLE(3, 1, 2, 0)));
      float* dst = orows[r] + ox + 8 * v;
      if constexpr (kMasked) {
        _mm256_maskstore_ps(dst, ColMask(static_cast<long>(ox), wo), y);
      } else {
        _mm256_storeu_ps(dst, y);
      }
    });
  });
}

// Output rows oy .. oy + R - 1 into out (which holds rows from y0); x holds input rows from row0.
template <int S, int R>
void Rows(const float* x, size_t row0, size_t h, size_t w, size_t oy, size_t y0, const __m256* wt, __m256 vb,
          __m256 vmin, __m256 vmax, const float* zero, size_t wo, float* out) {
  constexpr int kRows = S * (R - 1) + 3;
  const float* rows[kRows];
  for (int i = 0; i < kRows; ++i) {
    const long iy = static_cast<long>(S * oy) - 1 + i;
    rows[i] = iy >= 0 && iy < static_cast<long>(h) ? x + (iy - static_cast<long>(row0)) * static_cast<long>(w) : zero;
  }
  float* orows[R];
  for (int r = 0; r < R; ++r) orows[r] = out + (oy - y0 + r) * wo;
  // A vector at ox reads columns [S * ox - 1, S * ox + 8] (stride 1) or [2 * ox - 1, 2 * ox + 15]
  // (stride 2) and writes [ox, ox + 8): full when all of them exist.
  auto full = [&](size_t ox) { return ox > 0 && ox + 8 <= wo && S * ox + 8 * S + (S == 1 ? 1 : 0) <= w; };
  size_t ox = 0;
  if (!full(0)) {
    Block<S, R, 1, true>(rows, w, 0, wo, wt, vb, vmin, vmax, orows);
    ox = 8;
  }
  for (; ox + 24 <= wo && full(ox + 16); ox += 24) Block<S, R, 3, false>(rows, w, ox, wo, wt, vb, vmin, vmax, orows);
  for (; ox < wo; ox += 8) {
    if (full(ox)) {
      Block<S, R, 1, false>(rows, w, ox, wo, wt, vb, vmin, vmax, orows);
    } else {
      Block<S, R, 1, true>(rows, w, ox, wo, wt, vb, vmin, vmax, orows);
    }
  }
}

}  // namespace

void DwConv3x3RowsAvx2(const float* x, size_t row0, size_t h, size_t w, const float* taps, float bias, size_t stride,
                       size_t y0, size_t y1, size_t wo, float min, float max, const float* zero, float* out) {
  __m256 wt[9];
  for (int t = 0; t < 9; ++t) wt[t] = _mm256_set1_ps(taps[t]);
  const __m256 vb = _mm256_set1_ps(bias), vmin = _mm256_set1_ps(min), vmax = _mm256_set1_ps(max);
  size_t oy = y0;
  if (stride == 1) {
    for (; oy + 2 <= y1; oy += 2) Rows<1, 2>(x, row0, h, w, oy, y0, wt, vb, vmin, vmax, zero, wo, out);
    for (; oy < y1; ++oy) Rows<1, 1>(x, row0, h, w, oy, y0, wt, vb, vmin, vmax, zero, wo, out);
  } else {
    for (; oy < y1; ++oy) Rows<2, 1>(x, row0, h, w, oy, y0, wt, vb, vmin, vmax, zero, wo, out);
  }
}

}  // namespace f32
}  // namespace layerq

// ---------------------------------------------------------------------------------------------
// 3x3, pad 1, dilation 1, stride 1 or 2 on a zero-padded copy of one small plane
// (DwConv3x3PaddedAvx2 in f32-dwconv.h): no load is masked, four output rows at a time.

namespace layerq {
namespace f32 {
namespace {

// Output rows oy .. oy + 3, vector of 8 pixels at output column ox, from padded rows
// S * oy + i (i < S * 3 + 3); the last vector of a row stores only wo - ox lanes.
template <int S>
inline void PaddedBlock(const float* xp, size_t ws, size_t oy, size_t ox, size_t wo, const __m256* wt, __m256 vb,
                        __m256 vmin, __m256 vmax, float* const* orows) {
  constexpr int kR = 4, kRows = S * (kR - 1) + 3;
  __m256 acc[kR];
  Unroll<kR>([&](auto r) { acc[r] = vb; });
  Unroll<kRows>([&](auto i) {
    const float* row = xp + (S * oy + i) * ws + S * ox;
    __m256 xv[3];
    if constexpr (S == 1) {
      Unroll<3>([&](auto kx) { xv[kx] = _mm256_loadu_ps(row + kx); });
    } else {
      const __m256 a = _mm256_loadu_ps(row + 1), b = _mm256_loadu_ps(row + 9);
      const __m256 c = _mm256_loadu_ps(row), d = _mm256_loadu_ps(row + 8);
      xv[0] = _mm256_shuffle_ps(c, d, _MM_SHUFFLE(2, 0, 2, 0));  // input columns 2x - 1
      xv[1] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // 2x
      xv[2] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));  // 2x + 1
    }
    Unroll<kR>([&](auto r) {
      constexpr int ky = static_cast<int>(i) - S * static_cast<int>(r);
      if constexpr (ky >= 0 && ky < 3) {
        Unroll<3>([&](auto kx) { acc[r] = _mm256_fmadd_ps(wt[ky * 3 + kx], xv[kx], acc[r]); });
      }
    });
  });
  const bool full = ox + 8 <= wo;
  const __m256i mask = full ? _mm256_set1_epi32(-1) : ColMask(0, wo - ox);
  Unroll<kR>([&](auto r) {
    __m256 y = _mm256_min_ps(_mm256_max_ps(acc[r], vmin), vmax);
    if constexpr (S == 2) y = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(y), _MM_SHUFFLE(3, 1, 2, 0)));
    if (full) {
      _mm256_storeu_ps(orows[r] + ox, y);
    } else {
      _mm256_maskstore_ps(orows[r] + ox, mask, y);
    }
  });
}

template <int S>
void Padded(const float* xp, size_t ws, const __m256* wt, __m256 vb, __m256 vmin, __m256 vmax, size_t ho, size_t wo,
            float* scratch, float* out) {
  for (size_t oy = 0; oy < ho; oy += 4) {
    float* orows[4];
    for (size_t r = 0; r < 4; ++r) orows[r] = oy + r < ho ? out + (oy + r) * wo : scratch;
    for (size_t ox = 0; ox < wo; ox += 8) PaddedBlock<S>(xp, ws, oy, ox, wo, wt, vb, vmin, vmax, orows);
  }
}

}  // namespace

void DwConv3x3PaddedAvx2(const float* x, size_t h, size_t w, float* xp, size_t ws, const float* taps, float bias,
                         size_t stride, size_t ho, size_t wo, float min, float max, float* scratch, float* out) {
  // The copy: inline vector moves (a memcpy call per row costs more than an 8x8 plane's FMAs).
  const __m256i tail = ColMask(0, w % 8);
  for (size_t iy = 0; iy < h; ++iy) {
    const float* src = x + iy * w;
    float* dst = xp + (iy + 1) * ws + 1;
    size_t ix = 0;
    for (; ix + 8 <= w; ix += 8) _mm256_storeu_ps(dst + ix, _mm256_loadu_ps(src + ix));
    if (ix < w) _mm256_maskstore_ps(dst + ix, tail, _mm256_maskload_ps(src + ix, tail));
  }
  __m256 wt[9];
  for (int t = 0; t < 9; ++t) wt[t] = _mm256_set1_ps(taps[t]);
  const __m256 vb = _mm256_set1_ps(bias), vmin = _mm256_set1_ps(min), vmax = _mm256_set1_ps(max);
  if (stride == 1) return Padded<1>(xp, ws, wt, vb, vmin, vmax, ho, wo, scratch, out);
  Padded<2>(xp, ws, wt, vb, vmin, vmax, ho, wo, scratch, out);
}

}  // namespace f32
}  // namespace layerq

// ---------------------------------------------------------------------------------------------
// 3x3, pad 1, stride 1 on 4x4 planes (DwConv3x3Plane4x4Avx2 in f32-dwconv.h): a plane is two
// vectors whose 128-bit halves are its rows, so the left/right neighbours are byte shifts within
// the halves (zero filled: the padding) and the rows above/below are half swaps.

namespace layerq {
namespace f32 {
namespace {

inline __m256 ShiftLeft1(__m256 v) {  // lane i of each row <- lane i - 1, lane 0 <- 0
  return _mm256_castsi256_ps(_mm256_slli_si256(_mm256_castps_si256(v), 4));
}
inline __m256 ShiftRight1(__m256 v) {  // lane i of each row <- lane i + 1, lane 3 <- 0
  return _mm256_castsi256_ps(_mm256_srli_si256(_mm256_castps_si256(v), 4));
}

// bias + the 3x3 taps over the rows above (u), at (c) and below (d) each output row.
inline __m256 Taps4(const float* t, __m256 acc, __m256 u, __m256 c, __m256 d) {
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 0), ShiftLeft1(u), acc);
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 1), u, acc);
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 2), ShiftRight1(u), acc);
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 3), ShiftLeft1(c), acc);
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 4), c, acc);
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 5), ShiftRight1(c), acc);
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 6), ShiftLeft1(d), acc);
  acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t + 7), d, acc);
  return _mm256_fmadd_ps(_mm256_broadcast_ss(t + 8), ShiftRight1(d), acc);
}

}  // namespace

void DwConv3x3Plane4x4Avx2(const float* x, size_t planes, const float* taps, const float* bias, float min, float max,
                           float* out) {
  const __m256 vmin = _mm256_set1_ps(min), vmax = _mm256_set1_ps(max);
  for (size_t j = 0; j < planes; ++j, x += 16, out += 16, taps += 9) {
    const __m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);  // rows 0, 1 | rows 2, 3
    const __m256 ua = _mm256_permute2f128_ps(a, a, 0x08);             // 0, row 0
    const __m256 mid = _mm256_permute2f128_ps(a, b, 0x21);            // row 1, row 2
    const __m256 db = _mm256_permute2f128_ps(b, b, 0x81);             // row 3, 0
    const __m256 vb = _mm256_broadcast_ss(bias + j);
    const __m256 oa = Taps4(taps, vb, ua, a, mid), ob = Taps4(taps, vb, mid, b, db);
    _mm256_storeu_ps(out, _mm256_min_ps(_mm256_max_ps(oa, vmin), vmax));
    _mm256_storeu_ps(out + 8, _mm256_min_ps(_mm256_max_ps(ob, vmin), vmax));
  }
}

}  // namespace f32
}  // namespace layerq
