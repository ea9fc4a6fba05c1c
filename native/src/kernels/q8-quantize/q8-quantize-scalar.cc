// Scalar reference of quantize / dequantize / fake-quantize: the formulas, one element at a time.
#include <cmath>

#include "kernels/q8-quantize/q8-quantize.h"

namespace layerq {
namespace {

// nearbyint(x / scale) - zero's offset, clamped so that adding zero lands in [qmin, qmax].
// Clamping the rounded float before converting keeps huge values and infinities in range;
// NaN goes to the low bound (as x86 maxps does).
inline float RoundedOffset(float x, float scale, int32_t zero, int32_t qmin, int32_t qmax) {
  float r = std::nearbyint(x / scale);
  const float lo = static_cast<float>(qmin - zero), hi = static_cast<float>(qmax - zero);
  r = r > lo ? r : lo;
  return r < hi ? r : hi;
}

void Quantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step,
              int32_t qmin, int32_t qmax, Q8Storage st, void* out) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t q = static_cast<int32_t>(RoundedOffset(x[i], scale[i * step], zero[i * step], qmin, qmax)) + zero[i * step];
    if (st == Q8Storage::kUint8) static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(q);
    else static_cast<int8_t*>(out)[i] = static_cast<int8_t>(q);
  }
}

void Dequantize(const void* in, Q8Storage st, size_t n, const float* scale, const int32_t* zero,
                size_t step, float* out) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t q = st == Q8Storage::kUint8 ? static_cast<const uint8_t*>(in)[i]
                                              : static_cast<const int8_t*>(in)[i];
    out[i] = static_cast<float>(q - zero[i * step]) * scale[i * step];
  }
}

void FakeQuantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step,
                  int32_t qmin, int32_t qmax, float* out) {
  for (size_t i = 0; i < n; ++i) {
    // (q - zero) is the clamped rounded offset itself, an exact small integer; going through
    // int32 turns nearbyint's -0 into the integer formula's +0.
    const int32_t q_minus_zero = static_cast<int32_t>(RoundedOffset(x[i], scale[i * step], zero[i * step], qmin, qmax));
    out[i] = static_cast<float>(q_minus_zero) * scale[i * step];
  }
}

}  // namespace

const Q8QuantizeUkernels kQ8QuantizeScalar = {Quantize, Dequantize, FakeQuantize};

}  // namespace layerq
