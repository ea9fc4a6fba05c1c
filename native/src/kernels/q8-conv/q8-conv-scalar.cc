// Scalar reference q8 convolution: the contract, one output at a time, straight from the
// unpacked weights and the unpadded input (padding contributes x = xZero, i.e. nothing).
#include "common/threadpool.h"
#include "kernels/q8-conv/q8-conv.h"
#include "kernels/q8-gemm/q8-scalar.h"

namespace layerq {

void Q8Conv2dScalar(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w,
                    void* out) {
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  const size_t ho = s.OutH(h), wo = s.OutW(w);
  const size_t cin_g = s.cin / s.group, cout_g = s.cout / s.group;
  const int32_t x_zero = pw.quant().inputZero;
  const Q8Output& o = pw.quant().output;
  ParallelFor(n * s.cout, 1, [&](size_t begin, size_t end) {
    for (size_t job = begin; job < end; ++job) {
      const size_t b = job / s.cout, co = job % s.cout, g = co / cout_g;
      const int8_t* wc = pw.raw_weights() + co * cin_g * s.kh * s.kw;
      const float scale = pw.ChannelScale(g, co % cout_g);
      for (size_t oy = 0; oy < ho; ++oy) {
        for (size_t ox = 0; ox < wo; ++ox) {
          int64_t sum = pw.raw_bias()[co];
          for (size_t ci = 0; ci < cin_g; ++ci) {
            const uint8_t* plane = x + (b * s.cin + g * cin_g + ci) * h * w;
            for (size_t ky = 0; ky < s.kh; ++ky) {
              const int64_t iy = static_cast<int64_t>(oy * s.stride_h + ky * s.dilation_h) -
                                 static_cast<int64_t>(s.pad_top);
              for (size_t kx = 0; kx < s.kw; ++kx) {
                const int64_t ix = static_cast<int64_t>(ox * s.stride_w + kx * s.dilation_w) -
                                   static_cast<int64_t>(s.pad_left);
                if (iy < 0 || iy >= static_cast<int64_t>(h) || ix < 0 || ix >= static_cast<int64_t>(w)) continue;
                const int32_t xv = plane[iy * w + ix];
                sum += (xv - x_zero) * wc[(ci * s.kh + ky) * s.kw + kx];
              }
            }
          }
          const int32_t acc = Q8WrapInt32(sum);
          const size_t at = ((b * s.cout + co) * ho + oy) * wo + ox;
          if (o.kind == Q8OutputKind::kUint8) {
            static_cast<uint8_t*>(out)[at] = Q8RequantizeScalar(acc, scale, o);
          } else {
            static_cast<float*>(out)[at] = Q8DequantizeScalar(acc, scale, o);
          }
        }
      }
    }
  });
}

}  // namespace layerq
