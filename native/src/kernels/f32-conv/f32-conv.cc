// Conv2d driver: weight packing, im2col panel packing, per-(image, pixel panel) tasks.
#include "kernels/f32-conv/f32-conv.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>

#include "common/aligned.h"
#include "common/copy.h"
#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/f32-conv/f32-conv-direct.h"
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
namespace {

// The conv microkernels of one ISA path: the direct kernel, its segment width and segments per
// tile, (AVX-512) the kernel for two-row segments used when output rows have at most 8 pixels,
// and the GEMM microkernel of the im2col path. Chosen once per call from ActiveIsa().
struct ConvUkernels {
  ConvDirectUkernelFn direct;
  ConvDirectUkernelFn direct_two_row;  // null: rows of <= 8 pixels use one (partly empty) segment each
  size_t width;                        // pixels per segment
  size_t segments;                     // segments per tile
  GemmUkernelFn gemm;
  // Pointwise convs on maps of fewer pixels than this, whose pixels leave segments partly empty,
  // run the batch as one image (PackedPointwiseConv2d): 64 (7x7) for 8-pixel segments; 256
  // (14x14) for AVX-512's 16-pixel ones (1.3-1.5x on MobileNetV2's 14x14 layers at batch 16).
  size_t batch_rows_below;
  ConvDirectUkernelFn halves = nullptr;  // 4-pixel half segments (AVX2); null: none on this path
};

const ConvUkernels kConvScalar = {ConvDirectUkernelScalar, nullptr, 8, kDirectSegments, GemmUkernel4x24Scalar, 64};
#if defined(__x86_64__) || defined(_M_X64)
const ConvUkernels kConvAvx2 = {ConvDirectUkernelAvx2, nullptr, 8, kDirectSegments, GemmUkernel4x24Avx2, 64,
                                ConvDirectUkernelAvx2Halves};
const ConvUkernels kConvAvx512 = {ConvDirectUkernelAvx512, ConvDirectUkernelAvx512TwoRow, 16, kDirectSegmentsAvx512,
                                  GemmUkernel4x24Avx512, 256};
#endif
#if defined(__aarch64__)
const ConvUkernels kConvNeon = {ConvDirectUkernelNeon, nullptr, 8, kDirectSegments, GemmUkernel4x24Neon, 64};
#endif

const ConvUkernels& ConvUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::kAvx512) return kConvAvx512;
  if (isa == Isa::kAvx2) return kConvAvx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) return kConvNeon;
#endif
  (void)isa;
  return kConvScalar;
}

// Floats from one channel plane to the next in a conv's input and output: h * w and ho * wo for
// whole images (images cin and cout planes apart); larger for rows of a taller image read and
// written in place (PointwiseConv2dStrided: one image, pointwise convs, whose paths take them).
struct PlaneStrides {
  size_t x, out;
};

// Geometry of the padded, stride-phase-split input of one image and group (f32-conv-direct.h).
struct DirectLayout {
  bool flat = false;  // 1x1, stride 1, no pads: pixels as one row of h * w
  bool in_place = false;  // read x directly (no pads, stride 1, every segment full)
  size_t h = 0, w = 0, ho = 0, wo = 0;  // (flattened) input and output dims
  size_t hph = 0, wph = 0, plane = 0, chan = 0, floats = 0;
};

DirectLayout MakeDirectLayout(const ConvShape& s, size_t h, size_t w, size_t ho, size_t wo, size_t width,
                              bool two_row) {
  DirectLayout d;
  d.flat = IsUnit1x1(s);
  d.h = d.flat ? 1 : h;
  d.w = d.flat ? h * w : w;
  d.ho = d.flat ? 1 : ho;
  d.wo = d.flat ? ho * wo : wo;
  const size_t hpad = d.h + s.pt + s.pb, wpad = d.w + s.pl + s.pr;
  d.hph = (hpad + s.sh - 1) / s.sh;
  d.wph = (wpad + s.sw - 1) / s.sw;
  d.plane = d.hph * d.wph;
  d.chan = d.plane * s.sh * s.sw;
  d.floats = d.chan * (s.cin / s.group) + 16;  // slack: tail segments read up to width-1 floats past
  d.in_place = s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 && s.pb == 0 && s.pr == 0 &&
               d.wo % width == 0 && !two_row;
  return d;
}

// Copies channels [0, cin_g) of x (planes of h x w, x_stride floats apart) into the phase-split
// layout. Only writes input cells: dst's padding cells must be zeroed once beforehand (they are
// never written).
void CopyPhaseSplit(const float* x, size_t x_stride, const ConvShape& s, const DirectLayout& d, size_t cin_g,
                    float* dst) {
  for (size_t c = 0; c < cin_g; ++c) {
    const float* src = x + c * x_stride;
    float* base = dst + c * d.chan;
    for (size_t iy = 0; iy < d.h; ++iy) {
      const size_t y = iy + s.pt, py = y % s.sh, yy = y / s.sh;
      const float* row = src + iy * d.w;
      if (s.sw == 1) {
        std::memcpy(base + py * d.plane + yy * d.wph + s.pl, row, d.w * sizeof(float));
        continue;
      }
      for (size_t px = 0; px < s.sw && px < d.w + s.pl; ++px) {
        // Padded columns xp = xx * sw + px hold input column ix = xp - pl.
        float* drow = base + (py * s.sw + px) * d.plane + yy * d.wph;
        const size_t xx0 = s.pl > px ? (s.pl - px + s.sw - 1) / s.sw : 0;
        const size_t xx1 = (d.w + s.pl - px + s.sw - 1) / s.sw;  // first xx with ix >= w
        // Stride 2 (the stems of ImageNet models) with a constant stride, which GCC vectorizes:
        // the strided scalar loop was 12% of MobileNetV2's 224x224 stem (1.15x, one thread).
        if (s.sw == 2) {
          for (size_t xx = xx0; xx < xx1; ++xx) drow[xx] = row[xx * 2 + px - s.pl];
        } else {
          for (size_t xx = xx0; xx < xx1; ++xx) drow[xx] = row[xx * s.sw + px - s.pl];
        }
      }
    }
  }
}

// out[first + c * stride + j] += residual (same offsets), clamped, for c < count, j < len.
void AddResidual(const ConvResidual& r, BinarySpanFn span, float* out, size_t first, size_t count, size_t stride,
                 size_t len) {
  for (size_t c = 0; c < count; ++c) {
    const size_t at = first + c * stride;
    span(BinaryOp::kAdd, out + at, 1, r.data + at, 1, out + at, len, &r.clamp);
  }
}

void DirectConv2d(const ConvUkernels& dk, const PackedConv& pc, const float* x, size_t n, size_t h, size_t w,
                  size_t ho, size_t wo, const PlaneStrides& ps, float* out, const ConvResidual* residual) {
  const BinarySpanFn span = BinarySpanFor(ActiveIsa());
  const ConvShape& s = pc.s;
  const size_t width = dk.width;
  const size_t flat_wo = MakeDirectLayout(s, h, w, ho, wo, width, false).wo;
  const bool two_row = dk.direct_two_row != nullptr && flat_wo <= 8;
  const DirectLayout d = MakeDirectLayout(s, h, w, ho, wo, width, two_row);
  const ConvDirectUkernelFn ukernel = two_row ? dk.direct_two_row : dk.direct;
  const size_t cin_g = s.cin / s.group, cout_g = s.cout / s.group, k = pc.k, pixels = ho * wo;
  // Tap offsets relative to a segment's first pixel, in the (phase-split) input.
  std::vector<int32_t> offsets(k);
  for (size_t ci = 0, i = 0; ci < cin_g; ++ci) {
    for (size_t ky = 0; ky < s.kh; ++ky) {
      for (size_t kx = 0; kx < s.kw; ++kx, ++i) {
        const size_t dy = ky * s.dh, dx = kx * s.dw;
        const size_t chan = d.in_place ? ps.x : d.chan;
        const size_t wph = d.in_place ? d.w : d.wph;
        offsets[i] = static_cast<int32_t>(ci * chan + ((dy % s.sh) * s.sw + dx % s.sw) * d.plane +
                                          (dy / s.sh) * wph + dx / s.sw);
      }
    }
  }
  // Tiles of up to dk.segments segments of `width` pixels, each within one output row (or, two-row,
  // rows 2i and 2i + 1).
  const size_t segs_per_row = (d.wo + width - 1) / width;
  const size_t segs = two_row ? (d.ho + 1) / 2 : d.ho * segs_per_row;
  const size_t tiles = (segs + dk.segments - 1) / dk.segments;
  const size_t wph = d.in_place ? d.w : d.wph;
  // Each segment's input and output offsets (from the group's input and the panel's first
  // output row) and pixels, once per call: the tile loop below runs once per (A panel, tile),
  // and with 8 or 16 input channels (MobileNet's expansions) a 64-bit division per segment
  // there took as long as the microkernel (perf: 44% of a 16->96 1x1 conv in the driver).
  struct Segment {
    size_t in, out, len, in2, out2, len2;
  };
  std::vector<Segment> seg_at(segs);
  for (size_t seg = 0; seg < segs; ++seg) {
    if (two_row) {
      const size_t oy = 2 * seg, oy2 = std::min(oy + 1, d.ho - 1);
      seg_at[seg] = {oy * wph, oy * d.wo, d.wo, oy2 * wph, oy2 * d.wo, oy + 1 < d.ho ? d.wo : 0};
    } else {
      const size_t oy = seg / segs_per_row, ox = (seg % segs_per_row) * width;
      seg_at[seg] = {oy * wph + ox, oy * d.wo + ox, std::min(width, d.wo - ox), 0, 0, 0};
    }
  }
  // Tiles per block. One tile at a time (every A panel over a tile's input while it is in L1)
  // unless the conv expands a large map (more output channels than k, >= 2048 pixels: the
  // first MobileNet expansions at 112x112 and 56x56): then one tile writes cout_g scattered row
  // pieces and the batch's output overflows the caches, so blocks of tiles whose input (k x the
  // block's pixels) stays within about 384 KiB of L2 are swept by every A panel in turn, writing
  // long runs of its kMR rows (measured 1.4-1.8x on those layers at batch 16, 0.8x on the
  // projections back).
  const bool expand = cout_g > k && pixels >= 2048;
  // Read in place, with images not a whole number of tiles (pointwise convs on 4x4 and 8x8
  // maps: one or four 16-pixel segments an image): tiles of consecutive segments across images,
  // so that every tile but the batch's last has all its segments (one segment a tile is 5
  // loads for 4 FMAs a tap).
  if (d.in_place && s.group == 1 && n > 1 && segs % dk.segments != 0 && !expand) {
    const size_t all = n * segs, batch_tiles = (all + dk.segments - 1) / dk.segments;
    ParallelFor(batch_tiles, 1, [&](size_t begin, size_t end) {
      DirectTile dt;
      float* c0[kMaxDirectSegments];  // each segment's output at the first A panel
      for (size_t tile = begin; tile < end; ++tile) {
        const size_t q0 = tile * dk.segments;
        dt.count = std::min(dk.segments, all - q0);
        for (size_t v = 0; v < dt.count; ++v) {
          const size_t img = (q0 + v) / segs;
          const Segment& sg = seg_at[(q0 + v) % segs];
          dt.b[v] = x + img * s.cin * ps.x + sg.in;
          dt.len[v] = sg.len;
          c0[v] = out + img * s.cout * ps.out + sg.out;
        }
        for (size_t mp = 0; mp < pc.m_panels; ++mp) {
          const size_t m0 = mp * kMR, mr = std::min(kMR, cout_g - m0);
          for (size_t v = 0; v < dt.count; ++v) dt.c[v] = c0[v] + m0 * ps.out;
          ukernel(mr, k, pc.a.data() + mp * k * kMR, offsets.data(), dt, ps.out, pc.bias.data() + mp * kMR, pc.min,
                  pc.max);
        }
      }
      // The range's outputs, image by image (its segments are consecutive): one run a channel
      // (a run a segment and channel, 16 floats a call, cost MobileNetV2's 28x28 projections
      // 1.5x ONNX Runtime's conv + Add).
      for (size_t q = begin * dk.segments, q1 = std::min(all, end * dk.segments); residual != nullptr && q < q1;) {
        const size_t img = q / segs, q_img = std::min(q1, (img + 1) * segs);
        const Segment &first = seg_at[q % segs], &last = seg_at[(q_img - 1) % segs];
        AddResidual(*residual, span, out, img * s.cout * ps.out + first.out, s.cout, ps.out,
                    last.out + last.len - first.out);
        q = q_img;
      }
    });
    return;
  }
  const size_t block = expand ? std::max<size_t>(1, (384 << 10) / (k * width * dk.segments * sizeof(float))) : 1;
  // Enough tasks for every thread even at batch 1; each task copies its image once.
  const size_t threads = static_cast<size_t>(ParallelWidth());
  const size_t splits = std::min(tiles, std::max<size_t>(1, (2 * threads + n - 1) / n));
  ParallelFor(n * splits, 1, [&](size_t begin, size_t end) {
    std::vector<float> buf(d.in_place ? 0 : d.floats, 0.0f);  // padding stays zero
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / splits, part = t % splits;
      const size_t tile0 = tiles * part / splits, tile1 = tiles * (part + 1) / splits;
      for (size_t g = 0; g < s.group; ++g) {
        const float* xg = x + (img * s.cin + g * cin_g) * ps.x;
        const float* src = xg;
        if (!d.in_place) {
          CopyPhaseSplit(xg, ps.x, s, d, cin_g, buf.data());
          src = buf.data();
        }
        float* og = out + (img * s.cout + g * cout_g) * ps.out;
        // Blocks of tiles whose input (k taps x pixels) stays in L2 while every A panel sweeps
        // them: each panel's outputs are written as long runs of its kMR rows, and the panel
        // stays in L1 across the block.
        DirectTile dt;  // refilled per call (segments past dt.count are never read)
        for (size_t tb = tile0; tb < tile1; tb += block) {
          const size_t te = std::min(tile1, tb + block);
          for (size_t mp = 0; mp < pc.m_panels; ++mp) {
            const size_t panel = g * pc.m_panels + mp, m0 = mp * kMR, mr = std::min(kMR, cout_g - m0);
            float* om = og + m0 * ps.out;
            for (size_t tile = tb; tile < te; ++tile) {
              const size_t seg0 = tile * dk.segments;
              dt.count = std::min(dk.segments, segs - seg0);
              for (size_t v = 0; v < dt.count; ++v) {
                const Segment& sg = seg_at[seg0 + v];
                dt.b[v] = src + sg.in;
                dt.c[v] = om + sg.out;
                dt.len[v] = sg.len;
                if (two_row) {
                  dt.b2[v] = src + sg.in2;
                  dt.c2[v] = om + sg.out2;
                  dt.len2[v] = sg.len2;
                }
              }
              ukernel(mr, k, pc.a.data() + panel * k * kMR, offsets.data(), dt, ps.out,
                      pc.bias.data() + panel * kMR, pc.min, pc.max);
            }
          }
        }
      }
      // The task's outputs (its tiles' rows, every channel) are still in the caches.
      if (residual != nullptr && tile0 < tile1) {
        const Segment& first = seg_at[tile0 * dk.segments];
        const Segment& last = seg_at[std::min(segs, tile1 * dk.segments) - 1];
        const size_t end = two_row && last.len2 > 0 ? last.out2 + last.len2 : last.out + last.len;
        AddResidual(*residual, span, out, img * s.cout * ps.out + first.out, s.cout, ps.out, end - first.out);
      }
    }
  });
}

std::atomic<bool> g_packed_direct{false};  // tests: PackedPointwiseDirectForTesting

// Pointwise (1x1, stride 1, unpadded, group 1) conv over packed blocks of pixels. Pixels are
// q in [0, n * pixels): image q / pixels, pixel q % pixels; with batch_rows the batch is one image
// of n * pixels, so that tiles span images (each tile's outputs go through a scratch tile to the
// planes of its images). A task packs a block of
// tiles (dk.segments x dk.width pixels each) tile-major, each tile its K rows contiguous, and
// runs every A panel over the block:
//  - the microkernel reads a tile's K rows as one run (in place, they lie a plane apart: on
//    112x112 and 56x56 planes in 4 and 16 of L1's 64 sets, a page each);
//  - the input is read as long runs of each channel (a block's pixels), not K runs of one tile;
//  - maps whose pixels do not fill whole segments need no padded copy (14x14), and the batch as
//    one image is packed from and written to the planes (no copies of the batch into rows and
//    back: 7x7, 1.0-1.18x).
// Expansions (cout > K) sweep each A panel over the whole block (its kMR output rows written as
// long runs; the block stays in L2); projections run every panel over one tile at a time (their
// few panels reread it from L1), in blocks of long input runs.
void PackedPointwiseConv2d(const ConvUkernels& dk, const PackedConv& pc, const float* x, size_t n, size_t pixels,
                           bool batch_rows, const PlaneStrides& ps, float* out) {
  const ConvShape& s = pc.s;
  const size_t k = pc.k, width = dk.width, tw = width * dk.segments;
  const size_t images = batch_rows ? 1 : n, row = batch_rows ? n * pixels : pixels;  // pixels an image
  const size_t tiles = (row + tw - 1) / tw;
  const bool panel_outer = s.cout > k;
  // Packed bytes a block (measured at batch 16: expansions alike from 200 KB to 1 MB, worse at
  // 16-48 KB; projections best at about 1 MB, whole 28x28 maps), and enough blocks for every
  // thread even at batch 1.
  const size_t budget = panel_outer ? (256 << 10) : (1 << 20);
  const size_t threads = static_cast<size_t>(ParallelWidth());
  // Blocks take their share of the tiles, evenly (the batch as one image on 14x14 maps at batch
  // 16: 33 tiles in blocks of 9, 9, 9 and 6 left one thread idle a sixth of the time), at least
  // 4 a thread in all.
  const size_t want = std::min(tiles, std::max<size_t>(1, (4 * threads + images - 1) / images));
  const size_t fit = std::max<size_t>(1, budget / (k * tw * sizeof(float)));  // tiles a block
  const size_t blocks = std::max(want, (tiles + fit - 1) / fit), block = (tiles + blocks - 1) / blocks;
  // Fewer blocks than tasks wanted (the batch as one image on 2x2 maps: 3 tiles at batch 64, 2
  // tasks on one thread and 1 on the other): the A panels split between tasks as well, each
  // packing its block again (K x its pixels, against 4 x K x its pixels FMAs a panel, in
  // chunks of at least 8 panels).
  const size_t psplit = std::min(std::max<size_t>(1, pc.m_panels / 8), (2 * threads + images * blocks - 1) / (images * blocks));
  // Tiles of kNR pixels (8-lane paths: 3 segments of 8) run the GEMM microkernel, the packed
  // tile being its B panel; others (AVX-512: 6 segments of 16) the direct one over tap offsets.
  const bool gemm = tw == kNR && !g_packed_direct.load(std::memory_order_relaxed);
  std::vector<int32_t> offsets(gemm ? 0 : k);
  for (size_t p = 0; p < offsets.size(); ++p) offsets[p] = static_cast<int32_t>(p * tw);
  ParallelFor(images * blocks * psplit, 1, [&](size_t begin, size_t end) {
    // Cache-line aligned (each segment's 64-byte loads within one line), not zeroed (every cell
    // the kernels read is written: whole tiles, the last one's tail zeroed below).
    const AlignedBuffer<float> buf(block * k * tw), tile_out(batch_rows ? kMR * tw : 0);
    DirectTile dt;
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / (blocks * psplit), blk = t / psplit % blocks;
      const size_t tb = tiles * blk / blocks, te = tiles * (blk + 1) / blocks;
      const size_t part = t % psplit, mp0 = pc.m_panels * part / psplit, mp1 = pc.m_panels * (part + 1) / psplit;
      const float* xi = x + img * s.cin * ps.x;
      float* oi = out + img * s.cout * ps.out;
      const size_t q1 = std::min(row, te * tw);  // the block's pixels end
      for (size_t c = 0; c < k; ++c) {           // channel by channel: long runs of each plane
        for (size_t tile = tb; tile < te; ++tile) {
          float* d = buf.get() + ((tile - tb) * k + c) * tw;
          const size_t q0 = tile * tw, len = std::min(q1, q0 + tw) - q0;
          if (!batch_rows) {
            std::memcpy(d, xi + c * ps.x + q0, len * sizeof(float));
          } else {
            for (size_t q = q0, j = 0; j < len;) {  // the pieces of the images the tile spans
              const size_t b = q / pixels, at = q % pixels, m = std::min(len - j, pixels - at);
              CopyShort(d + j, x + (b * s.cin + c) * pixels + at, m * sizeof(float));
              j += m;
              q += m;
            }
          }
          if (len < tw) std::memset(d + len, 0, (tw - len) * sizeof(float));
        }
      }
      auto run = [&](size_t mp, size_t tile) {
        const size_t m0 = mp * kMR, q0 = tile * tw, mr = std::min(kMR, s.cout - m0), nc = std::min(tw, q1 - q0);
        // The batch as one image: the tile's kMR x nc outputs go to a scratch tile, then to the
        // planes of the images it spans (no batch of rows to copy back).
        float* c = batch_rows ? tile_out.get() : oi + m0 * ps.out + q0;
        const size_t ldc = batch_rows ? tw : ps.out;
        if (gemm) {  // a packed tile is a GEMM B panel: no tap offset table (1.03-1.2x)
          GemmEpilogue ep{pc.bias.data() + mp * kMR, nullptr, pc.min, pc.max};
          dk.gemm(mr, nc, k, pc.a.data() + mp * k * kMR, buf.get() + (tile - tb) * k * tw, c, ldc, ep);
        } else {
          dt.count = std::min(dk.segments, (nc + width - 1) / width);
          for (size_t v = 0; v < dt.count; ++v) {
            dt.b[v] = buf.get() + (tile - tb) * k * tw + v * width;
            dt.c[v] = c + v * width;
            dt.len[v] = std::min(width, nc - v * width);
          }
          dk.direct(mr, k, pc.a.data() + mp * k * kMR, offsets.data(), dt, ldc, pc.bias.data() + mp * kMR, pc.min,
                    pc.max);
        }
        if (!batch_rows) return;
        for (size_t q = q0, j = 0; j < nc;) {
          const size_t b = q / pixels, at = q % pixels, m = std::min(nc - j, pixels - at);
          for (size_t r = 0; r < mr; ++r) {
            CopyShort(out + (b * s.cout + m0 + r) * pixels + at, tile_out.get() + r * tw + j, m * sizeof(float));
          }
          j += m;
          q += m;
        }
      };
      if (panel_outer) {
        for (size_t mp = mp0; mp < mp1; ++mp)
          for (size_t tile = tb; tile < te; ++tile) run(mp, tile);
      } else {
        for (size_t tile = tb; tile < te; ++tile)
          for (size_t mp = mp0; mp < mp1; ++mp) run(mp, tile);
      }
    }
  });
}

// 1x1, stride 1, unpadded conv (group 1) on maps of 4 pixels (2x2): segments of two images,
// image 2i in the low half of the lanes and 2i + 1 in the high half, read and written in place
// (the batch-as-one-image copies cost as much as the conv on these maps). Tasks: tiles of
// dk.segments image pairs, every A panel over a tile while its inputs are in L1.
void PairedImagesConv2d(const ConvUkernels& dk, const PackedConv& pc, const float* x, size_t n, float* out) {
  constexpr size_t kPixels = 4;
  const ConvShape& s = pc.s;
  const size_t k = pc.k, pairs = (n + 1) / 2, tiles = (pairs + dk.segments - 1) / dk.segments;
  std::vector<int32_t> offsets(k);
  for (size_t ci = 0; ci < k; ++ci) offsets[ci] = static_cast<int32_t>(ci * kPixels);
  ParallelFor(tiles, 1, [&](size_t t0, size_t t1) {
    DirectTile dt;
    size_t first[kMaxDirectSegments], second[kMaxDirectSegments];  // images of each segment's halves
    for (size_t tile = t0; tile < t1; ++tile) {
      dt.count = std::min(dk.segments, pairs - tile * dk.segments);
      for (size_t v = 0; v < dt.count; ++v) {
        const size_t b = 2 * (tile * dk.segments + v), b2 = b + 1 < n ? b + 1 : b;
        first[v] = b;
        second[v] = b2;
        dt.b[v] = x + b * s.cin * kPixels;
        dt.b2[v] = x + b2 * s.cin * kPixels;
        dt.len[v] = kPixels;
        dt.len2[v] = b + 1 < n ? kPixels : 0;
      }
      for (size_t mp = 0; mp < pc.m_panels; ++mp) {
        const size_t m0 = mp * kMR, mr = std::min(kMR, s.cout - m0);
        for (size_t v = 0; v < dt.count; ++v) {
          dt.c[v] = out + (first[v] * s.cout + m0) * kPixels;
          dt.c2[v] = out + (second[v] * s.cout + m0) * kPixels;
        }
        dk.halves(mr, k, pc.a.data() + mp * k * kMR, offsets.data(), dt, kPixels, pc.bias.data() + mp * kMR, pc.min,
                  pc.max);
      }
    }
  });
}

}  // namespace

void PackedPointwiseDirectForTesting(bool on) { g_packed_direct.store(on); }

size_t ConvOutDim(size_t in, size_t k, size_t stride, size_t pad0, size_t pad1, size_t dilation) {
  const size_t padded = in + pad0 + pad1, span = (k - 1) * dilation + 1;
  return padded < span ? 0 : (padded - span) / stride + 1;
}

PackedConv PackConv(const float* weight, const float* bias, const ConvShape& s, float min, float max) {
  PackedConv pc;
  pc.s = s;
  pc.min = min;
  pc.max = max;
  const size_t taps = s.kh * s.kw;
  pc.depthwise = s.group > 1 && s.group == s.cin && s.group == s.cout;
  if (pc.depthwise) {
    pc.a.assign(weight, weight + s.cout * taps);
    pc.bias.assign(s.cout, 0.0f);
    if (bias != nullptr) std::copy(bias, bias + s.cout, pc.bias.begin());
    return pc;
  }
  const size_t cout_g = s.cout / s.group;
  pc.k = s.cin / s.group * taps;
  pc.m_panels = (cout_g + kMR - 1) / kMR;
  pc.a.assign(s.group * pc.m_panels * pc.k * kMR, 0.0f);
  pc.bias.assign(s.group * pc.m_panels * kMR, 0.0f);
  for (size_t g = 0; g < s.group; ++g) {
    for (size_t mp = 0; mp < pc.m_panels; ++mp) {
      const size_t m0 = mp * kMR, mr = std::min(kMR, cout_g - m0);
      const size_t panel = g * pc.m_panels + mp;
      PackAPanel(weight + (g * cout_g + m0) * pc.k, pc.k, mr, pc.k, pc.a.data() + panel * pc.k * kMR);
      if (bias != nullptr) {
        for (size_t r = 0; r < mr; ++r) pc.bias[panel * kMR + r] = bias[g * cout_g + m0 + r];
      }
    }
  }
  return pc;
}

void PackIm2colPanel(const float* x, size_t h, size_t w, const ConvShape& s, size_t wo, size_t p0,
                     size_t pc, float* dst) {
  const size_t cin_g = s.cin / s.group;
  if (pc < kNR) std::memset(dst, 0, cin_g * s.kh * s.kw * kNR * sizeof(float));
  if (IsUnit1x1(s)) {  // 1x1 stride 1: pixels are contiguous in x, B is a plain copy.
    for (size_t ci = 0; ci < cin_g; ++ci) std::memcpy(dst + ci * kNR, x + ci * h * w + p0, pc * sizeof(float));
    return;
  }
  // Split the panel into runs of pixels on one output row.
  struct Run { size_t oy, ox, len, j; };
  Run runs[kNR];
  size_t nruns = 0;
  for (size_t j = 0; j < pc;) {
    const size_t p = p0 + j, oy = p / wo, ox = p % wo, len = std::min(wo - ox, pc - j);
    runs[nruns++] = Run{oy, ox, len, j};
    j += len;
  }
  const long lh = static_cast<long>(h), lw = static_cast<long>(w);
  float* row = dst;
  for (size_t ci = 0; ci < cin_g; ++ci) {
    const float* plane = x + ci * h * w;
    for (size_t ky = 0; ky < s.kh; ++ky) {
      for (size_t kx = 0; kx < s.kw; ++kx, row += kNR) {
        for (size_t r = 0; r < nruns; ++r) {
          const Run& run = runs[r];
          float* d = row + run.j;
          const long iy = static_cast<long>(run.oy * s.sh + ky * s.dh) - static_cast<long>(s.pt);
          if (iy < 0 || iy >= lh) {
            std::fill(d, d + run.len, 0.0f);
            continue;
          }
          const float* src = plane + iy * lw;
          const long ix0 = static_cast<long>(run.ox * s.sw + kx * s.dw) - static_cast<long>(s.pl);
          if (s.sw == 1 && ix0 >= 0 && ix0 + static_cast<long>(run.len) <= lw) {
            for (size_t t = 0; t < run.len; ++t) d[t] = src[ix0 + t];
          } else {
            const long step = static_cast<long>(s.sw);
            for (size_t t = 0; t < run.len; ++t) {
              const long ix = ix0 + static_cast<long>(t) * step;
              d[t] = (ix >= 0 && ix < lw) ? src[ix] : 0.0f;
            }
          }
        }
      }
    }
  }
}

namespace {

// Conv2d's paths; true when the path added the residual itself (the direct path, task by task).
// Plane strides other than h * w and ho * wo: one image of a pointwise conv (the paths that
// take them), checked by the caller.
bool ConvPaths(const PackedConv& pc, const float* x, size_t n, size_t h, size_t w, const PlaneStrides* strides,
               float* out, const ConvResidual* residual) {
  if (pc.depthwise) {
    DepthwiseConv2d(pc, x, n, h, w, out);
    return false;
  }
  const ConvShape& s = pc.s;
  const size_t ho = ConvOutDim(h, s.kh, s.sh, s.pt, s.pb, s.dh);
  const size_t wo = ConvOutDim(w, s.kw, s.sw, s.pl, s.pr, s.dw);
  const size_t pixels = ho * wo;
  if (n == 0 || pixels == 0) return false;
  const PlaneStrides ps = strides != nullptr ? *strides : PlaneStrides{h * w, pixels};
  const bool flat = IsUnit1x1(s);
  const ConvUkernels& uk = ConvUkernelsFor(ActiveIsa());
  const size_t width = uk.width;
  if (flat && s.group == 1 && n > 1 && pixels == 4 && uk.halves != nullptr) {
    PairedImagesConv2d(uk, pc, x, n, out);
    return false;
  }
  // Pointwise on small images whose pixels leave the direct kernel's segments (8 or 16 pixels)
  // partly empty (a 2x2 map fills a quarter of 16; 7x7 leaves a 1-pixel segment and a 1-segment
  // tile, 1.05-1.2x on MobileNetV2's 7x7 layers at batch 16): the batch as one image of n * pixels.
  if (flat && s.group == 1 && n > 1 && pixels % width != 0 && pixels < uk.batch_rows_below) {
    PackedPointwiseConv2d(uk, pc, x, n, pixels, true, ps, out);
    return false;
  }
  // Packed pixel blocks where the direct path would copy the planes anyway (pixels not a multiple
  // of the segment width: 1.05-1.4x on MobileNetV2's 14x14 layers at batch 16) and for
  // expansions of maps of at least kPackedExpandPixels (112x112 to 28x28: 1.05-1.25x, measured
  // with the input out of the caches, as in a network). Projections read in place (packing them
  // measured 0.75-1.25x) and so do smaller maps (0.9x at 8x8, where the input stays in L1).
  constexpr size_t kPackedExpandPixels = 512;
  if (flat && s.group == 1 && (pixels % width != 0 || (s.cout > pc.k && pixels >= kPackedExpandPixels))) {
    PackedPointwiseConv2d(uk, pc, x, n, pixels, false, ps, out);
    return false;
  }
  // Direct path unless output rows are too short for 8-pixel segments (then im2col panels of
  // kNR pixels spanning rows waste fewer lanes).
  if (flat || wo >= 8) {
    DirectConv2d(uk, pc, x, n, h, w, ho, wo, ps, out, residual);
    return true;
  }
  const size_t cin_g = s.cin / s.group, cout_g = s.cout / s.group, k = pc.k;
  const size_t n_panels = (pixels + kNR - 1) / kNR;
  const GemmUkernelFn ukernel = uk.gemm;
  // Tasks: (image, pixel panel); each packs its B panel once per group and sweeps all output
  // channels of the group over it while it is hot in L1/L2.
  ParallelFor(n * n_panels, 1, [&](size_t begin, size_t end) {
    std::vector<float> b_panel(std::max<size_t>(k, 1) * kNR);
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / n_panels, p0 = (t % n_panels) * kNR, nc = std::min(kNR, pixels - p0);
      for (size_t g = 0; g < s.group; ++g) {
        PackIm2colPanel(x + (img * s.cin + g * cin_g) * h * w, h, w, s, wo, p0, nc, b_panel.data());
        for (size_t mp = 0; mp < pc.m_panels; ++mp) {
          const size_t panel = g * pc.m_panels + mp, m0 = mp * kMR, mr = std::min(kMR, cout_g - m0);
          GemmEpilogue ep{pc.bias.data() + panel * kMR, nullptr, pc.min, pc.max};
          ukernel(mr, nc, k, pc.a.data() + panel * k * kMR, b_panel.data(),
                  out + (img * s.cout + g * cout_g + m0) * pixels + p0, pixels, ep);
        }
      }
    }
  });
  return false;
}

}  // namespace

void Conv2d(const PackedConv& pc, const float* x, size_t n, size_t h, size_t w, float* out,
            const ConvResidual* residual) {
  if (ConvPaths(pc, x, n, h, w, nullptr, out, residual) || residual == nullptr) return;
  // Paths without a per-task residual: one pass over out, (image, channel) planes.
  const ConvShape& s = pc.s;
  const size_t pixels = ConvOutDim(h, s.kh, s.sh, s.pt, s.pb, s.dh) * ConvOutDim(w, s.kw, s.sw, s.pl, s.pr, s.dw);
  const BinarySpanFn span = BinarySpanFor(ActiveIsa());
  ParallelFor(n * s.cout, std::max<size_t>(1, 16384 / std::max<size_t>(1, pixels)), [&](size_t begin, size_t end) {
    AddResidual(*residual, span, out, begin * pixels, end - begin, pixels, pixels);
  });
}

void PointwiseConv2dStrided(const PackedConv& pc, const float* x, size_t x_stride, size_t pixels, float* out,
                            size_t out_stride) {
  const ConvShape& s = pc.s;
  if (pc.depthwise || s.group != 1 || !IsUnit1x1(s) || x_stride < pixels || out_stride < pixels) {
    throw std::invalid_argument("PointwiseConv2dStrided: a 1x1, stride 1, unpadded, group 1 conv, strides >= pixels");
  }
  const PlaneStrides ps{x_stride, out_stride};
  ConvPaths(pc, x, 1, 1, pixels, &ps, out, nullptr);
}

}  // namespace f32
}  // namespace layerq
