// AVX-512 quantize / dequantize / fake-quantize rows: the AVX2 kernels' float operations (the
// reference's), 16 lanes at a time (divps, vrndscaleps to nearest even, maxps/minps with NaN ->
// lo, cvtps); row tails through the same vector code with masked loads and stores.
#include <immintrin.h>

#include "kernels/q8-gemm/q8-avx512-common.h"
#include "kernels/q8-quantize/q8-quantize-blocks.h"
#include "kernels/q8-quantize/q8-quantize.h"

namespace layerq {
namespace {

struct Params16 {
  __m512 scale, lo, hi;
  __m512i zero;
};

inline Params16 Load(const float* scale, const int32_t* zero, size_t step, int32_t qmin, int32_t qmax) {
  Params16 p;
  if (step == 0) {
    p.scale = _mm512_set1_ps(scale[0]);
    p.zero = _mm512_set1_epi32(zero[0]);
  } else {
    p.scale = _mm512_loadu_ps(scale);
    p.zero = _mm512_loadu_si512(zero);
  }
  p.lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_set1_epi32(qmin), p.zero));
  p.hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_set1_epi32(qmax), p.zero));
  return p;
}

// Clamped nearbyint(x / scale): q - zero as a float (possibly -0).
inline __m512 Offset16(__m512 x, const Params16& p) {
  __m512 r = _mm512_roundscale_ps(_mm512_div_ps(x, p.scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm512_max_ps(r, p.lo);
  return _mm512_min_ps(r, p.hi);
}

// The first n of 16 floats from x (n < 16: masked, the others 0).
inline __m512 LoadF32(const float* x, size_t n) {
  return n >= 16 ? _mm512_loadu_ps(x) : _mm512_maskz_loadu_ps(Q8Lanes16(n), x);
}

void Quantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step, int32_t qmin,
              int32_t qmax, Q8Storage st, void* out) {
  (void)st;  // codes in [qmin, qmax] (uint8 or int8 range): the low byte of the int32 is the code
  uint8_t* o = static_cast<uint8_t*>(out);
  QuantizeBlocks<16>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params16 p = Load(s, z, step, qmin, qmax);
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(Offset16(LoadF32(x + i, count), p)), p.zero);
    Q8StoreBytes(Q8LowBytes(q), Q8Lanes16(count), o + i);
  });
}

void Dequantize(const void* in, Q8Storage st, size_t n, const float* scale, const int32_t* zero, size_t step,
                float* out) {
  const uint8_t* q = static_cast<const uint8_t*>(in);
  QuantizeBlocks<16>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params16 p = Load(s, z, step, 0, 0);
    const __m128i raw = count >= 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i))
                                    : _mm_maskz_loadu_epi8(Q8Lanes16(count), q + i);
    const __m512i v = st == Q8Storage::kUint8 ? _mm512_cvtepu8_epi32(raw) : _mm512_cvtepi8_epi32(raw);
    Q8StoreF32(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, p.zero)), p.scale), Q8Lanes16(count), out + i);
  });
}

void FakeQuantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step, int32_t qmin,
                  int32_t qmax, float* out) {
  QuantizeBlocks<16>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params16 p = Load(s, z, step, qmin, qmax);
    // q - zero through int32, as the reference does: -0 becomes +0.
    const __m512 r = _mm512_cvtepi32_ps(_mm512_cvtps_epi32(Offset16(LoadF32(x + i, count), p)));
    Q8StoreF32(_mm512_mul_ps(r, p.scale), Q8Lanes16(count), out + i);
  });
}

}  // namespace

const Q8QuantizeUkernels kQ8QuantizeAvx512 = {Quantize, Dequantize, FakeQuantize};

}  // namespace layerq
