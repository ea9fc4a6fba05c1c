#include <immintrin.h>

#include <algorithm>

#include "kernels/f32-elementwise/f32-elementwise.h"
#include "kernels/f32-elementwise/vmath-avx2.h"

namespace layerq {
namespace f32 {
namespace {

// Identity clamp (no fused activation): the compiler drops it.
struct NoClamp {
  __m256 operator()(__m256 v) const { return v; }
  float operator()(float v) const { return v; }
};

// min(max(v, lo), hi): the same instructions as the unary clip, so fused == Add then Clip.
struct Clamp {
  __m256 lo, hi;
  float slo, shi;
  explicit Clamp(const OutputClamp& c)
      : lo(_mm256_set1_ps(c.min)), hi(_mm256_set1_ps(c.max)), slo(c.min), shi(c.max) {}
  __m256 operator()(__m256 v) const { return _mm256_min_ps(_mm256_max_ps(v, lo), hi); }
  float operator()(float v) const {
    return _mm_cvtss_f32(_mm_min_ss(_mm_max_ss(_mm_set_ss(v), _mm_set_ss(slo)), _mm_set_ss(shi)));
  }
};

template <typename V, typename S, typename C>
void SpanClamped(const float* a, size_t sa, const float* b, size_t sb, float* out, size_t n, V vf, S sf, C cl) {
  size_t i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, cl(vf(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
  } else if (sa == 1) {
    const __m256 vb = _mm256_set1_ps(*b);
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, cl(vf(_mm256_loadu_ps(a + i), vb)));
  } else if (sb == 1) {
    const __m256 va = _mm256_set1_ps(*a);
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, cl(vf(va, _mm256_loadu_ps(b + i))));
  }
  for (; i < n; ++i) out[i] = cl(sf(a[i * sa], b[i * sb]));
}

template <typename V, typename S>
void Span(const float* a, size_t sa, const float* b, size_t sb, float* out, size_t n, V vf, S sf,
          const OutputClamp* clamp) {
  if (clamp) SpanClamped(a, sa, b, sb, out, n, vf, sf, Clamp(*clamp));
  else SpanClamped(a, sa, b, sb, out, n, vf, sf, NoClamp());
}

template <typename V>
void UnaryLoop(const float* x, float* out, size_t n, V vf) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, vf(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = TailMask(n - i);
    _mm256_maskstore_ps(out + i, mask, vf(_mm256_maskload_ps(x + i, mask)));
  }
}

}  // namespace

void BinarySpanAvx2(BinaryOp op, const float* a, size_t sa, const float* b, size_t sb, float* out,
                    size_t n, const OutputClamp* clamp) {
  switch (op) {
    case BinaryOp::kAdd:
      return Span(a, sa, b, sb, out, n, [](__m256 x, __m256 y) { return _mm256_add_ps(x, y); },
                  [](float x, float y) { return x + y; }, clamp);
    case BinaryOp::kSub:
      return Span(a, sa, b, sb, out, n, [](__m256 x, __m256 y) { return _mm256_sub_ps(x, y); },
                  [](float x, float y) { return x - y; }, clamp);
    case BinaryOp::kMul:
      return Span(a, sa, b, sb, out, n, [](__m256 x, __m256 y) { return _mm256_mul_ps(x, y); },
                  [](float x, float y) { return x * y; }, clamp);
    case BinaryOp::kDiv:
      return Span(a, sa, b, sb, out, n, [](__m256 x, __m256 y) { return _mm256_div_ps(x, y); },
                  [](float x, float y) { return x / y; }, clamp);
  }
}

void UnarySpanAvx2(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  switch (op) {
    case UnaryOp::kRelu:
      return UnaryLoop(x, out, n, [&](__m256 v) { return _mm256_max_ps(v, zero); });
    case UnaryOp::kClip: {
      const __m256 lo = _mm256_set1_ps(p.min), hi = _mm256_set1_ps(p.max);
      return UnaryLoop(x, out, n, [&](__m256 v) { return _mm256_min_ps(_mm256_max_ps(v, lo), hi); });
    }
    case UnaryOp::kSigmoid: {
      const __m256 sign = _mm256_set1_ps(-0.0f);
      return UnaryLoop(x, out, n, [&](__m256 v) {
        const __m256 e = ExpNonPositive(_mm256_or_ps(v, sign));  // exp(-|v|)
        const __m256 f = _mm256_div_ps(e, _mm256_add_ps(one, e));
        return _mm256_blendv_ps(_mm256_sub_ps(one, f), f, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
      });
    }
    case UnaryOp::kHardSigmoid: {
      const __m256 a = _mm256_set1_ps(p.alpha), b = _mm256_set1_ps(p.beta);
      return UnaryLoop(x, out, n, [&](__m256 v) {
        return _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(_mm256_mul_ps(a, v), b), zero), one);
      });
    }
    case UnaryOp::kHardSwish: {
      const __m256 sixth = _mm256_set1_ps(1.0f / 6.0f), half = _mm256_set1_ps(0.5f);
      return UnaryLoop(x, out, n, [&](__m256 v) {
        const __m256 g = _mm256_add_ps(_mm256_mul_ps(v, sixth), half);
        return _mm256_mul_ps(v, _mm256_min_ps(_mm256_max_ps(g, zero), one));
      });
    }
  }
}

void SoftmaxRowAvx2(const float* x, float* out, size_t n) {
  __m256 vm = _mm256_set1_ps(-__builtin_inff());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
  float lanes[8];
  _mm256_storeu_ps(lanes, vm);
  float m = lanes[0];
  for (int l = 1; l < 8; ++l) m = std::max(m, lanes[l]);
  for (; i < n; ++i) m = std::max(m, x[i]);
  const __m256 vmax = _mm256_set1_ps(m);
  __m256 vsum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
    _mm256_storeu_ps(out + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  if (i < n) {
    const __m256i mask = TailMask(n - i);
    const __m256 e = _mm256_and_ps(ExpNonPositive(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), vmax)),
                                   _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(out + i, mask, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  _mm256_storeu_ps(lanes, vsum);
  double sum = 0.0;
  for (int l = 0; l < 8; ++l) sum += lanes[l];
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
  UnaryLoop(out, out, n, [&](__m256 v) { return _mm256_mul_ps(v, inv); });
}

}  // namespace f32
}  // namespace layerq
