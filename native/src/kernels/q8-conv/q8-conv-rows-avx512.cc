// AVX-512 VNNI + VBMI row kernel for q8 convs with 3-wide kernels (Q8ConvRowsFn in q8-conv.h):
// per 16 output pixels of a row and 16 output channels, the windows of four kernel rows at a
// time, three vpermt2b building the pixels' tap quads, 16 vpdpbusd per quad (uint8 x int8 added
// without intermediate saturation: the reference's sums mod 2^32), the output stage of
// q8-avx512-common.h.
#include <immintrin.h>

#include "common/unroll.h"
#include "kernels/q8-conv/q8-conv.h"
#include "kernels/q8-gemm/q8-avx512-common.h"

#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")

namespace layerq {
namespace {

// Kernel row r = (ci, ky) of output row oy, column chunk at input column x0: its 64-byte window,
// the bytes outside the input row (mask) or the whole row outside the plane xZero.
inline __m512i Window(const Q8ConvRowsGeometry& g, const uint8_t* x, size_t r, ptrdiff_t iy0, ptrdiff_t x0,
                      __mmask64 inside, __m512i xz) {
  const int32_t ky = g.row_ky[r];
  if (ky < 0) return xz;  // past the last kernel row (its taps are zero)
  const ptrdiff_t iy = iy0 + ky;
  if (iy < 0 || iy >= static_cast<ptrdiff_t>(g.h)) return xz;
  const uint8_t* p = x + g.row_offset[r] + iy0 * static_cast<ptrdiff_t>(g.w) + x0;
  return _mm512_mask_blend_epi8(inside, xz, Q8LoadInside(p, g.x_begin, g.x_end));
}

// Windows of kernel rows for chunks of several output rows (g.rows > 1): the input row of the
// chunk's first output row, bytes outside the input tensor zero; the padding is masked per lane
// after the permute.
inline __m512i MultiWindow(const Q8ConvRowsGeometry& g, const uint8_t* x, size_t r, ptrdiff_t iy0, ptrdiff_t x0) {
  if (g.row_ky[r] < 0) return _mm512_setzero_si512();  // past the last kernel row (zero taps)
  const uint8_t* p = x + g.row_offset[r] + iy0 * static_cast<ptrdiff_t>(g.w) + x0;
  return Q8LoadInside(p, g.x_begin, g.x_end);
}

// The residual's add and quantize of 16 conv outputs in registers: Q8AddQuantize's operations
// (q8-quantize-avx512.cc's dequantize and quantize rows, the f32 add and its clamp) on the
// outputs' values, the sum's codes and/or DQ of them stored at the output's position.
class Residual512 {
 public:
  Residual512(const Q8ConvResidual* r, const Q8Output& o) {
    if (!r) return;
    r_ = *r;
    out_zero_ = _mm512_set1_epi32(o.zero), out_scale_ = _mm512_set1_ps(o.outputScale);
    res_zero_ = _mm512_set1_epi32(r->residual.zero), res_scale_ = _mm512_set1_ps(r->residual.scale);
    if (r->clamp) lo_ = _mm512_set1_ps(r->clamp[0]), hi_ = _mm512_set1_ps(r->clamp[1]);
    zero_ = _mm512_set1_epi32(r->quant.zero[0]), scale_ = _mm512_set1_ps(r->quant.scale[0]);
    qlo_ = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_set1_epi32(r->quant.qmin), zero_));
    qhi_ = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_set1_epi32(r->quant.qmax), zero_));
  }

  // Codes of the conv's output read as their dequantized values.
  __m512 Dequantized(__m512i codes) const {
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(codes, out_zero_)), out_scale_);
  }

  // a: the conv's 16 outputs as floats; lanes k at element `at` of the residual and the outputs.
  void Store(__m512 a, __mmask16 k, size_t at) const {
    __m512 b;
    if (r_.residual.values) {
      b = k == 0xFFFF ? _mm512_loadu_ps(r_.residual.values + at) : _mm512_maskz_loadu_ps(k, r_.residual.values + at);
    } else {
      const uint8_t* p = r_.residual.codes + at;
      const __m128i raw = k == 0xFFFF ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)) : _mm_maskz_loadu_epi8(k, p);
      b = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(raw), res_zero_)), res_scale_);
    }
    __m512 y = _mm512_add_ps(a, b);
    if (r_.clamp) y = _mm512_min_ps(_mm512_max_ps(y, lo_), hi_);
    __m512 q = _mm512_roundscale_ps(_mm512_div_ps(y, scale_), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q = _mm512_min_ps(_mm512_max_ps(q, qlo_), qhi_);
    const __m512i offset = _mm512_cvtps_epi32(q);  // code - zero
    if (r_.codes) Q8StoreBytes(Q8LowBytes(_mm512_add_epi32(offset, zero_)), k, r_.codes + at);
    if (r_.fake) Q8StoreF32(_mm512_mul_ps(_mm512_cvtepi32_ps(offset), scale_), k, r_.fake + at);
  }

 private:
  Q8ConvResidual r_;
  __m512i out_zero_ = _mm512_setzero_si512(), res_zero_ = _mm512_setzero_si512(), zero_ = _mm512_setzero_si512();
  __m512 out_scale_ = _mm512_setzero_ps(), res_scale_ = _mm512_setzero_ps(), lo_ = _mm512_setzero_ps(),
         hi_ = _mm512_setzero_ps(), scale_ = _mm512_set1_ps(1), qlo_ = _mm512_setzero_ps(), qhi_ = _mm512_setzero_ps();
};

// kMulti: chunks of g.rows whole output rows (masks per chunk and quad), else 16 pixels of one
// row (masks per column chunk, applied to the windows). kResidual: the outputs through the
// residual's add and quantize (Residual512) instead of to out.
template <bool kU8, bool kMulti, bool kResidual>
void Rows(const Q8ConvRowsGeometry& g, const uint8_t* x, const int32_t* quads, const int32_t* bias,
          const float* scales, size_t channels, size_t oy0, size_t oy1, void* out, const Q8ConvResidual* residual) {
  const __m512i xz = _mm512_set1_epi8(static_cast<char>(g.x_zero));
  const __m512i idx0 = _mm512_loadu_si512(g.index), idx1 = _mm512_loadu_si512(g.index + 64),
                idx2 = _mm512_loadu_si512(g.index + 128);
  const Q8Requant512 rq(g.output);
  const Residual512 rs(residual, g.output);
  const size_t plane_out = g.ho * g.wo, step = kMulti ? g.rows : 1, cols = kMulti ? 1 : g.wo;

  for (size_t oy = oy0; oy < oy1; oy += step) {
    const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
    for (size_t ox = 0, col = 0; ox < cols; ox += kQ8ConvRowsLanes, ++col) {
      const ptrdiff_t x0 = static_cast<ptrdiff_t>(ox * g.stride_w) - static_cast<ptrdiff_t>(g.pad_left);
      const __mmask64 inside = kMulti ? 0 : g.masks[col];
      const uint64_t* lane_masks = kMulti ? g.masks + oy / g.rows * 3 * g.groups4 : nullptr;
      __m512i acc[kQ8ConvRowsLanes];
      // acc indexed through Unroll only: GCC keeps it in registers then (DESIGN.md).
      Unroll<kQ8ConvRowsLanes>([&](auto c) { acc[c] = _mm512_set1_epi32(bias[c]); });
      const int32_t* w = quads;
      auto add = [&](__m512i q) {
        if (kMulti) q = _mm512_mask_blend_epi8(*lane_masks++, xz, q);
        Unroll<kQ8ConvRowsLanes>([&](auto c) { acc[c] = _mm512_dpbusd_epi32(acc[c], q, _mm512_set1_epi32(w[c])); });
        w += kQ8ConvRowsLanes;
      };
      auto window = [&](size_t r) {
        return kMulti ? MultiWindow(g, x, r, iy0, x0) : Window(g, x, r, iy0, x0, inside, xz);
      };
      // Quads 3m, 3m + 1, 3m + 2 span windows (4m, 4m + 1), (4m + 1, 4m + 2), (4m + 2, 4m + 3).
      for (size_t m = 0; m < g.groups4; ++m) {
        const __m512i w0 = window(4 * m), w1 = window(4 * m + 1);
        add(_mm512_permutex2var_epi8(w0, idx0, w1));
        const __m512i w2 = window(4 * m + 2);
        add(_mm512_permutex2var_epi8(w1, idx1, w2));
        const __m512i w3 = window(4 * m + 3);
        add(_mm512_permutex2var_epi8(w2, idx2, w3));
      }
      const size_t lanes = kMulti ? (oy1 - oy < g.rows ? oy1 - oy : g.rows) * g.wo : g.wo - ox;
      const __mmask16 k = Q8Lanes16(lanes);
      Unroll<kQ8ConvRowsLanes>([&](auto c) {
        if (c >= channels) return;
        const size_t at = c * plane_out + (oy - oy0) * g.wo + ox;
        if (kResidual) {
          rs.Store(kU8 ? rs.Dequantized(rq.Codes(acc[c], scales[c])) : rq.Floats(acc[c], scales[c]), k, at);
        } else if (kU8) {
          rq.U8(acc[c], scales[c], k, static_cast<uint8_t*>(out) + at);
        } else {
          rq.F32(acc[c], scales[c], k, static_cast<float*>(out) + at);
        }
      });
    }
  }
}

}  // namespace

void Q8ConvRowsAvx512(const Q8ConvRowsGeometry& g, const uint8_t* x, const int32_t* quads, const int32_t* bias,
                      const float* scales, size_t channels, size_t oy0, size_t oy1, void* out,
                      const Q8ConvResidual* residual) {
  using Fn = decltype(&Rows<true, true, true>);
  static constexpr Fn kRows[2][2][2] = {  // [uint8 output][rows > 1][residual]
      {{Rows<false, false, false>, Rows<false, false, true>}, {Rows<false, true, false>, Rows<false, true, true>}},
      {{Rows<true, false, false>, Rows<true, false, true>}, {Rows<true, true, false>, Rows<true, true, true>}}};
  kRows[g.output.kind == Q8OutputKind::kUint8][g.rows > 1][residual != nullptr](g, x, quads, bias, scales, channels, oy0,
                                                                                 oy1, out, residual);
}

}  // namespace layerq
