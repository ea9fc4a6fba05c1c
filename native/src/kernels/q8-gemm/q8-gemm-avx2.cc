// AVX2 microkernels for the packed q8 GEMM (layout in q8-gemm.h).
//
// No VNNI and no vpmaddubsw: uint8 activations are zero-extended to int16 when packed and
// multiplied by int16 weight pairs with vpmaddwd, whose two products and their sum always fit
// (|255 * -128| * 2 = 65280), so no input can saturate. The int32 sums wrap mod 2^32 exactly like
// the reference's int32 accumulator.
#include <immintrin.h>

#include <cstring>

#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-gemm/q8-avx2-common.h"

namespace layerq {
namespace {

// The 4 x 16 tile's k loop: rows r of w (pairs of int16 weights as int32) against the panel's
// 16 pixels, row r accumulated into c<r>0 (pixels 0-7) and c<r>1 (pixels 8-15).
inline __attribute__((always_inline)) void Madd4x16(size_t kpairs, const int32_t* w, const int16_t* panel, __m256i& c00,
                                                    __m256i& c01, __m256i& c10, __m256i& c11, __m256i& c20, __m256i& c21,
                                                    __m256i& c30, __m256i& c31) {
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
}

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
  Madd4x16(kpairs, w, panel, c00, c01, c10, c11, c20, c21, c30, c31);
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

// Gemm4x16 from the bias, its 4 x 16 accumulators requantized in registers (Q8StoreAccU8's
// operations) and the first `rows` rows stored: no accumulator tile in memory.
void Gemm4x16U8(size_t kpairs, const int32_t* w, const int16_t* panel, const int32_t* bias, const float* scales,
                const Q8Output& o, size_t rows, size_t np, uint8_t* out, size_t row_stride) {
  __m256i c00, c01, c10, c11, c20, c21, c30, c31;
  c00 = c01 = _mm256_set1_epi32(bias[0]);
  c10 = c11 = _mm256_set1_epi32(bias[1]);
  c20 = c21 = _mm256_set1_epi32(bias[2]);
  c30 = c31 = _mm256_set1_epi32(bias[3]);
  Madd4x16(kpairs, w, panel, c00, c01, c10, c11, c20, c21, c30, c31);
  const Q8RequantAvx2 rq(o);
  Q8StoreU8x16(rq.U8x16(c00, c01, scales[0]), np, out, 1);
  if (rows > 1) Q8StoreU8x16(rq.U8x16(c10, c11, scales[1]), np, out + row_stride, 1);
  if (rows > 2) Q8StoreU8x16(rq.U8x16(c20, c21, scales[2]), np, out + 2 * row_stride, 1);
  if (rows > 3) Q8StoreU8x16(rq.U8x16(c30, c31, scales[3]), np, out + 3 * row_stride, 1);
}

}  // namespace

const Q8GemmUkernels kQ8GemmAvx2 = {2,       4,     Gemm4x16,   Gemm1x16, Q8PackPanel<Q8PairStep>, Q8PackPanelRuns<Q8PairStep>,
                                    Q8StoreAccU8, Q8StoreAccF32, nullptr, false, Gemm4x16U8};

}  // namespace layerq
