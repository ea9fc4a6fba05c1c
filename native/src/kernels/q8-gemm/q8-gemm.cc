// q8 GEMM driver: ISA dispatch, K blocking, threading over row panels of A.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <stdexcept>

#include "common/threadpool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

// K steps per block: a 16-column panel block of 256 steps is 16 KiB, so it stays in L1 while
// every row block of the weights streams past it.
constexpr size_t kKcSteps = 256;

}  // namespace

#if defined(__x86_64__) || defined(_M_X64)
// CPUID.(EAX=7, ECX=0):ECX[11] AVX512_VNNI, on top of the AVX-512 state support that
// DetectedIsa() == kAvx512 already established (XCR0). Read once.
bool Q8HasAvx512Vnni() {
  static const bool has = [] {
    if (DetectedIsa() != Isa::kAvx512) return false;
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (c & (1u << 11)) != 0;
  }();
  return has;
}
#endif

#if defined(__aarch64__)
bool Q8HasNeonDot() {
  static const bool has = [] {
    const char* env = std::getenv("LAYERQ_NEON_DOT");
    return DetectedFeatures().neon_dot && !(env && std::string(env) == "0");
  }();
  return has;
}

bool Q8HasNeonI8mm() {
  static const bool has = [] {
    const char* env = std::getenv("LAYERQ_NEON_I8MM");
    return DetectedFeatures().neon_i8mm && !(env && std::string(env) == "0");
  }();
  return has;
}
#endif

const Q8GemmUkernels* Q8GemmUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::kAvx512 && Q8HasAvx512Vnni()) return &kQ8GemmAvx512Vnni;
  if (IsAtLeastAvx2(isa)) return &kQ8GemmAvx2;  // AVX-512 without VNNI runs the AVX2 kernels
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) return Q8HasNeonI8mm() ? &kQ8GemmNeonI8mm : Q8HasNeonDot() ? &kQ8GemmNeonDot : &kQ8GemmNeon;
#endif
  (void)isa;
  return nullptr;
}

const Q8GemmUkernels* Q8GemmUkernelsFor(Isa isa, const Q8PackedWeights& weights) {
  const Q8GemmUkernels* uk = Q8GemmUkernelsFor(isa);
#if defined(__x86_64__) || defined(_M_X64)
  if (uk == &kQ8GemmAvx2 && weights.ubs_depth() > 0 && weights.has_quads()) return Q8GemmAvx2Ubs(weights.ubs_depth());
#endif
  (void)weights;
  return uk;
}

void Q8ComputePanel(const Q8GemmUkernels& uk, const Q8PackedWeights& packed, size_t g,
                    const int16_t* panel, size_t np, int32_t* acc, void* out, size_t row_stride,
                    size_t col_stride) {
  // Steps of the layout: pairs (one int32 word per row and step, 32 int16 of panel), quads
  // (one word, 64 panel bytes) or octs (two words, 128 panel bytes; K blocks of half the steps,
  // so a panel block stays 16 KiB).
  const bool octs = uk.kstep == 8, quads = uk.kstep == 4;
  const size_t mr = octs || quads ? uk.mr : packed.mr();
  const size_t steps = octs ? packed.kocts() : quads ? packed.kquads() : packed.kpairs();
  const size_t row_words = octs ? 2 : 1, panel_step = octs ? 4 * kQ8Nr : 2 * kQ8Nr, kc = octs ? kKcSteps / 2 : kKcSteps;
  const size_t blocks = (packed.m() + mr - 1) / mr;
  const int32_t* w = octs ? packed.octs(g) : quads ? packed.quads(g) : packed.weights(g);
  const int32_t* bias = uk.signed_quads ? packed.quad_bias(g) : packed.bias(g);
  auto gemm = mr == 1 ? uk.gemm_1x16 : uk.gemm;
  // One K block, uint8 output in rows of pixels: requantized in registers where the kernel can.
  const bool fused = uk.gemm_u8 && mr == uk.mr && steps <= kc && col_stride == 1 &&
                     packed.quant().output.kind == Q8OutputKind::kUint8;
  if (fused) {
    const float* scales = packed.scales(g);
    for (size_t b = 0; b < blocks; ++b) {
      const size_t c0 = b * mr;
      uk.gemm_u8(steps, w + b * steps * mr * row_words, panel, bias + c0, scales + c0, packed.quant().output,
                 std::min(mr, packed.m() - c0), np, static_cast<uint8_t*>(out) + c0 * row_stride, row_stride);
    }
    return;
  }
  for (size_t kb = 0; kb < steps; kb += kc) {
    const size_t kn = std::min(kc, steps - kb);
    for (size_t b = 0; b < blocks; ++b) {
      gemm(kn, w + (b * steps + kb) * mr * row_words, panel + kb * panel_step, bias + b * mr,
           acc + b * mr * kQ8Nr, kb == 0);
    }
  }
  const float* scales = packed.scales(g);
  const Q8Output& o = packed.quant().output;
  for (size_t b = 0; b < blocks; ++b) {
    const size_t c0 = b * mr, rows = std::min(mr, packed.m() - c0);
    if (o.kind == Q8OutputKind::kUint8) {
      uk.store_u8(acc + c0 * kQ8Nr, rows, np, scales + c0, o,
                  static_cast<uint8_t*>(out) + c0 * row_stride, row_stride, col_stride);
    } else {
      uk.store_f32(acc + c0 * kQ8Nr, rows, np, scales + c0, o,
                   static_cast<float*>(out) + c0 * row_stride, row_stride, col_stride);
    }
  }
}

void Q8ComputePanels(const Q8GemmUkernels& uk, const Q8PackedWeights& packed, size_t g, const int16_t* panels,
                     size_t panel_stride, size_t count, size_t np_last, int32_t* acc, void* out, size_t row_stride) {
  const bool octs = uk.kstep == 8, quads = uk.kstep == 4;
  const size_t mr = octs || quads ? uk.mr : packed.mr();
  const size_t steps = octs ? packed.kocts() : quads ? packed.kquads() : packed.kpairs();
  const size_t elem = packed.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  if (steps > (octs ? kKcSteps / 2 : kKcSteps)) {  // K blocked: panel by panel
    for (size_t j = 0; j < count; ++j) {
      Q8ComputePanel(uk, packed, g, panels + j * panel_stride, j + 1 == count ? np_last : kQ8Nr, acc,
                     static_cast<uint8_t*>(out) + j * kQ8Nr * elem, row_stride, 1);
    }
    return;
  }
  const size_t row_words = octs ? 2 : 1, blocks = (packed.m() + mr - 1) / mr;
  const int32_t* w = octs ? packed.octs(g) : quads ? packed.quads(g) : packed.weights(g);
  const int32_t* bias = uk.signed_quads ? packed.quad_bias(g) : packed.bias(g);
  auto gemm = mr == 1 ? uk.gemm_1x16 : uk.gemm;
  const float* scales = packed.scales(g);
  const Q8Output& o = packed.quant().output;
  for (size_t b = 0; b < blocks; ++b) {
    const size_t c0 = b * mr, rows = std::min(mr, packed.m() - c0);
    for (size_t j = 0; j < count; ++j) {
      const size_t np = j + 1 == count ? np_last : kQ8Nr;
      if (o.kind == Q8OutputKind::kUint8 && uk.gemm_u8 && mr == uk.mr) {
        uk.gemm_u8(steps, w + b * steps * mr * row_words, panels + j * panel_stride, bias + c0, scales + c0, o, rows, np,
                   static_cast<uint8_t*>(out) + c0 * row_stride + j * kQ8Nr, row_stride);
        continue;
      }
      gemm(steps, w + b * steps * mr * row_words, panels + j * panel_stride, bias + c0, acc, true);
      if (o.kind == Q8OutputKind::kUint8) {
        uk.store_u8(acc, rows, np, scales + c0, o, static_cast<uint8_t*>(out) + c0 * row_stride + j * kQ8Nr,
                    row_stride, 1);
      } else {
        uk.store_f32(acc, rows, np, scales + c0, o, static_cast<float*>(out) + c0 * row_stride + j * kQ8Nr,
                     row_stride, 1);
      }
    }
  }
}

void Q8Gemm(const Q8PackedWeights& packed, const uint8_t* a, size_t rows, void* out) {
  if (packed.groups() != 1) throw std::invalid_argument("q8 gemm: packed weights have groups");
  const Q8GemmUkernels* uk = Q8GemmUkernelsFor(ActiveIsa(), packed);
  if (!uk) return Q8GemmScalar(packed, a, rows, out);
  if (packed.m() == 1 && uk->one_row) uk = uk->one_row;
  if ((uk->kstep == 4 && !packed.has_quads()) || (uk->kstep == 8 && !packed.has_octs())) {
    throw std::logic_error("q8 gemm: weights packed without the kernel's layout");
  }
  const size_t k = packed.k(), n = packed.m();
  const size_t elem = packed.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  const size_t panels = (rows + kQ8Nr - 1) / kQ8Nr;
  ParallelFor(panels, 1, [&](size_t begin, size_t end) {
    AlignedBuffer<uint8_t> col(k * kQ8Nr);  // A^T for one panel: [K][16]
    AlignedBuffer<int16_t> panel(Q8PanelSize(k));
    AlignedBuffer<int32_t> acc(packed.mb() * kQ8Nr);
    for (size_t j = begin; j < end; ++j) {
      const size_t r0 = j * kQ8Nr, np = std::min(kQ8Nr, rows - r0);
      for (size_t r = 0; r < np; ++r) {
        const uint8_t* src = a + (r0 + r) * k;
        for (size_t i = 0; i < k; ++i) col.get()[i * kQ8Nr + r] = src[i];
      }
      uk->pack_panel(col.get(), kQ8Nr, k, np, panel.get());
      Q8ComputePanel(*uk, packed, 0, panel.get(), np, acc.get(),
                     static_cast<uint8_t*>(out) + r0 * n * elem, 1, n);
    }
  });
}

}  // namespace layerq
