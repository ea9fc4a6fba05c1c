// AVX2 microkernels for the packed q8 GEMM (layout in q8-gemm.h).
//
// No VNNI and no vpmaddubsw: uint8 activations are zero-extended to int16 when packed and
// multiplied by int16 weight pairs with vpmaddwd, whose two products and their sum always fit
// (|255 * -128| * 2 = 65280), so no input can saturate. The int32 sums wrap mod 2^32 exactly like
// the reference's int32 accumulator.
#include <immintrin.h>

#include <cstring>

#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-gemm/q8-output-avx2.h"

namespace layerq {
namespace {

void Gemm4x16(size_t kpairs, const int32_t* w, const int16_t* panel, const int32_t* bias,
              int32_t* acc, bool init) {
  __m256i c00, c01, c10, c11, c20, c21, c30, c31;
  if (init) {
    c00 = c01 = _mm256_set1_epi32(bias[0]);
    c10 = c11 = _mm256_set1_epi32(bias[1]);
    c20 = c21 = _mm256_set1_epi32(bias[2]);
    c30 = c31 = _mm256_set1_epi32(bias[3]);
  } else {
    c00 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 0));
    c01 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 8));
    c10 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 16));
    c11 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 24));
    c20 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 32));
    c21 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 40));
    c30 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 48));
    c31 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 56));
  }
  for (size_t p = 0; p < kpairs; ++p) {
    const __m256i x0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel));
    const __m256i x1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + 16));
    const __m256i w0 = _mm256_set1_epi32(w[0]);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x0, w0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x1, w0));
    const __m256i w1 = _mm256_set1_epi32(w[1]);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x0, w1));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x1, w1));
    const __m256i w2 = _mm256_set1_epi32(w[2]);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x0, w2));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x1, w2));
    const __m256i w3 = _mm256_set1_epi32(w[3]);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x0, w3));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x1, w3));
    panel += 32;
    w += 4;
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 0), c00);
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 8), c01);
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 16), c10);
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 24), c11);
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 32), c20);
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 40), c21);
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 48), c30);
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 56), c31);
}

void Gemm1x16(size_t kpairs, const int32_t* w, const int16_t* panel, const int32_t* bias,
              int32_t* acc, bool init) {
  __m256i c0, c1;
  __m256i d0 = _mm256_setzero_si256(), d1 = _mm256_setzero_si256();
  if (init) {
    c0 = c1 = _mm256_set1_epi32(bias[0]);
  } else {
    c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 0));
    c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + 8));
  }
  size_t p = 0;
  for (; p + 2 <= kpairs; p += 2) {  // two chains: the adds are the critical path
    const __m256i w0 = _mm256_set1_epi32(w[0]);
    const __m256i w1 = _mm256_set1_epi32(w[1]);
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel)), w0));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel + 16)), w0));
    d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel + 32)), w1));
    d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel + 48)), w1));
    panel += 64;
    w += 2;
  }
  if (p < kpairs) {
    const __m256i w0 = _mm256_set1_epi32(w[0]);
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel)), w0));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel + 16)), w0));
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 0), _mm256_add_epi32(c0, d0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(acc + 8), _mm256_add_epi32(c1, d1));
}

// 16 uint8 pairs (row0[i], row1[i]) -> 32 int16 in pixel order.
inline void PackPairs16(__m128i r0, __m128i r1, int16_t* out) {
  const __m128i lo = _mm_unpacklo_epi8(r0, r1);  // pixels 0..7
  const __m128i hi = _mm_unpackhi_epi8(r0, r1);  // pixels 8..15
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_cvtepu8_epi16(lo));
  _mm256_store_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_cvtepu8_epi16(hi));
}

void PackPanel(const uint8_t* col, size_t col_stride, size_t k, size_t np, int16_t* panel) {
  const size_t kpairs = (k + 1) / 2;
  if (np == kQ8Nr) {
    for (size_t p = 0; p < kpairs; ++p) {
      const uint8_t* r0 = col + 2 * p * col_stride;
      const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0));
      const __m128i v1 = 2 * p + 1 < k
                             ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + col_stride))
                             : _mm_setzero_si128();
      PackPairs16(v0, v1, panel + p * 32);
    }
    return;
  }
  alignas(16) uint8_t t0[kQ8Nr], t1[kQ8Nr];
  for (size_t p = 0; p < kpairs; ++p) {
    std::memset(t0, 0, sizeof t0);
    std::memset(t1, 0, sizeof t1);
    std::memcpy(t0, col + 2 * p * col_stride, np);
    if (2 * p + 1 < k) std::memcpy(t1, col + (2 * p + 1) * col_stride, np);
    PackPairs16(_mm_load_si128(reinterpret_cast<const __m128i*>(t0)),
                _mm_load_si128(reinterpret_cast<const __m128i*>(t1)), panel + p * 32);
  }
}

// One im2col row of a panel from a padded input: one load per run (Q8LoadPixels16), merged by
// byte masks.
template <int kStride>
void PackRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  __m128i mask[kQ8Nr];
  const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (size_t r = 0; r < runs.count; ++r) {
    mask[r] = _mm_andnot_si128(_mm_cmplt_epi8(iota, _mm_set1_epi8(static_cast<char>(runs.begin[r]))),
                               _mm_cmplt_epi8(iota, _mm_set1_epi8(static_cast<char>(runs.end[r]))));
  }
  const int64_t* base = runs.base;
  auto row = [&](const uint8_t* s) {
    __m128i v = Q8LoadPixels16<kStride>(s + base[0]);
    for (size_t r = 1; r < runs.count; ++r) v = _mm_blendv_epi8(v, Q8LoadPixels16<kStride>(s + base[r]), mask[r]);
    return v;
  };
  const size_t kpairs = (k + 1) / 2;
  if (runs.count == 1) {  // common case: the panel lies in one output row
    for (size_t p = 0; p < k / 2; ++p) {
      PackPairs16(Q8LoadPixels16<kStride>(src + koff[2 * p] + base[0]), Q8LoadPixels16<kStride>(src + koff[2 * p + 1] + base[0]), panel + p * 32);
    }
  } else {
    for (size_t p = 0; p < k / 2; ++p) PackPairs16(row(src + koff[2 * p]), row(src + koff[2 * p + 1]), panel + p * 32);
  }
  if (k % 2) PackPairs16(row(src + koff[k - 1]), _mm_setzero_si128(), panel + (kpairs - 1) * 32);
}

// Any stride: one byte at a time.
void PackRunsGeneric(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  alignas(16) uint8_t t[2][kQ8Nr] = {};
  for (size_t p = 0; p < (k + 1) / 2; ++p) {
    for (size_t h = 0; h < 2; ++h) {
      if (2 * p + h >= k) {
        std::memset(t[h], 0, kQ8Nr);
        continue;
      }
      const uint8_t* s = src + koff[2 * p + h];
      for (size_t r = 0; r < runs.count; ++r)
        for (size_t d = runs.begin[r]; d < runs.end[r]; ++d) t[h][d] = s[runs.base[r] + static_cast<int64_t>(d * runs.stride)];
    }
    PackPairs16(_mm_load_si128(reinterpret_cast<const __m128i*>(t[0])), _mm_load_si128(reinterpret_cast<const __m128i*>(t[1])), panel + p * 32);
  }
}

void PackPanelRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  if (runs.stride == 1) return PackRuns<1>(src, koff, k, runs, panel);
  if (runs.stride == 2) return PackRuns<2>(src, koff, k, runs, panel);
  PackRunsGeneric(src, koff, k, runs, panel);
}

void StoreU8(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
             uint8_t* out, size_t row_stride, size_t col_stride) {
  const Q8RequantAvx2 rq(o);
  for (size_t r = 0; r < mr; ++r) {
    const __m128i b = rq.U8x16(_mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr)),
                               _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr + 8)), scales[r]);
    Q8StoreU8x16(b, np, out + r * row_stride, col_stride);
  }
}

void StoreF32(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
              float* out, size_t row_stride, size_t col_stride) {
  const Q8RequantAvx2 rq(o);
  for (size_t r = 0; r < mr; ++r) {
    rq.StoreF32x16(_mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr)),
                   _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr + 8)), scales[r], np,
                   out + r * row_stride, col_stride);
  }
}

}  // namespace

const Q8GemmUkernels kQ8GemmAvx2 = {Gemm4x16, Gemm1x16, PackPanel, PackPanelRuns, StoreU8, StoreF32};

}  // namespace layerq
