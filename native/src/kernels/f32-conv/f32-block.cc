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

bool Pointwise(const ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 && s.pb == 0 && s.pr == 0 &&
         s.group == 1;
}

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
void Layers(const PackedBlock& block, const float* x, size_t n, size_t h, size_t w, size_t ho, size_t wo, float* e,
            float* d, float* out) {
  const float* src = x;
  if (block.has_expand) {
    Conv2d(block.expand, x, n, h, w, e);
    src = e;
  }
  Conv2d(block.dw, src, n, h, w, d);
  Conv2d(block.project, d, n, ho, wo, out);
}

// One strip of output rows [y0, y1): the input rows [i0, i1) its depthwise window reads, and
// the pads of the depthwise conv that computes it from those rows alone (the block's pads where
// the strip meets the image's top or bottom, else none).
struct Strip {
  size_t y0, y1, i0, i1;
  size_t variant;  // index of that depthwise conv in the call's variants
};

}  // namespace

const char* BlockShapeError(const PackedConv* expand, const PackedConv& dw, const PackedConv& project) {
  if (expand != nullptr && (!Pointwise(expand->s) || expand->depthwise)) {
    return "expand must be a 1x1, stride 1, unpadded, group 1 conv";
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
  const size_t ho = ConvOutDim(h, d.kh, d.sh, d.pt, d.pb, d.dh), wo = ConvOutDim(w, d.kw, d.sw, d.pl, d.pr, d.dw);
  if (n == 0 || ho == 0 || wo == 0) return;
  // Strips, unless their depthwise sums would differ from the layer's (whole images then).
  const size_t forced = g_strip_rows.load(std::memory_order_relaxed);
  const size_t rows = !DepthwiseRowsExact(block.dw, wo) ? ho
                      : forced != 0                      ? std::min(forced, ho)
                                                         : StripRows(d, ce, w, ho, wo, block.has_expand);
  const size_t strips = (ho + rows - 1) / rows;
  // Too few strips to keep every thread busy (small maps at batch 1): layer by layer, each conv
  // split over the pool as usual.
  if (n * strips < static_cast<size_t>(ThreadCount()) && forced == 0) {
    std::unique_ptr<float[]> expanded(block.has_expand ? new float[n * ce * h * w] : nullptr);
    std::unique_ptr<float[]> dw_out(new float[n * ce * ho * wo]);
    Layers(block, x, n, h, w, ho, wo, expanded.get(), dw_out.get(), out);
    return;
  }
  std::vector<Strip> plan(strips);
  std::vector<PackedConv> variants;
  std::vector<std::pair<size_t, size_t>> pads;  // (top, bottom) of each variant
  for (size_t st = 0; st < strips; ++st) {
    Strip& sp = plan[st];
    sp.y0 = st * rows;
    sp.y1 = std::min(ho, sp.y0 + rows);
    // The strip's window rows [r0, r1) in image rows (negative or past h: padding).
    const long r0 = static_cast<long>(sp.y0 * d.sh) - static_cast<long>(d.pt);
    const long r1 = static_cast<long>((sp.y1 - 1) * d.sh + d.kh) - static_cast<long>(d.pt);
    sp.i0 = static_cast<size_t>(std::max<long>(0, r0));
    sp.i1 = static_cast<size_t>(std::min<long>(static_cast<long>(h), r1));
    const std::pair<size_t, size_t> p{sp.i0 - r0, r1 - sp.i1};
    const auto at = std::find(pads.begin(), pads.end(), p);
    sp.variant = static_cast<size_t>(at - pads.begin());
    if (at == pads.end()) {
      pads.push_back(p);
      variants.push_back(block.dw);
      variants.back().s.pt = p.first;
      variants.back().s.pb = p.second;
    }
  }
  ParallelFor(n * strips, 1, [&](size_t begin, size_t end) {
    SerialScope serial;  // the stages' kernels run on this thread: the strips are the parallelism
    // Input rows a task holds: a strip's window, or the whole image (whose last rows a window
    // may not reach, a stride-2 unpadded conv's: the expansion still covers them).
    const size_t in_rows = strips == 1 ? h : std::min(h, (rows - 1) * d.sh + d.kh);
    std::unique_ptr<Scratch> scratch = g_scratch.Take();
    float* xs_p = block.has_expand ? nullptr : Reserve(scratch->xs, cin * in_rows * w);
    float* e_p = block.has_expand ? Reserve(scratch->e, ce * in_rows * w) : nullptr;
    float* d_p = Reserve(scratch->dout, ce * rows * wo);
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / strips;
      const Strip& sp = plan[t % strips];
      const size_t strip_in = sp.i1 - sp.i0, strip_out = sp.y1 - sp.y0;
      const float* xi = x + img * cin * h * w;
      float* yo = out + img * cout * ho * wo;
      if (strips == 1) {  // the whole image: each stage is its layer, no copies
        Layers(block, xi, 1, h, w, ho, wo, e_p, d_p, yo);
        continue;
      }
      // The depthwise conv's input rows: the expansion of the strip's input rows, or the image.
      const float* src = xi;
      size_t row0 = 0, stride = h * w;
      if (block.has_expand) {
        PointwiseConv2dStrided(block.expand, xi + sp.i0 * w, h * w, strip_in * w, e_p, strip_in * w);
        src = e_p;
        row0 = sp.i0;
        stride = strip_in * w;
      }
      // The row kernel over the window; else the rows as an image padded where they meet the
      // image's top or bottom.
      if (!DepthwiseConv2dRows(block.dw, src, row0, stride, h, w, sp.y0, sp.y1, d_p)) {
        if (!block.has_expand) {  // the strip's input rows as a tensor [cin][strip_in][w]
          for (size_t c = 0; c < cin; ++c) {
            std::memcpy(xs_p + c * strip_in * w, xi + (c * h + sp.i0) * w, strip_in * w * sizeof(float));
          }
          src = xs_p;
        }
        Conv2d(variants[sp.variant], src, 1, strip_in, w, d_p);
      }
      PointwiseConv2dStrided(block.project, d_p, strip_out * wo, strip_out * wo, yo + sp.y0 * wo, ho * wo);
    }
    g_scratch.Give(std::move(scratch));
  });
}

}  // namespace f32
}  // namespace layerq
