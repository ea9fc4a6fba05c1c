// CPU features, read once (CPUID plus OS support through xgetbv on x86; HWCAP on ARM).
// Kernels dispatch through tables built from these; LAYERQ_ISA=scalar|avx2|neon forces a path
// (for tests and benchmarks), and SetIsa does the same from the API.
#pragma once
#include <string>

namespace layerq {

enum class Isa { kScalar = 0, kAvx2 = 1, kNeon = 2 };

// Best ISA the CPU and OS support (ignores overrides).
Isa DetectedIsa();
// ISA kernels dispatch to now: the override if set and supported, else DetectedIsa().
Isa ActiveIsa();
// Forces an ISA; returns false (and changes nothing) when the CPU lacks it.
bool SetIsa(Isa isa);
bool IsaSupported(Isa isa);
const char* IsaName(Isa isa);
bool ParseIsa(const std::string& name, Isa* out);

}  // namespace layerq
