// CPU features, read once (CPUID plus OS support through xgetbv on x86; HWCAP on ARM).
// Kernels dispatch through tables built from these; LAYERQ_ISA=scalar|avx2|avx512|neon forces a path
// (for tests and benchmarks), and SetIsa does the same from the API.
#pragma once
#include <string>

namespace layerq {

// kAvx512 (F + BW + VL + DQ) is a superset of kAvx2: every AVX2 kernel runs on it, so dispatch
// sites test IsAtLeastAvx2() and only the kernels that have an AVX-512 variant switch on kAvx512.
enum class Isa { kScalar = 0, kAvx2 = 1, kNeon = 2, kAvx512 = 3 };

// True for the ISAs that can run the AVX2+FMA kernels (kAvx2 and kAvx512).
inline bool IsAtLeastAvx2(Isa isa) { return isa == Isa::kAvx2 || isa == Isa::kAvx512; }

// Best ISA the CPU and OS support (ignores overrides).
Isa DetectedIsa();
// ISA kernels dispatch to now: the override if set and supported, else DetectedIsa().
Isa ActiveIsa();
// Forces an ISA; returns false (and changes nothing) when the CPU lacks it. On an AVX-512 CPU
// kAvx2 and kScalar can be forced too.
bool SetIsa(Isa isa);
bool IsaSupported(Isa isa);
const char* IsaName(Isa isa);
bool ParseIsa(const std::string& name, Isa* out);

// Instruction-set extensions the CPU and OS support beyond the dispatch ISA (read once; no
// override applies). The int8 kernels and `layerq bench` choose their instruction sequences
// from these: vpdpbusd (x86 VNNI), sdot (Armv8.2 dot product), smmla (Armv8.6 i8mm).
struct CpuFeatures {
  bool avx2_fma = false;     // AVX2 + FMA, YMM state enabled by the OS
  bool avx512 = false;       // AVX-512 F + BW + VL + DQ, ZMM and opmask state enabled
  bool avx512_vnni = false;  // with avx512: vpdpbusd on zmm
  bool avx512_vbmi = false;  // with avx512: vpermb (byte permutes across the zmm)
  bool avx_vnni = false;     // VEX vpdpbusd on ymm (AVX-VNNI)
  bool neon = false;         // AArch64 Advanced SIMD
  bool neon_dot = false;     // sdot / udot (HWCAP_ASIMDDP)
  bool neon_i8mm = false;    // smmla / ummla / usmmla (HWCAP2_I8MM)
};
const CpuFeatures& DetectedFeatures();
// True when `isa` is kAvx512 and the CPU has VNNI (vpdpbusd) and VBMI (vpermb): the int8 kernels
// that gather taps by byte permutes (depthwise planes, conv rows).
inline bool IsAvx512VnniVbmi(Isa isa) {
  return isa == Isa::kAvx512 && DetectedFeatures().avx512_vnni && DetectedFeatures().avx512_vbmi;
}
// The names of the features set in f ("avx2", "fma", "avx512f", ..., "neon", "dotprod", "i8mm").
std::string CpuFeatureList(const CpuFeatures& f);
// The CPU's own name (x86: the CPUID brand string), or "" when it does not say.
std::string CpuModelName();

}  // namespace layerq
