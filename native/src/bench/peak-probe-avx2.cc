// AVX2 peak probes: the fp32 FMA of the f32 kernels, the vpmaddwd + vpaddd pair of layerq's
// AVX2 int8 kernels (int16 activations, exact), the vpmaddubsw + vpmaddwd + vpaddd unit of the
// usual saturating uint8 x int8 kernels (ONNX Runtime's MLAS, XNNPACK), and the vpmaddubsw +
// vpaddw pair of layerq's kernels for small weights (int16 sums).
// Registers start at zero, so no operand is ever a denormal or NaN.
#include <cstdint>
#include <vector>

#include "bench/peak-probe.h"

namespace layerq {
namespace {

#define LQ_ZERO(i) "vpxor %%ymm" #i ", %%ymm" #i ", %%ymm" #i "\n\t"
#define LQ_ZERO_ALL                                                                          \
  LQ_ZERO(0) LQ_ZERO(1) LQ_ZERO(2) LQ_ZERO(3) LQ_ZERO(4) LQ_ZERO(5) LQ_ZERO(6) LQ_ZERO(7) \
  LQ_ZERO(8) LQ_ZERO(9) LQ_ZERO(10) LQ_ZERO(11) LQ_ZERO(12) LQ_ZERO(13) LQ_ZERO(14) LQ_ZERO(15)
#define LQ_CLOBBER_YMM                                                                              \
  "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

// 12 independent FMA chains (latency 4, two FMA pipes: 8 chains keep them busy).
#define LQ_FMA(i) "vfmadd231ps %%ymm15, %%ymm14, %%ymm" #i "\n\t"
constexpr int kFmaChains = 12;
void FmaYmm(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL
                   "1:\n\t"
                   LQ_FMA(0) LQ_FMA(1) LQ_FMA(2) LQ_FMA(3) LQ_FMA(4) LQ_FMA(5)
                   LQ_FMA(6) LQ_FMA(7) LQ_FMA(8) LQ_FMA(9) LQ_FMA(10) LQ_FMA(11)
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   : "+r"(n)
                   :
                   : LQ_CLOBBER_YMM);
}

// A register-only loop of 7 independent units UNIT(t, a): temporaries ymm7-13, accumulators
// ymm0-6, operands ymm14 and ymm15.
#define LQ_LOOP7(fn, UNIT)                                                                     \
  void fn(uint64_t n) {                                                                        \
    __asm__ volatile(LQ_ZERO_ALL "1:\n\t" UNIT(7, 0) UNIT(8, 1) UNIT(9, 2) UNIT(10, 3) UNIT(11, 4) \
                         UNIT(12, 5) UNIT(13, 6) "dec %0\n\t"                                     \
                                                 "jnz 1b\n\t"                                     \
                     : "+r"(n)                                                                 \
                     :                                                                         \
                     : LQ_CLOBBER_YMM);                                                        \
  }
constexpr int kLoop7Units = 7;

// layerq's AVX2 int8 unit: vpmaddwd of int16 activation pairs by int16 weight pairs into int32
// (8 lanes x 2 products), then vpaddd into the accumulator.
#define LQ_MADDWD(t, a) "vpmaddwd %%ymm15, %%ymm14, %%ymm" #t "\n\tvpaddd %%ymm" #t ", %%ymm" #a ", %%ymm" #a "\n\t"
LQ_LOOP7(MaddwdYmm, LQ_MADDWD)

// The saturating unit: vpmaddubsw (32 uint8 x int8 products summed in pairs to int16, with
// saturation), vpmaddwd by ones (pairs of int16 to int32), vpaddd. 6 independent units.
#define LQ_MADDUBSW(t, a)                                   \
  "vpmaddubsw %%ymm14, %%ymm13, %%ymm" #t "\n\t"            \
  "vpmaddwd %%ymm15, %%ymm" #t ", %%ymm" #t "\n\t"          \
  "vpaddd %%ymm" #t ", %%ymm" #a ", %%ymm" #a "\n\t"
constexpr int kMaddubswUnits = 6;
void MaddubswYmm(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL
                   "1:\n\t"
                   LQ_MADDUBSW(6, 0) LQ_MADDUBSW(7, 1) LQ_MADDUBSW(8, 2)
                   LQ_MADDUBSW(9, 3) LQ_MADDUBSW(10, 4) LQ_MADDUBSW(11, 5)
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   : "+r"(n)
                   :
                   : LQ_CLOBBER_YMM);
}

// layerq's unit for small weights (4-bit: q8-gemm-ubs-avx2.cc): vpmaddubsw, then vpaddw into
// an int16 sum (pair sums that cannot saturate add up exactly); the kernels widen the int16 sums
// into int32 once every 8 such steps, not counted here.
#define LQ_MADDUBSW_I16(t, a) "vpmaddubsw %%ymm14, %%ymm15, %%ymm" #t "\n\tvpaddw %%ymm" #t ", %%ymm" #a ", %%ymm" #a "\n\t"
LQ_LOOP7(MaddubswI16Ymm, LQ_MADDUBSW_I16)

}  // namespace

void AppendPeakProbesAvx2(std::vector<PeakProbe>* out) {
  out->push_back({"f32-fma-avx2", "avx2", "f32", "vfmadd231ps ymm", 2.0 * 8 * kFmaChains, FmaYmm});
  out->push_back({"int8-vpmaddwd-avx2", "avx2", "int8", "vpmaddwd + vpaddd ymm (int16 pairs, exact)",
                  2.0 * 16 * kLoop7Units, MaddwdYmm});
  out->push_back({"int8-vpmaddubsw-avx2", "avx2", "int8",
                  "vpmaddubsw + vpmaddwd + vpaddd ymm (saturating uint8 x int8)", 2.0 * 32 * kMaddubswUnits,
                  MaddubswYmm});
  out->push_back({"int8-vpmaddubsw-i16-avx2", "avx2", "int8",
                  "vpmaddubsw + vpaddw ymm (int16 sums: layerq's kernels for 4- to 7-bit weights)", 2.0 * 32 * kLoop7Units,
                  MaddubswI16Ymm});
}

}  // namespace layerq
