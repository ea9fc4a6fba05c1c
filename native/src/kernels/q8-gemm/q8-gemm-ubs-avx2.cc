// AVX2 microkernels for small weights (quads layout in q8-gemm.h): vpmaddubsw multiplies 32
// uint8 activations by 32 int8 weights and adds adjacent products into 16 int16 lanes, with
// saturation. For weights whose every pair has |w[k]| + |w[k+1]| <= 128 a pair sum of any uint8
// inputs is at most 255 * 128 = 32640 in magnitude, so nothing saturates; with depth d =
// Q8PackedWeights::ubs_depth() (d * 255 * P <= 32767), d such pair sums add up in int16 exactly
// before vpmaddwd by ones widens them into the int32 accumulators. 4-bit weights (P <= 16) get
// d = 8: 32 multiply-adds for about two instructions, against four with vpmaddwd on int16
// activations (q8-gemm-avx2.cc). The int32 sums are the reference's (wrapping mod 2^32).
#include <immintrin.h>

#include <algorithm>

#include "common/unroll.h"
#include "kernels/q8-gemm/q8-avx2-common.h"
#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

// Rows r < 2 of the weights (w[r] the row's quad of a step, steps 8 words apart) against the
// 16 pixels of the panel (64 bytes a step: one pixel's quad per int32), added to c[2r] (pixels
// 0-7) and c[2r + 1] (8-15); the int16 sums of kDepth steps at a time.
// Two rows, not four: 4 int16 sums, 4 int32 accumulators, the two pixel vectors, the weights
// and the ones stay in registers (four rows spilled the int16 sums), and the loop is bound by
// the vpmaddubsw units either way.
template <size_t kDepth>
inline __attribute__((always_inline)) void Dot2x16(size_t steps, const int32_t* w, const uint8_t* x, __m256i c[4]) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i t[4];
  auto step = [&](size_t s) {
    const __m256i v0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(x + s * 64));
    const __m256i v1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(x + s * 64 + 32));
    Unroll<2>([&](auto r) {
      const __m256i wr = _mm256_set1_epi32(w[s * 8 + r]);
      t[2 * r] = _mm256_add_epi16(t[2 * r], _mm256_maddubs_epi16(v0, wr));
      t[2 * r + 1] = _mm256_add_epi16(t[2 * r + 1], _mm256_maddubs_epi16(v1, wr));
    });
  };
  // `count` steps from s summed in int16, then widened into c.
  auto chunk = [&](size_t s, size_t count) {
    Unroll<4>([&](auto j) { t[j] = _mm256_setzero_si256(); });
    // A plain loop: fully unrolled, GCC hoists every product ahead of the adds and spills them.
#pragma GCC unroll 2
    for (size_t i = 0; i < count; ++i) step(s + i);
    Unroll<4>([&](auto j) { c[j] = _mm256_add_epi32(c[j], _mm256_madd_epi16(t[j], ones)); });
  };
  size_t s = 0;
  for (; s + kDepth <= steps; s += kDepth) chunk(s, kDepth);
  if (s < steps) chunk(s, steps - s);
}

// acc[8][16] (+)= the 8-row block against the 16-pixel panel, as four 2 x 16 tiles.
template <size_t kDepth>
void Gemm8x16Ubs(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias, int32_t* acc, bool init) {
  const uint8_t* x = reinterpret_cast<const uint8_t*>(panel);
  for (size_t r0 = 0; r0 < 8; r0 += 2) {
    __m256i c[4];
    int32_t* a = acc + r0 * kQ8Nr;
    Unroll<4>([&](auto j) {
      c[j] = init ? _mm256_set1_epi32(bias[r0 + j / 2]) : _mm256_load_si256(reinterpret_cast<const __m256i*>(a + 8 * j));
    });
    Dot2x16<kDepth>(steps, w + r0, x, c);
    Unroll<4>([&](auto j) { _mm256_store_si256(reinterpret_cast<__m256i*>(a + 8 * j), c[j]); });
  }
}

// Gemm8x16Ubs from the bias, each 2-row tile requantized in registers (Q8StoreAccU8's
// operations) and the first `rows` rows stored.
template <size_t kDepth>
void Gemm8x16UbsU8(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias, const float* scales,
                   const Q8Output& o, size_t rows, size_t np, uint8_t* out, size_t row_stride) {
  const uint8_t* x = reinterpret_cast<const uint8_t*>(panel);
  const Q8RequantAvx2 rq(o);
  for (size_t r0 = 0; r0 < rows; r0 += 2) {
    __m256i c[4];
    Unroll<4>([&](auto j) { c[j] = _mm256_set1_epi32(bias[r0 + j / 2]); });
    Dot2x16<kDepth>(steps, w + r0, x, c);
    Q8StoreU8x16(rq.U8x16(c[0], c[1], scales[r0]), np, out + r0 * row_stride, 1);
    if (r0 + 1 < rows) Q8StoreU8x16(rq.U8x16(c[2], c[3], scales[r0 + 1]), np, out + (r0 + 1) * row_stride, 1);
  }
}

template <size_t kDepth>
constexpr Q8GemmUkernels UbsKernels() {
  return {4,    8, Gemm8x16Ubs<kDepth>, nullptr, Q8PackPanel<Q8QuadStep>, Q8PackPanelRuns<Q8QuadStep>, Q8StoreAccU8,
          Q8StoreAccF32, &kQ8GemmAvx2, false, Gemm8x16UbsU8<kDepth>};
}

const Q8GemmUkernels kUbs1 = UbsKernels<1>(), kUbs2 = UbsKernels<2>(), kUbs4 = UbsKernels<4>(), kUbs8 = UbsKernels<8>();

}  // namespace

const Q8GemmUkernels* Q8GemmAvx2Ubs(size_t depth) {
  return depth >= 8 ? &kUbs8 : depth >= 4 ? &kUbs4 : depth >= 2 ? &kUbs2 : &kUbs1;
}

}  // namespace layerq
