// Gram (input Hessian) accumulation for fitted rounding: patches of a block of sampled
// positions are gathered (im2col, in double) and their outer products summed. Determinism:
// every entry of the Gram matrix is owned by one thread and summed over positions in
// ascending order, so the result is bit-identical for any thread count.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/f32-rounding/f32-rounding-syrk.h"
#include "kernels/f32-rounding/f32-rounding.h"

namespace layerq {
namespace f32 {
namespace {

constexpr size_t kBlockRows = 128;  // patches gathered per block (128 x K doubles)

size_t OutSize(size_t in, size_t pad0, size_t pad1, size_t k, size_t dilation, size_t stride) {
  const size_t span = (k - 1) * dilation + 1, padded = in + pad0 + pad1;
  return padded < span ? 0 : (padded - span) / stride + 1;
}

// Small K (depthwise convs, K = kh * kw): the whole upper triangle per patch; K fixed at
// compile time for the common kernel sizes so the loops unroll.
template <size_t kFixed>
void SyrkSmall(const double* p, size_t rows, size_t k_arg, double* __restrict s) {
  const size_t k = kFixed ? kFixed : k_arg;
  for (size_t r = 0; r < rows; ++r) {
    const double* __restrict pr = p + r * k;
    for (size_t i = 0; i < k; ++i) {
      const double a = pr[i];
      for (size_t j = i; j < k; ++j) s[i * k + j] += a * pr[j];
    }
  }
}

SyrkTileFn ActiveSyrkTile() {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(ActiveIsa())) return SyrkTileAvx2;
#endif
  return SyrkTileScalar;
}

// s (upper triangle) += P^T P for a block; tiles in parallel when `parallel`. Tile t's work
// shrinks with t, so chunks take tiles alternately from both ends to balance them.
void SyrkBlock(const double* p, size_t rows, size_t k, bool parallel, double* s) {
  if (k == 9) return SyrkSmall<9>(p, rows, k, s);
  if (k == 25) return SyrkSmall<25>(p, rows, k, s);
  if (k < 16) return SyrkSmall<0>(p, rows, k, s);
  const size_t tiles = (k + kSyrkTile - 1) / kSyrkTile;
  const SyrkTileFn syrk_tile = ActiveSyrkTile();
  auto run = [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      const size_t tile = t % 2 == 0 ? t / 2 : tiles - 1 - t / 2;
      syrk_tile(p, rows, k, tile * kSyrkTile, s);
    }
  };
  if (parallel && k >= 32) {
    ParallelFor(tiles, 2, run);
  } else {
    run(0, tiles);
  }
}

// Sums the patches of every group into h. fill(g, position, dst) writes group g's K-element
// patch at a flattened position into dst. Groups run in parallel when there are at least as
// many as threads (depthwise), else the Gram rows of each group are split between threads.
template <typename Fill>
size_t Accumulate(size_t groups, size_t k, size_t positions, size_t stride, const Fill& fill, double* h) {
  if (stride == 0) throw std::invalid_argument("gram: position stride must be >= 1");
  const size_t rows = positions == 0 ? 0 : (positions - 1) / stride + 1;
  if (rows == 0 || k == 0) return rows;
  const bool by_group = groups >= static_cast<size_t>(ThreadCount()) || k < 32;
  auto one_group = [&](size_t g) {
    std::vector<double> s(k * k, 0.0), p(kBlockRows * k);
    for (size_t r0 = 0; r0 < rows; r0 += kBlockRows) {
      const size_t nr = std::min(kBlockRows, rows - r0);
      for (size_t r = 0; r < nr; ++r) fill(g, (r0 + r) * stride, p.data() + r * k);
      SyrkBlock(p.data(), nr, k, !by_group, s.data());
    }
    double* hg = h + g * k * k;
    for (size_t i = 0; i < k; ++i) {
      hg[i * k + i] += s[i * k + i];
      for (size_t j = i + 1; j < k; ++j) hg[i * k + j] += s[i * k + j], hg[j * k + i] += s[i * k + j];
    }
  };
  if (by_group) {
    ParallelFor(groups, 1, [&](size_t b, size_t e) {
      for (size_t g = b; g < e; ++g) one_group(g);
    });
  } else {
    for (size_t g = 0; g < groups; ++g) one_group(g);
  }
  return rows;
}

}  // namespace

size_t GramConvShape::OutH() const { return OutSize(h, pad_top, pad_bottom, kh, dilation_h, stride_h); }
size_t GramConvShape::OutW() const { return OutSize(w, pad_left, pad_right, kw, dilation_w, stride_w); }

size_t AccumulateConvGram(const GramConvShape& s, const float* x, size_t position_stride, double* h) {
  if (s.group == 0 || s.c % s.group) throw std::invalid_argument("gram: channels not divisible by group");
  if (!s.kh || !s.kw || !s.stride_h || !s.stride_w || !s.dilation_h || !s.dilation_w)
    throw std::invalid_argument("gram: zero kernel, stride or dilation");
  const size_t ho = s.OutH(), wo = s.OutW();
  if (!ho || !wo) throw std::invalid_argument("gram: kernel larger than the padded input");
  const size_t cg = s.c / s.group, plane = ho * wo;
  const ptrdiff_t ih = static_cast<ptrdiff_t>(s.h), iw = static_cast<ptrdiff_t>(s.w);
  auto fill = [&](size_t g, size_t pos, double* dst) {
    const size_t n = pos / plane, oy = pos % plane / wo, ox = pos % wo;
    const ptrdiff_t y0 = static_cast<ptrdiff_t>(oy * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top);
    const ptrdiff_t x0 = static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
    for (size_t ci = 0; ci < cg; ++ci) {
      const float* xc = x + ((n * s.c) + g * cg + ci) * s.h * s.w;
      for (size_t ky = 0; ky < s.kh; ++ky) {
        const ptrdiff_t iy = y0 + static_cast<ptrdiff_t>(ky * s.dilation_h);
        const bool row_in = iy >= 0 && iy < ih;
        for (size_t kx = 0; kx < s.kw; ++kx) {
          const ptrdiff_t ix = x0 + static_cast<ptrdiff_t>(kx * s.dilation_w);
          *dst++ = row_in && ix >= 0 && ix < iw ? static_cast<double>(xc[iy * iw + ix]) : 0.0;
        }
      }
    }
  };
  return Accumulate(s.group, s.K(), s.n * plane, position_stride, fill, h);
}

size_t AccumulateGemmGram(const float* x, size_t rows, size_t k, size_t row_stride, double* h) {
  auto fill = [&](size_t, size_t row, double* dst) {
    const float* xr = x + row * k;
    for (size_t i = 0; i < k; ++i) dst[i] = xr[i];
  };
  return Accumulate(1, k, rows, row_stride, fill, h);
}

}  // namespace f32
}  // namespace layerq
