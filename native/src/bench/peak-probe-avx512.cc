// AVX-512 peak probes: the fp32 FMA on zmm (the f32 kernels' kAvx512 path) and vpdpbusd (the
// int8 kernels' VNNI path: 64 uint8 x int8 products summed in fours into 16 int32 lanes).
// 16 independent chains each; registers start at zero.
#include <cstdint>
#include <vector>

#include "bench/peak-probe.h"
#include "common/cpu.h"

namespace layerq {
namespace {

#define LQ_ZERO(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n\t"
#define LQ_ZERO_ALL                                                                          \
  LQ_ZERO(0) LQ_ZERO(1) LQ_ZERO(2) LQ_ZERO(3) LQ_ZERO(4) LQ_ZERO(5) LQ_ZERO(6) LQ_ZERO(7) \
  LQ_ZERO(8) LQ_ZERO(9) LQ_ZERO(10) LQ_ZERO(11) LQ_ZERO(12) LQ_ZERO(13) LQ_ZERO(14) LQ_ZERO(15) \
  LQ_ZERO(30) LQ_ZERO(31)
#define LQ_CLOBBER_ZMM                                                                              \
  "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm30", "xmm31"
#define LQ_16(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)

constexpr int kChains = 16;

#define LQ_FMA(i) "vfmadd231ps %%zmm31, %%zmm30, %%zmm" #i "\n\t"
void FmaZmm(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL "1:\n\t" LQ_16(LQ_FMA) "dec %0\n\tjnz 1b\n\t" : "+r"(n) : : LQ_CLOBBER_ZMM);
}

#define LQ_DPBUSD(i) "vpdpbusd %%zmm31, %%zmm30, %%zmm" #i "\n\t"
void DpbusdZmm(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL "1:\n\t" LQ_16(LQ_DPBUSD) "dec %0\n\tjnz 1b\n\t" : "+r"(n) : : LQ_CLOBBER_ZMM);
}

}  // namespace

void AppendPeakProbesAvx512(std::vector<PeakProbe>* out) {
  out->push_back({"f32-fma-avx512", "avx512", "f32", "vfmadd231ps zmm", 2.0 * 16 * kChains, FmaZmm});
  if (DetectedFeatures().avx512_vnni) {
    out->push_back({"int8-vpdpbusd-avx512", "avx512", "int8", "vpdpbusd zmm (uint8 x int8, exact)",
                    2.0 * 64 * kChains, DpbusdZmm});
  }
}

}  // namespace layerq
