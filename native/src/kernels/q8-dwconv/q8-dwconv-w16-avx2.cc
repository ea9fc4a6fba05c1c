// AVX2 3x3 depthwise on planes 16 pixels wide (Q8DwW16Fn in q8-dwconv.h): an input row is 16
// bytes, so the taps (ky, 0), (ky, 1) and (ky, 2) of 16 output pixels are 4 vpshufb of it (held
// in both 128-bit lanes) straight into int16 pairs, shared by the two output rows that read it.
// The products and pair sums fit in int32 exactly, the int32 sums wrap like the reference's, and
// the output stage is the reference's float operations (Q8RequantAvx2).
#include <immintrin.h>

#include <type_traits>

#include "common/unroll.h"
#include "kernels/q8-dwconv/q8-dwconv.h"
#include "kernels/q8-gemm/q8-avx2-common.h"

namespace layerq {
namespace {

template <bool kU8>
void Planes(const uint8_t* x, size_t h, size_t planes, const int32_t* params, const float* scales,
            const Q8Output& output, uint8_t x_zero, void* out) {
  // Table 2t + hf: type 0 the pair of columns (x - 1, x), type 1 column x + 1 alone; half 0 ("a")
  // holds output pixels {0-3, 8-11}, half 1 ("b") {4-7, 12-15} (the in-lane pack's order); a
  // column outside the row reads 0.
  static const Q8PairShuffles<4> kControls([](size_t i, size_t e) {
    const int p = static_cast<int>(e / 4 * 8 + i % 2 * 4 + e % 4);
    return i / 2 == 0 ? std::pair<int, int>(p - 1, p) : std::pair<int, int>(p < 15 ? p + 1 : -1, -1);
  });
  using Out = std::conditional_t<kU8, uint8_t, float>;
  const Q8RequantAvx2 rq(output);
  __m256i ctl[2][2];
  Unroll<2>([&](auto t) { Unroll<2>([&](auto hf) { ctl[t][hf] = kControls.Get(2 * t + hf); }); });
  const __m256i pad_row = _mm256_set1_epi8(static_cast<char>(x_zero));  // rows above and below
  auto load = [](const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  for (size_t k = 0; k < planes; ++k, x += 16 * h, params += kQ8DwW16ChannelInts) {
    const __m256 m = _mm256_set1_ps(scales[k]);
    __m256i wv[3][2];  // [ky][type]
    Unroll<3>([&](auto ky) { Unroll<2>([&](auto t) { wv[ky][t] = _mm256_set1_epi32(params[2 * ky + t]); }); });
    Out* o = static_cast<Out*>(out) + k * 16 * h;
    auto row = [&](size_t iy) {  // padded row iy (input row iy - 1) in both lanes
      if (iy == 0 || iy > h) return pad_row;
      return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 16 * (iy - 1))));
    };
    for (size_t oy = 0; oy < h; oy += 2) {  // output rows oy, oy + 1 read padded rows oy .. oy + 3
      __m256i acc[2][2];  // [row][half]
      Unroll<2>([&](auto r) { Unroll<2>([&](auto hf) { acc[r][hf] = load(params + 6 + 8 * hf); }); });
      Unroll<4>([&](auto i) {
        const __m256i in = row(oy + i);
        Unroll<2>([&](auto t) {
          Unroll<2>([&](auto hf) {
            const __m256i pairs = _mm256_shuffle_epi8(in, ctl[t][hf]);
            if constexpr (i < 3) acc[0][hf] = _mm256_add_epi32(acc[0][hf], _mm256_madd_epi16(pairs, wv[i][t]));
            if constexpr (i >= 1) acc[1][hf] = _mm256_add_epi32(acc[1][hf], _mm256_madd_epi16(pairs, wv[i - 1][t]));
          });
        });
      });
      Unroll<2>([&](auto r) {
        if (oy + r >= h) return;
        if constexpr (kU8) {
          rq.StoreU8Halves(acc[r][0], acc[r][1], m, m, o + (oy + r) * 16);
        } else {
          rq.StoreF32Halves(acc[r][0], acc[r][1], m, m, o + (oy + r) * 16);
        }
      });
    }
  }
}

}  // namespace

void Q8DwW16Avx2(const uint8_t* x, size_t h, size_t planes, const int32_t* params, const float* scales,
                 const Q8Output& output, uint8_t x_zero, void* out) {
  if (output.kind == Q8OutputKind::kUint8) return Planes<true>(x, h, planes, params, scales, output, x_zero, out);
  Planes<false>(x, h, planes, params, scales, output, x_zero, out);
}

}  // namespace layerq
