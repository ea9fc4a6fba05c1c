// q8 GEMM driver: ISA dispatch, K blocking, threading over row panels of A.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "common/threadpool.h"
#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

// K pairs per block: a 16-column panel block of 256 pairs is 16 KiB, so it stays in L1 while
// every row block of the weights streams past it.
constexpr size_t kKcPairs = 256;

}  // namespace

const Q8GemmUkernels* Q8GemmUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(isa)) return &kQ8GemmAvx2;  // AVX-512 CPUs run the AVX2 kernels
#endif
  (void)isa;
  return nullptr;
}

void Q8ComputePanel(const Q8GemmUkernels& uk, const Q8PackedWeights& packed, size_t g,
                    const int16_t* panel, size_t np, int32_t* acc, void* out, size_t row_stride,
                    size_t col_stride) {
  const size_t mr = packed.mr(), blocks = packed.mp() / mr, kpairs = packed.kpairs();
  const int32_t* w = packed.weights(g);
  const int32_t* bias = packed.bias(g);
  auto gemm = mr == 4 ? uk.gemm_4x16 : uk.gemm_1x16;
  for (size_t kb = 0; kb < kpairs; kb += kKcPairs) {
    const size_t kn = std::min(kKcPairs, kpairs - kb);
    for (size_t b = 0; b < blocks; ++b) {
      gemm(kn, w + (b * kpairs + kb) * mr, panel + kb * 2 * kQ8Nr, bias + b * mr,
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

void Q8Gemm(const Q8PackedWeights& packed, const uint8_t* a, size_t rows, void* out) {
  if (packed.groups() != 1) throw std::invalid_argument("q8 gemm: packed weights have groups");
  const Q8GemmUkernels* uk = Q8GemmUkernelsFor(ActiveIsa());
  if (!uk) return Q8GemmReference(packed, a, rows, out);
  const size_t k = packed.k(), n = packed.m();
  const size_t elem = packed.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  const size_t panels = (rows + kQ8Nr - 1) / kQ8Nr;
  ParallelFor(panels, 1, [&](size_t begin, size_t end) {
    Q8Scratch<uint8_t> col(k * kQ8Nr);  // A^T for one panel: [K][16]
    Q8Scratch<int16_t> panel(packed.kpairs() * 2 * kQ8Nr);
    Q8Scratch<int32_t> acc(packed.mp() * kQ8Nr);
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
