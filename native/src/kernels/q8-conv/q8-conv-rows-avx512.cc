// AVX-512 VNNI + VBMI row kernel for q8 convs with 3-wide kernels (Q8ConvRowsFn in q8-conv.h):
// per chunk of 16 output pixels (16 of a row, or several short rows), the windows of four kernel
// rows at a time, three vpermt2b building the pixels' tap quads into a buffer, and per block of
// 16 output channels 16 vpdpbusd a quad (uint8 x int8 added without intermediate saturation: the
// reference's sums mod 2^32), then the output stage of q8-avx512-common.h. The hot loops are
// inline asm (FusedPlain, DotQuads): with intrinsics GCC moved the 16 accumulators between
// registers on every quad and broadcast each weight with an instruction of its own.
#include <immintrin.h>

#include <cstring>
#include <utility>
#include <vector>

#include "common/aligned.h"
#include "kernels/q8-conv/q8-conv.h"
#include "kernels/q8-gemm/q8-avx512-common.h"

#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")

namespace layerq {
namespace {

// Unroll (common/unroll.h) for callables that must be inlined (always_inline lambdas): defined
// under this file's target pragma, as they are (GCC inlines no always_inline callee with more
// ISA features than its caller). flatten on the caller instead measured 0.86-0.99x.
template <typename F, size_t... I>
__attribute__((always_inline)) inline void UnrollLanes(F&& f, std::index_sequence<I...>) {
  (f(std::integral_constant<size_t, I>{}), ...);
}

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
  __attribute__((always_inline)) void Store(__m512 a, __mmask16 k, size_t at) const {
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

#define LAYERQ_Q8_BIAS(c) "vpbroadcastd 4*" #c "(%[bias]), %[a" #c "]\n\t"
#define LAYERQ_Q8_OUT(c) [a##c] "=&v"(acc[c]),
#define LAYERQ_Q8_EACH16(M) \
  M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)

// acc[c] = bias[c] + the u8 x s8 dot products of quads q[t] with channel c's weight quad
// w[t * 16 + c], t in [0, count) (count >= 1): one quad (zmm31) a step, each weight an embedded
// broadcast.
#define LAYERQ_Q8_DOT1(c) "vpdpbusd 4*" #c "(%[w])%{1to16%}, %%zmm31, %[a" #c "]\n\t"
inline __attribute__((always_inline)) void DotQuads(const __m512i* q, const int32_t* w, size_t count,
                                                    const int32_t* bias, __m512i (&acc)[kQ8ConvRowsLanes]) {
  static_assert(kQ8ConvRowsLanes == 16, "one asm operand an accumulator");
  asm(LAYERQ_Q8_EACH16(LAYERQ_Q8_BIAS)
      "1:\n\t"
      "vmovdqa64 (%[q]), %%zmm31\n\t"
      LAYERQ_Q8_EACH16(LAYERQ_Q8_DOT1)
      "add $64, %[q]\n\t"
      "add $64, %[w]\n\t"
      "dec %[n]\n\t"
      "jnz 1b"
      : LAYERQ_Q8_EACH16(LAYERQ_Q8_OUT) [q] "+r"(q), [w] "+r"(w), [n] "+r"(count)
      : [bias] "r"(bias)
      : "xmm31", "cc", "memory");
}

// The constants the fused loop reads: the input's zero point, the three vpermt2b patterns, and
// (one row a chunk) the window bytes inside the input row.
struct alignas(64) FusedConsts {
  __m512i xz, idx0, idx1, idx2;
  uint64_t inside;
};

// A chunk whose windows are plain loads (every kernel row's 64 bytes inside the input tensor):
// acc[c] = bias[c] + its dot products with the first block's weight quads w, the chunk's quads
// built on the way (windows base + row_offset[r], the next row of chunks' ones prefetched at
// base + ahead + row_offset[r]: a prefetch never faults, past the tensor's end included) and
// stored to st for the other blocks. One asm loop a group of four kernel rows: four windows
// (zmm20-23; kMulti: plain, else the bytes outside the input row xz), the three quads permuted in
// place (kMulti: the taps outside the plane xz by the lane masks mk), stored, and 48 vpdpbusd.
#define LAYERQ_Q8_WINDOW_PLAIN(j)                   \
  "mov 8*" #j "(%[off]), %%rax\n\t"                 \
  "prefetcht0 (%[pf],%%rax)\n\t"                    \
  "vmovdqu64 (%[base],%%rax), %%zmm2" #j "\n\t"
#define LAYERQ_Q8_WINDOW_ROW(j)                     \
  "mov 8*" #j "(%[off]), %%rax\n\t"                 \
  "prefetcht0 (%[pf],%%rax)\n\t"                    \
  "vpblendmb (%[base],%%rax), %%zmm28, %%zmm2" #j "%{%%k1%}\n\t"
#define LAYERQ_Q8_MASK_LANES(t)                     \
  "kmovq 8*" #t "(%[mk]), %%k2\n\t"                 \
  "vpblendmb %%zmm2" #t ", %%zmm28, %%zmm2" #t "%{%%k2%}\n\t"
#define LAYERQ_Q8_MASK_NONE(t) ""
#define LAYERQ_Q8_DOT(t, c) "vpdpbusd 64*" #t "+4*" #c "(%[w])%{1to16%}, %%zmm2" #t ", %[a" #c "]\n\t"
#define LAYERQ_Q8_QUAD(t, MASK)                                                                           \
  MASK(t) "vmovdqa64 %%zmm2" #t ", 64*" #t "(%[st])\n\t" LAYERQ_Q8_DOT(t, 0) LAYERQ_Q8_DOT(t, 1)          \
      LAYERQ_Q8_DOT(t, 2) LAYERQ_Q8_DOT(t, 3) LAYERQ_Q8_DOT(t, 4) LAYERQ_Q8_DOT(t, 5) LAYERQ_Q8_DOT(t, 6) \
          LAYERQ_Q8_DOT(t, 7) LAYERQ_Q8_DOT(t, 8) LAYERQ_Q8_DOT(t, 9) LAYERQ_Q8_DOT(t, 10)                \
              LAYERQ_Q8_DOT(t, 11) LAYERQ_Q8_DOT(t, 12) LAYERQ_Q8_DOT(t, 13) LAYERQ_Q8_DOT(t, 14)         \
                  LAYERQ_Q8_DOT(t, 15)
#define LAYERQ_Q8_FUSED(WINDOW, MASK)                                                             \
  asm(LAYERQ_Q8_EACH16(LAYERQ_Q8_BIAS)                                                            \
      "vmovdqa64 0(%[k]), %%zmm28\n\t"                                                           \
      "vmovdqa64 64(%[k]), %%zmm29\n\t"                                                          \
      "vmovdqa64 128(%[k]), %%zmm30\n\t"                                                         \
      "vmovdqa64 192(%[k]), %%zmm31\n\t"                                                         \
      "kmovq 256(%[k]), %%k1\n\t"                                                                \
      "1:\n\t" WINDOW(0) WINDOW(1) WINDOW(2) WINDOW(3)                                           \
      "vpermt2b %%zmm21, %%zmm29, %%zmm20\n\t"                                                   \
      "vpermt2b %%zmm22, %%zmm30, %%zmm21\n\t"                                                   \
      "vpermt2b %%zmm23, %%zmm31, %%zmm22\n\t"                                                   \
      LAYERQ_Q8_QUAD(0, MASK) LAYERQ_Q8_QUAD(1, MASK) LAYERQ_Q8_QUAD(2, MASK)                    \
      "add $32, %[off]\n\t"                                                                      \
      "add $192, %[w]\n\t"                                                                       \
      "add $192, %[st]\n\t"                                                                      \
      "add $24, %[mk]\n\t"                                                                       \
      "dec %[n]\n\t"                                                                             \
      "jnz 1b"                                                                                   \
      : LAYERQ_Q8_EACH16(LAYERQ_Q8_OUT)[off] "+r"(row_offset), [w] "+r"(w), [st] "+r"(st),       \
        [mk] "+r"(mk), [n] "+r"(groups4)                                                         \
      : [base] "r"(base), [pf] "r"(base + ahead), [bias] "r"(bias), [k] "r"(&k)                  \
      : "rax", "xmm20", "xmm21", "xmm22", "xmm23", "xmm28", "xmm29", "xmm30", "xmm31", "k1", "k2", \
        "cc", "memory")
template <bool kMulti>
inline __attribute__((always_inline)) void FusedPlain(const uint8_t* base, ptrdiff_t ahead, const int64_t* row_offset,
                                                      size_t groups4, const FusedConsts& k, const uint64_t* mk,
                                                      const int32_t* w, const int32_t* bias, __m512i* st,
                                                      __m512i (&acc)[kQ8ConvRowsLanes]) {
  if (kMulti) {
    LAYERQ_Q8_FUSED(LAYERQ_Q8_WINDOW_PLAIN, LAYERQ_Q8_MASK_LANES);
  } else {
    LAYERQ_Q8_FUSED(LAYERQ_Q8_WINDOW_ROW, LAYERQ_Q8_MASK_NONE);
  }
}
#undef LAYERQ_Q8_WINDOW_PLAIN
#undef LAYERQ_Q8_WINDOW_ROW
#undef LAYERQ_Q8_MASK_LANES
#undef LAYERQ_Q8_MASK_NONE
#undef LAYERQ_Q8_DOT
#undef LAYERQ_Q8_DOT1
#undef LAYERQ_Q8_QUAD
#undef LAYERQ_Q8_BIAS
#undef LAYERQ_Q8_OUT
#undef LAYERQ_Q8_EACH16
#undef LAYERQ_Q8_FUSED

// kMulti: chunks of g.rows whole output rows (masks per chunk and quad), else 16 pixels of one
// row (masks per column chunk, applied to the windows). kResidual: the outputs through the
// residual's add and quantize (Residual512) instead of to out. Per chunk, the first block of 16
// channels builds the permuted quads into a buffer (FusedPlain, or where a window crosses the
// input tensor's first or last byte the checked windows and DotQuads), and the other blocks run
// DotQuads over them.
template <bool kU8, bool kMulti, bool kResidual>
void Rows(const Q8ConvRowsGeometry& g, const uint8_t* x, const int32_t* quads, const int32_t* bias, const float* scales,
          size_t channels, size_t oy0, size_t oy1, void* out, const Q8ConvResidual* residual) {
  FusedConsts k;
  k.xz = _mm512_set1_epi8(static_cast<char>(g.x_zero));
  k.idx0 = _mm512_loadu_si512(g.index), k.idx1 = _mm512_loadu_si512(g.index + 64),
  k.idx2 = _mm512_loadu_si512(g.index + 128);
  const Q8Requant512 rq(g.output);
  const Residual512 rs(residual, g.output);
  const size_t plane_out = g.ho * g.wo, step = kMulti ? g.rows : 1, cols = kMulti ? 1 : g.wo;
  const size_t count = 3 * g.groups4, w = g.w, h = g.h, kh = g.kh;
  const int64_t* row_offset = g.row_offset;
  const ptrdiff_t last_offset = row_offset[g.cin * kh - 1];
  const ptrdiff_t ahead = static_cast<ptrdiff_t>(step * g.stride_h * w);  // the next row of chunks
  AlignedBuffer<uint8_t> buf(count * 64);
  __m512i* const quads_x = reinterpret_cast<__m512i*>(buf.get());
  // One row a chunk, at the plane's top and bottom: the kernel rows' offsets with the rows outside
  // the plane reading 64 bytes of xz instead.
  std::vector<int64_t> edge_offset(kMulti ? 0 : 4 * g.groups4);
  alignas(64) uint8_t xz_row[64];
  std::memset(xz_row, g.x_zero, sizeof xz_row);

  for (size_t oy = oy0; oy < oy1; oy += step) {
    const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
    for (size_t ox = 0, col = 0; ox < cols; ox += kQ8ConvRowsLanes, ++col) {
      const ptrdiff_t x0 = static_cast<ptrdiff_t>(ox * g.stride_w) - static_cast<ptrdiff_t>(g.pad_left);
      const __mmask64 inside = kMulti ? 0 : g.masks[col];
      const uint64_t* lane_masks = kMulti ? g.masks + oy / g.rows * count : nullptr;
      const size_t lanes = kMulti ? (oy1 - oy < g.rows ? oy1 - oy : g.rows) * g.wo : g.wo - ox;
      const __mmask16 lanes_k = Q8Lanes16(lanes);
      __m512i acc[kQ8ConvRowsLanes];
      // Inlined: out of line, the accumulators went through memory and each channel's
      // requantization was a call (0.5-0.9x).
      auto output = [&](size_t c0) __attribute__((always_inline)) {
        UnrollLanes([&](auto c) __attribute__((always_inline)) {
          if (c0 + c >= channels) return;
          const size_t at = (c0 + c) * plane_out + (oy - oy0) * g.wo + ox;
          if (kResidual) {
            rs.Store(kU8 ? rs.Dequantized(rq.Codes(acc[c], scales[c0 + c])) : rq.Floats(acc[c], scales[c0 + c]),
                     lanes_k, at);
          } else if (kU8) {
            rq.U8(acc[c], scales[c0 + c], lanes_k, static_cast<uint8_t*>(out) + at);
          } else {
            rq.F32(acc[c], scales[c0 + c], lanes_k, static_cast<float*>(out) + at);
          }
        }, std::make_index_sequence<kQ8ConvRowsLanes>{});
      };
      // Plain windows where every kernel row's 64 bytes lie inside the input tensor: a load from
      // the row's offset (the rows past the last one read row 0: their taps are zero; with rows > 1
      // the lane masks zero the taps outside the plane; one row a chunk, the rows outside the plane
      // read xz_row).
      const uint8_t* base = x + iy0 * static_cast<ptrdiff_t>(w) + x0;
      if (base >= g.x_begin && base + last_offset + 64 <= g.x_end) {
        const int64_t* offsets = row_offset;
        if (!kMulti && (iy0 < 0 || iy0 + static_cast<ptrdiff_t>(kh) > static_cast<ptrdiff_t>(h))) {
          const int64_t to_xz = static_cast<int64_t>(reinterpret_cast<uintptr_t>(xz_row) - reinterpret_cast<uintptr_t>(base));
          for (size_t r = 0; r < edge_offset.size(); ++r) {
            const ptrdiff_t iy = iy0 + g.row_ky[r];
            edge_offset[r] = g.row_ky[r] >= 0 && (iy < 0 || iy >= static_cast<ptrdiff_t>(h)) ? to_xz : row_offset[r];
          }
          offsets = edge_offset.data();
        }
        k.inside = inside;
        FusedPlain<kMulti>(base, ahead, offsets, g.groups4, k, lane_masks, quads, bias, quads_x, acc);
      } else {
        // The quads into the buffer: quads 3m, 3m + 1, 3m + 2 span windows (4m, 4m + 1), (4m + 1,
        // 4m + 2), (4m + 2, 4m + 3).
        __m512i* q = quads_x;
        auto put = [&](__m512i v) {
          if (kMulti) v = _mm512_mask_blend_epi8(*lane_masks++, k.xz, v);
          _mm512_store_si512(q++, v);
        };
        auto window = [&](size_t r) {
          return kMulti ? MultiWindow(g, x, r, iy0, x0) : Window(g, x, r, iy0, x0, inside, k.xz);
        };
        for (size_t m = 0; m < g.groups4; ++m) {
          const __m512i w0 = window(4 * m), w1 = window(4 * m + 1);
          put(_mm512_permutex2var_epi8(w0, k.idx0, w1));
          const __m512i w2 = window(4 * m + 2);
          put(_mm512_permutex2var_epi8(w1, k.idx1, w2));
          const __m512i w3 = window(4 * m + 3);
          put(_mm512_permutex2var_epi8(w2, k.idx2, w3));
        }
        DotQuads(quads_x, quads, count, bias, acc);
      }
      output(0);
      for (size_t c0 = kQ8ConvRowsLanes; c0 < channels; c0 += kQ8ConvRowsLanes) {
        DotQuads(quads_x, quads + c0 * count, count, bias + c0, acc);
        output(c0);
      }
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
