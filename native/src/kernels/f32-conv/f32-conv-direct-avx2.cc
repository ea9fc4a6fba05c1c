// AVX2+FMA direct conv microkernel: 4 output channels x 3 segments of 8 pixels = 12 ymm
// accumulators; per tap 3 loads (one per segment, at the tap's offset), 4 broadcasts, 12 FMAs.
#include <immintrin.h>

#include "common/unroll.h"
#include "kernels/f32-conv/f32-conv-direct.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
namespace {

inline __m256i TailMask(size_t n) {
  static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
}

template <int NV>
inline void Tile(size_t mr, size_t k, const float* a, const int32_t* offsets, const DirectTile& t,
                 size_t ldc, const float* row_bias, float min, float max) {
  // Every index of acc is a compile-time constant (Unroll): acc stays in registers.
  __m256 acc[kMR][NV];
  Unroll<kMR>([&](auto r) {
    const __m256 rb = _mm256_broadcast_ss(row_bias + r);
    Unroll<NV>([&](auto v) { acc[r][v] = rb; });
  });
  // The segments' pointers are read from t itself, one by one, as in the AVX-512 kernel, where
  // a local copy of them became one wide load of the caller's fresh stores (a store-forwarding
  // stall every call; f32-conv-direct-avx512.cc).
  for (size_t p = 0; p < k; ++p) {
    const ptrdiff_t off = offsets[p];
    __m256 bv[NV];
    Unroll<NV>([&](auto v) { bv[v] = _mm256_loadu_ps(t.b[v] + off); });
    Unroll<kMR>([&](auto r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      Unroll<NV>([&](auto v) { acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]); });
    });
    a += kMR;
  }
  const __m256 vmin = _mm256_set1_ps(min), vmax = _mm256_set1_ps(max);
  Unroll<NV>([&](auto v) {
    const bool full = t.len[v] == 8;
    const __m256i mask = TailMask(t.len[v]);
    Unroll<kMR>([&](auto r) {
      if (r >= mr) return;
      const __m256 y = _mm256_min_ps(_mm256_max_ps(acc[r][v], vmin), vmax);
      float* c = t.c[v] + r * ldc;
      if (full) {
        _mm256_storeu_ps(c, y);
      } else {
        _mm256_maskstore_ps(c, mask, y);
      }
    });
  });
}

}  // namespace

void ConvDirectUkernelAvx2(size_t mr, size_t k, const float* a, const int32_t* offsets,
                           const DirectTile& tile, size_t ldc, const float* row_bias, float min, float max) {
  switch (tile.count) {
    case 3: return Tile<3>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
    case 2: return Tile<2>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
    default: return Tile<1>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
  }
}

}  // namespace f32
}  // namespace layerq

// ---------------------------------------------------------------------------------------------
// Half segments (ConvDirectUkernelAvx2Halves in f32-conv-direct.h): lanes 0..3 from (b, c, len),
// lanes 4..7 from (b2, c2, len2), len and len2 <= 4.

namespace layerq {
namespace f32 {
namespace {

inline __m128i HalfMask(size_t n) {  // first n of 4 lanes set
  static const int32_t kMask[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMask + 4 - n));
}

inline void StoreHalf(float* c, size_t len, __m128 y) {
  if (len == 4) {
    _mm_storeu_ps(c, y);
  } else if (len > 0) {
    _mm_maskstore_ps(c, HalfMask(len), y);
  }
}

template <int NV>
inline void TileHalves(size_t mr, size_t k, const float* a, const int32_t* offsets, const DirectTile& t, size_t ldc,
                       const float* row_bias, float min, float max) {
  __m256 acc[kMR][NV];
  Unroll<kMR>([&](auto r) {
    const __m256 rb = _mm256_broadcast_ss(row_bias + r);
    Unroll<NV>([&](auto v) { acc[r][v] = rb; });
  });
  for (size_t p = 0; p < k; ++p) {
    const ptrdiff_t off = offsets[p];
    __m256 bv[NV];
    Unroll<NV>([&](auto v) {
      bv[v] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(t.b[v] + off)), _mm_loadu_ps(t.b2[v] + off), 1);
    });
    Unroll<kMR>([&](auto r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      Unroll<NV>([&](auto v) { acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]); });
    });
    a += kMR;
  }
  const __m256 vmin = _mm256_set1_ps(min), vmax = _mm256_set1_ps(max);
  Unroll<NV>([&](auto v) {
    Unroll<kMR>([&](auto r) {
      if (r >= mr) return;
      const __m256 y = _mm256_min_ps(_mm256_max_ps(acc[r][v], vmin), vmax);
      StoreHalf(t.c[v] + r * ldc, t.len[v], _mm256_castps256_ps128(y));
      StoreHalf(t.c2[v] + r * ldc, t.len2[v], _mm256_extractf128_ps(y, 1));
    });
  });
}

}  // namespace

void ConvDirectUkernelAvx2Halves(size_t mr, size_t k, const float* a, const int32_t* offsets, const DirectTile& tile,
                                 size_t ldc, const float* row_bias, float min, float max) {
  switch (tile.count) {
    case 3: return TileHalves<3>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
    case 2: return TileHalves<2>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
    default: return TileHalves<1>(mr, k, a, offsets, tile, ldc, row_bias, min, max);
  }
}

}  // namespace f32
}  // namespace layerq
