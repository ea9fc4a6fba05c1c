// AVX2 depthwise rows: for 16 output pixels, two taps at a time are interleaved into int16
// pairs and multiplied by the packed weight pair with vpmaddwd (exact, as in the GEMM path).
#include <immintrin.h>

#include "kernels/q8-dwconv/q8-dwconv.h"
#include "kernels/q8-gemm/q8-avx2-common.h"

namespace layerq {
namespace {

template <int kStride>
void DwRow(const uint8_t* src, const int64_t* koff, size_t k, const int32_t* w, int32_t bias,
           float scale, const Q8Output& o, size_t wo, void* out) {
  const Q8RequantAvx2 rq(o);
  for (size_t ox = 0; ox < wo; ox += 16) {
    const uint8_t* s = src + ox * kStride;
    __m256i a0 = _mm256_set1_epi32(bias), a1 = a0;
    size_t t = 0;
    for (; t + 1 < k; t += 2) {
      const __m128i r0 = Q8LoadPixels16<kStride>(s + koff[t]), r1 = Q8LoadPixels16<kStride>(s + koff[t + 1]);
      const __m256i wp = _mm256_set1_epi32(w[t / 2]);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(r0, r1)), wp));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(r0, r1)), wp));
    }
    if (t < k) {  // odd tap count: the last pair's second weight is 0
      const __m128i r0 = Q8LoadPixels16<kStride>(s + koff[t]), z = _mm_setzero_si128();
      const __m256i wp = _mm256_set1_epi32(w[t / 2]);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(r0, z)), wp));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(r0, z)), wp));
    }
    const size_t n = wo - ox < 16 ? wo - ox : 16;
    if (o.kind == Q8OutputKind::kUint8) {
      Q8StoreU8x16(rq.U8x16(a0, a1, scale), n, static_cast<uint8_t*>(out) + ox, 1);
    } else {
      rq.StoreF32x16(a0, a1, scale, n, static_cast<float*>(out) + ox, 1);
    }
  }
}

}  // namespace

Q8DwRowFn Q8DwRowAvx2(size_t stride) {
  if (stride == 1) return DwRow<1>;
  if (stride == 2) return DwRow<2>;
  return nullptr;
}

}  // namespace layerq
