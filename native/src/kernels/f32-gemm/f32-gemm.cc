// GEMM driver: B packing (once, at model load), A packing per call, ISA dispatch, threads.
#include "kernels/f32-gemm/f32-gemm.h"

#include <algorithm>
#include <cstring>

#include "common/cpu.h"
#include "common/threadpool.h"

namespace layerq {
namespace f32 {

namespace {
const GemmUkernels kGemmScalar = {GemmUkernel4x24Scalar};
#if defined(__x86_64__) || defined(_M_X64)
const GemmUkernels kGemmAvx2 = {GemmUkernel4x24Avx2};
const GemmUkernels kGemmAvx512 = {GemmUkernel4x24Avx512};
#endif
#if defined(__aarch64__)
const GemmUkernels kGemmNeon = {GemmUkernel4x24Neon};
#endif
}  // namespace

const GemmUkernels& GemmUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::kAvx512) return kGemmAvx512;
  if (isa == Isa::kAvx2) return kGemmAvx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) return kGemmNeon;
#endif
  (void)isa;
  return kGemmScalar;
}

void PackAPanel(const float* src, size_t ld, size_t mr, size_t k, float* dst) {
  for (size_t p = 0; p < k; ++p) {
    for (size_t r = 0; r < kMR; ++r) dst[p * kMR + r] = r < mr ? src[r * ld + p] : 0.0f;
  }
}

PackedGemmB PackGemmB(const float* b, size_t k, size_t n, bool trans_b, const float* bias,
                      float alpha, float beta, float min, float max) {
  PackedGemmB out;
  out.k = k;
  out.n = n;
  out.min = min;
  out.max = max;
  const size_t panels = (n + kNR - 1) / kNR;
  out.panels.assign(panels * k * kNR, 0.0f);
  for (size_t pn = 0; pn < panels; ++pn) {
    float* dst = out.panels.data() + pn * k * kNR;
    for (size_t p = 0; p < k; ++p) {
      for (size_t j = 0; j < kNR; ++j) {
        const size_t col = pn * kNR + j;
        if (col >= n) continue;
        dst[p * kNR + j] = alpha * (trans_b ? b[col * k + p] : b[p * n + col]);
      }
    }
  }
  out.bias.assign(panels * kNR, 0.0f);
  if (bias != nullptr) {
    for (size_t j = 0; j < n; ++j) out.bias[j] = beta * bias[j];
  }
  return out;
}

void Gemm(const PackedGemmB& packed, const float* a, size_t m, float* out) {
  const size_t k = packed.k, n = packed.n;
  if (m == 0 || n == 0) return;
  const GemmUkernelFn ukernel = GemmUkernelsFor(ActiveIsa()).gemm;
  const size_t m_panels = (m + kMR - 1) / kMR;
  const size_t n_panels = (n + kNR - 1) / kNR;
  // One task per A panel (packed once, reused across every B panel).
  ParallelFor(m_panels, 1, [&](size_t begin, size_t end) {
    std::vector<float> a_panel(std::max<size_t>(k, 1) * kMR);
    for (size_t mp = begin; mp < end; ++mp) {
      const size_t m0 = mp * kMR, mr = std::min(kMR, m - m0);
      PackAPanel(a + m0 * k, k, mr, k, a_panel.data());
      for (size_t np = 0; np < n_panels; ++np) {
        const size_t n0 = np * kNR, nc = std::min(kNR, n - n0);
        GemmEpilogue ep{nullptr, packed.bias.data() + n0, packed.min, packed.max};
        ukernel(mr, nc, k, a_panel.data(), packed.panels.data() + np * k * kNR, out + m0 * n + n0, n, ep);
      }
    }
  });
}

}  // namespace f32
}  // namespace layerq
