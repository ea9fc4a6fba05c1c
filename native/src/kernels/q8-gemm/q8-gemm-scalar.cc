// Scalar reference of the q8 GEMM: the contract of q8-gemm.h computed directly from the unpacked
// weights, one output at a time. It is the oracle every fast path must match bit for bit.
#include <algorithm>

#include "common/threadpool.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-gemm/q8-scalar.h"

namespace layerq {

void Q8GemmScalar(const Q8PackedWeights& packed, const uint8_t* a, size_t rows, void* out) {
  const size_t k = packed.k(), n = packed.m();
  const int32_t x_zero = packed.quant().inputZero;
  const Q8Output& o = packed.quant().output;
  ParallelFor(rows, 1, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      for (size_t c = 0; c < n; ++c) {
        const int8_t* w = packed.raw_weights() + c * k;
        int64_t sum = packed.raw_bias()[c];
        for (size_t i = 0; i < k; ++i) sum += (static_cast<int32_t>(a[r * k + i]) - x_zero) * w[i];
        const int32_t acc = Q8WrapInt32(sum);
        const float s = packed.ChannelScale(0, c);
        if (o.kind == Q8OutputKind::kUint8) {
          static_cast<uint8_t*>(out)[r * n + c] = Q8RequantizeScalar(acc, s, o);
        } else {
          static_cast<float*>(out)[r * n + c] = Q8DequantizeScalar(acc, s, o);
        }
      }
    }
  });
}

}  // namespace layerq
