// AVX2 3x3 depthwise on 2x2 planes (Q8Dw2x2Fn in q8-dwconv.h): four planes are 16 bytes, and
// each output pixel sees all four input pixels, so 16 outputs are 4 vpshufb of those bytes into
// int16 pairs and 4 vpmaddwd against per-lane weight pairs. The products and pair sums fit in
// int32 exactly, the int32 sums wrap like the reference's, and the output stage is the
// reference's float operations (Q8RequantAvx2).
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "common/unroll.h"
#include "kernels/q8-dwconv/q8-dwconv.h"
#include "kernels/q8-gemm/q8-avx2-common.h"

namespace layerq {
namespace {

template <bool kU8>
void Groups(const uint8_t* x, size_t groups, size_t last, const int32_t* params, const float* scales,
            const Q8Output& output, void* out) {
  // Table 2hf + j: half 0 (the "a" vector: planes 0 and 2 of the 4, one per 128-bit lane), half
  // 1 ("b": planes 1 and 3); element e (pixel e % 4 of its lane's plane) of pair j gets input
  // pixels 2j and 2j + 1 of that plane.
  static const Q8PairShuffles<4> kControls([](size_t i, size_t e) {
    const int first = static_cast<int>(4 * (i / 2 + 2 * (e / 4)) + 2 * (i % 2));
    return std::pair<int, int>(first, first + 1);
  });
  const Q8RequantAvx2 rq(output);
  __m256i ctl[2][2];
  Unroll<2>([&](auto hf) { Unroll<2>([&](auto j) { ctl[hf][j] = kControls.Get(2 * hf + j); }); });
  using Out = std::conditional_t<kU8, uint8_t, float>;
  Out* o = static_cast<Out*>(out);
  auto load = [](const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  for (size_t k = 0; k < groups; ++k, x += 16, params += kQ8Dw2x2GroupInts, scales += 16, o += 16) {
    const size_t n = k + 1 == groups ? last : 16;  // outputs of the group (its channels x 4)
    __m128i bytes;
    if (n == 16) {
      bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x));
    } else {  // the last planes: no read past them
      alignas(16) uint8_t t[16] = {};
      std::memcpy(t, x, n);
      bytes = _mm_load_si128(reinterpret_cast<const __m128i*>(t));
    }
    const __m256i planes = _mm256_broadcastsi128_si256(bytes);
    __m256i acc[2];
    Unroll<2>([&](auto hf) {
      acc[hf] = load(params + 32 + 8 * hf);  // per-pixel bias
      Unroll<2>([&](auto j) {
        const __m256i pairs = _mm256_shuffle_epi8(planes, ctl[hf][j]);
        acc[hf] = _mm256_add_epi32(acc[hf], _mm256_madd_epi16(pairs, load(params + 16 * hf + 8 * j)));
      });
    });
    const __m256 sa = _mm256_loadu_ps(scales), sb = _mm256_loadu_ps(scales + 8);
    alignas(32) Out t[16];
    Out* dst = n == 16 ? o : t;
    if constexpr (kU8) {
      rq.StoreU8Halves(acc[0], acc[1], sa, sb, dst);
    } else {
      rq.StoreF32Halves(acc[0], acc[1], sa, sb, dst);
    }
    if (n < 16) std::memcpy(o, t, n * sizeof(Out));
  }
}

}  // namespace

void Q8Dw2x2Avx2(const uint8_t* x, size_t groups, size_t last, const int32_t* params, const float* scales,
                 const Q8Output& output, void* out) {
  if (output.kind == Q8OutputKind::kUint8) return Groups<true>(x, groups, last, params, scales, output, out);
  Groups<false>(x, groups, last, params, scales, output, out);
}

}  // namespace layerq
