#include "common/cpu.h"

#include <atomic>
#include <cstdlib>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace layerq {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
bool HasAvx2Fma() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12);
  if (!osxsave || !avx || !fma) return false;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0x6) != 0x6) return false;  // OS saves XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return b & (1u << 5);
}

// AVX-512 F + BW + VL + DQ (CPUID.7.0:EBX bits 16, 30, 31, 17) with the OS saving opmask and
// ZMM state (XCR0 bits 5, 6, 7) besides XMM/YMM (bits 1, 2). Checked after HasAvx2Fma().
bool HasAvx512() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0xE6) != 0xE6) return false;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const unsigned need = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
  return (b & need) == need;
}
#endif

Isa Detect() {
#if defined(__x86_64__) || defined(_M_X64)
  if (!HasAvx2Fma()) return Isa::kScalar;
  return HasAvx512() ? Isa::kAvx512 : Isa::kAvx2;
#elif defined(__aarch64__)
  return Isa::kNeon;  // Advanced SIMD is mandatory on AArch64.
#else
  return Isa::kScalar;
#endif
}

std::atomic<int> g_override{-1};

int InitialOverride() {
  const char* env = std::getenv("LAYERQ_ISA");
  Isa isa;
  if (env && ParseIsa(env, &isa) && IsaSupported(isa)) return static_cast<int>(isa);
  return -1;
}

}  // namespace

Isa DetectedIsa() {
  static const Isa detected = Detect();
  return detected;
}

bool IsaSupported(Isa isa) {
  const Isa d = DetectedIsa();
  return isa == Isa::kScalar || isa == d || (isa == Isa::kAvx2 && d == Isa::kAvx512);
}

Isa ActiveIsa() {
  static const int initial = [] {
    int v = InitialOverride();
    int expected = -1;
    g_override.compare_exchange_strong(expected, v);
    return v;
  }();
  (void)initial;
  int v = g_override.load();
  return v < 0 ? DetectedIsa() : static_cast<Isa>(v);
}

bool SetIsa(Isa isa) {
  if (!IsaSupported(isa)) return false;
  ActiveIsa();  // make sure the environment override was read first
  g_override.store(static_cast<int>(isa));
  return true;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
    default: return "scalar";
  }
}

bool ParseIsa(const std::string& name, Isa* out) {
  if (name == "scalar") *out = Isa::kScalar;
  else if (name == "avx2") *out = Isa::kAvx2;
  else if (name == "avx512") *out = Isa::kAvx512;
  else if (name == "neon") *out = Isa::kNeon;
  else return false;
  return true;
}

}  // namespace layerq
