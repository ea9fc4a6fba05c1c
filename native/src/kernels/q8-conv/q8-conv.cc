// q8 conv driver: im2col (uint8, padding = xZero) into a pixel block, pair-interleaved int16
// panels of 16 pixels, the packed GEMM per group; threads split (image, group, pixel block).
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "common/threadpool.h"
#include "kernels/q8-conv/q8-conv.h"

namespace layerq {
namespace {

size_t OutSize(size_t in, size_t pad0, size_t pad1, size_t k, size_t stride, size_t dilation) {
  const size_t span = (k - 1) * dilation + 1, padded = in + pad0 + pad1;
  return padded < span ? 0 : (padded - span) / stride + 1;
}

// Fills col[k][p - p0] for pixels [p0, p0 + np) of one image and group: k runs over
// (ci, ky, kx) of the group's input channels, out-of-image taps read xZero.
void Im2col(const Q8ConvShape& s, const uint8_t* xg, size_t h, size_t w, size_t wo, size_t p0,
            size_t np, uint8_t x_zero, uint8_t* col, size_t col_stride) {
  const size_t cin_g = s.cin / s.group;
  for (size_t ci = 0; ci < cin_g; ++ci) {
    const uint8_t* plane = xg + ci * h * w;
    for (size_t ky = 0; ky < s.kh; ++ky) {
      for (size_t kx = 0; kx < s.kw; ++kx) {
        uint8_t* row = col + ((ci * s.kh + ky) * s.kw + kx) * col_stride;
        // Output columns [lo, hi) read inside the image: ox * stride_w + kx * dw - pad_left in [0, w).
        const int64_t off = static_cast<int64_t>(s.pad_left) - static_cast<int64_t>(kx * s.dilation_w);
        const int64_t sw = static_cast<int64_t>(s.stride_w);
        const int64_t lo = off <= 0 ? 0 : (off + sw - 1) / sw;
        const int64_t hi = static_cast<int64_t>(w) - 1 + off < 0 ? 0 : (static_cast<int64_t>(w) - 1 + off) / sw + 1;
        size_t p = p0;
        while (p < p0 + np) {
          const size_t oy = p / wo, ox0 = p % wo, ox1 = std::min(wo, ox0 + (p0 + np - p));
          uint8_t* dst = row + (p - p0);
          const int64_t iy = static_cast<int64_t>(oy * s.stride_h + ky * s.dilation_h) -
                             static_cast<int64_t>(s.pad_top);
          if (iy < 0 || iy >= static_cast<int64_t>(h)) {
            std::memset(dst, x_zero, ox1 - ox0);
          } else {
            const uint8_t* src = plane + iy * w;
            const size_t a = static_cast<size_t>(std::clamp<int64_t>(lo, ox0, ox1));
            const size_t b = static_cast<size_t>(std::clamp<int64_t>(hi, a, ox1));
            std::memset(dst, x_zero, a - ox0);
            if (s.stride_w == 1) {
              std::memcpy(dst + (a - ox0), src + (a - off), b - a);
            } else {
              for (size_t ox = a; ox < b; ++ox) dst[ox - ox0] = src[ox * s.stride_w - off];
            }
            std::memset(dst + (b - ox0), x_zero, ox1 - b);
          }
          p += ox1 - ox0;
        }
      }
    }
  }
}

}  // namespace

size_t Q8ConvShape::OutH(size_t h) const { return OutSize(h, pad_top, pad_bottom, kh, stride_h, dilation_h); }
size_t Q8ConvShape::OutW(size_t w) const { return OutSize(w, pad_left, pad_right, kw, stride_w, dilation_w); }

Q8PackedConv::Q8PackedConv(const Q8ConvShape& shape, const int8_t* weight, const int32_t* bias,
                           const Q8QuantParams& q)
    : shape_(shape),
      weights_(weight, bias, shape.group, shape.group ? shape.cout / shape.group : 0,
               shape.group ? shape.cin / shape.group * shape.kh * shape.kw : 0, q) {
  const Q8ConvShape& s = shape;
  if (s.group == 0 || s.cin % s.group || s.cout % s.group) throw std::invalid_argument("q8 conv: channels not divisible by group");
  if (!s.kh || !s.kw || !s.stride_h || !s.stride_w || !s.dilation_h || !s.dilation_w) throw std::invalid_argument("q8 conv: zero kernel, stride or dilation");
}

void Q8Conv2d(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out) {
  const Q8GemmUkernels* uk = Q8GemmUkernelsFor(ActiveIsa());
  if (!uk) return Q8Conv2dReference(conv, x, n, h, w, out);
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  const size_t ho = s.OutH(h), wo = s.OutW(w), pixels = ho * wo;
  if (!ho || !wo) throw std::invalid_argument("q8 conv: kernel larger than padded input");
  const size_t cin_g = s.cin / s.group, cout_g = s.cout / s.group, k = pw.k();
  const size_t elem = pw.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  const uint8_t x_zero = static_cast<uint8_t>(pw.quant().inputZero);
  // 1x1, stride 1, no padding: the input planes are the im2col matrix [Cin][H*W].
  const bool direct = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                      !s.pad_top && !s.pad_left && !s.pad_bottom && !s.pad_right;
  // Pixel block: a multiple of the panel width, its im2col block about 64 KiB (L2).
  const size_t block = direct ? (pixels + kQ8Nr - 1) / kQ8Nr * kQ8Nr
                              : std::clamp<size_t>((65536 / k) / kQ8Nr * kQ8Nr, kQ8Nr,
                                                   (pixels + kQ8Nr - 1) / kQ8Nr * kQ8Nr);
  const size_t blocks = (pixels + block - 1) / block;
  ParallelFor(n * s.group * blocks, 1, [&](size_t begin, size_t end) {
    Q8Scratch<uint8_t> col(direct ? 1 : k * block);
    Q8Scratch<int16_t> panel(pw.kpairs() * 2 * kQ8Nr);
    Q8Scratch<int32_t> acc(pw.mp() * kQ8Nr);
    for (size_t job = begin; job < end; ++job) {
      const size_t b = job / (s.group * blocks), g = job / blocks % s.group, blk = job % blocks;
      const size_t p0 = blk * block, np = std::min(block, pixels - p0);
      const uint8_t* xg = x + (b * s.cin + g * cin_g) * h * w;
      const uint8_t* cols = xg + p0;
      size_t col_stride = h * w;
      if (!direct) {
        Im2col(s, xg, h, w, wo, p0, np, x_zero, col.get(), block);
        cols = col.get();
        col_stride = block;
      }
      uint8_t* og = static_cast<uint8_t*>(out) + ((b * s.cout + g * cout_g) * pixels + p0) * elem;
      for (size_t j = 0; j < np; j += kQ8Nr) {
        uk->pack_panel(cols + j, col_stride, k, std::min(kQ8Nr, np - j), panel.get());
        Q8ComputePanel(*uk, pw, g, panel.get(), std::min(kQ8Nr, np - j), acc.get(),
                       og + j * elem, pixels, 1);
      }
    }
  });
}

}  // namespace layerq
