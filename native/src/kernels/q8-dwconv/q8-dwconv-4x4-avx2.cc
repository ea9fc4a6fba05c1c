// AVX2 3x3 depthwise on 4x4 planes (Q8Dw4x4Fn in q8-dwconv.h): a plane is 16 bytes, so each
// tap pair of 8 output pixels is one vpshufb of the plane (held in both 128-bit lanes) straight
// into int16 pairs, taps outside the plane as 0; the per-pixel bias puts their xZero back. The
// products and pair sums fit in int32 exactly, the int32 sums wrap like the reference's, and the
// output stage is the reference's float operations (Q8RequantAvx2).
#include <immintrin.h>

#include "common/unroll.h"
#include "kernels/q8-dwconv/q8-dwconv.h"
#include "kernels/q8-gemm/q8-avx2-common.h"

namespace layerq {
namespace {

constexpr size_t kPairs = 5;  // taps (0, 1), (2, 3), (4, 5), (6, 7), (8, none)

// Output pixel of element e of half hf: lane l of the half holds pixels 8l + 4hf .. + 3, so that
// the in-lane pack of the two halves' results puts the 16 pixels in order.
inline size_t Pixel(size_t hf, size_t e) { return e / 4 * 8 + hf * 4 + e % 4; }

// Input byte of tap t (none past 8) of output pixel p, or -1 where it falls outside the plane.
inline int TapByte(size_t t, size_t p) {
  const int iy = static_cast<int>(p / 4 + t / 3) - 1, ix = static_cast<int>(p % 4 + t % 3) - 1;
  return t < 9 && iy >= 0 && iy < 4 && ix >= 0 && ix < 4 ? iy * 4 + ix : -1;
}

template <bool kU8>
void Planes(const uint8_t* x, size_t planes, const int32_t* tap_pairs, const int32_t* bias, const float* scales,
            const Q8Output& output, void* out) {
  // Table 2j + hf: taps 2j, 2j + 1 of the pixels of half hf.
  static const Q8PairShuffles<2 * kPairs> kControls([](size_t i, size_t e) {
    const size_t j = i / 2, p = Pixel(i % 2, e);
    return std::pair<int, int>(TapByte(2 * j, p), TapByte(2 * j + 1, p));
  });
  const Q8RequantAvx2 rq(output);
  __m256i ctl[kPairs][2];
  Unroll<kPairs>([&](auto j) { Unroll<2>([&](auto hf) { ctl[j][hf] = kControls.Get(2 * j + hf); }); });
  for (size_t k = 0; k < planes; ++k, x += 16, tap_pairs += kPairs, bias += 16) {
    const __m256i plane = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
    __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias));
    __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + 8));
    Unroll<kPairs>([&](auto j) {
      const __m256i w = _mm256_set1_epi32(tap_pairs[j]);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_shuffle_epi8(plane, ctl[j][0]), w));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_shuffle_epi8(plane, ctl[j][1]), w));
    });
    const __m256 m = _mm256_set1_ps(scales[k]);  // a0: pixels 0-3 | 8-11, a1: 4-7 | 12-15
    if constexpr (kU8) {
      rq.StoreU8Halves(a0, a1, m, m, static_cast<uint8_t*>(out) + k * 16);
    } else {
      rq.StoreF32Halves(a0, a1, m, m, static_cast<float*>(out) + k * 16);
    }
  }
}

}  // namespace

void Q8Dw4x4Avx2(const uint8_t* x, size_t planes, const int32_t* tap_pairs, const int32_t* bias, const float* scales,
                 const Q8Output& output, void* out) {
  if (output.kind == Q8OutputKind::kUint8) return Planes<true>(x, planes, tap_pairs, bias, scales, output, out);
  Planes<false>(x, planes, tap_pairs, bias, scales, output, out);
}

}  // namespace layerq
