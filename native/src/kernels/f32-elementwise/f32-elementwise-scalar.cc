#include <algorithm>
#include <cmath>

#include "kernels/f32-elementwise/f32-elementwise.h"

namespace layerq {
namespace f32 {

namespace {
template <typename F>
void Span(const float* a, size_t sa, const float* b, size_t sb, float* out, size_t n, F f) {
  for (size_t i = 0; i < n; ++i) out[i] = f(a[i * sa], b[i * sb]);
}
}  // namespace

void BinarySpanScalar(BinaryOp op, const float* a, size_t sa, const float* b, size_t sb, float* out,
                      size_t n, const OutputClamp* clamp) {
  switch (op) {
    case BinaryOp::kAdd: Span(a, sa, b, sb, out, n, [](float x, float y) { return x + y; }); break;
    case BinaryOp::kSub: Span(a, sa, b, sb, out, n, [](float x, float y) { return x - y; }); break;
    case BinaryOp::kMul: Span(a, sa, b, sb, out, n, [](float x, float y) { return x * y; }); break;
    case BinaryOp::kDiv: Span(a, sa, b, sb, out, n, [](float x, float y) { return x / y; }); break;
  }
  if (clamp) {  // the span is still in cache
    const float lo = clamp->min, hi = clamp->max;
    for (size_t i = 0; i < n; ++i) out[i] = std::min(std::max(out[i], lo), hi);
  }
}

void UnarySpanScalar(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    float y = v;
    switch (op) {
      case UnaryOp::kRelu: y = std::max(v, 0.0f); break;
      case UnaryOp::kClip: y = std::min(std::max(v, p.min), p.max); break;
      case UnaryOp::kSigmoid: {  // exp of -|v| only, so it never overflows
        const float e = std::exp(-std::fabs(v)), f = e / (1.0f + e);
        y = v >= 0.0f ? 1.0f - f : f;
        break;
      }
      case UnaryOp::kHardSigmoid: y = std::min(std::max(p.alpha * v + p.beta, 0.0f), 1.0f); break;
      case UnaryOp::kHardSwish: y = v * std::min(std::max(v * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f); break;
    }
    out[i] = y;
  }
}

void SoftmaxRowScalar(const float* x, float* out, size_t n) {
  float m = -INFINITY;
  for (size_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::exp(x[i] - m);
    sum += out[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n; ++i) out[i] *= inv;
}

}  // namespace f32
}  // namespace layerq
