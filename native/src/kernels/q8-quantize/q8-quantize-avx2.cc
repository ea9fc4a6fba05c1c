// AVX2 quantize / dequantize / fake-quantize rows: the reference's float operations, 8 lanes at
// a time (divps, roundps to nearest even, maxps/minps with NaN -> lo, cvtps). Row tails go
// through the same vector code on a zero-padded copy, so every element takes one code path.
#include <immintrin.h>

#include <cstring>

#include "kernels/q8-quantize/q8-quantize.h"
#include "kernels/q8-quantize/q8-quantize-blocks.h"

namespace layerq {
namespace {

struct Params8 {
  __m256 scale, lo, hi;
  __m256i zero;
};

inline Params8 Load(const float* scale, const int32_t* zero, size_t step, int32_t qmin, int32_t qmax) {
  Params8 p;
  if (step == 0) {
    p.scale = _mm256_set1_ps(scale[0]);
    p.zero = _mm256_set1_epi32(zero[0]);
  } else {
    p.scale = _mm256_loadu_ps(scale);
    p.zero = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zero));
  }
  p.lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_set1_epi32(qmin), p.zero));
  p.hi = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_set1_epi32(qmax), p.zero));
  return p;
}

// Clamped nearbyint(x / scale): q - zero as a float (possibly -0).
inline __m256 Offset8(__m256 x, const Params8& p) {
  __m256 r = _mm256_round_ps(_mm256_div_ps(x, p.scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm256_max_ps(r, p.lo);
  return _mm256_min_ps(r, p.hi);
}

// q - zero through int32, as the reference does: -0 becomes +0.
inline __m256 Integral8(__m256 r) { return _mm256_cvtepi32_ps(_mm256_cvtps_epi32(r)); }

inline void Store8(__m256i q, Q8Storage st, void* out) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  const __m128i b = st == Q8Storage::kUint8 ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
  _mm_storel_epi64(static_cast<__m128i*>(out), b);
}

void Quantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step,
              int32_t qmin, int32_t qmax, Q8Storage st, void* out) {
  uint8_t* o = static_cast<uint8_t*>(out);
  QuantizeBlocks<8>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params8 p = Load(s, z, step, qmin, qmax);
    if (count == 8) {
      Store8(_mm256_add_epi32(_mm256_cvtps_epi32(Offset8(_mm256_loadu_ps(x + i), p)), p.zero), st, o + i);
      return;
    }
    alignas(32) float t[8] = {};
    std::memcpy(t, x + i, count * sizeof(float));
    alignas(16) uint8_t b[16];
    Store8(_mm256_add_epi32(_mm256_cvtps_epi32(Offset8(_mm256_load_ps(t), p)), p.zero), st, b);
    std::memcpy(o + i, b, count);
  });
}

void Dequantize(const void* in, Q8Storage st, size_t n, const float* scale, const int32_t* zero,
                size_t step, float* out) {
  const uint8_t* q = static_cast<const uint8_t*>(in);
  QuantizeBlocks<8>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params8 p = Load(s, z, step, 0, 0);
    alignas(16) uint8_t b[16] = {};
    std::memcpy(b, q + i, count);
    const __m128i raw = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b));
    const __m256i v = st == Q8Storage::kUint8 ? _mm256_cvtepu8_epi32(raw) : _mm256_cvtepi8_epi32(raw);
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, p.zero)), p.scale);
    if (count == 8) {
      _mm256_storeu_ps(out + i, f);
    } else {
      alignas(32) float t[8];
      _mm256_store_ps(t, f);
      std::memcpy(out + i, t, count * sizeof(float));
    }
  });
}

void FakeQuantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step,
                  int32_t qmin, int32_t qmax, float* out) {
  QuantizeBlocks<8>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params8 p = Load(s, z, step, qmin, qmax);
    if (count == 8) {
      _mm256_storeu_ps(out + i, _mm256_mul_ps(Integral8(Offset8(_mm256_loadu_ps(x + i), p)), p.scale));
      return;
    }
    alignas(32) float t[8] = {};
    std::memcpy(t, x + i, count * sizeof(float));
    _mm256_store_ps(t, _mm256_mul_ps(Integral8(Offset8(_mm256_load_ps(t), p)), p.scale));
    std::memcpy(out + i, t, count * sizeof(float));
  });
}

}  // namespace

const Q8QuantizeUkernels kQ8QuantizeAvx2 = {Quantize, Dequantize, FakeQuantize};

}  // namespace layerq
