// Quantized 2-D convolution, NCHW in and out: uint8 activations, int8 weights [Cout, Cin/group,
// kh, kw], int32 bias, requantized uint8 or dequantized float32 output (contract in
// kernels/q8-gemm/q8-gemm.h). Fast paths (AVX2, AVX-512 VNNI, NEON) run the packed GEMM of each
// group on 16-pixel panels gathered from an xZero-padded copy of the input (1x1 stride-1
// unpadded convs read the input directly; on maps whose pixels divide 16, such as 2x2, a panel
// spans several images); depthwise convs run the kernels of q8-dwconv.h where the ISA has
// them, else the one-row GEMM. The scalar path is the reference.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {

struct Q8ConvShape {
  size_t cin = 0, cout = 0, kh = 1, kw = 1, group = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  size_t dilation_h = 1, dilation_w = 1;

  // Output size for an input of h x w; 0 when the kernel does not fit.
  size_t OutH(size_t h) const;
  size_t OutW(size_t w) const;
};

class Q8PackedConv {
 public:
  // weight: int8 [cout][cin/group][kh][kw]; bias: int32 [cout] or null.
  Q8PackedConv(const Q8ConvShape& shape, const int8_t* weight, const int32_t* bias,
               const Q8QuantParams& q);
  const Q8ConvShape& shape() const { return shape_; }
  const Q8PackedWeights& weights() const { return weights_; }

 private:
  Q8ConvShape shape_;
  Q8PackedWeights weights_;
};

// x: uint8 [n][cin][h][w] -> out [n][cout][ho][wo], uint8 or float per the packed output kind.
void Q8Conv2d(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out);
// The scalar reference (oracle): direct convolution from the unpacked weights.
void Q8Conv2dScalar(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w,
                    void* out);

}  // namespace layerq
