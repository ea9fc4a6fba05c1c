#include "common/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
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

CpuFeatures DetectFeatures() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
  f.avx2_fma = HasAvx2Fma();
  f.avx512 = f.avx2_fma && HasAvx512();
  unsigned a, b, c, d;
  if (f.avx512 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx512_vnni = (c & (1u << 11)) != 0;
    f.avx512_vbmi = (c & (1u << 1)) != 0;
  }
  if (f.avx2_fma && __get_cpuid_count(7, 0, &a, &b, &c, &d) && a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx_vnni = (a & (1u << 4)) != 0;  // CPUID.(EAX=7, ECX=1):EAX[4]
  }
#elif defined(__aarch64__)
  f.neon = true;
#if defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  f.neon_dot = (hwcap & (1ul << 20)) != 0;     // HWCAP_ASIMDDP
  f.neon_i8mm = (hwcap2 & (1ul << 13)) != 0;   // HWCAP2_I8MM
#endif
#endif
  return f;
}

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

const CpuFeatures& DetectedFeatures() {
  static const CpuFeatures features = DetectFeatures();
  return features;
}

std::string CpuFeatureList(const CpuFeatures& f) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(f.avx2_fma, "avx2 fma");
  add(f.avx512, "avx512f avx512bw avx512vl avx512dq");
  add(f.avx512_vnni, "avx512_vnni");
  add(f.avx512_vbmi, "avx512_vbmi");
  add(f.avx_vnni, "avx_vnni");
  add(f.neon, "neon");
  add(f.neon_dot, "dotprod");
  add(f.neon_i8mm, "i8mm");
  return s;
}

std::string CpuModelName() {
#if defined(__x86_64__) || defined(_M_X64)
  unsigned regs[12];
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000004u) return "";
  for (unsigned i = 0; i < 3; ++i) __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
  char brand[49];
  std::memcpy(brand, regs, 48);
  brand[48] = '\0';
  std::string name(brand);
  const size_t first = name.find_first_not_of(' '), last = name.find_last_not_of(' ');
  return first == std::string::npos ? "" : name.substr(first, last - first + 1);
#else
  return "";
#endif
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
