// AVX-512 depthwise 3x3, pad 1, stride 1/2 (Dw3x3Plan in f32-dwconv.h): per vector, one load per
// input (phase) plane; the left/right neighbours come from valignd with lane masks at row ends,
// the per-kernel-row sums h0, h1, h2 are combined by shifting h0 down and h2 up one output row
// (wo lanes; across vectors when a plane spans several).
#include <immintrin.h>

#include <algorithm>

#include "kernels/f32-dwconv/f32-dwconv.h"

namespace layerq {
namespace f32 {
namespace {

// result[l] = hi:lo concatenated, from lane l + kShift (kShift in [0, 16]).
template <int kShift>
inline __m512 Align(__m512 hi, __m512 lo) {
  if constexpr (kShift == 0) {
    return lo;
  } else if constexpr (kShift == 16) {
    return hi;
  } else {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), kShift));
  }
}
template <int kShift>
inline __m512 AlignZ(__mmask16 m, __m512 hi, __m512 lo) {
  if constexpr (kShift == 0) {
    return _mm512_maskz_mov_ps(m, lo);
  } else if constexpr (kShift == 16) {
    return _mm512_maskz_mov_ps(m, hi);
  } else {
    return _mm512_castsi512_ps(
        _mm512_maskz_alignr_epi32(m, _mm512_castps_si512(hi), _mm512_castps_si512(lo), kShift));
  }
}

struct Rows {
  __m512 h0, h1, h2;  // kernel rows 0, 1, 2 summed over kx, at the output pixel's own position
};

template <int kW, int kS, bool kPacked, bool kDirect>
void Conv3x3(const Dw3x3Plan& p, const float* src, const float* w, const float* bias, size_t v0, size_t v1,
             float* out) {
  const __m512 z = _mm512_setzero_ps();
  const __mmask16 ml = static_cast<__mmask16>(p.left), mr = static_cast<__mmask16>(p.right);
  const __mmask16 mt = static_cast<__mmask16>(p.top), mb = static_cast<__mmask16>(p.bottom);
  const __mmask16 tail = static_cast<__mmask16>(p.tail >= 16 ? 0xffff : (1u << p.tail) - 1);
  const __m512 vmin = _mm512_set1_ps(p.min), vmax = _mm512_set1_ps(p.max);
  const size_t last = p.vectors - 1, ps = p.phase_stride;
  __m512 wb[9], bb = z;
  if (!kPacked) {
    for (int t = 0; t < 9; ++t) wb[t] = _mm512_set1_ps(w[t]);
    bb = _mm512_set1_ps(*bias);
  }
  auto load = [&](const float* ptr, size_t v) {
    return v == last && p.tail < 16 ? _mm512_maskz_loadu_ps(tail, ptr) : _mm512_loadu_ps(ptr);
  };
  // Sums of one kernel row: taps (a, b, c) on (left neighbour, centre, right neighbour).
  auto row = [](const __m512* wt, int k, __m512 l, __m512 c, __m512 r) {
    return _mm512_fmadd_ps(wt[k + 2], r, _mm512_fmadd_ps(wt[k + 1], c, _mm512_mul_ps(wt[k], l)));
  };
  auto rows = [&](size_t v, const __m512* wt) {
    Rows h;
    const float* sv = src + v * 16;
    if constexpr (kS == 1) {
      const __m512 x = load(sv, v);
      const __m512 l = AlignZ<15>(ml, x, z), r = AlignZ<1>(mr, z, x);
      h.h0 = row(wt, 0, l, x, r);
      h.h1 = row(wt, 3, l, x, r);
      h.h2 = row(wt, 6, l, x, r);
    } else if constexpr (kDirect) {
      // The vector's 64 input floats (fewer for a partial last vector), regrouped by phase.
      const float* b = src + v * 64;
      __m512 in[4];
      if (v == last && p.tail < 16) {
        for (size_t k = 0; k < 4; ++k) {
          const size_t valid = 4 * p.tail > 16 * k ? std::min<size_t>(16, 4 * p.tail - 16 * k) : 0;
          in[k] = _mm512_maskz_loadu_ps(static_cast<__mmask16>(valid >= 16 ? 0xffff : (1u << valid) - 1), b + 16 * k);
        }
      } else {
        for (size_t k = 0; k < 4; ++k) in[k] = _mm512_loadu_ps(b + 16 * k);
      }
      __m512 ph[4];
      for (int k = 0; k < 4; ++k) {
        const __m512i idx = _mm512_loadu_si512(p.gather[k]);
        ph[k] = _mm512_mask_blend_ps(static_cast<__mmask16>(p.blend[k]), _mm512_permutex2var_ps(in[0], idx, in[1]),
                                     _mm512_permutex2var_ps(in[2], idx, in[3]));
      }
      const __m512 l0 = AlignZ<15>(ml, ph[1], z), l1 = AlignZ<15>(ml, ph[3], z);
      h.h0 = row(wt, 0, l1, ph[2], ph[3]);
      h.h1 = row(wt, 3, l0, ph[0], ph[1]);
      h.h2 = row(wt, 6, l1, ph[2], ph[3]);
    } else {
      // Phase planes: even rows (e0 even columns, o0 odd), odd rows (e1, o1). Kernel row 1 reads
      // even rows at the output row; rows 0 and 2 read odd rows one above and at the output row.
      const __m512 e0 = load(sv, v), o0 = load(sv + ps, v), e1 = load(sv + 2 * ps, v), o1 = load(sv + 3 * ps, v);
      const __m512 l0 = AlignZ<15>(ml, o0, z), l1 = AlignZ<15>(ml, o1, z);
      h.h0 = row(wt, 0, l1, e1, o1);
      h.h1 = row(wt, 3, l0, e0, o0);
      h.h2 = row(wt, 6, l1, e1, o1);
    }
    return h;
  };
  auto finish = [&](size_t v, __m512 acc) {
    acc = _mm512_min_ps(_mm512_max_ps(acc, vmin), vmax);
    if (v == last && p.tail < 16) {
      _mm512_mask_storeu_ps(out + v * 16, tail, acc);
    } else {
      _mm512_storeu_ps(out + v * 16, acc);
    }
  };
  if constexpr (kPacked) {
    // Whole planes per vector: vertical shifts stay inside the vector, masked at plane edges.
    for (size_t v = v0; v < v1; ++v) {
      __m512 wt[9];
      for (int t = 0; t < 9; ++t) wt[t] = p.one_plane ? _mm512_set1_ps(w[v * 9 + t]) : _mm512_loadu_ps(w + (v * 9 + t) * 16);
      const Rows h = rows(v, wt);
      __m512 acc = _mm512_add_ps(p.one_plane ? _mm512_set1_ps(bias[v]) : _mm512_loadu_ps(bias + v * 16), h.h1);
      acc = _mm512_add_ps(acc, AlignZ<16 - kW>(mt, h.h0, z));
      acc = _mm512_add_ps(acc, kS == 1 ? AlignZ<kW>(mb, z, h.h2) : h.h2);
      finish(v, acc);
    }
  } else {
    // One plane of `vectors` vectors (v0 = 0, v1 = vectors): h0 of the vector before, h2 of the
    // one after; zero past the plane's ends.
    __m512 prev_h0 = z;
    Rows cur = rows(0, wb);
    for (size_t v = 0; v < p.vectors; ++v) {
      Rows next{z, z, z};
      if (kS == 1 && v < last) next = rows(v + 1, wb);
      __m512 acc = _mm512_add_ps(bb, cur.h1);
      acc = _mm512_add_ps(acc, Align<16 - kW>(cur.h0, prev_h0));
      acc = _mm512_add_ps(acc, kS == 1 ? Align<kW>(next.h2, cur.h2) : cur.h2);
      finish(v, acc);
      prev_h0 = cur.h0;
      if (kS == 1) {
        cur = next;
      } else if (v < last) {
        cur = rows(v + 1, wb);
      }
    }
  }
}

template <int kW, int kS>
void Dispatch(const Dw3x3Plan& p, const float* src, const float* w, const float* bias, size_t v0, size_t v1,
              float* out) {
  if (p.packed) {
    if constexpr (kW < 16) {
      if (kS == 2 && p.direct) return Conv3x3<kW, kS, true, true>(p, src, w, bias, v0, v1, out);
      Conv3x3<kW, kS, true, false>(p, src, w, bias, v0, v1, out);
    }
  } else {
    if (kS == 2 && p.direct) return Conv3x3<kW, kS, false, true>(p, src, w, bias, v0, v1, out);
    Conv3x3<kW, kS, false, false>(p, src, w, bias, v0, v1, out);
  }
}

template <int kS>
void DispatchWidth(const Dw3x3Plan& p, const float* src, const float* w, const float* bias, size_t v0, size_t v1,
                   float* out) {
  switch (p.wo) {
    case 16: return Dispatch<16, kS>(p, src, w, bias, v0, v1, out);
    case 8: return Dispatch<8, kS>(p, src, w, bias, v0, v1, out);
    case 4: return Dispatch<4, kS>(p, src, w, bias, v0, v1, out);
    case 2: return Dispatch<2, kS>(p, src, w, bias, v0, v1, out);
    case 1: return Dispatch<1, kS>(p, src, w, bias, v0, v1, out);
    default: return;  // the driver only builds plans for wo | 16
  }
}

}  // namespace

void DwConv3x3Avx512(const Dw3x3Plan& p, const float* src, const float* w, const float* bias, size_t v0, size_t v1,
                     float* out) {
  if (p.stride == 1) return DispatchWidth<1>(p, src, w, bias, v0, v1, out);
  return DispatchWidth<2>(p, src, w, bias, v0, v1, out);
}

}  // namespace f32
}  // namespace layerq
