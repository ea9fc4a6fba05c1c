// Depthwise q8 conv drivers: ISA dispatch of the block and row kernels, and the block driver
// (per-call geometry and per-block parameters, (image, block) tasks with per-worker scratch).
#include "kernels/q8-dwconv/q8-dwconv.h"

#include <algorithm>
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
    Q8Scratch<int16_t> t16(tpix * kQ8DwBlock);
    std::fill(t16.get(), t16.get() + tpix * kQ8DwBlock, xz);  // the padding; interiors are rewritten
    Q8Scratch<uint8_t> obuf(opix * kQ8DwBlock * elem);
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

}  // namespace layerq
