// Depthwise q8 conv drivers: ISA dispatch of the 4x4, 2x2, block and row kernels, and the
// drivers of the first three (per-channel, per-group or per-block parameters, (image, channel
// run) or (image, block) tasks, the blocks with per-worker scratch).
#include "kernels/q8-dwconv/q8-dwconv.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/threadpool.h"
#include "kernels/q8-conv/q8-conv.h"

namespace layerq {

Q8DwBlockKernel Q8DwBlockFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(isa)) return {Q8DwBlockAvx2, true};  // AVX-512 CPUs run the AVX2 blocks
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) return {Q8DwBlockNeon, false};
#endif
  (void)isa;
  return {};
}

Q8DwSmallPlaneKernels Q8DwSmallPlaneKernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(isa)) return {Q8Dw4x4Avx2, Q8Dw2x2Avx2, Q8DwW16Avx2};  // AVX-512 CPUs run the AVX2 kernels
#endif
  (void)isa;
  return {};
}

Q8DwPlaneFn Q8DwPlaneFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAvx512VnniVbmi(isa)) return Q8DwPlanesAvx512;
#endif
  (void)isa;
  return nullptr;
}

Q8DwRowFn Q8DwRowFor(Isa isa, size_t stride) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(isa)) return Q8DwRowAvx2(stride);  // AVX-512 CPUs run the AVX2 rows
#endif
  (void)isa;
  (void)stride;
  return nullptr;
}

bool Q8DepthwiseBlocks(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out) {
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  if (s.group != s.cin || s.group != s.cout || pw.m() != 1) return false;
  const Q8DwBlockKernel kernel = Q8DwBlockFor(ActiveIsa());
  if (!kernel.run) return false;
  const size_t c = s.cout;
  Q8DwGeometry g;
  g.h = h, g.w = w, g.ho = s.OutH(h), g.wo = s.OutW(w);
  g.hp = h + s.pad_top + s.pad_bottom, g.wp = w + s.pad_left + s.pad_right;
  g.pad_top = s.pad_top, g.pad_left = s.pad_left, g.stride_h = s.stride_h, g.stride_w = s.stride_w;
  g.taps = s.kh * s.kw, g.kpairs = pw.kpairs();
  g.output = pw.quant().output;
  std::vector<int32_t> offsets(g.taps);
  for (size_t ky = 0; ky < s.kh; ++ky)
    for (size_t kx = 0; kx < s.kw; ++kx) offsets[ky * s.kw + kx] = static_cast<int32_t>(ky * s.dilation_h * g.wp + kx * s.dilation_w);
  g.tap_offsets = offsets.data();
  g.x_end = x + n * c * h * w;
  // Per-block parameters in the kernel's layout (channels past C: zero).
  const size_t blocks = (c + kQ8DwBlock - 1) / kQ8DwBlock;
  std::vector<int32_t> pairs(kernel.lane_order ? blocks * g.kpairs * kQ8DwBlock : 0, 0), bias(blocks * kQ8DwBlock, 0);
  std::vector<int16_t> taps(kernel.lane_order ? 0 : blocks * g.taps * kQ8DwBlock, 0);
  std::vector<float> scales(blocks * kQ8DwBlock, 0.0f);
  for (size_t b = 0; b < blocks; ++b) {
    for (size_t l = 0; l < kQ8DwBlock; ++l) {
      const size_t ch = b * kQ8DwBlock + (kernel.lane_order ? kQ8DwLaneChannel[l] : l);
      if (ch >= c) continue;
      if (kernel.lane_order) {
        for (size_t q = 0; q < g.kpairs; ++q) pairs[(b * g.kpairs + q) * kQ8DwBlock + l] = pw.weights(ch)[q];
      } else {
        for (size_t t = 0; t < g.taps; ++t) taps[(b * g.taps + t) * kQ8DwBlock + l] = pw.raw_weights()[ch * g.taps + t];
      }
      bias[b * kQ8DwBlock + l] = pw.bias(ch)[0];
      scales[b * kQ8DwBlock + l] = pw.scales(ch)[0];
    }
  }
  const size_t elem = g.output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  const size_t tpix = g.hp * g.wp, opix = (g.ho * g.wo + 15) / 16 * 16;
  const int16_t xz = static_cast<int16_t>(pw.quant().inputZero);
  ParallelFor(n * blocks, 1, [&](size_t begin, size_t end) {
    AlignedBuffer<int16_t> t16(tpix * kQ8DwBlock);
    std::fill(t16.get(), t16.get() + tpix * kQ8DwBlock, xz);  // the padding; interiors are rewritten
    AlignedBuffer<uint8_t> obuf(opix * kQ8DwBlock * elem);
    for (size_t task = begin; task < end; ++task) {
      const size_t img = task / blocks, b = task % blocks, c0 = b * kQ8DwBlock;
      const Q8DwBlockParams p{kernel.lane_order ? pairs.data() + b * g.kpairs * kQ8DwBlock : nullptr,
                              kernel.lane_order ? nullptr : taps.data() + b * g.taps * kQ8DwBlock,
                              bias.data() + b * kQ8DwBlock, scales.data() + b * kQ8DwBlock};
      kernel.run(g, x + (img * c + c0) * h * w, std::min(kQ8DwBlock, c - c0), p, t16.get(), obuf.get(),
            static_cast<uint8_t*>(out) + (img * c + c0) * g.ho * g.wo * elem);
    }
  });
  return true;
}

namespace {

// The plane kernel's tables and parameters for one input size (Q8PackedConv::Cached): ok false
// where the conv does not fit the kernel.
struct DwPlanesPlan {
  bool ok = false;
  Q8DwPlaneGeometry g;  // without the input tensor's bounds
  std::vector<uint8_t> index;
  std::vector<uint64_t> masks;
  std::vector<int32_t> taps, bias;
  std::vector<float> scales;
};

// The convs the plane kernel takes, whatever the input size: depthwise, kernels up to 8 wide.
bool DwPlanesShape(const Q8PackedConv& conv) {
  const Q8ConvShape& s = conv.shape();
  return s.group == s.cin && s.group == s.cout && conv.weights().m() == 1 && s.kw <= 8;
}

// The plan for a conv of DwPlanesShape; ok stays false where 16 pixels' input does not fit a
// window.
void FillDwPlanesPlan(const Q8PackedConv& conv, size_t h, size_t w, DwPlanesPlan& plan) {
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  Q8DwPlaneGeometry& g = plan.g;
  g.h = h, g.w = w, g.ho = s.OutH(h), g.wo = s.OutW(w);
  g.kh = s.kh, g.quads = (s.kw + 3) / 4;
  g.stride_h = s.stride_h, g.dilation_h = s.dilation_h, g.pad_top = s.pad_top;
  g.pad_left = s.pad_left, g.stride_w = s.stride_w;
  g.x_zero = static_cast<uint8_t>(pw.quant().inputZero);
  g.output = pw.quant().output;
  constexpr size_t kLanes = kQ8DwPlaneLanes;
  // Byte j of lane l of a window: tap kx = 4q + j of output pixel l. Input row iy and column ix
  // inside the plane: the window byte `at`; else (or past the kernel, or past the chunk's
  // lanes) masked: xZero.
  std::vector<uint8_t>& index = plan.index;
  std::vector<uint64_t>& masks = plan.masks;
  // Quad q's mask into masks and, with_index, its indices into index. at_of(lane, kx): the
  // window byte and whether it is inside the plane (else masked).
  auto quad = [&](size_t q, bool with_index, auto at_of) {
    uint64_t mask = 0;
    for (size_t lane = 0; lane < kLanes; ++lane) {
      for (size_t j = 0; j < 4; ++j) {
        const std::pair<ptrdiff_t, bool> at = 4 * q + j < s.kw ? at_of(lane, 4 * q + j) : std::make_pair(ptrdiff_t{0}, false);
        if (with_index) index.push_back(static_cast<uint8_t>(at.first));
        if (at.second) mask |= uint64_t{1} << (4 * lane + j);
      }
    }
    masks.push_back(mask);
  };
  const ptrdiff_t ih = static_cast<ptrdiff_t>(h), iw = static_cast<ptrdiff_t>(w);
  g.whole = h * w <= 64 && g.wo <= kLanes;
  if (g.whole) {
    // Chunks of `rows` output rows; the window is the plane (byte iy * w + ix).
    g.rows = std::min(kLanes / g.wo, g.ho);
    for (size_t oy0 = 0; oy0 < g.ho; oy0 += g.rows) {
      for (size_t ky = 0; ky < s.kh; ++ky) {
        for (size_t q = 0; q < g.quads; ++q) {
          quad(q, true, [&](size_t lane, size_t kx) -> std::pair<ptrdiff_t, bool> {
            if (lane >= g.rows * g.wo || oy0 + lane / g.wo >= g.ho) return {0, false};
            const ptrdiff_t iy = static_cast<ptrdiff_t>((oy0 + lane / g.wo) * s.stride_h + ky * s.dilation_h) -
                                 static_cast<ptrdiff_t>(s.pad_top);
            const ptrdiff_t ix = static_cast<ptrdiff_t>(lane % g.wo * s.stride_w + kx * s.dilation_w) -
                                 static_cast<ptrdiff_t>(s.pad_left);
            const bool inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
            return {inside ? iy * iw + ix : 0, inside};
          });
        }
      }
    }
  } else {
    // Window of column chunk c: the input row from column 16 c stride_w - pad_left; 16 pixels
    // must fit in it. The indices are the same for every column chunk (taken from the first),
    // the masks differ.
    if (15 * s.stride_w + (s.kw - 1) * s.dilation_w >= 64) return;
    for (size_t ox0 = 0; ox0 < g.wo; ox0 += kLanes) {
      const ptrdiff_t x0 = static_cast<ptrdiff_t>(ox0 * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
      for (size_t q = 0; q < g.quads; ++q) {
        quad(q, ox0 == 0, [&](size_t lane, size_t kx) -> std::pair<ptrdiff_t, bool> {
          const ptrdiff_t at = static_cast<ptrdiff_t>(lane * s.stride_w + kx * s.dilation_w), ix = x0 + at;
          return {at, ox0 + lane < g.wo && ix >= 0 && ix < iw};
        });
      }
    }
  }
  g.index = index.data();
  g.masks = masks.data();
  // Per channel: the tap quads of each kernel row (taps past kw zero), the bias, the scale.
  const size_t c = s.cout, steps = g.kh * g.quads;
  std::vector<int32_t>& taps = plan.taps;
  std::vector<int32_t>& bias = plan.bias;
  std::vector<float>& scales = plan.scales;
  taps.assign(c * steps, 0), bias.assign(c, 0), scales.assign(c, 0.0f);
  for (size_t ch = 0; ch < c; ++ch) {
    const int8_t* t = pw.raw_weights() + ch * s.kh * s.kw;
    for (size_t ky = 0; ky < s.kh; ++ky) {
      for (size_t kx = 0; kx < s.kw; ++kx) Q8SetQuadByte(taps[ch * steps + ky * g.quads + kx / 4], kx % 4, t[ky * s.kw + kx]);
    }
    bias[ch] = pw.bias(ch)[0];
    scales[ch] = pw.scales(ch)[0];
  }
  plan.ok = true;
}

}  // namespace

bool Q8DepthwisePlanes(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out) {
  const Q8DwPlaneFn kernel = Q8DwPlaneFor(ActiveIsa());
  if (!kernel || !DwPlanesShape(conv)) return false;  // before the plan's lookup (a lock)
  const DwPlanesPlan& plan = conv.Cached<DwPlanesPlan>(kQ8CacheDwPlanes, h, w, [&](DwPlanesPlan& p) {
    FillDwPlanesPlan(conv, h, w, p);
  });
  if (!plan.ok) return false;
  Q8DwPlaneGeometry g = plan.g;
  g.x_begin = x, g.x_end = x + n * conv.shape().cin * h * w;
  const size_t c = conv.shape().cout, steps = g.kh * g.quads;
  // Tasks: (image, run of 16 channels).
  constexpr size_t kRun = 16;
  const size_t runs = (c + kRun - 1) / kRun;
  const size_t elem = g.output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  ParallelFor(n * runs, 1, [&](size_t begin, size_t end) {
    for (size_t task = begin; task < end; ++task) {
      const size_t img = task / runs, c0 = task % runs * kRun, first = img * c + c0;
      kernel(g, x + first * h * w, std::min(kRun, c - c0), plan.taps.data() + c0 * steps, plan.bias.data() + c0,
             plan.scales.data() + c0, static_cast<uint8_t*>(out) + first * g.ho * g.wo * elem);
    }
  });
  return true;
}

namespace {

// Depthwise (every group one input and one output channel), 3x3, pad 1 on every side, stride 1,
// dilation 1: the shape of the 4x4 and 2x2 kernels.
bool Is3x3Pad1Stride1Depthwise(const Q8PackedConv& conv) {
  const Q8ConvShape& s = conv.shape();
  return s.group == s.cin && s.group == s.cout && conv.weights().m() == 1 && s.kh == 3 && s.kw == 3 &&
         s.dilation_h == 1 && s.dilation_w == 1 && s.pad_top == 1 && s.pad_left == 1 && s.pad_bottom == 1 &&
         s.pad_right == 1 && s.stride_h == 1 && s.stride_w == 1;
}

}  // namespace

bool Q8Depthwise4x4(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out) {
  // Fewer than 8 images: the channel blocks, since the setup below (16 biases a channel) costs
  // about as much as the blocks take for 4 to 6 images of MobileNet's 4x4 layers.
  if (h != 4 || w != 4 || n < 8 || !Is3x3Pad1Stride1Depthwise(conv)) return false;
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  const Q8Dw4x4Fn kernel = Q8DwSmallPlaneKernelsFor(ActiveIsa()).plane4x4;
  if (!kernel) return false;
  constexpr size_t kPixels = 16, kTaps = 9, kPairs = 5;
  // Per channel: the packed tap pairs, the per-pixel bias (the folded bias plus xZero times the
  // taps that fall outside the plane there) and the scale.
  const size_t c = s.cout;
  const int32_t xz = pw.quant().inputZero;
  std::vector<int32_t> tap_pairs(c * kPairs), bias(c * kPixels);
  std::vector<float> scales(c);
  for (size_t ch = 0; ch < c; ++ch) {
    std::copy(pw.weights(ch), pw.weights(ch) + kPairs, tap_pairs.data() + ch * kPairs);
    // The taps and bias in locals: stores through bias could alias the int8 weights, which would
    // be reloaded for every pixel (this setup runs per call: it must not outweigh a batch-1 conv).
    int32_t t[kTaps];
    std::copy(pw.raw_weights() + ch * kTaps, pw.raw_weights() + (ch + 1) * kTaps, t);
    const uint32_t b = static_cast<uint32_t>(pw.bias(ch)[0]);
    for (size_t p = 0; p < kPixels; ++p) {
      // The tap row above the plane (pixel row 0) or below it (row 3), the tap column left or
      // right of it likewise; their corner counted once.
      const int ky = p / 4 == 0 ? 0 : p / 4 == 3 ? 2 : -1, kx = p % 4 == 0 ? 0 : p % 4 == 3 ? 2 : -1;
      int32_t outside = 0;
      if (ky >= 0) outside += t[3 * ky] + t[3 * ky + 1] + t[3 * ky + 2];
      if (kx >= 0) outside += t[kx] + t[3 + kx] + t[6 + kx];
      if (ky >= 0 && kx >= 0) outside -= t[3 * ky + kx];
      // In uint32: the int32 sums wrap, as the reference's accumulator does.
      bias[ch * kPixels + p] = static_cast<int32_t>(b + static_cast<uint32_t>(xz) * static_cast<uint32_t>(outside));
    }
    scales[ch] = pw.scales(ch)[0];
  }
  // Tasks: (image, run of 32 channels).
  constexpr size_t kRun = 32;
  const size_t runs = (c + kRun - 1) / kRun;
  const size_t elem = pw.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  ParallelFor(n * runs, 1, [&](size_t begin, size_t end) {
    for (size_t task = begin; task < end; ++task) {
      const size_t img = task / runs, c0 = task % runs * kRun, first = img * c + c0;
      kernel(x + first * kPixels, std::min(kRun, c - c0), tap_pairs.data() + c0 * kPairs, bias.data() + c0 * kPixels,
             scales.data() + c0, pw.quant().output, static_cast<uint8_t*>(out) + first * kPixels * elem);
    }
  });
  return true;
}

bool Q8Depthwise2x2(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out) {
  if (h != 2 || w != 2 || !Is3x3Pad1Stride1Depthwise(conv)) return false;
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  const Q8Dw2x2Fn kernel = Q8DwSmallPlaneKernelsFor(ActiveIsa()).plane2x2;
  if (!kernel) return false;
  // Per group of 4 channels (q8-dwconv.h): lanes a (channels 0, 2) and b (1, 3), pixel p of each;
  // channels past C: zero.
  const size_t c = s.cout, groups = (c + 3) / 4;
  const int32_t xz = pw.quant().inputZero;
  std::vector<int32_t> params(groups * kQ8Dw2x2GroupInts, 0);
  std::vector<float> scales(groups * 16, 0.0f);
  for (size_t ch = 0; ch < c; ++ch) {
    const size_t g = ch / 4, ab = ch % 2, lane = ch % 4 / 2;  // a or b, and its 128-bit lane
    const int8_t* t = pw.raw_weights() + ch * 9;
    int32_t* gp = params.data() + g * kQ8Dw2x2GroupInts;
    int32_t all = 0;
    for (size_t k = 0; k < 9; ++k) all += t[k];
    for (size_t p = 0; p < 4; ++p) {
      const size_t e = 4 * lane + p;  // element of the a or b vector
      int8_t tap[4];
      int32_t inside = 0;
      for (size_t q = 0; q < 4; ++q) {
        tap[q] = t[(q / 2 + 1 - p / 2) * 3 + (q % 2 + 1 - p % 2)];
        inside += tap[q];
      }
      gp[16 * ab + e] = static_cast<int32_t>(Q8PackPair(tap[0], tap[1]));
      gp[16 * ab + 8 + e] = static_cast<int32_t>(Q8PackPair(tap[2], tap[3]));
      // In uint32: the int32 sums wrap, as the reference's accumulator does.
      gp[32 + 8 * ab + e] = static_cast<int32_t>(static_cast<uint32_t>(pw.bias(ch)[0]) +
                                                 static_cast<uint32_t>(xz) * static_cast<uint32_t>(all - inside));
      scales[g * 16 + 8 * ab + e] = pw.scales(ch)[0];
    }
  }
  // Tasks: (image, run of 8 groups: 32 channels).
  constexpr size_t kRun = 8;
  const size_t runs = (groups + kRun - 1) / kRun;
  const size_t elem = pw.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  ParallelFor(n * runs, 1, [&](size_t begin, size_t end) {
    for (size_t task = begin; task < end; ++task) {
      const size_t img = task / runs, g0 = task % runs * kRun, count = std::min(kRun, groups - g0);
      const size_t first = img * c + 4 * g0;  // first plane
      const size_t last = (std::min(c, 4 * (g0 + count)) - 4 * (g0 + count - 1)) * 4;
      kernel(x + first * 4, count, last, params.data() + g0 * kQ8Dw2x2GroupInts, scales.data() + g0 * 16,
             pw.quant().output, static_cast<uint8_t*>(out) + first * 4 * elem);
    }
  });
  return true;
}

bool Q8DepthwiseW16(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out) {
  if (w != 16 || !Is3x3Pad1Stride1Depthwise(conv)) return false;
  const Q8ConvShape& s = conv.shape();
  const Q8PackedWeights& pw = conv.weights();
  const Q8DwW16Fn kernel = Q8DwSmallPlaneKernelsFor(ActiveIsa()).width16;
  if (!kernel) return false;
  const size_t c = s.cout;
  const int32_t xz = pw.quant().inputZero;
  std::vector<int32_t> params(c * kQ8DwW16ChannelInts);
  std::vector<float> scales(c);
  for (size_t ch = 0; ch < c; ++ch) {
    const int8_t* t = pw.raw_weights() + ch * 9;
    int32_t* cp = params.data() + ch * kQ8DwW16ChannelInts;
    for (size_t ky = 0; ky < 3; ++ky) {
      cp[2 * ky] = static_cast<int32_t>(Q8PackPair(t[3 * ky], t[3 * ky + 1]));
      cp[2 * ky + 1] = static_cast<int32_t>(Q8PackPair(t[3 * ky + 2], 0));
    }
    for (size_t e = 0; e < 16; ++e) {  // a lanes then b lanes (q8-dwconv.h)
      const size_t p = e % 8 / 4 * 8 + e / 8 * 4 + e % 4;
      const int32_t outside = p == 0 ? t[0] + t[3] + t[6] : p == 15 ? t[2] + t[5] + t[8] : 0;
      // In uint32: the int32 sums wrap, as the reference's accumulator does.
      cp[6 + e] = static_cast<int32_t>(static_cast<uint32_t>(pw.bias(ch)[0]) +
                                       static_cast<uint32_t>(xz) * static_cast<uint32_t>(outside));
    }
    scales[ch] = pw.scales(ch)[0];
  }
  // Tasks: (image, run of 8 channels).
  constexpr size_t kRun = 8;
  const size_t runs = (c + kRun - 1) / kRun, plane = h * 16;
  const size_t elem = pw.quant().output.kind == Q8OutputKind::kUint8 ? 1 : 4;
  ParallelFor(n * runs, 1, [&](size_t begin, size_t end) {
    for (size_t task = begin; task < end; ++task) {
      const size_t img = task / runs, c0 = task % runs * kRun, first = img * c + c0;
      kernel(x + first * plane, h, std::min(kRun, c - c0), params.data() + c0 * kQ8DwW16ChannelInts,
             scales.data() + c0, pw.quant().output, static_cast<uint8_t>(xz),
             static_cast<uint8_t*>(out) + first * plane * elem);
    }
  });
  return true;
}

}  // namespace layerq
