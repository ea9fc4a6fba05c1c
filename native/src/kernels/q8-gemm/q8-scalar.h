// Scalar reference of the q8 output stage (DESIGN.md "Quantization conventions"), shared by the
// reference conv and GEMM. Fast paths implement the same float operations in SIMD.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {

// The int32 accumulator's value: sums are exact in int64, the accumulator wraps mod 2^32.
inline int32_t Q8WrapInt32(int64_t sum) { return static_cast<int32_t>(static_cast<uint32_t>(sum)); }

// Clamp where NaN goes to lo (as x86 maxps(v, lo) does); bounds are ordered.
inline float Q8Clamp(float v, float lo, float hi) {
  v = v > lo ? v : lo;
  return v < hi ? v : hi;
}

// y = clamp(nearbyint((float)acc * multiplier) + zero, qmin, qmax); nearbyint rounds half to
// even in the default rounding mode.
inline uint8_t Q8RequantizeScalar(int32_t acc, float multiplier, const Q8Output& o) {
  const float product = static_cast<float>(acc) * multiplier;
  const float r = Q8Clamp(std::nearbyint(product), static_cast<float>(o.qmin - o.zero),
                          static_cast<float>(o.qmax - o.zero));
  return static_cast<uint8_t>(static_cast<int32_t>(r) + o.zero);
}

// y = clamp((float)acc * scale, fmin, fmax).
inline float Q8DequantizeScalar(int32_t acc, float scale, const Q8Output& o) {
  return Q8Clamp(static_cast<float>(acc) * scale, o.fmin, o.fmax);
}

}  // namespace layerq
