#include "kernels/f32-pool/f32-pool.h"

#include "common/cpu.h"
#include "common/threadpool.h"

namespace layerq {
namespace f32 {
namespace {

// The pooling kernels of one ISA path, chosen once per call from ActiveIsa().
struct PoolUkernels {
  PoolPlaneFn max_plane, avg_plane;
  MeanFn mean;
};

const PoolUkernels kPoolScalar = {MaxPoolPlaneScalar, AvgPoolPlaneScalar, MeanScalar};
#if defined(__x86_64__) || defined(_M_X64)
// AVX-512 has no variant of its own: it runs this table too.
const PoolUkernels kPoolAvx2 = {MaxPoolPlaneAvx2, AvgPoolPlaneAvx2, MeanAvx2};
#endif

const PoolUkernels& PoolUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(isa)) return kPoolAvx2;
#endif
  (void)isa;
  return kPoolScalar;
}

void PoolPlanes(PoolPlaneFn plane, const float* x, size_t planes, size_t h, size_t w, const PoolShape& s, float* out) {
  const size_t ho = PoolOutDim(h, s.kh, s.sh, s.pt, s.pb, s.ceil_mode);
  const size_t wo = PoolOutDim(w, s.kw, s.sw, s.pl, s.pr, s.ceil_mode);
  ParallelFor(planes, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) plane(x + i * h * w, h, w, s, ho, wo, out + i * ho * wo);
  });
}

}  // namespace

size_t PoolOutDim(size_t in, size_t k, size_t stride, size_t pad0, size_t pad1, bool ceil_mode) {
  const size_t padded = in + pad0 + pad1;
  if (padded < k) return 0;
  size_t out = (padded - k + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad0) --out;
  return out;
}

void MaxPool2d(const float* x, size_t n, size_t c, size_t h, size_t w, const PoolShape& s, float* out) {
  PoolPlanes(PoolUkernelsFor(ActiveIsa()).max_plane, x, n * c, h, w, s, out);
}

void AvgPool2d(const float* x, size_t n, size_t c, size_t h, size_t w, const PoolShape& s, float* out) {
  PoolPlanes(PoolUkernelsFor(ActiveIsa()).avg_plane, x, n * c, h, w, s, out);
}

void GlobalAvgPool(const float* x, size_t planes, size_t hw, float* out) {
  if (hw < 16) {
    // Small planes (MobileNetV2-w05 ends on 2x2 maps: 80K planes a batch of 64): a call per plane
    // and the SIMD kernel's lane reduction cost 5x the sums themselves. Double sums, as the reference.
    const double inv = 1.0 / static_cast<double>(hw);
    ParallelFor(planes, 4096, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const float* p = x + i * hw;
        double sum = 0.0;
        for (size_t j = 0; j < hw; ++j) sum += p[j];
        out[i] = static_cast<float>(sum * inv);
      }
    });
    return;
  }
  const MeanFn mean = PoolUkernelsFor(ActiveIsa()).mean;
  ParallelFor(planes, 64, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) out[i] = mean(x + i * hw, hw);
  });
}

}  // namespace f32
}  // namespace layerq
