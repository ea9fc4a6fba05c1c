// NEON elementwise spans: binary ops (contiguous or one broadcast operand) with the fused
// clamp, and the piecewise-linear activations; sigmoid and softmax (exp) stay scalar.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/f32-elementwise/f32-elementwise.h"

namespace layerq {
namespace f32 {
namespace {

// min(max(v, lo), hi) as fmax/fmin: NaN stays NaN, like the scalar std::max/std::min.
struct Clamp {
  float32x4_t lo, hi;
  float slo, shi;
  float32x4_t operator()(float32x4_t v) const { return vminq_f32(vmaxq_f32(v, lo), hi); }
  float operator()(float v) const { return std::min(std::max(v, slo), shi); }
};

template <typename V, typename S>
void Spans(const float* a, size_t sa, const float* b, size_t sb, float* out, size_t n, V vf, S sf, const OutputClamp* clamp) {
  Clamp cl{vdupq_n_f32(clamp ? clamp->min : 0.0f), vdupq_n_f32(clamp ? clamp->max : 0.0f), clamp ? clamp->min : 0.0f,
           clamp ? clamp->max : 0.0f};
  auto vc = [&](float32x4_t v) { return clamp ? cl(v) : v; };
  size_t i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vc(vf(vld1q_f32(a + i), vld1q_f32(b + i))));
  } else if (sa == 1) {
    const float32x4_t vb = vdupq_n_f32(*b);
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vc(vf(vld1q_f32(a + i), vb)));
  } else if (sb == 1) {
    const float32x4_t va = vdupq_n_f32(*a);
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vc(vf(va, vld1q_f32(b + i))));
  }
  for (; i < n; ++i) {
    const float y = sf(a[i * sa], b[i * sb]);
    out[i] = clamp ? cl(y) : y;
  }
}

template <typename V, typename S>
void UnaryLoop(const float* x, float* out, size_t n, V vf, S sf) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vf(vld1q_f32(x + i)));
  for (; i < n; ++i) out[i] = sf(x[i]);
}

}  // namespace

void BinarySpanNeon(BinaryOp op, const float* a, size_t sa, const float* b, size_t sb, float* out, size_t n,
                    const OutputClamp* clamp) {
  switch (op) {
    case BinaryOp::kAdd:
      return Spans(a, sa, b, sb, out, n, [](float32x4_t x, float32x4_t y) { return vaddq_f32(x, y); },
                   [](float x, float y) { return x + y; }, clamp);
    case BinaryOp::kSub:
      return Spans(a, sa, b, sb, out, n, [](float32x4_t x, float32x4_t y) { return vsubq_f32(x, y); },
                   [](float x, float y) { return x - y; }, clamp);
    case BinaryOp::kMul:
      return Spans(a, sa, b, sb, out, n, [](float32x4_t x, float32x4_t y) { return vmulq_f32(x, y); },
                   [](float x, float y) { return x * y; }, clamp);
    case BinaryOp::kDiv:
      return Spans(a, sa, b, sb, out, n, [](float32x4_t x, float32x4_t y) { return vdivq_f32(x, y); },
                   [](float x, float y) { return x / y; }, clamp);
  }
}

void UnarySpanNeon(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n) {
  const float32x4_t zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f);
  switch (op) {
    case UnaryOp::kRelu:
      return UnaryLoop(x, out, n, [&](float32x4_t v) { return vmaxq_f32(v, zero); }, [](float v) { return std::max(v, 0.0f); });
    case UnaryOp::kClip: {
      const float32x4_t lo = vdupq_n_f32(p.min), hi = vdupq_n_f32(p.max);
      return UnaryLoop(x, out, n, [&](float32x4_t v) { return vminq_f32(vmaxq_f32(v, lo), hi); },
                       [&](float v) { return std::min(std::max(v, p.min), p.max); });
    }
    case UnaryOp::kHardSigmoid: {
      const float32x4_t a = vdupq_n_f32(p.alpha), b = vdupq_n_f32(p.beta);
      return UnaryLoop(x, out, n, [&](float32x4_t v) { return vminq_f32(vmaxq_f32(vaddq_f32(vmulq_f32(a, v), b), zero), one); },
                       [&](float v) { return std::min(std::max(p.alpha * v + p.beta, 0.0f), 1.0f); });
    }
    case UnaryOp::kHardSwish: {
      const float32x4_t sixth = vdupq_n_f32(1.0f / 6.0f), half = vdupq_n_f32(0.5f);
      return UnaryLoop(x, out, n,
                       [&](float32x4_t v) { return vmulq_f32(v, vminq_f32(vmaxq_f32(vaddq_f32(vmulq_f32(v, sixth), half), zero), one)); },
                       [](float v) { return v * std::min(std::max(v * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f); });
    }
    default:
      return UnarySpanScalar(op, p, x, out, n);  // sigmoid: exp
  }
}

}  // namespace f32
}  // namespace layerq
