// AVX-512 direct conv microkernel: 4 output channels x up to 6 segments of 16 pixels = 24 zmm
// accumulators (of 32); per tap up to 6 loads (one per segment, at the tap's offset),
// 4 broadcasts, 24 FMAs. Two-row segments (rows of 8 pixels, e.g. 8x8 maps) fill the upper
// 8 lanes from the next output row with a 256-bit load + insert.
#include <immintrin.h>

#include "common/unroll.h"
#include "kernels/f32-conv/f32-conv-direct.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
namespace {

inline __mmask16 FirstLanes(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }  // n <= 16

template <int NV, bool kTwoRow>
inline void Tile(size_t mr, size_t k, const float* a, const int32_t* offsets, const DirectTile& t,
                 size_t ldc, const float* row_bias, float min, float max) {
  __m512 acc[kMR][NV];  // constant indices only (Unroll): kept in registers
  Unroll<kMR>([&](auto r) {
    const __m512 rb = _mm512_set1_ps(row_bias[r]);
    Unroll<NV>([&](auto v) { acc[r][v] = rb; });
  });
  // The segments' pointers are read from t itself, one by one: copied into a local array, GCC
  // loaded them as one 256-bit vector, which the caller's 64-bit stores just before cannot
  // forward to (a store-forwarding stall every call: 1.55x on MobileNetV2's 224x224 stem, 1.15x
  // on its pointwise convs, one thread, build/conv-layers).
  for (size_t p = 0; p < k; ++p) {
    const ptrdiff_t off = offsets[p];
    __m512 bv[NV];
    Unroll<NV>([&](auto v) {
      if (kTwoRow) {
        bv[v] = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(t.b[v] + off)),
                                   _mm256_loadu_ps(t.b2[v] + off), 1);
      } else {
        bv[v] = _mm512_loadu_ps(t.b[v] + off);
      }
    });
    Unroll<kMR>([&](auto r) {
      const __m512 av = _mm512_set1_ps(a[r]);
      Unroll<NV>([&](auto v) { acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]); });
    });
    a += kMR;
  }
  const __m512 vmin = _mm512_set1_ps(min), vmax = _mm512_set1_ps(max);
  Unroll<NV>([&](auto v) {
    if (kTwoRow) {
      const __mmask8 lo = static_cast<__mmask8>((1u << t.len[v]) - 1u);
      const __mmask8 hi = static_cast<__mmask8>((1u << t.len2[v]) - 1u);
      Unroll<kMR>([&](auto r) {
        if (r >= mr) return;
        const __m512 y = _mm512_min_ps(_mm512_max_ps(acc[r][v], vmin), vmax);
        _mm256_mask_storeu_ps(t.c[v] + r * ldc, lo, _mm512_castps512_ps256(y));
        _mm256_mask_storeu_ps(t.c2[v] + r * ldc, hi, _mm512_extractf32x8_ps(y, 1));
      });
    } else {
      const __mmask16 mask = FirstLanes(t.len[v]);
      Unroll<kMR>([&](auto r) {
        if (r >= mr) return;
        const __m512 y = _mm512_min_ps(_mm512_max_ps(acc[r][v], vmin), vmax);
        _mm512_mask_storeu_ps(t.c[v] + r * ldc, mask, y);
      });
    }
  });
}

template <bool kTwoRow>
inline void Dispatch(size_t mr, size_t k, const float* a, const int32_t* offsets, const DirectTile& t,
                     size_t ldc, const float* row_bias, float min, float max) {
  switch (t.count) {
    case 6: return Tile<6, kTwoRow>(mr, k, a, offsets, t, ldc, row_bias, min, max);
    case 5: return Tile<5, kTwoRow>(mr, k, a, offsets, t, ldc, row_bias, min, max);
    case 4: return Tile<4, kTwoRow>(mr, k, a, offsets, t, ldc, row_bias, min, max);
    case 3: return Tile<3, kTwoRow>(mr, k, a, offsets, t, ldc, row_bias, min, max);
    case 2: return Tile<2, kTwoRow>(mr, k, a, offsets, t, ldc, row_bias, min, max);
    default: return Tile<1, kTwoRow>(mr, k, a, offsets, t, ldc, row_bias, min, max);
  }
}

}  // namespace

void ConvDirectUkernelAvx512(size_t mr, size_t k, const float* a, const int32_t* offsets,
                             const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max) {
  Dispatch<false>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
}

void ConvDirectUkernelAvx512TwoRow(size_t mr, size_t k, const float* a, const int32_t* offsets,
                                   const DirectTile& tile, size_t ldc, const float* row_bias,
                                   float min, float max) {
  Dispatch<true>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
}

}  // namespace f32
}  // namespace layerq
