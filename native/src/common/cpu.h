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

}  // namespace layerq
