// An inverted-residual block (MobileNetV2/V3, EfficientNet, MnasNet): [1x1 expansion ->]
// depthwise kxk -> 1x1 projection, run strip by strip of output rows so that its wide
// intermediates (the expansion's and the depthwise conv's outputs, 6x the block's channels)
// stay in L2 instead of streaming through memory. The expansion may also be a network's stem
// (any group 1 conv: MobileNetV2's 3x3 stride 2 before its first depthwise conv), whose strips
// read a window of the image's rows.
//
// Layer by layer at 224x224 batch 16, each of those tensors is 4-77 MB: the 1x1 convs around
// them run at DRAM speed (a third of their in-cache rate on a 2-core share of a server CPU).
// A strip's expansion covers the rows its depthwise window needs (the halo rows are computed
// by both strips they border); the depthwise conv of a strip (and a stem's) pads only at the
// image's borders.
// Every stage runs the layer kernels of f32-conv.h on contiguous strip tensors, so the block's
// result equals the three convs run one after the other, bit for bit.
#pragma once
#include <cstddef>

#include "kernels/f32-conv/f32-conv.h"

namespace layerq {
namespace f32 {

struct PackedBlock {
  bool has_expand = false;
  PackedConv expand;   // group 1, dilation 1 (when has_expand): a 1x1 expansion, or a stem
  PackedConv dw;       // depthwise, dilation 1
  PackedConv project;  // 1x1, stride 1, unpadded, group 1
};

// The depthwise conv's input dims (the expansion's output; the block's input without one) and
// the block's output dims, for an input of h x w.
struct BlockDims {
  size_t he, we, ho, wo;
};
BlockDims BlockOutDims(const PackedBlock& block, size_t h, size_t w);

// Empty when the three convs do not chain as a block (shapes above); else the reason.
const char* BlockShapeError(const PackedConv* expand, const PackedConv& dw, const PackedConv& project);

// Copies the convs (expand may be null). The caller checked BlockShapeError.
PackedBlock PackBlock(const PackedConv* expand, const PackedConv& dw, const PackedConv& project);

// x [n, cin, h, w] -> out [n, project.cout, ho, wo], as Conv2d(project, Conv2d(dw, Conv2d(expand, x))).
void BlockConv2d(const PackedBlock& block, const float* x, size_t n, size_t h, size_t w, float* out);

// Tests: strips of `rows` output rows on every call, even where too few to keep the threads busy
// (0 restores the rule: as many rows as keep a strip's intermediates within L2); the scratch
// kept from earlier calls is dropped, so that the next call's buffers are exactly its sizes.
void BlockStripRowsForTesting(size_t rows);

}  // namespace f32
}  // namespace layerq
