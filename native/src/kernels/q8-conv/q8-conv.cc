// q8 conv driver: the input of one image and group is copied once into a buffer padded with
// xZero; 16-pixel panels of the (implicit) im2col matrix are gathered from it straight into the
// microkernels' pair-interleaved int16 layout, then run through the packed GEMM of the group.
// Pointwise convs read their panels from the planes and run them a block (16 KiB of panels) at
// a time, each row block of the weights over the whole block (Q8ComputePanels).
// Threads split (image, group) pairs, or the panels of one image when there are few.
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "common/batch-planes.h"
#include "common/copy.h"
#include "common/threadpool.h"
#include "kernels/q8-conv/q8-conv.h"
#include "kernels/q8-dwconv/q8-dwconv.h"

namespace layerq {
namespace {

size_t OutSize(size_t in, size_t pad0, size_t pad1, size_t k, size_t stride, size_t dilation) {
  const size_t span = (k - 1) * dilation + 1, padded = in + pad0 + pad1;
  return padded < span ? 0 : (padded - span) / stride + 1;
}

// Slack around a padded input so that the panel packer's whole-vector loads stay in memory we
// own: a run is addressed from up to 15 pixels (30 bytes at stride 2) before its first pixel
// and read up to 32 bytes on.
constexpr size_t kFrontSlack = 64, kBackSlack = 64;

// Runs of each 16-pixel panel (one per output row it touches) in a padded plane of width wp.
std::vector<Q8PanelRuns> PanelRuns(const Q8ConvShape& s, size_t ho, size_t wo, size_t wp) {
  const size_t pixels = ho * wo;
  std::vector<Q8PanelRuns> all((pixels + kQ8Nr - 1) / kQ8Nr);
  for (size_t j = 0; j < all.size(); ++j) {
    Q8PanelRuns& r = all[j];
    const size_t p0 = j * kQ8Nr;
    r.np = std::min(kQ8Nr, pixels - p0);
    r.stride = s.stride_w;
    for (size_t d = 0; d < r.np;) {
      const size_t oy = (p0 + d) / wo, ox = (p0 + d) % wo, len = std::min(r.np - d, wo - ox);
      r.base[r.count] = static_cast<int64_t>(oy * s.stride_h * wp + ox * s.stride_w) -
                        static_cast<int64_t>(d * s.stride_w);
      r.begin[r.count] = static_cast<uint8_t>(d);
      r.end[r.count] = static_cast<uint8_t>(d + len);
      ++r.count;
      d += len;
    }
  }
  return all;
}

// The conv's output as an operand of the residual's add: floats, or codes read dequantized.
Q8AddOperand OutputOperand(const Q8PackedConv& conv, void* out) {
  const Q8Output& o = conv.weights().quant().output;
  if (o.kind == Q8OutputKind::kFloat32) return Q8AddOperand::Values(static_cast<const float*>(out));
  return Q8AddOperand::Codes(static_cast<const uint8_t*>(out), o.outputScale, o.zero);
}

// Adds the residual to out's elements [off, off + count), just written (still in the caches).
void AddResidual(const Q8PackedConv& conv, const Q8ConvResidual& residual, void* out, size_t off, size_t count) {
  const Q8ConvResidual r = residual.At(off);
  Q8AddQuantizeRun(OutputOperand(conv, out).At(off), r.residual, count, r.clamp, r.quant, r.codes, r.fake);
}

// Pointwise conv (1x1, stride 1, unpadded, one group) of n images of `pixels` pixels, pixels
// dividing the 16 of a panel (2x2 maps: 4 images a panel): each panel row gathered straight from
// the images' planes (one run per image) and the tile's rows scattered back to them, instead of
// copying the batch into rows [cin][n * pixels] and the output back. A partial last panel reads
// a copy of its images: the runs' 16-byte loads would pass the end of x.
void PointwiseImagePanels(const Q8GemmUkernels* uk, const Q8PackedConv& conv, const uint8_t* x, size_t n,
                          size_t pixels, void* out, const Q8ConvResidual* residual) {
  const Q8PackedWeights& pw = conv.weights();
  if (pw.m() == 1 && uk->one_row) uk = uk->one_row;
  if ((uk->kstep == 4 && !pw.has_quads()) || (uk->kstep == 8 && !pw.has_octs())) {
    throw std::logic_error("q8 conv: weights packed without the kernel's layout");
  }
  const size_t cin = conv.shape().cin, cout = conv.shape().cout, per = kQ8Nr / pixels;
  const size_t elem = pw.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  const size_t image_in = cin * pixels, plane_out = pixels * elem;
  std::vector<int64_t> koff(cin);
  for (size_t k = 0; k < cin; ++k) koff[k] = static_cast<int64_t>(k * pixels);
  ParallelFor((n + per - 1) / per, 1, [&](size_t j0, size_t j1) {
    AlignedBuffer<int16_t> panel(Q8PanelSize(pw.k()));
    AlignedBuffer<int32_t> acc(pw.mb() * kQ8Nr);
    AlignedBuffer<uint8_t> tile(cout * kQ8Nr * elem);  // [cout][16] outputs
    std::vector<uint8_t> tail;
    for (size_t j = j0; j < j1; ++j) {
      const size_t b0 = j * per, images = std::min({per, n - b0, kQ8Nr});  // per <= 16 (GCC cannot tell)
      const uint8_t* src = x + b0 * image_in;
      if (images < per) {
        tail.assign(images * image_in + kQ8Nr, 0);
        std::memcpy(tail.data(), src, images * image_in);
        src = tail.data();
      }
      Q8PanelRuns runs;  // run r: image b0 + r, panel columns [r * pixels, (r + 1) * pixels)
      runs.count = images, runs.np = images * pixels, runs.stride = 1;
      for (size_t r = 0; r < images; ++r) {
        runs.base[r] = static_cast<int64_t>(r * image_in) - static_cast<int64_t>(r * pixels);
        runs.begin[r] = static_cast<uint8_t>(r * pixels);
        runs.end[r] = static_cast<uint8_t>((r + 1) * pixels);
      }
      uk->pack_panel_runs(src, koff.data(), cin, runs, panel.get());
      Q8ComputePanel(*uk, pw, 0, panel.get(), runs.np, acc.get(), tile.get(), kQ8Nr, 1);
      uint8_t* o = static_cast<uint8_t*>(out) + b0 * cout * plane_out;
      for (size_t r = 0; r < images; ++r) {
        for (size_t c = 0; c < cout; ++c) {
          CopyPlane(o + (r * cout + c) * plane_out, tile.get() + (c * kQ8Nr + r * pixels) * elem, plane_out);
        }
      }
      if (residual) AddResidual(conv, *residual, out, b0 * cout * pixels, images * cout * pixels);
    }
  });
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

const std::vector<int32_t>& Q8PackedConv::RowQuads() const {
  // [cout blocks of 16][3 * groups4 quads][16 lanes]: quad t of channel co is its taps 4t .. 4t + 3
  // in (ci, ky, kx) order, zero past the last.
  return Cached<std::vector<int32_t>>(kQ8CacheRowQuads, 0, 0, [&](std::vector<int32_t>& packed) {
    const Q8ConvShape& s = shape_;
    const size_t taps = s.cin * s.kh * 3, quads = 3 * ((s.cin * s.kh + 3) / 4);
    const size_t blocks = (s.cout + kQ8ConvRowsLanes - 1) / kQ8ConvRowsLanes;
    packed.assign(blocks * quads * kQ8ConvRowsLanes, 0);
    for (size_t co = 0; co < s.cout; ++co) {
      const int8_t* t = weights_.raw_weights() + co * taps;
      int32_t* dst = packed.data() + co / kQ8ConvRowsLanes * quads * kQ8ConvRowsLanes + co % kQ8ConvRowsLanes;
      for (size_t i = 0; i < taps; ++i) Q8SetQuadByte(dst[i / 4 * kQ8ConvRowsLanes], i % 4, t[i]);
    }
  });
}

Q8ConvRowsFn Q8ConvRowsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAvx512VnniVbmi(isa)) return Q8ConvRowsAvx512;
#endif
  (void)isa;
  return nullptr;
}

namespace {

// The row kernel's tables for one input size (Q8PackedConv::Cached): ok false where the conv
// does not fit the kernel.
struct ConvRowsPlan {
  bool ok = false;
  Q8ConvRowsGeometry g;  // without the input tensor's bounds
  uint8_t index[3 * 64] = {};
  std::vector<uint64_t> masks;
  std::vector<int32_t> row_ky;
  std::vector<int64_t> row_offset;
  std::vector<int32_t> bias;
  std::vector<float> scales;
};

// The shapes the row kernel takes, whatever the input size: one group, 3-wide kernel, dilation 1.
bool ConvRowsShape(const Q8ConvShape& s) {
  return s.group == 1 && s.kw == 3 && s.dilation_h == 1 && s.dilation_w == 1;
}

// The plan for a conv of ConvRowsShape; ok stays false where a chunk's input does not fit a window.
void FillConvRowsPlan(const Q8PackedConv& conv, size_t h, size_t w, ConvRowsPlan& plan) {
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  constexpr size_t kLanes = kQ8ConvRowsLanes;
  Q8ConvRowsGeometry& g = plan.g;
  g.cin = s.cin, g.h = h, g.w = w, g.ho = s.OutH(h), g.wo = s.OutW(w), g.kh = s.kh;
  // Lane p: output row i = p / wo of the chunk, column p % wo (rows == 1: row 0, column p); its
  // tap kx at byte i * stride_h * w + column * stride_w + kx of the window.
  g.rows = g.wo >= kLanes ? 1 : std::min(kLanes / g.wo, g.ho);
  auto byte_of = [&](size_t p, size_t kx) {
    return g.rows == 1 ? p * s.stride_w + kx : p / g.wo * s.stride_h * w + p % g.wo * s.stride_w + kx;
  };
  const size_t used = g.rows == 1 ? kLanes : g.rows * g.wo;
  if (byte_of(used - 1, 2) >= 64) {
    if (g.rows == 1) return;
    while (g.rows > 1 && byte_of(g.rows * g.wo - 1, 2) >= 64) --g.rows;
    if (g.rows == 1 || g.rows * g.wo < kLanes / 2) return;  // half the lanes idle: the panels
  }
  g.stride_h = s.stride_h, g.stride_w = s.stride_w, g.pad_top = s.pad_top, g.pad_left = s.pad_left;
  g.groups4 = (s.cin * s.kh + 3) / 4;
  for (size_t r = 0; r < 4 * g.groups4; ++r) {
    const bool real = r < s.cin * s.kh;
    plan.row_ky.push_back(real ? static_cast<int32_t>(r % s.kh) : -1);
    plan.row_offset.push_back(real ? static_cast<int64_t>((r / s.kh * h + r % s.kh) * w) : 0);
  }
  g.row_ky = plan.row_ky.data();
  g.row_offset = plan.row_offset.data();
  g.x_zero = static_cast<uint8_t>(pw.quant().inputZero);
  g.output = pw.quant().output;
  // Pattern j of quads 3m + j: (a = window 4m + j, b = the next one); lane p reads bytes
  // p * stride_w + kx of them (vpermt2b: b's bytes from 64).
  constexpr uint8_t kFrom[3][4][2] = {{{0, 0}, {0, 1}, {0, 2}, {1, 0}},
                                      {{0, 1}, {0, 2}, {1, 0}, {1, 1}},
                                      {{0, 2}, {1, 0}, {1, 1}, {1, 2}}};  // {window, kx}
  const size_t lanes_used = g.rows == 1 ? kLanes : g.rows * g.wo;
  for (size_t j = 0; j < 3; ++j)
    for (size_t p = 0; p < lanes_used; ++p)
      for (size_t b = 0; b < 4; ++b) {
        plan.index[j * 64 + 4 * p + b] = static_cast<uint8_t>(64 * kFrom[j][b][0] + byte_of(p, kFrom[j][b][1]));
      }
  g.index = plan.index;
  const ptrdiff_t ih = static_cast<ptrdiff_t>(h), iw = static_cast<ptrdiff_t>(w);
  if (g.rows == 1) {
    for (size_t ox = 0; ox < g.wo; ox += kLanes) {
      const ptrdiff_t x0 = static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
      uint64_t m = 0;
      for (ptrdiff_t i = 0; i < 64; ++i) {
        if (x0 + i >= 0 && x0 + i < iw) m |= uint64_t{1} << i;
      }
      plan.masks.push_back(m);
    }
  } else {
    // Per chunk and quad t (windows 4 (t / 3) + t % 3 and the next): the bytes whose tap lies in
    // the plane (past the last kernel row: any, its taps are zero).
    for (size_t oy0 = 0; oy0 < g.ho; oy0 += g.rows) {
      for (size_t t = 0; t < 3 * g.groups4; ++t) {
        uint64_t m = 0;
        for (size_t p = 0; p < lanes_used; ++p) {
          for (size_t b = 0; b < 4; ++b) {
            const size_t r = 4 * (t / 3) + t % 3 + kFrom[t % 3][b][0], kx = kFrom[t % 3][b][1];
            const ptrdiff_t iy = static_cast<ptrdiff_t>((oy0 + p / g.wo) * s.stride_h + r % s.kh) - static_cast<ptrdiff_t>(s.pad_top);
            const ptrdiff_t ix = static_cast<ptrdiff_t>(p % g.wo * s.stride_w + kx) - static_cast<ptrdiff_t>(s.pad_left);
            if (iy >= 0 && iy < ih && ix >= 0 && ix < iw) m |= uint64_t{1} << (4 * p + b);
          }
        }
        plan.masks.push_back(m);
      }
    }
  }
  g.masks = plan.masks.data();
  const size_t blocks = (s.cout + kLanes - 1) / kLanes;
  plan.bias.assign(blocks * kLanes, 0);
  plan.scales.assign(blocks * kLanes, 0.0f);
  for (size_t co = 0; co < s.cout; ++co) plan.bias[co] = pw.bias(0)[co], plan.scales[co] = pw.scales(0)[co];
  plan.ok = true;
}

// The row kernel where the ISA has it and the conv fits it (one group, 3-wide kernel, dilation
// 1, the input of a chunk's 16 outputs in a 64-byte window), the residual added in its output
// stage; false: nothing done.
bool ConvRows(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out,
              const Q8ConvResidual* residual) {
  const Q8ConvRowsFn kernel = Q8ConvRowsFor(ActiveIsa());
  if (!kernel || !ConvRowsShape(conv.shape())) return false;  // before the plan's lookup (a lock)
  const ConvRowsPlan& plan = conv.Cached<ConvRowsPlan>(kQ8CacheConvRows, h, w, [&](ConvRowsPlan& p) {
    FillConvRowsPlan(conv, h, w, p);
  });
  if (!plan.ok) return false;
  const Q8ConvShape& s = conv.shape();
  constexpr size_t kLanes = kQ8ConvRowsLanes;
  Q8ConvRowsGeometry g = plan.g;
  g.x_begin = x, g.x_end = x + n * s.cin * h * w;
  const std::vector<int32_t>& quads = conv.RowQuads();
  const size_t blocks = (s.cout + kLanes - 1) / kLanes, block_quads = 3 * g.groups4 * kLanes;
  // Tasks: (image, run of blocks of 16 channels, run of output rows), at least two a thread; a
  // task's blocks share its chunks' permuted quads, so a task takes all of them where the
  // images alone make enough tasks.
  const size_t want = 2 * static_cast<size_t>(ParallelWidth());
  const size_t block_run = n >= want ? blocks : 1, block_runs = (blocks + block_run - 1) / block_run;
  const size_t tasks_img = n * block_runs, chunks = (g.ho + g.rows - 1) / g.rows;
  const size_t runs = tasks_img >= want ? 1 : std::min(chunks, (want + tasks_img - 1) / tasks_img);
  const size_t rows_run = (chunks + runs - 1) / runs * g.rows;  // whole chunks
  const size_t elem = g.output.kind == Q8OutputKind::kUint8 ? 1 : 4, plane_out = g.ho * g.wo;
  ParallelFor(tasks_img * runs, 1, [&](size_t begin, size_t end) {
    for (size_t task = begin; task < end; ++task) {
      const size_t run = task % runs, br = task / runs % block_runs, img = task / runs / block_runs;
      const size_t oy0 = run * rows_run, oy1 = std::min(g.ho, oy0 + rows_run), co = br * block_run * kLanes;
      if (oy0 >= oy1) continue;
      // The task's first output element, in every tensor of the output's layout.
      const size_t at = (img * s.cout + co) * plane_out + oy0 * g.wo;
      const Q8ConvResidual r = residual ? residual->At(at) : Q8ConvResidual();
      kernel(g, x + img * s.cin * h * w, quads.data() + br * block_run * block_quads, plan.bias.data() + co,
             plan.scales.data() + co, std::min(block_run * kLanes, s.cout - co), oy0, oy1,
             static_cast<uint8_t*>(out) + at * elem, residual ? &r : nullptr);
    }
  });
  return true;
}

}  // namespace

namespace {

// Q8Conv2d's paths; true when the path added the residual (where it splits the work image by
// image or row by row), false when Q8Conv2d still has to (or there is none).
bool ConvPaths(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out,
               const Q8ConvResidual* residual) {
  const Q8GemmUkernels* uk = Q8GemmUkernelsFor(ActiveIsa(), conv.weights());
  if (!uk) {
    Q8Conv2dScalar(conv, x, n, h, w, out);
    return false;
  }
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  const size_t ho = s.OutH(h), wo = s.OutW(w), pixels = ho * wo;
  // The 2x2 kernel first: on 2x2 maps the planes leave 12 of 16 lanes empty.
  if (Q8Depthwise2x2(conv, x, n, h, w, out) || Q8DepthwisePlanes(conv, x, n, h, w, out) ||
      Q8Depthwise4x4(conv, x, n, h, w, out) ||
      Q8DepthwiseW16(conv, x, n, h, w, out) || Q8DepthwiseBlocks(conv, x, n, h, w, out)) {
    return false;
  }
  if (ConvRows(conv, x, n, h, w, out, residual)) return residual != nullptr;
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 && !s.pad_top && !s.pad_left &&
                         !s.pad_bottom && !s.pad_right && !(s.dilation_h > 1 && s.kh > 1);
  // Pointwise on small images whose pixels leave 16-pixel panels partly empty (a 2x2 map fills
  // a quarter): the batch as one image of n * pixels pixels.
  if (pointwise && s.group == 1 && n > 1 && pixels % kQ8Nr != 0 && pixels < 4 * kQ8Nr) {
    if (kQ8Nr % pixels == 0) {
      PointwiseImagePanels(uk, conv, x, n, pixels, out, residual);
      return residual != nullptr;
    }
    const size_t elem = pw.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
    std::vector<uint8_t> rows(s.cin * n * pixels), y(s.cout * n * pixels * elem);
    PlanesToBatchRows(x, n, s.cin, pixels, rows.data());
    Q8Conv2d(conv, rows.data(), 1, 1, n * pixels, y.data());
    if (elem == 1) BatchRowsToPlanes(y.data(), n, s.cout, pixels, static_cast<uint8_t*>(out));
    else BatchRowsToPlanes(reinterpret_cast<const float*>(y.data()), n, s.cout, pixels, static_cast<float*>(out));
    return false;
  }
  if (pw.m() == 1 && uk->one_row) uk = uk->one_row;
  if ((uk->kstep == 4 && !pw.has_quads()) || (uk->kstep == 8 && !pw.has_octs())) {
    throw std::logic_error("q8 conv: weights packed without the kernel's layout");
  }
  const size_t cin_g = s.cin / s.group, cout_g = s.cout / s.group, k = pw.k();
  const size_t elem = pw.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  const uint8_t x_zero = static_cast<uint8_t>(pw.quant().inputZero);
  const size_t panels = (pixels + kQ8Nr - 1) / kQ8Nr;
  // 1x1, stride 1, no padding: the input planes are the im2col matrix [Cin][H*W].
  const bool direct = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                      !s.pad_top && !s.pad_left && !s.pad_bottom && !s.pad_right;
  // Otherwise panels are gathered from a copy of the group's input with the padding filled with
  // xZero (so padded taps contribute (xZero - xZero) * w = 0 after the folded correction).
  const size_t hp = h + s.pad_top + s.pad_bottom, wp = w + s.pad_left + s.pad_right;
  const size_t plane = hp * wp, padded_bytes = kFrontSlack + cin_g * plane + kBackSlack;
  std::vector<int64_t> koff(k);
  for (size_t ci = 0; ci < cin_g; ++ci)
    for (size_t ky = 0; ky < s.kh; ++ky)
      for (size_t kx = 0; kx < s.kw; ++kx)
        koff[(ci * s.kh + ky) * s.kw + kx] = static_cast<int64_t>(ci * plane + ky * s.dilation_h * wp + kx * s.dilation_w);
  // One output channel per group (depthwise): rows computed directly from the padded input.
  const Q8DwRowFn dw_row = pw.m() == 1 && !direct ? Q8DwRowFor(ActiveIsa(), s.stride_w) : nullptr;
  const std::vector<Q8PanelRuns> runs = direct || dw_row ? std::vector<Q8PanelRuns>() : PanelRuns(s, ho, wo, wp);
  // Pointwise (direct): panels packed a block at a time, each row block of the weights swept over
  // the block (output rows written as runs of the block's pixels, not 16 at a time).
  const size_t panel_elems = Q8PanelSize(pw.k());
  size_t block_panels = 1;
  if (direct) {
    constexpr size_t kBlockBytes = 16384;  // half of L1: the block's panels stay there
    block_panels = std::max<size_t>(1, std::min(panels, kBlockBytes / (panel_elems * sizeof(int16_t))));
  }
  const size_t units = dw_row ? ho : (panels + block_panels - 1) / block_panels;  // work items of one (image, group)

  // Copies image b, group g into a padded buffer whose padding already holds xZero.
  auto pad = [&](size_t b, size_t g, uint8_t* buf) {
    const uint8_t* xg = x + (b * s.cin + g * cin_g) * h * w;
    for (size_t ci = 0; ci < cin_g; ++ci)
      for (size_t iy = 0; iy < h; ++iy)
        CopyShort(buf + kFrontSlack + ci * plane + (iy + s.pad_top) * wp + s.pad_left, xg + (ci * h + iy) * w, w);
  };
  // Units [j0, j1) (panels, or output rows when depthwise) of image b, group g.
  auto run_panels = [&](size_t b, size_t g, const uint8_t* padded, size_t j0, size_t j1, int16_t* panel, int32_t* acc) {
    const uint8_t* xg = x + (b * s.cin + g * cin_g) * h * w;
    uint8_t* og = static_cast<uint8_t*>(out) + (b * s.cout + g * cout_g) * pixels * elem;
    if (dw_row) {
      for (size_t oy = j0; oy < j1; ++oy) {
        dw_row(padded + kFrontSlack + oy * s.stride_h * wp, koff.data(), k, pw.weights(g), pw.bias(g)[0],
               pw.scales(g)[0], pw.quant().output, wo, og + oy * wo * elem);
      }
      return;
    }
    if (direct) {
      for (size_t u = j0; u < j1; ++u) {
        const size_t first = u * block_panels, count = std::min(block_panels, panels - first);
        for (size_t j = 0; j < count; ++j) {
          const size_t p0 = (first + j) * kQ8Nr;
          uk->pack_panel(xg + p0, h * w, k, std::min(kQ8Nr, pixels - p0), panel + j * panel_elems);
        }
        const size_t np_last = std::min(kQ8Nr, pixels - (first + count - 1) * kQ8Nr);
        Q8ComputePanels(*uk, pw, g, panel, panel_elems, count, np_last, acc, og + first * kQ8Nr * elem, pixels);
      }
      return;
    }
    for (size_t j = j0; j < j1; ++j) {
      const size_t p0 = j * kQ8Nr, np = std::min(kQ8Nr, pixels - p0);
      uk->pack_panel_runs(padded + kFrontSlack, koff.data(), k, runs[j], panel);
      Q8ComputePanel(*uk, pw, g, panel, np, acc, og + p0 * elem, pixels, 1);
    }
  };
  auto padded_buffer = [&] {
    auto buf = std::make_unique<AlignedBuffer<uint8_t>>(direct ? 1 : padded_bytes);
    if (!direct) std::memset(buf->get(), x_zero, padded_bytes);
    return buf;
  };

  const size_t jobs = n * s.group;
  if (jobs >= 2 * static_cast<size_t>(ParallelWidth())) {  // enough images x groups: one each
    ParallelFor(jobs, 1, [&](size_t begin, size_t end) {
      auto buf = padded_buffer();
      AlignedBuffer<int16_t> panel(panel_elems * block_panels);
      AlignedBuffer<int32_t> acc(pw.mb() * kQ8Nr);
      for (size_t job = begin; job < end; ++job) {
        if (!direct) pad(job / s.group, job % s.group, buf->get());
        run_panels(job / s.group, job % s.group, buf->get(), 0, units, panel.get(), acc.get());
        if (residual) AddResidual(conv, *residual, out, job * cout_g * pixels, cout_g * pixels);
      }
    });
    return residual != nullptr;
  }
  auto buf = padded_buffer();  // few images: pad each in turn, split its panels
  for (size_t job = 0; job < jobs; ++job) {
    if (!direct) pad(job / s.group, job % s.group, buf->get());
    ParallelFor(units, 2, [&](size_t j0, size_t j1) {
      AlignedBuffer<int16_t> panel(panel_elems * block_panels);
      AlignedBuffer<int32_t> acc(pw.mb() * kQ8Nr);
      run_panels(job / s.group, job % s.group, buf->get(), j0, j1, panel.get(), acc.get());
    });
  }
  return false;
}

}  // namespace

void Q8Conv2d(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out,
              const Q8ConvResidual* residual) {
  const Q8ConvShape& s = conv.shape();
  const size_t ho = s.OutH(h), wo = s.OutW(w);
  if (!ho || !wo) throw std::invalid_argument("q8 conv: kernel larger than padded input");
  if (residual) {
    const Q8QuantSpec& q = residual->quant;
    if (q.qmin < 0 || q.qmax > 255 || q.qmin > q.qmax) throw std::invalid_argument("q8 conv: the sum's [qmin, qmax] outside uint8");
    if (!residual->codes && !residual->fake) throw std::invalid_argument("q8 conv: a residual with neither codes nor floats out");
  }
  if (ConvPaths(conv, x, n, h, w, out, residual) || !residual) return;
  Q8AddQuantize(OutputOperand(conv, out), residual->residual, n * s.cout * ho * wo, residual->clamp, residual->quant,
                residual->codes, residual->fake);
}

}  // namespace layerq
