// f32 Conv2d over NCHW: weights packed once into GEMM A panels (or depthwise taps); each call
// packs im2col B panels of kNR output pixels on the fly (a plain strided copy for 1x1 convs)
// and runs the GEMM microkernel with the fused bias + clamp epilogue.
#pragma once
#include <cstddef>
#include <vector>

#include "kernels/f32-elementwise/f32-elementwise.h"

namespace layerq {
namespace f32 {

struct ConvShape {
  size_t cin = 0, cout = 0, kh = 1, kw = 1, group = 1;
  size_t sh = 1, sw = 1;                  // strides
  size_t pt = 0, pl = 0, pb = 0, pr = 0;  // pads: top, left, bottom, right
  size_t dh = 1, dw = 1;                  // dilations
};

// 1x1, stride 1, unpadded (any group): each output pixel reads its own input pixel.
inline bool IsUnit1x1(const ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 && s.pb == 0 && s.pr == 0;
}

// Output height/width; 0 when the (padded) input is smaller than the dilated kernel.
size_t ConvOutDim(size_t in, size_t k, size_t stride, size_t pad0, size_t pad1, size_t dilation);

struct PackedConv {
  ConvShape s;
  bool depthwise = false;  // group == cin == cout
  size_t k = 0;            // GEMM depth: cin / group * kh * kw
  size_t m_panels = 0;     // A panels per group: ceil(cout / group / kMR)
  std::vector<float> a;    // group x m_panels x (k x kMR) A panels; depthwise: [C][kh * kw]
  std::vector<float> bias; // group x m_panels x kMR (zeros without bias); depthwise: [C]
  float min = -__builtin_inff(), max = __builtin_inff();
};

// weight [cout, cin / group, kh, kw]; bias [cout] or null.
PackedConv PackConv(const float* weight, const float* bias, const ConvShape& s, float min, float max);

// A residual added to a conv's outputs, then clamped (a following Add, and Relu / Clip):
// out = clamp(conv(x) + data, clamp.min, clamp.max), data of out's shape; the same operations,
// in the same order, as the conv (its own clamp) followed by Binary(kAdd, out, data).
struct ConvResidual {
  const float* data = nullptr;
  OutputClamp clamp;
};

// x [n, cin, h, w] -> out [n, cout, ho, wo]; plus residual when not null (added while each
// task's outputs are in the caches where the path allows, else in a pass over out).
void Conv2d(const PackedConv& packed, const float* x, size_t n, size_t h, size_t w, float* out,
            const ConvResidual* residual = nullptr);

// A pointwise conv (1x1, stride 1, unpadded, group 1) on one image whose channel planes of
// `pixels` floats lie x_stride floats apart in x and out_stride apart in out: rows of a taller
// image read and written in place (an inverted-residual block's strips). Bit for bit Conv2d on
// the planes copied out (the same paths for the same pixels).
void PointwiseConv2dStrided(const PackedConv& packed, const float* x, size_t x_stride, size_t pixels, float* out,
                            size_t out_stride);

// Tests only: pointwise convs on packed pixel blocks run the direct microkernel over tap offsets
// even where the packed tile is a GEMM B panel (8-lane paths), so that the branch the AVX-512
// path takes (16-lane segments, no GEMM panel of that width) is checked on every machine.
void PackedPointwiseDirectForTesting(bool on);

// Im2col of output pixels [p0, p0 + pc) (pc <= kNR) of one image, channels of one group
// starting at x, into a K x kNR B panel (columns past pc zeroed).
void PackIm2colPanel(const float* x, size_t h, size_t w, const ConvShape& s, size_t wo, size_t p0,
                     size_t pc, float* dst);

}  // namespace f32
}  // namespace layerq
