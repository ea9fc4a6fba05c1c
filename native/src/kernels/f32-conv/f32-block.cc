// Inverted-residual blocks strip by strip (f32-block.h).
#include "kernels/f32-conv/f32-block.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <numeric>
#include <utility>
#include <vector>

#include "common/threadpool.h"
#include "kernels/f32-dwconv/f32-dwconv.h"

namespace layerq {
namespace f32 {
namespace {

// Bytes of a strip's intermediates (expanded rows and depthwise output rows) held at once:
// within a core's L2 (1 MiB on the CPUs measured) with room for the weights. Smaller strips
// recompute more halo rows (the 24->144->24 block at 56x56: 4 rows a strip 0.9x, 8-13 rows
// 1.1-1.2x the layers).
constexpr size_t kStripBytes = 768 << 10;

std::atomic<size_t> g_strip_rows{0};  // tests: BlockStripRowsForTesting

bool Pointwise(const ConvShape& s) { return IsUnit1x1(s) && s.group == 1; }

// Output rows a strip: the most whose intermediates fit kStripBytes, then fewer (down to half)
// where the depthwise output's channel stride (the projection reads its input channels that far
// apart) would put the channels in few of L1's 64 sets: at 112x112, 16 rows a strip (4 sets)
// ran 1.0x the layers, 11 or 13 rows (all sets) 1.2x.
size_t StripRows(const ConvShape& d, size_t ce, size_t w, size_t ho, size_t wo, bool expand) {
  const size_t row = ce * sizeof(float);
  size_t most = 1;
  auto bytes = [&](size_t r) { return ((expand ? (r - 1) * d.sh + d.kh : 0) * w + r * wo) * row; };
  while (most < ho && bytes(most + 1) <= kStripBytes) ++most;
  for (size_t r = most; r > most / 2 && r > 1; --r) {
    const size_t stride = r * wo * sizeof(float);
    if (stride % 64 != 0 || std::gcd(stride / 64, size_t{64}) <= 2) return r;
  }
  return most;
}

// A thread's strip buffers: the strip's input rows (a depthwise conv without an expansion,
// where the row kernel does not apply), expanded rows, depthwise outputs. The expansion reads
// the strip's rows of the image and the projection writes its rows of the output in place.
struct Scratch {
  std::vector<float> xs, e, dout;
};

// Scratch reused across calls (a strip's buffers, under 1 MiB, would be fresh pages every call):
// each task chunk takes one and gives it back.
class ScratchPool {
 public:
  std::unique_ptr<Scratch> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::make_unique<Scratch>();
    std::unique_ptr<Scratch> s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void Give(std::unique_ptr<Scratch> s) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(s));
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    free_.clear();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Scratch>> free_;
};

ScratchPool g_scratch;

float* Reserve(std::vector<float>& v, size_t floats) {
  if (v.size() < floats) v.resize(floats);
  return v.data();
}

// The block as its three layers on n whole images (e: the expansion's output, unused without
// one; d: the depthwise conv's).
void Layers(const PackedBlock& block, const float* x, size_t n, size_t h, size_t w, const BlockDims& bd, float* e,
            float* d, float* out) {
  const float* src = x;
  if (block.has_expand) {
    Conv2d(block.expand, x, n, h, w, e);
    src = e;
  }
  Conv2d(block.dw, src, n, bd.he, bd.we, d);
  Conv2d(block.project, d, n, bd.ho, bd.wo, out);
}

// The input rows [i0, i1) that a conv's output rows [y0, y1) read (dilation 1), and the pads of
// the conv that computes those rows from them alone: the conv's own where the window passes the
// input's top (row 0) or bottom (row `in`), else none.
struct RowWindow {
  size_t i0, i1, pt, pb;
};

RowWindow RowsRead(const ConvShape& s, size_t in, size_t y0, size_t y1) {
  const long r0 = static_cast<long>(y0 * s.sh) - static_cast<long>(s.pt);
  const long r1 = static_cast<long>((y1 - 1) * s.sh + s.kh) - static_cast<long>(s.pt);
  RowWindow wnd;
  wnd.i0 = static_cast<size_t>(std::max<long>(0, r0));
  wnd.i1 = static_cast<size_t>(std::min<long>(static_cast<long>(in), r1));
  wnd.pt = static_cast<size_t>(static_cast<long>(wnd.i0) - r0);
  wnd.pb = static_cast<size_t>(r1 - static_cast<long>(wnd.i1));
  return wnd;
}

// The index in `variants` of `conv` with top and bottom pads (pt, pb), added when missing.
size_t Variant(const PackedConv& conv, size_t pt, size_t pb, std::vector<PackedConv>& variants) {
  for (size_t i = 0; i < variants.size(); ++i) {
    if (variants[i].s.pt == pt && variants[i].s.pb == pb) return i;
  }
  variants.push_back(conv);
  variants.back().s.pt = pt;
  variants.back().s.pb = pb;
  return variants.size() - 1;
}

// One strip of output rows [y0, y1): the depthwise conv's input rows [i0, i1) its window reads,
// and, for an expansion that is not pointwise, the block's input rows [e0, e1) that the
// expansion reads for those; the convs that compute them from those rows alone (RowsRead).
struct Strip {
  size_t y0, y1, i0, i1, e0, e1;
  size_t variant;         // index of that depthwise conv in the call's dw variants
  size_t expand_variant;  // index of that expansion in the call's expand variants
};

}  // namespace

BlockDims BlockOutDims(const PackedBlock& block, size_t h, size_t w) {
  BlockDims bd{h, w, 0, 0};
  if (block.has_expand) {
    const ConvShape& e = block.expand.s;
    bd.he = ConvOutDim(h, e.kh, e.sh, e.pt, e.pb, e.dh);
    bd.we = ConvOutDim(w, e.kw, e.sw, e.pl, e.pr, e.dw);
  }
  const ConvShape& d = block.dw.s;
  bd.ho = ConvOutDim(bd.he, d.kh, d.sh, d.pt, d.pb, d.dh);
  bd.wo = ConvOutDim(bd.we, d.kw, d.sw, d.pl, d.pr, d.dw);
  return bd;
}

const char* BlockShapeError(const PackedConv* expand, const PackedConv& dw, const PackedConv& project) {
  if (expand != nullptr) {
    const ConvShape& e = expand->s;
    if (expand->depthwise || e.group != 1) return "expand must be a group 1 conv";
    if (e.dh != 1 || e.dw != 1) return "expand must have dilation 1";
    if (e.pt >= e.kh || e.pb >= e.kh) return "expand's pads must be smaller than its kernel";
  }
  if (!dw.depthwise) return "dw must be a depthwise conv (group == cin == cout)";
  const ConvShape& d = dw.s;
  if (d.dh != 1 || d.dw != 1) return "dw must have dilation 1";
  if (d.pt >= d.kh || d.pb >= d.kh || d.pl >= d.kw || d.pr >= d.kw) return "dw pads must be smaller than its kernel";
  if (!Pointwise(project.s) || project.depthwise) return "project must be a 1x1, stride 1, unpadded, group 1 conv";
  if (expand != nullptr && expand->s.cout != d.cin) return "expand's output channels must be dw's channels";
  if (project.s.cin != d.cout) return "project's input channels must be dw's channels";
  return nullptr;
}

PackedBlock PackBlock(const PackedConv* expand, const PackedConv& dw, const PackedConv& project) {
  PackedBlock b;
  b.has_expand = expand != nullptr;
  if (expand != nullptr) b.expand = *expand;
  b.dw = dw;
  b.project = project;
  return b;
}

void BlockStripRowsForTesting(size_t rows) {
  g_strip_rows.store(rows);
  g_scratch.Clear();  // fresh buffers of the call's sizes: a sanitizer sees any overrun
}

void BlockConv2d(const PackedBlock& block, const float* x, size_t n, size_t h, size_t w, float* out) {
  const ConvShape& d = block.dw.s;
  const size_t cin = block.has_expand ? block.expand.s.cin : d.cin, ce = d.cin, cout = block.project.s.cout;
  const BlockDims bd = BlockOutDims(block, h, w);
  const size_t he = bd.he, we = bd.we, ho = bd.ho, wo = bd.wo;
  if (n == 0 || he == 0 || we == 0 || ho == 0 || wo == 0) return;
  // A pointwise expansion reads its rows of the image in place; another (a stem: 3x3 stride 2)
  // reads a window of rows, copied, through a variant padded where the window meets the image's
  // top or bottom.
  const bool pointwise_expand = block.has_expand && Pointwise(block.expand.s);
  // Strips, unless their depthwise sums would differ from the layer's (whole images then).
  const size_t forced = g_strip_rows.load(std::memory_order_relaxed);
  const size_t rows = !DepthwiseRowsExact(block.dw, wo) ? ho
                      : forced != 0                      ? std::min(forced, ho)
                                                         : StripRows(d, ce, we, ho, wo, block.has_expand);
  const size_t strips = (ho + rows - 1) / rows;
  // Too few strips to keep every thread busy (small maps at batch 1): layer by layer, each conv
  // split over the pool as usual.
  if (n * strips < static_cast<size_t>(ParallelWidth()) && forced == 0) {
    std::unique_ptr<float[]> expanded(block.has_expand ? new float[n * ce * he * we] : nullptr);
    std::unique_ptr<float[]> dw_out(new float[n * ce * ho * wo]);
    Layers(block, x, n, h, w, bd, expanded.get(), dw_out.get(), out);
    return;
  }
  std::vector<Strip> plan(strips);
  std::vector<PackedConv> variants, expand_variants;
  size_t most_in = 0;  // the most input rows a strip copies (an expansion's window, or the dw's)
  size_t most_dw_in = 0;  // the most depthwise input rows a strip holds (its window)
  for (size_t st = 0; st < strips; ++st) {
    Strip& sp = plan[st];
    sp.y0 = st * rows;
    sp.y1 = std::min(ho, sp.y0 + rows);
    const RowWindow dwin = RowsRead(d, he, sp.y0, sp.y1);
    sp.i0 = dwin.i0;
    sp.i1 = dwin.i1;
    sp.variant = Variant(block.dw, dwin.pt, dwin.pb, variants);
    sp.e0 = sp.i0;
    sp.e1 = sp.i1;
    sp.expand_variant = 0;
    if (block.has_expand && !pointwise_expand) {
      const RowWindow ewin = RowsRead(block.expand.s, h, sp.i0, sp.i1);
      sp.e0 = ewin.i0;
      sp.e1 = ewin.i1;
      sp.expand_variant = Variant(block.expand, ewin.pt, ewin.pb, expand_variants);
    }
    most_in = std::max(most_in, sp.e1 - sp.e0);
    most_dw_in = std::max(most_dw_in, sp.i1 - sp.i0);
  }
  ParallelFor(n * strips, 1, [&](size_t begin, size_t end) {
    SerialScope serial;  // the stages' kernels run on this thread: the strips are the parallelism
    // The depthwise conv's input rows a task holds: the largest strip window, or the whole map (whose
    // last rows a window may not reach, a stride-2 unpadded conv's: the expansion still covers them).
    const size_t in_rows = strips == 1 ? he : most_dw_in;
    std::unique_ptr<Scratch> scratch = g_scratch.Take();
    float* xs_p = pointwise_expand ? nullptr : Reserve(scratch->xs, cin * most_in * w);
    float* e_p = block.has_expand ? Reserve(scratch->e, ce * in_rows * we) : nullptr;
    float* d_p = Reserve(scratch->dout, ce * rows * wo);
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / strips;
      const Strip& sp = plan[t % strips];
      const size_t strip_in = sp.i1 - sp.i0, strip_out = sp.y1 - sp.y0;
      const float* xi = x + img * cin * h * w;
      float* yo = out + img * cout * ho * wo;
      if (strips == 1) {  // the whole image: each stage is its layer, no copies
        Layers(block, xi, 1, h, w, bd, e_p, d_p, yo);
        continue;
      }
      auto copy_rows = [&](size_t r0, size_t r1) {  // rows [r0, r1) of the image as [cin][r1 - r0][w]
        for (size_t c = 0; c < cin; ++c) {
          std::memcpy(xs_p + c * (r1 - r0) * w, xi + (c * h + r0) * w, (r1 - r0) * w * sizeof(float));
        }
        return xs_p;
      };
      // The depthwise conv's input rows: the expansion's rows [i0, i1), or the image.
      const float* src = xi;
      size_t row0 = 0, stride = h * w;
      if (pointwise_expand) {
        PointwiseConv2dStrided(block.expand, xi + sp.i0 * w, h * w, strip_in * w, e_p, strip_in * w);
      } else if (block.has_expand) {
        Conv2d(expand_variants[sp.expand_variant], copy_rows(sp.e0, sp.e1), 1, sp.e1 - sp.e0, w, e_p);
      }
      if (block.has_expand) {
        src = e_p;
        row0 = sp.i0;
        stride = strip_in * we;
      }
      // The row kernel over the window; else the rows as an image padded where they meet the
      // map's top or bottom.
      if (!DepthwiseConv2dRows(block.dw, src, row0, stride, he, we, sp.y0, sp.y1, d_p)) {
        if (!block.has_expand) src = copy_rows(sp.i0, sp.i1);
        Conv2d(variants[sp.variant], src, 1, strip_in, we, d_p);
      }
      PointwiseConv2dStrided(block.project, d_p, strip_out * wo, strip_out * wo, yo + sp.y0 * wo, ho * wo);
    }
    g_scratch.Give(std::move(scratch));
  });
}

}  // namespace f32
}  // namespace layerq
