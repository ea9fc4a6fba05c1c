// NEON peak probes: fmla (the f32 kernels), smlal by element on int16 (layerq's plain NEON int8
// kernels: 4 products per instruction, exact), and where the CPU has them sdot (Armv8.2 dot
// product: 16 int8 products summed in fours) and usmmla (Armv8.6 i8mm: a 2x8 uint8 by 8x2 int8
// matrix product, 32 products; the int8 GEMM's i8mm kernel). 24 independent chains each;
// registers start at zero.
#include <cstdint>
#include <vector>

#include "bench/peak-probe.h"
#include "common/cpu.h"

namespace layerq {
namespace {

// Accumulators v0-v14 and v16-v24: v15 is the by-element operand (must be v0-v15 for .h[]).
#define LQ_24(M) \
  M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) \
  M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23) M(24)
#define LQ_ZERO(i) "movi v" #i ".16b, #0\n\t"
#define LQ_ZERO_ALL LQ_24(LQ_ZERO) LQ_ZERO(15) LQ_ZERO(30) LQ_ZERO(31)
#define LQ_CLOBBER_V                                                                                     \
  "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", \
      "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v30", "v31"
constexpr int kChains = 24;

#define LQ_FMLA(i) "fmla v" #i ".4s, v30.4s, v31.4s\n\t"
void Fmla(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL "1:\n\t" LQ_24(LQ_FMLA) "subs %x0, %x0, #1\n\tb.ne 1b\n\t" : "+r"(n) : : LQ_CLOBBER_V);
}

#define LQ_SMLAL(i) "smlal v" #i ".4s, v30.4h, v15.h[0]\n\t"
void Smlal(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL "1:\n\t" LQ_24(LQ_SMLAL) "subs %x0, %x0, #1\n\tb.ne 1b\n\t" : "+r"(n) : : LQ_CLOBBER_V);
}

#define LQ_SDOT(i) "sdot v" #i ".4s, v30.16b, v31.16b\n\t"
// The target attributes make the compiler tell the assembler about the extension (binutils 2.40
// has no `.arch_extension i8mm`), for this function only.
__attribute__((target("arch=armv8.2-a+dotprod"))) void Sdot(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL "1:\n\t" LQ_24(LQ_SDOT)
                   "subs %x0, %x0, #1\n\tb.ne 1b\n\t" : "+r"(n) : : LQ_CLOBBER_V);
}

#define LQ_USMMLA(i) "usmmla v" #i ".4s, v30.16b, v31.16b\n\t"
__attribute__((target("arch=armv8.2-a+i8mm"))) void Usmmla(uint64_t n) {
  __asm__ volatile(LQ_ZERO_ALL "1:\n\t" LQ_24(LQ_USMMLA)
                   "subs %x0, %x0, #1\n\tb.ne 1b\n\t" : "+r"(n) : : LQ_CLOBBER_V);
}

}  // namespace

void AppendPeakProbesNeon(std::vector<PeakProbe>* out) {
  const CpuFeatures& f = DetectedFeatures();
  out->push_back({"f32-fmla-neon", "neon", "f32", "fmla v.4s", 2.0 * 4 * kChains, Fmla});
  out->push_back({"int8-smlal-neon", "neon", "int8", "smlal v.4s, v.4h, v.h[i] (int16, exact)", 2.0 * 4 * kChains, Smlal});
  if (f.neon_dot) out->push_back({"int8-sdot-neon", "neon", "int8", "sdot v.4s, v.16b, v.16b", 2.0 * 16 * kChains, Sdot});
  if (f.neon_i8mm) out->push_back({"int8-usmmla-neon", "neon", "int8", "usmmla v.4s, v.16b, v.16b (uint8 x int8)", 2.0 * 32 * kChains, Usmmla});
}

}  // namespace layerq
