// AVX-512 VNNI microkernel for the packed q8 GEMM (quads layout in q8-gemm.h): vpdpbusd
// multiplies 4 uint8 activations by 4 int8 weights and adds the 4 products to an int32 lane
// without any intermediate saturation (unlike vpmaddubsw, and unlike vpdpbusds), so it is exact
// for all inputs; the int32 lanes wrap mod 2^32 like the reference's accumulator. Panels are
// packed with the AVX2 helpers; the output stage is the AVX2 one (same float operations).
#include <immintrin.h>

#include "common/unroll.h"
#include "kernels/q8-gemm/q8-avx2-common.h"
#include "kernels/q8-gemm/q8-avx512-common.h"
#include "kernels/q8-gemm/q8-gemm.h"

#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")

namespace layerq {
namespace {

// acc[8][16] (+)= sum over steps of 8 weight quads (broadcast) x 16 pixel quads (one zmm).
// c is indexed by Unroll's constants only, so it stays in 8 zmm registers.
void Gemm8x16Vnni(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias,
                  int32_t* acc, bool init) {
  __m512i c[8];
  Unroll<8>([&](auto r) { c[r] = init ? _mm512_set1_epi32(bias[r]) : _mm512_load_si512(acc + r * kQ8Nr); });
  const uint8_t* x = reinterpret_cast<const uint8_t*>(panel);
  for (size_t s = 0; s < steps; ++s) {
    const __m512i v = _mm512_load_si512(x);
    Unroll<8>([&](auto r) { c[r] = _mm512_dpbusd_epi32(c[r], v, _mm512_set1_epi32(w[r])); });
    x += 64;
    w += 8;
  }
  Unroll<8>([&](auto r) { _mm512_store_si512(acc + r * kQ8Nr, c[r]); });
}

// The same from the bias, requantized with the AVX-512 output stage: rows [0, rows) x pixels
// [0, np) as uint8 to out[r * row_stride + p]. The sums go through a local buffer (requantizing
// the registers straight after the loop makes GCC 12 copy all eight accumulators every step).
void Gemm8x16VnniU8(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias, const float* scales,
                    const Q8Output& o, size_t rows, size_t np, uint8_t* out, size_t row_stride) {
  alignas(64) int32_t acc[8 * kQ8Nr];
  Gemm8x16Vnni(steps, w, panel, bias, acc, true);
  const Q8Requant512 rq(o);
  const __mmask16 k = Q8Lanes16(np);
  for (size_t r = 0; r < rows; ++r) rq.U8(_mm512_load_si512(acc + r * kQ8Nr), scales[r], k, out + r * row_stride);
}

}  // namespace

const Q8GemmUkernels kQ8GemmAvx512Vnni = {
    4, 8, Gemm8x16Vnni, nullptr, Q8PackPanel<Q8QuadStep>, Q8PackPanelRuns<Q8QuadStep>, Q8StoreAccU8, Q8StoreAccF32,
    &kQ8GemmAvx2, false, Gemm8x16VnniU8};

}  // namespace layerq
