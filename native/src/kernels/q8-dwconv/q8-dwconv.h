// Depthwise q8 conv rows: convs whose groups have one output channel (group == Cout, e.g.
// MobileNet's depthwise 3x3), computed directly from an xZero-padded input plane, 16 output
// pixels at a time, with the packed weights of q8-gemm.h (row block 1: the taps in int16 pairs).
// Same contract and bit-exactness as the GEMM path; the scalar path is the conv reference.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/cpu.h"
#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {

// One output row: out[ox] for ox < wo, where tap t of pixel ox reads
// src[koff[t] + ox * stride] (src: the padded plane at the row's first input row).
// w: kpairs packed tap pairs; bias: the packed (zero-point folded) bias; scale: multiplier
// (uint8 output) or dequantization scale (float32 output). src must be readable 32 bytes past
// the last byte addressed.
using Q8DwRowFn = void (*)(const uint8_t* src, const int64_t* koff, size_t k, const int32_t* w,
                           int32_t bias, float scale, const Q8Output& o, size_t wo, void* out);

// The ISA's row kernel for `stride` (1 or 2), or null (then use the GEMM path).
Q8DwRowFn Q8DwRowFor(Isa isa, size_t stride);
#if defined(__x86_64__) || defined(_M_X64)
Q8DwRowFn Q8DwRowAvx2(size_t stride);
#endif

}  // namespace layerq
