// Depthwise q8 conv (group == Cin == Cout, e.g. MobileNet's depthwise 3x3). Same contract and
// bit-exactness as the GEMM path (kernels/q8-gemm/q8-gemm.h); the scalar path is the conv
// reference. Two kernels:
//
// - Channel blocks (Q8DwBlockFn, the default where the ISA has it): per image, 16 channels at a
//   time; their input planes are transposed into a pixel-major int16 buffer T[hp][wp][16]
//   (hp x wp: the padded plane, padding = xZero, written once per buffer), so that one vector
//   holds one pixel of 16 channels. Every output pixel is then 16 outputs: per pair of taps two
//   loads of T, an int16 interleave and one vpmaddwd per 8 channels against the channels' own
//   tap pairs (held in registers), the per-channel requantization, and the 16 results are
//   transposed back into the NCHW planes. No lanes are wasted on narrow planes (4x4, 2x2) and
//   any stride or dilation is only a different tap offset.
// - Rows (Q8DwRowFn): 16 output pixels of one channel's row from an xZero-padded input plane,
//   the taps of the packed weights in int16 pairs (row block 1).
// - 4x4 and 2x2 planes (Q8Dw4x4Fn, Q8Dw2x2Fn, AVX2; tried first on 3x3 pad-1 stride-1 convs of
//   such maps): one plane (four 2x2 planes) per register, tap pairs gathered by byte shuffles
//   (below).
// - Planes (Q8DwPlaneFn, AVX-512 VNNI + VBMI; tried first there, after the 2x2 kernel): NCHW
//   planes read in place, 16 output pixels a vector, vpermb gathering each pixel's taps in fours
//   for vpdpbusd (below).
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/cpu.h"
#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {

class Q8PackedConv;

// ---- channel blocks ----------------------------------------------------------------------

// Channels per block, and the lane order of the packed per-block parameters: a pixel's 16
// channels as int16 pairs with another tap split into two vectors of 8 int32 pairs, channels
// {0-3, 8-11} and {4-7, 12-15} (the in-lane interleave's order).
constexpr size_t kQ8DwBlock = 16;
constexpr uint8_t kQ8DwLaneChannel[kQ8DwBlock] = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15};

// Geometry of one conv call, shared by all blocks.
struct Q8DwGeometry {
  size_t h = 0, w = 0, ho = 0, wo = 0;  // input and output plane
  size_t hp = 0, wp = 0;                // padded plane (T's rows and columns)
  size_t pad_top = 0, pad_left = 0, stride_h = 1, stride_w = 1;
  size_t taps = 0, kpairs = 0;          // kh * kw, and its pairs (the last one may be half empty)
  const int32_t* tap_offsets = nullptr; // [taps]: T pixel offset of tap (ky, kx): ky*dh*wp + kx*dw
  const uint8_t* x_end = nullptr;       // end of the input tensor (loads stay before it)
  Q8Output output;
};

// The packed parameters of one block, in one of two layouts (Q8DwBlockKernel::lane_order):
// - lane order (AVX2, vpmaddwd): tap pairs [kpairs][16] as int32 (w[t] | w[t+1] << 16), folded
//   bias [16] and multiplier (uint8 output) or scale (float output) [16], in kQ8DwLaneChannel
//   order;
// - channel order (NEON, smlal): taps [taps][16] as int16, bias and scales [16], channel c at c.
// Channels past the block's count are zero.
struct Q8DwBlockParams {
  const int32_t* pairs;  // lane order only
  const int16_t* taps;   // channel order only
  const int32_t* bias;
  const float* scales;
};

// One image's block of `channels` (1..16) channels: x points at the first channel's input plane
// (h x w, planes h * w apart), out at its output plane (ho * wo elements apart, uint8 or float
// per the output kind). t16: scratch T of hp * wp * 16 int16 whose padding cells hold xZero
// (only the interior is written); obuf: scratch of ho * wo * 16 output elements.
using Q8DwBlockFn = void (*)(const Q8DwGeometry& g, const uint8_t* x, size_t channels, const Q8DwBlockParams& p,
                             int16_t* t16, void* obuf, void* out);

struct Q8DwBlockKernel {
  Q8DwBlockFn run = nullptr;  // null: the ISA has none
  bool lane_order = true;     // parameter layout (Q8DwBlockParams)
};

// The ISA's block kernel.
Q8DwBlockKernel Q8DwBlockFor(Isa isa);
#if defined(__x86_64__) || defined(_M_X64)
void Q8DwBlockAvx2(const Q8DwGeometry& g, const uint8_t* x, size_t channels, const Q8DwBlockParams& p, int16_t* t16,
                   void* obuf, void* out);
#endif
#if defined(__aarch64__)
void Q8DwBlockNeon(const Q8DwGeometry& g, const uint8_t* x, size_t channels, const Q8DwBlockParams& p, int16_t* t16,
                   void* obuf, void* out);
#endif

// Runs a depthwise conv (every group one input and one output channel) with the block kernel of
// the active ISA: x uint8 [n][c][h][w] -> out [n][c][ho][wo]. False (nothing done) when the
// conv is not depthwise or the ISA has no block kernel.
bool Q8DepthwiseBlocks(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out);

// ---- planes (AVX-512 VNNI + VBMI) --------------------------------------------------------

// Channel planes in NCHW, read in place (no padded copy, no transposes). A chunk is 16 output
// pixels of a plane, one int32 lane each; per kernel row and quad of its taps (kx = 4q .. 4q + 3,
// zero past kw) one vpermb gathers each lane's four input bytes from a 64-byte window of the
// input, its mask putting xZero where a tap falls in the padding, and one vpdpbusd adds their
// products with the four taps: for a 3x3 conv three of each per 16 output pixels. vpdpbusd adds
// uint8 x int8 products without intermediate saturation, so the int32 sums are the reference's
// (mod 2^32); the output stage is the reference's float operations. Two layouts of chunks:
// - rows: 16 pixels of one output row (the last of a row may be partial); the window of kernel
//   row ky starts at the input row's pixel 16 * stride_w * j - pad_left (column chunk j), a row
//   in the padding reads xZero only. index [quads][64], masks [column chunks][quads].
// - whole planes of at most 64 bytes and outputs at most 16 wide: the window is the plane, a
//   chunk is `rows` whole output rows. index [chunks][kh][quads][64], masks likewise.
constexpr size_t kQ8DwPlaneLanes = 16;
constexpr size_t kQ8DwPlaneGroup = 4;  // planes computed together (independent sums)

struct Q8DwPlaneGeometry {
  size_t h = 0, w = 0, ho = 0, wo = 0;   // input and output plane
  size_t kh = 0, quads = 0;              // kernel rows, tap quads per kernel row (1 or 2)
  size_t stride_h = 1, dilation_h = 1, pad_top = 0;
  size_t pad_left = 0, stride_w = 1;     // rows: window of column chunk j at 16 j stride_w - pad_left
  bool whole = false;                    // whole-plane chunks (else rows)
  size_t rows = 1;                       // whole: output rows per chunk
  const uint8_t* index = nullptr;        // vpermb byte indices into a window (see above)
  const uint64_t* masks = nullptr;       // their bytes inside the input plane (else xZero)
  uint8_t x_zero = 0;                    // the padding's value
  const uint8_t* x_begin = nullptr;      // the input tensor (window bytes outside it: masked)
  const uint8_t* x_end = nullptr;
  Q8Output output;
};

// `planes` consecutive channel planes of one image: x uint8 [planes][h][w] -> out
// [planes][ho][wo] (uint8 or float per output.kind). Channel c: taps[c * kh * quads + ky * quads
// + q] its tap quad (ky, q) as 4 int8 (kx = 4q in the low byte), bias[c] the folded bias,
// scales[c] the multiplier (uint8) or dequantization scale (float).
using Q8DwPlaneFn = void (*)(const Q8DwPlaneGeometry& g, const uint8_t* x, size_t planes, const int32_t* taps,
                             const int32_t* bias, const float* scales, void* out);

// The ISA's plane kernel, or null (AVX-512 without VNNI or VBMI, and every other ISA).
Q8DwPlaneFn Q8DwPlaneFor(Isa isa);
#if defined(__x86_64__) || defined(_M_X64)
void Q8DwPlanesAvx512(const Q8DwPlaneGeometry& g, const uint8_t* x, size_t planes, const int32_t* taps,
                      const int32_t* bias, const float* scales, void* out);
#endif

// Runs a depthwise conv with the plane kernel of the active ISA: x uint8 [n][c][h][w] -> out
// [n][c][ho][wo]. False (nothing done) when the conv is not depthwise, the ISA has no plane
// kernel, or a window cannot hold the input of a chunk (kernels wider than 8 taps, or strides
// and dilations that spread 16 output pixels over more than 64 input bytes).
bool Q8DepthwisePlanes(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out);

// ---- rows --------------------------------------------------------------------------------

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

// ---- 4x4 planes ----------------------------------------------------------------------------

// 3x3, pad 1 on every side, stride 1, dilation 1 on 4x4 planes (CIFAR MobileNet's 4x4 stages):
// a plane is 16 bytes, so the input of each tap pair of 8 output pixels is one byte shuffle of
// it into int16 pairs (no padded copy, no transpose), taps outside the plane reading 0. Their
// xZero goes into a per-pixel bias: bias[p] = the folded bias + xZero * (sum of the taps that
// fall outside the plane at output pixel p), so every sum is the reference's.
// `planes` consecutive planes: x uint8 [planes][16] -> out [planes][16] (uint8 or float per
// output.kind). Plane k: tap_pairs[k * 5 ..] its packed tap pairs (t0, t1) .. (t8, 0) (the
// depthwise pairs layout of q8-gemm.h), bias[k * 16 ..] its per-pixel bias, scales[k] its
// multiplier (uint8) or dequantization scale (float).
using Q8Dw4x4Fn = void (*)(const uint8_t* x, size_t planes, const int32_t* tap_pairs, const int32_t* bias,
                           const float* scales, const Q8Output& output, void* out);

#if defined(__x86_64__) || defined(_M_X64)
void Q8Dw4x4Avx2(const uint8_t* x, size_t planes, const int32_t* tap_pairs, const int32_t* bias, const float* scales,
                 const Q8Output& output, void* out);
#endif

// Runs a 3x3 pad-1 stride-1 depthwise conv of 4x4 planes with the 4x4 kernel of the active ISA:
// x uint8 [n][c][4][4] -> out [n][c][4][4]. False (nothing done) for any other shape, fewer than 8
// images (the kernel's per-call setup would outweigh it), or when the ISA has no such kernel.
bool Q8Depthwise4x4(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out);

// ---- 2x2 planes ----------------------------------------------------------------------------

// 3x3, pad 1 on every side, stride 1, dilation 1 on 2x2 planes (CIFAR MobileNet's last stage):
// every output pixel p reads all four input pixels q, through tap (qy - py + 1) * 3 + (qx - px + 1),
// so it is two int16 pairs (q = 0, 1 and 2, 3) against per-pixel weight pairs. Four channels'
// planes are 16 bytes: a group. Per group (kQ8Dw2x2GroupInts int32): the weight pairs of the
// "a" lanes (channels 0 and 2 of the group, pixels 0-3 each) for q = 0, 1 then 2, 3 (8 + 8), of
// the "b" lanes (channels 1 and 3) (8 + 8), then the per-pixel biases of a and b (8 + 8: the
// folded bias + xZero * the five taps outside the plane at that pixel); scales: 16 floats per
// group, a's lanes then b's (multiplier for uint8 output, dequantization scale for float).
constexpr size_t kQ8Dw2x2GroupInts = 48;

// `groups` consecutive groups of 4 planes: x uint8 [groups * 16] -> out [groups * 16] (uint8 or
// float per output.kind); the last group has `last` outputs (its channels x 4: 4, 8, 12 or 16)
// and its input is read no further.
using Q8Dw2x2Fn = void (*)(const uint8_t* x, size_t groups, size_t last, const int32_t* params, const float* scales,
                           const Q8Output& output, void* out);

#if defined(__x86_64__) || defined(_M_X64)
void Q8Dw2x2Avx2(const uint8_t* x, size_t groups, size_t last, const int32_t* params, const float* scales,
                 const Q8Output& output, void* out);
#endif

// ---- planes 16 pixels wide ---------------------------------------------------------------

// 3x3, pad 1 on every side, stride 1, dilation 1 on h x 16 planes (CIFAR MobileNet's 16x16
// stage): an input row is 16 bytes, so the taps (ky, 0) and (ky, 1) of 16 output pixels are two
// byte shuffles of it into int16 pairs and the tap (ky, 2) two more (paired with 0), shared by
// the two output rows that read it; rows above and below the plane read xZero, and the taps
// outside the row (columns -1 and 16) read 0, their xZero put back by a per-pixel bias.
// Per channel (kQ8DwW16ChannelInts int32): the weight pairs (w[3ky], w[3ky + 1]), (w[3ky + 2], 0)
// for ky = 0, 1, 2, then the per-pixel bias of output pixels {0-3, 8-11} and {4-7, 12-15} (the
// folded bias + xZero * the taps outside the row at that pixel).
constexpr size_t kQ8DwW16ChannelInts = 22;

// `planes` consecutive planes: x uint8 [planes][h][16] -> out [planes][h][16] (uint8 or float
// per output.kind); scales[k]: plane k's multiplier (uint8) or dequantization scale (float).
using Q8DwW16Fn = void (*)(const uint8_t* x, size_t h, size_t planes, const int32_t* params, const float* scales,
                           const Q8Output& output, uint8_t x_zero, void* out);
#if defined(__x86_64__) || defined(_M_X64)
void Q8DwW16Avx2(const uint8_t* x, size_t h, size_t planes, const int32_t* params, const float* scales,
                 const Q8Output& output, uint8_t x_zero, void* out);
#endif

// Runs a 3x3 pad-1 stride-1 depthwise conv of h x 16 planes with the kernel of the active ISA:
// x uint8 [n][c][h][16] -> out [n][c][h][16]. False (nothing done) for any other shape, or when
// the ISA has no such kernel.
bool Q8DepthwiseW16(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out);

// The small-plane kernels of an ISA; null where it has none (AVX2 only: elsewhere the channel
// blocks run).
struct Q8DwSmallPlaneKernels {
  Q8Dw4x4Fn plane4x4 = nullptr;
  Q8Dw2x2Fn plane2x2 = nullptr;
  Q8DwW16Fn width16 = nullptr;
};
Q8DwSmallPlaneKernels Q8DwSmallPlaneKernelsFor(Isa isa);

// Runs a 3x3 pad-1 stride-1 depthwise conv of 2x2 planes with the 2x2 kernel of the active ISA:
// x uint8 [n][c][2][2] -> out [n][c][2][2]. False (nothing done) for any other shape, or when the
// ISA has no such kernel.
bool Q8Depthwise2x2(const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w, void* out);

}  // namespace layerq
