// AVX-512 VNNI microkernel for the packed q8 GEMM (quads layout in q8-gemm.h): vpdpbusd
// multiplies 4 uint8 activations by 4 int8 weights and adds the 4 products to an int32 lane
// without any intermediate saturation (unlike vpmaddubsw, and unlike vpdpbusds), so it is exact
// for all inputs; the int32 lanes wrap mod 2^32 like the reference's accumulator. Panels are
// packed with the AVX2 helpers; the output stage is the AVX2 one (same float operations).
#include <immintrin.h>

#include "kernels/q8-gemm/q8-avx2-common.h"
#include "kernels/q8-gemm/q8-gemm.h"

#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")

namespace layerq {
namespace {

// acc[8][16] (+)= sum over steps of 8 weight quads (broadcast) x 16 pixel quads (one zmm).
void Gemm8x16Vnni(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias,
                  int32_t* acc, bool init) {
  __m512i c[8];
  for (int r = 0; r < 8; ++r) {
    c[r] = init ? _mm512_set1_epi32(bias[r]) : _mm512_load_si512(acc + r * kQ8Nr);
  }
  const uint8_t* x = reinterpret_cast<const uint8_t*>(panel);
  for (size_t s = 0; s < steps; ++s) {
    const __m512i v = _mm512_load_si512(x);
    c[0] = _mm512_dpbusd_epi32(c[0], v, _mm512_set1_epi32(w[0]));
    c[1] = _mm512_dpbusd_epi32(c[1], v, _mm512_set1_epi32(w[1]));
    c[2] = _mm512_dpbusd_epi32(c[2], v, _mm512_set1_epi32(w[2]));
    c[3] = _mm512_dpbusd_epi32(c[3], v, _mm512_set1_epi32(w[3]));
    c[4] = _mm512_dpbusd_epi32(c[4], v, _mm512_set1_epi32(w[4]));
    c[5] = _mm512_dpbusd_epi32(c[5], v, _mm512_set1_epi32(w[5]));
    c[6] = _mm512_dpbusd_epi32(c[6], v, _mm512_set1_epi32(w[6]));
    c[7] = _mm512_dpbusd_epi32(c[7], v, _mm512_set1_epi32(w[7]));
    x += 64;
    w += 8;
  }
  for (int r = 0; r < 8; ++r) _mm512_store_si512(acc + r * kQ8Nr, c[r]);
}

}  // namespace

const Q8GemmUkernels kQ8GemmAvx512Vnni = {
    4, 8, Gemm8x16Vnni, nullptr, Q8PackPanel<Q8QuadStep>, Q8PackPanelRuns<Q8QuadStep>, Q8StoreAccU8, Q8StoreAccF32,
    &kQ8GemmAvx2};

}  // namespace layerq
