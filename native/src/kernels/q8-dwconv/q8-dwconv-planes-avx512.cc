// AVX-512 VNNI + VBMI plane kernel for depthwise q8 convs (Q8DwPlaneFn in q8-dwconv.h): per
// chunk of 16 output pixels and per kernel row, one 64-byte window of the input plane, one
// vpermb per quad of taps putting each lane's four input bytes together (xZero where a tap falls
// in the padding), one vpdpbusd against the quad broadcast. Products of uint8 and int8 are summed by vpdpbusd without intermediate
// saturation, so every int32 sum is the reference's (mod 2^32), and the output stage is the
// reference's float operations (q8-avx512-common.h).
#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "kernels/q8-dwconv/q8-dwconv.h"
#include "kernels/q8-gemm/q8-avx512-common.h"

#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")

namespace layerq {
namespace {

// Stores kGroup planes' outputs of one chunk (lanes `k`) at `at` of each output plane.
template <size_t kGroup, bool kU8>
inline void StoreChunk(const Q8Requant512& rq, const __m512i* acc, const float* scales, __mmask16 k, size_t plane_out,
                       size_t at, void* out) {
  for (size_t j = 0; j < kGroup; ++j) {
    if (kU8) {
      rq.U8(acc[j], scales[j], k, static_cast<uint8_t*>(out) + j * plane_out + at);
    } else {
      rq.F32(acc[j], scales[j], k, static_cast<float*>(out) + j * plane_out + at);
    }
  }
}

// One output row oy of kGroup planes at once (x: the first one's input, out: its output; taps,
// bias and scales from the first one's): the same chunk of each plane is the same windows and
// lanes, and the kGroup sums are independent chains. kKh, kQuads: the kernel rows and the tap
// quads of a row, fixed (3 and 1: 3x3) or 0 (g.kh, g.quads). kEdge: the row reads rows of the
// padding or windows at the input tensor's ends (checked per window); else neither.
template <size_t kGroup, size_t kKh, size_t kQuads, bool kU8, bool kEdge>
inline void RowOfGroup(const Q8DwPlaneGeometry& g, size_t oy, const uint8_t* x, const int32_t* taps,
                       const int32_t* bias, const float* scales, const Q8Requant512& rq, __m512i xz, __m512i idx0,
                       __m512i idx1, void* out) {
  const size_t kh = kKh ? kKh : g.kh, quads = kQuads ? kQuads : g.quads, steps = kh * quads;
  const size_t plane_in = g.h * g.w, plane_out = g.ho * g.wo;
  const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
  const ptrdiff_t w = static_cast<ptrdiff_t>(g.w), dy = static_cast<ptrdiff_t>(g.dilation_h) * w;
  const uint8_t* row = x + iy0 * w - static_cast<ptrdiff_t>(g.pad_left);  // kernel row 0, column chunk 0
  for (size_t ox = 0, col = 0; ox < g.wo; ox += kQ8DwPlaneLanes, ++col, row += kQ8DwPlaneLanes * g.stride_w) {
    const __mmask64 m0 = g.masks[col * quads], m1 = quads > 1 ? g.masks[col * quads + 1] : 0;
    __m512i acc[kGroup];
    for (size_t j = 0; j < kGroup; ++j) acc[j] = _mm512_set1_epi32(bias[j]);
    for (size_t ky = 0; ky < kh; ++ky) {
      const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky * g.dilation_h);
      const bool inside = !kEdge || (iy >= 0 && iy < static_cast<ptrdiff_t>(g.h));
      for (size_t j = 0; j < kGroup; ++j) {
        const int32_t* t = taps + j * steps + ky * quads;
        const uint8_t* p = row + j * plane_in + static_cast<ptrdiff_t>(ky) * dy;
        // A row of the padding: xZero under every tap.
        const __m512i v = !inside ? xz : kEdge ? Q8LoadInside(p, g.x_begin, g.x_end) : _mm512_loadu_si512(p);
        acc[j] = _mm512_dpbusd_epi32(acc[j], _mm512_mask_permutexvar_epi8(xz, m0, idx0, v), _mm512_set1_epi32(t[0]));
        if (quads > 1) {
          acc[j] = _mm512_dpbusd_epi32(acc[j], _mm512_mask_permutexvar_epi8(xz, m1, idx1, v), _mm512_set1_epi32(t[1]));
        }
      }
    }
    StoreChunk<kGroup, kU8>(rq, acc, scales, Q8Lanes16(g.wo - ox), plane_out, oy * g.wo + ox, out);
  }
}

// Every output row of kGroup planes: the rows that read the padding or the tensor's ends checked.
template <size_t kGroup, size_t kKh, size_t kQuads, bool kU8>
void RowsGroup(const Q8DwPlaneGeometry& g, const uint8_t* x, const int32_t* taps, const int32_t* bias,
               const float* scales, const Q8Requant512& rq, __m512i xz, void* out) {
  const size_t kh = kKh ? kKh : g.kh;
  const __m512i idx0 = _mm512_loadu_si512(g.index);
  const __m512i idx1 = (kQuads ? kQuads : g.quads) > 1 ? _mm512_loadu_si512(g.index + 64) : idx0;
  // Rows whose kernel rows all lie in the plane: [lo, hi).
  const size_t lo = (g.pad_top + g.stride_h - 1) / g.stride_h;
  const size_t span = (kh - 1) * g.dilation_h;  // input rows below a row's first
  const size_t hi = g.h + g.pad_top >= span + 1 ? std::min(g.ho, (g.h + g.pad_top - span - 1) / g.stride_h + 1) : 0;
  // Every window of the group inside the input tensor: from the first plane's first byte less
  // pad_left to the last plane's last row's last chunk.
  const size_t last_col = (g.wo - 1) / kQ8DwPlaneLanes * kQ8DwPlaneLanes * g.stride_w;
  const bool safe = x - g.pad_left >= g.x_begin &&
                    x + (kGroup - 1) * g.h * g.w + (g.h - 1) * g.w + last_col + 64 <= g.x_end + g.pad_left;
  for (size_t oy = 0; oy < g.ho; ++oy) {
    if (safe && oy >= lo && oy < hi) {
      RowOfGroup<kGroup, kKh, kQuads, kU8, false>(g, oy, x, taps, bias, scales, rq, xz, idx0, idx1, out);
    } else {
      RowOfGroup<kGroup, kKh, kQuads, kU8, true>(g, oy, x, taps, bias, scales, rq, xz, idx0, idx1, out);
    }
  }
}

// The same for planes of at most 64 bytes: one window a plane, its index and masks per chunk.
template <size_t kGroup, size_t kKh, size_t kQuads, bool kU8>
void WholeGroup(const Q8DwPlaneGeometry& g, const uint8_t* x, const int32_t* taps, const int32_t* bias,
                const float* scales, const Q8Requant512& rq, __m512i xz, void* out) {
  const size_t kh = kKh ? kKh : g.kh, quads = kQuads ? kQuads : g.quads, steps = kh * quads;
  const size_t plane_in = g.h * g.w, plane_out = g.ho * g.wo;
  __m512i v[kGroup];
  for (size_t j = 0; j < kGroup; ++j) v[j] = Q8LoadInside(x + j * plane_in, g.x_begin, g.x_end);
  const uint8_t* index = g.index;
  const uint64_t* masks = g.masks;
  for (size_t oy = 0; oy < g.ho; oy += g.rows) {
    __m512i acc[kGroup];
    for (size_t j = 0; j < kGroup; ++j) acc[j] = _mm512_set1_epi32(bias[j]);
    for (size_t t = 0; t < steps; ++t, index += 64, ++masks) {
      const __m512i idx = _mm512_loadu_si512(index);
      const __mmask64 m = *masks;
      for (size_t j = 0; j < kGroup; ++j) {
        acc[j] = _mm512_dpbusd_epi32(acc[j], _mm512_mask_permutexvar_epi8(xz, m, idx, v[j]),
                                     _mm512_set1_epi32(taps[j * steps + t]));
      }
    }
    const size_t rows = g.ho - oy < g.rows ? g.ho - oy : g.rows;
    StoreChunk<kGroup, kU8>(rq, acc, scales, Q8Lanes16(rows * g.wo), plane_out, oy * g.wo, out);
  }
}

template <size_t kKh, size_t kQuads, bool kU8>
void Planes(const Q8DwPlaneGeometry& g, const uint8_t* x, size_t planes, const int32_t* taps, const int32_t* bias,
            const float* scales, void* out) {
  const Q8Requant512 rq(g.output);
  const __m512i xz = _mm512_set1_epi8(static_cast<char>(g.x_zero));
  const size_t steps = (kKh ? kKh : g.kh) * (kQuads ? kQuads : g.quads);
  const size_t plane_in = g.h * g.w, plane_out = (g.ho * g.wo) * (kU8 ? 1 : 4);
  auto group = [&](auto kGroup, size_t c) {
    char* o = static_cast<char*>(out) + c * plane_out;
    if (g.whole) {
      WholeGroup<kGroup, kKh, kQuads, kU8>(g, x + c * plane_in, taps + c * steps, bias + c, scales + c, rq, xz, o);
    } else {
      RowsGroup<kGroup, kKh, kQuads, kU8>(g, x + c * plane_in, taps + c * steps, bias + c, scales + c, rq, xz, o);
    }
  };
  size_t c = 0;
  for (; c + kQ8DwPlaneGroup <= planes; c += kQ8DwPlaneGroup) group(std::integral_constant<size_t, kQ8DwPlaneGroup>(), c);
  for (; c < planes; ++c) group(std::integral_constant<size_t, 1>(), c);
}

}  // namespace

void Q8DwPlanesAvx512(const Q8DwPlaneGeometry& g, const uint8_t* x, size_t planes, const int32_t* taps,
                      const int32_t* bias, const float* scales, void* out) {
  const bool u8 = g.output.kind == Q8OutputKind::kUint8;
  if (g.kh == 3 && g.quads == 1) {
    u8 ? Planes<3, 1, true>(g, x, planes, taps, bias, scales, out)
       : Planes<3, 1, false>(g, x, planes, taps, bias, scales, out);
  } else {
    u8 ? Planes<0, 0, true>(g, x, planes, taps, bias, scales, out)
       : Planes<0, 0, false>(g, x, planes, taps, bias, scales, out);
  }
}

}  // namespace layerq
