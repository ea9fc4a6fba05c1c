// Quantized 2-D convolution, NCHW in and out: uint8 activations, int8 weights [Cout, Cin/group,
// kh, kw], int32 bias, requantized uint8 or dequantized float32 output (contract in
// kernels/q8-gemm/q8-gemm.h). Fast paths (AVX2, AVX-512 VNNI, NEON) run the packed GEMM of each
// group on 16-pixel panels gathered from an xZero-padded copy of the input (1x1 stride-1
// unpadded convs read the input directly; on maps whose pixels divide 16, such as 2x2, a panel
// spans several images); depthwise convs run the kernels of q8-dwconv.h where the ISA has
// them, else the one-row GEMM; on AVX-512 VNNI + VBMI, convs with 3-wide kernels run the row
// kernel below (no copy, no panel). The scalar path is the reference.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "common/cpu.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-quantize/q8-quantize.h"

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
  // The weights in the row kernel's layout (below), packed on first use.
  const std::vector<int32_t>& RowQuads() const;

  // What a kernel derives from the conv and the input size (index tables, masks, packed
  // parameters), built by fill(T&) on the first call for (kind, h, w) and kept for the conv's
  // lifetime, so that a call (a batch-1 call is tens of microseconds) does not rebuild it.
  template <class T, class Fill>
  const T& Cached(int kind, size_t h, size_t w, Fill fill) const {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    std::shared_ptr<void>& slot = cache_[std::make_tuple(kind, h, w)];
    if (!slot) {
      auto t = std::make_shared<T>();
      fill(*t);
      slot = t;
    }
    return *static_cast<const T*>(slot.get());
  }

 private:
  Q8ConvShape shape_;
  Q8PackedWeights weights_;
  mutable std::mutex cache_mutex_;  // a mutex, not std::call_once: pthread_once needs glibc 2.34
  mutable std::map<std::tuple<int, size_t, size_t>, std::shared_ptr<void>> cache_;
};

// Kinds of Q8PackedConv::Cached entries.
enum Q8ConvCacheKind : int { kQ8CacheConvRows = 1, kQ8CacheDwPlanes = 2, kQ8CacheRowQuads = 3 };

// The float-residual Add after a conv (ResNet's and MobileNetV2's residual joins), folded into
// it: the conv's outputs (floats, or codes read as their dequantized values) plus the residual
// (the output's layout), clamped, quantized into `codes` (and DQ of those codes into `fake`):
// Q8AddQuantize's bits, added while the conv's outputs are still in the caches.
struct Q8ConvResidual {
  Q8AddOperand residual;         // floats, or codes of a per-tensor quantization
  const float* clamp = nullptr;  // [2]: a fused Relu / Clip; null: none
  Q8QuantSpec quant;             // the sum's quantization: scale[0], zero[0], [qmin, qmax] in [0, 255]
  uint8_t* codes = nullptr;      // [n][cout][ho][wo]: may be `out` itself when the conv's output is uint8
  float* fake = nullptr;         // [n][cout][ho][wo] or null
  // The same from element `off` of the output's layout on (residual, codes and fake moved).
  Q8ConvResidual At(size_t off) const {
    Q8ConvResidual r = *this;
    r.residual = residual.At(off);
    if (r.codes) r.codes += off;
    if (r.fake) r.fake += off;
    return r;
  }
};

// ---- rows (AVX-512 VNNI + VBMI) ------------------------------------------------------------

// Convs of one group with 3-wide kernels and dilation 1, read in place (no padded copy, no
// im2col panel): 16 output pixels a vector (16 of one row, or on rows narrower than 16 pixels
// `rows` whole rows), against 16 output channels at once. The kernel rows of the input channels,
// in order (ci, ky), each give a 64-byte window of the input from the row the chunk's first
// output row reads; their 3 * cin * kh taps, taken four at a time, span at most two consecutive
// windows, so one vpermt2b builds each pixel's four input bytes (three patterns, repeating every
// four kernel rows) and 16 vpdpbusd add them against each output channel's four taps. Taps in
// the padding read xZero: chunks of one row mask the window's bytes outside the input row (a
// kernel row outside the plane is all xZero), chunks of several rows mask the permuted bytes.
// Sums exact (mod 2^32), the output stage the reference's.
constexpr size_t kQ8ConvRowsLanes = 16;  // output pixels a vector, and output channels a block

struct Q8ConvRowsGeometry {
  size_t cin = 0, h = 0, w = 0, ho = 0, wo = 0, kh = 0;
  size_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  size_t groups4 = 0;                   // groups of four kernel rows: ceil(cin * kh / 4)
  // [4 * groups4]: kernel row r = (ci, ky)'s ky (-1 past the last row) and the offset of its
  // input row when the output row reads from input row 0: (ci * h + ky) * w.
  const int32_t* row_ky = nullptr;
  const int64_t* row_offset = nullptr;
  const uint8_t* index = nullptr;       // [3][64]: vpermt2b byte indices of the three patterns
  size_t rows = 1;                      // output rows a chunk (1: 16 pixels of a row)
  // rows == 1: [column chunks] the window bytes inside the input row; rows > 1: [chunks][3 *
  // groups4] the permuted bytes of each quad whose tap lies inside the plane.
  const uint64_t* masks = nullptr;
  uint8_t x_zero = 0;
  const uint8_t* x_begin = nullptr;     // the input tensor (window bytes outside it: masked)
  const uint8_t* x_end = nullptr;
  Q8Output output;
};

// Output rows [oy0, oy1) (oy0 a multiple of rows) of `channels` output channels of one image, in
// blocks of 16: x uint8 [cin][h][w], out row oy0 of its first channel (planes ho * wo apart;
// uint8 or float per output.kind). With a residual (its pointers at the same element as out), the
// outputs go through the residual's add and quantize in registers (Q8AddQuantize's operations)
// into its codes and fake instead, and out is not written. quads: per block of 16 channels,
// [3 * groups4][16] the channels' tap quads (channel c in lane c; taps past the last kernel row,
// and channels past the last, zero); bias and scales: [channels rounded up to 16].
using Q8ConvRowsFn = void (*)(const Q8ConvRowsGeometry& g, const uint8_t* x, const int32_t* quads, const int32_t* bias,
                              const float* scales, size_t channels, size_t oy0, size_t oy1, void* out,
                              const Q8ConvResidual* residual);
Q8ConvRowsFn Q8ConvRowsFor(Isa isa);
#if defined(__x86_64__) || defined(_M_X64)
void Q8ConvRowsAvx512(const Q8ConvRowsGeometry& g, const uint8_t* x, const int32_t* quads, const int32_t* bias,
                      const float* scales, size_t channels, size_t oy0, size_t oy1, void* out,
                      const Q8ConvResidual* residual);
#endif

// x: uint8 [n][cin][h][w] -> out [n][cout][ho][wo], uint8 or float per the packed output kind;
// with a residual, also the sum's codes and/or floats (Q8ConvResidual).
void Q8Conv2d(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out,
              const Q8ConvResidual* residual = nullptr);
// The scalar reference (oracle): direct convolution from the unpacked weights.
void Q8Conv2dScalar(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w,
                    void* out);

}  // namespace layerq
