// Native int8 kernel tests: every fast path against the scalar reference, bit for bit, on
// seeded random shapes around the tile and K-block sizes and at the saturation extremes.
// Failures print the seed and shape so a case can be replayed.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/q8-conv/q8-conv.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-quantize/q8-quantize.h"

namespace layerq {
namespace {

int g_failures = 0;

struct Case {
  uint32_t seed;
  std::mt19937 rng;
  explicit Case(uint32_t s) : seed(s), rng(s) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  float Float(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
};

template <typename T>
bool SameBits(const std::vector<T>& a, const std::vector<T>& b, size_t* at) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
      *at = i;
      return false;
    }
  }
  return true;
}

// Runs f under the reference and under every fast ISA and compares the outputs.
template <typename T, typename F>
void CompareIsas(const std::string& what, size_t size, const F& f) {
  const Isa saved = ActiveIsa();
  std::vector<T> ref(size), fast(size);
  SetIsa(Isa::kScalar);
  f(ref.data());
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (!IsaSupported(isa)) continue;
    SetIsa(isa);
    std::fill(fast.begin(), fast.end(), T(0x5a));
    f(fast.data());
    size_t at = 0;
    if (!SameBits(ref, fast, &at)) {
      ++g_failures;
      std::printf("FAIL %s [%s]: element %zu: reference %g, %s %g\n", what.c_str(), IsaName(isa), at,
                  static_cast<double>(ref[at]), IsaName(isa), static_cast<double>(fast[at]));
    }
  }
  SetIsa(saved);
}

Q8QuantParams RandomQuant(Case& c, size_t channels, bool per_channel, bool u8_out) {
  Q8QuantParams q;
  q.inputScale = c.Float(0.001f, 0.1f);
  q.inputZero = c.Int(0, 255);
  q.weightScale.resize(per_channel ? channels : 1);
  for (float& s : q.weightScale) s = c.Float(0.0005f, 0.05f);
  if (u8_out) {
    q.output.kind = Q8OutputKind::kUint8;
    q.output.outputScale = c.Float(0.02f, 0.5f);
    q.output.zero = c.Int(0, 255);
    q.output.qmin = c.Int(0, 1) ? q.output.zero : 0;  // fused Relu half the time
    q.output.qmax = c.Int(0, 1) ? 255 : std::max(q.output.qmin, 15);
  } else {
    q.output.kind = Q8OutputKind::kFloat32;
    if (c.Int(0, 1)) {
      q.output.fmin = 0;
      q.output.fmax = 6;
    }
  }
  return q;
}

// kind: -1 any of 0 general, 1 pointwise, 2 depthwise, 3 grouped, 4 depthwise 3x3 pad 1 stride
// 1 or 2 (MobileNet's), some on 4x4, 2x2 and h x 16 maps (the AVX2 small-plane kernels). Depthwise
// cases cover the channel blocks (16 channels) with tails, planes from 1 pixel up, any stride,
// pad and dilation.
// Weights drawn from `c`: 8-bit, or with `small` of 4 to 7 bits (the AVX2 vpmaddubsw kernels,
// q8-gemm-ubs-avx2.cc). extreme: the most negative value of the range everywhere, so that a pair
// sum of inputs 255 and the int16 sums of the kernels' depth reach their bound (32640) exactly;
// 8-bit extremes mix -128 and 127.
void DrawWeights(Case& c, bool small, bool extreme, std::vector<int8_t>& wt) {
  const int bits = small ? c.Int(4, 7) : 8, low = -(1 << (bits - 1)), high = (1 << (bits - 1)) - 1;
  for (auto& v : wt) v = extreme ? (bits == 8 && c.Int(0, 1) ? 127 : low) : c.Int(low, high);
}

// The conv with a residual: its outputs (codes or floats) plus a residual (codes or floats; a
// fused Relu or Clip half the time), quantized into codes (in place of uint8 outputs half the
// time) and DQ of the sum into `fake`, on every path against the reference (which adds in one
// pass after the conv; the fast paths add per task).
void CompareResidual(Case& c, const Q8PackedConv& conv, const uint8_t* x, size_t n, size_t h, size_t w,
                     const std::string& what) {
  const Q8ConvShape& s = conv.shape();
  const size_t size = n * s.cout * s.OutH(h) * s.OutW(w);
  const bool u8 = conv.weights().quant().output.kind == Q8OutputKind::kUint8, in_place = u8 && c.Int(0, 1);
  std::vector<uint8_t> rcodes(size);
  std::vector<float> rvalues(size);
  for (auto& v : rcodes) v = static_cast<uint8_t>(c.Int(0, 255));
  for (auto& v : rvalues) v = c.Float(-8, 8);
  Q8ConvResidual r;
  r.residual = c.Int(0, 1) ? Q8AddOperand::Codes(rcodes.data(), c.Float(0.01f, 0.1f), c.Int(0, 255))
                           : Q8AddOperand::Values(rvalues.data());
  const float clamp[2] = {0.0f, c.Int(0, 1) ? 6.0f : INFINITY};
  if (c.Int(0, 1)) r.clamp = clamp;
  const float scale = c.Float(0.02f, 0.2f);
  const int32_t zero = c.Int(0, 255);
  r.quant.scale = &scale, r.quant.zero = &zero;
  const std::string label = what + " residual" + (r.residual.codes ? " codes" : " floats") + (r.clamp ? " clamped" : "") +
                            (in_place ? " in place" : "");
  std::vector<uint8_t> out_u8(size);
  std::vector<float> out_f32(size);
  void* out = u8 ? static_cast<void*>(out_u8.data()) : static_cast<void*>(out_f32.data());
  CompareIsas<uint8_t>(label, size, [&](uint8_t* o) {
    Q8ConvResidual codes = r;
    codes.codes = o;
    Q8Conv2d(conv, x, n, h, w, in_place ? static_cast<void*>(o) : out, &codes);
  });
  CompareIsas<float>(label + " fake", size, [&](float* o) {
    Q8ConvResidual floats = r;
    floats.fake = o;
    Q8Conv2d(conv, x, n, h, w, out, &floats);
  });
}

// Random weights, bias (or none), input and quantization for conv `s` on n x h x w maps, drawn
// from `c` (extreme: saturating values, zero input offset; small: weights of 4 to 7 bits), and
// every ISA compared with the scalar reference; `what` names the case in failures.
void CompareRandomConv(Case& c, const Q8ConvShape& s, size_t n, size_t h, size_t w, bool extreme, const char* what,
                       bool small = false) {
  const bool u8 = c.Int(0, 1);
  Q8QuantParams q = RandomQuant(c, s.cout, c.Int(0, 1), u8);
  std::vector<int8_t> wt(s.cout * (s.cin / s.group) * s.kh * s.kw);
  std::vector<int32_t> bias(s.cout);
  std::vector<uint8_t> x(n * s.cin * h * w);
  DrawWeights(c, small, extreme, wt);
  for (auto& v : bias) v = c.Int(-100000, 100000);
  for (auto& v : x) v = extreme ? 255 : c.Int(0, 255);
  if (extreme) q.inputZero = 0;
  Q8PackedConv conv(s, wt.data(), c.Int(0, 3) ? bias.data() : nullptr, q);
  const size_t out = n * s.cout * s.OutH(h) * s.OutW(w);
  const std::string label = std::string(what) + (u8 ? " u8" : " f32") + (small ? " small weights" : "");
  if (u8) CompareIsas<uint8_t>(label, out, [&](uint8_t* o) { Q8Conv2d(conv, x.data(), n, h, w, o); });
  else CompareIsas<float>(label, out, [&](float* o) { Q8Conv2d(conv, x.data(), n, h, w, o); });
  CompareResidual(c, conv, x.data(), n, h, w, label);
}

void ConvCase(uint32_t seed, bool extreme, int kind = -1, bool small = false) {
  Case c(seed);
  Q8ConvShape s;
  if (kind < 0) kind = c.Int(0, 3);
  const bool depthwise = kind == 2 || kind == 4;
  s.group = depthwise ? c.Int(1, 50) : kind == 3 ? c.Int(2, 4) : 1;
  s.cin = s.group * (depthwise ? 1 : c.Int(1, 40));
  s.cout = s.group * (depthwise ? 1 : c.Int(1, 37));
  s.kh = kind == 1 ? 1 : c.Int(1, 5);
  s.kw = kind == 1 ? 1 : c.Int(1, 5);
  if (kind != 1) {
    s.stride_h = c.Int(1, 3), s.stride_w = c.Int(1, 3);
    s.pad_top = c.Int(0, 2), s.pad_left = c.Int(0, 2), s.pad_bottom = c.Int(0, 2), s.pad_right = c.Int(0, 2);
    s.dilation_h = c.Int(1, 2), s.dilation_w = c.Int(1, 2);
  }
  if (kind == 4) {
    s.kh = s.kw = 3;
    s.stride_h = s.stride_w = c.Int(1, 2);
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
    s.dilation_h = s.dilation_w = 1;
  }
  if (kind == 1 && c.Int(0, 2) == 0) {  // small maps: the batch runs as one image
    const size_t n = c.Int(2, 9), h = c.Int(1, 5), w = c.Int(1, 5);
    const bool u8 = c.Int(0, 1);
    Q8QuantParams q = RandomQuant(c, s.cout, c.Int(0, 1), u8);
    std::vector<int8_t> wt(s.cout * s.cin);
    std::vector<int32_t> bias(s.cout);
    std::vector<uint8_t> x(n * s.cin * h * w);
    for (auto& v : wt) v = c.Int(-128, 127);
    for (auto& v : bias) v = c.Int(-100000, 100000);
    for (auto& v : x) v = c.Int(0, 255);
    Q8PackedConv conv(s, wt.data(), bias.data(), q);
    char what[160];
    std::snprintf(what, sizeof what, "pointwise small seed=%u n=%zu cin=%zu cout=%zu h=%zu w=%zu %s", seed, n, s.cin, s.cout, h, w, u8 ? "u8" : "f32");
    const size_t out = n * s.cout * h * w;
    if (u8) CompareIsas<uint8_t>(what, out, [&](uint8_t* o) { Q8Conv2d(conv, x.data(), n, h, w, o); });
    else CompareIsas<float>(what, out, [&](float* o) { Q8Conv2d(conv, x.data(), n, h, w, o); });
    CompareResidual(c, conv, x.data(), n, h, w, what);
    return;
  }
  const size_t min_h = s.kh * s.dilation_h > s.pad_top + s.pad_bottom ? s.kh * s.dilation_h - s.pad_top - s.pad_bottom : 1;
  const size_t min_w = s.kw * s.dilation_w > s.pad_left + s.pad_right ? s.kw * s.dilation_w - s.pad_left - s.pad_right : 1;
  // 4x4, 2x2 and h x 16 maps at stride 1 (the AVX2 4x4, 2x2 and width-16 kernels): a sixth of
  // the 3x3 cases each.
  const int shape = kind == 4 ? c.Int(0, 5) : 5, side = shape == 0 ? 4 : shape == 1 ? 2 : 0;
  if (shape < 3) s.stride_h = s.stride_w = 1;
  const size_t n = side == 4 ? c.Int(8, 10) : c.Int(1, 3);  // the 4x4 kernel runs from 8 images
  const size_t h = side ? side : c.Int(min_h, 20);
  const size_t w = side ? side : shape == 2 ? 16 : c.Int(min_w, depthwise && c.Int(0, 3) == 0 ? 40 : 23);
  char what[256];
  std::snprintf(what, sizeof what, "conv seed=%u n=%zu cin=%zu cout=%zu g=%zu h=%zu w=%zu k=%zux%zu s=%zu,%zu p=%zu,%zu,%zu,%zu d=%zu,%zu",
                seed, n, s.cin, s.cout, s.group, h, w, s.kh, s.kw, s.stride_h, s.stride_w, s.pad_top,
                s.pad_left, s.pad_bottom, s.pad_right, s.dilation_h, s.dilation_w);
  CompareRandomConv(c, s, n, h, w, extreme, what, small);
}

// Depthwise convs with kernels up to 9 wide (AVX-512 planes: one or two tap quads a kernel row,
// none past 8) on planes up to 70 pixels wide (several 16-pixel chunks a row, a partial last) or
// of at most 64 bytes (whole-plane chunks, a third of the cases), any stride up to 3, dilation up
// to 2, pads up to 3 (ConvNeXt's 7x7, EfficientNet's 5x5).
void DepthwiseWideCase(uint32_t seed, bool extreme) {
  Case c(seed);
  Q8ConvShape s;
  s.group = s.cin = s.cout = c.Int(1, 40);
  s.kh = c.Int(1, 9), s.kw = c.Int(1, 9);
  s.stride_h = c.Int(1, 3), s.stride_w = c.Int(1, 3);
  s.dilation_h = c.Int(1, 2), s.dilation_w = c.Int(1, 2);
  s.pad_top = c.Int(0, 3), s.pad_left = c.Int(0, 3), s.pad_bottom = c.Int(0, 3), s.pad_right = c.Int(0, 3);
  const size_t min_h = s.kh * s.dilation_h > s.pad_top + s.pad_bottom + 1 ? s.kh * s.dilation_h - s.pad_top - s.pad_bottom : 1;
  const size_t min_w = s.kw * s.dilation_w > s.pad_left + s.pad_right + 1 ? s.kw * s.dilation_w - s.pad_left - s.pad_right : 1;
  const bool small = c.Int(0, 2) == 0;
  const size_t h = small ? c.Int(min_h, std::max<size_t>(min_h, 8)) : c.Int(min_h, 40);
  const size_t w = small ? c.Int(min_w, std::max<size_t>(min_w, 64 / h)) : c.Int(min_w, 70);
  const size_t n = c.Int(1, 3);
  char what[256];
  std::snprintf(what, sizeof what, "depthwise wide seed=%u n=%zu c=%zu h=%zu w=%zu k=%zux%zu s=%zu,%zu p=%zu,%zu,%zu,%zu d=%zu,%zu",
                seed, n, s.cin, h, w, s.kh, s.kw, s.stride_h, s.stride_w, s.pad_top, s.pad_left, s.pad_bottom,
                s.pad_right, s.dilation_h, s.dilation_w);
  CompareRandomConv(c, s, n, h, w, extreme, what);
}

// Convs with 3-wide kernels (the AVX-512 row kernel): output rows of at least 16 pixels, or
// narrower (chunks of several rows; tall maps among them), any kernel height up to 5, stride 1 or 2, pads up to 2,
// input channels whose kernel rows do not fill the last group of four, output channels past a
// block of 16, one to three images (one image: the rows split between tasks), a third of them
// on one thread (two or three images: a task takes every block of 16 channels of an image).
void ConvRowsCase(uint32_t seed, bool extreme, bool small = false) {
  Case c(seed);
  Q8ConvShape s;
  // A fifth with 60 to 120 input channels: windows of up to 600 kernel rows (150 groups of four).
  s.cin = c.Int(0, 4) ? c.Int(1, 40) : c.Int(60, 120), s.cout = c.Int(1, 40);
  s.kh = c.Int(1, 5), s.kw = 3;
  s.stride_h = c.Int(1, 2), s.stride_w = c.Int(1, 2);
  s.pad_top = c.Int(0, 2), s.pad_left = c.Int(0, 2), s.pad_bottom = c.Int(0, 2), s.pad_right = c.Int(0, 2);
  const size_t min_h = s.kh > s.pad_top + s.pad_bottom ? s.kh - s.pad_top - s.pad_bottom : 1;
  // A third on maps narrower than 16 outputs (chunks of several rows).
  const bool narrow = c.Int(0, 2) == 0;
  const size_t min_w = 3 > s.pad_left + s.pad_right ? 3 - s.pad_left - s.pad_right : 1;
  // Narrow maps up to 120 rows half the time: several runs of the residual's scratch (16 KiB of floats).
  const size_t h = c.Int(min_h, narrow && c.Int(0, 1) ? 120 : 24), n = c.Int(1, 3);
  const size_t w = narrow ? c.Int(min_w, 15 * s.stride_w) : c.Int(16 * s.stride_w + 2, 70);
  // A third on one thread: with two or three images the tasks then take all blocks of 16 output
  // channels of an image (the blocks after the first reading the first one's quads).
  const int threads = ThreadCount(), run_threads = c.Int(0, 2) == 0 ? 1 : threads;
  char what[256];
  std::snprintf(what, sizeof what, "conv rows seed=%u n=%zu cin=%zu cout=%zu h=%zu w=%zu k=%zux3 s=%zu,%zu p=%zu,%zu,%zu,%zu threads=%d",
                seed, n, s.cin, s.cout, h, w, s.kh, s.stride_h, s.stride_w, s.pad_top, s.pad_left, s.pad_bottom,
                s.pad_right, run_threads);
  SetThreadCount(run_threads);
  CompareRandomConv(c, s, n, h, w, extreme, what, small);
  SetThreadCount(threads);
}

// Pointwise convs on maps of hundreds to thousands of pixels: the direct path's panel blocks
// (several blocks a plane, a partial last panel, a partial last block) and, with K past 512,
// the K-blocked panels; groups of 1 or 2, any image count.
void PointwiseBlocksCase(uint32_t seed, bool extreme, bool small = false) {
  Case c(seed);
  Q8ConvShape s;
  s.group = c.Int(0, 4) ? 1 : 2;
  s.cin = s.group * (c.Int(0, 5) ? c.Int(1, 70) : c.Int(513, 560));
  s.cout = s.group * c.Int(1, 45);
  const size_t n = c.Int(1, 3), h = c.Int(9, 70), w = c.Int(9, 70);
  char what[160];
  std::snprintf(what, sizeof what, "pointwise blocks seed=%u n=%zu cin=%zu cout=%zu g=%zu h=%zu w=%zu", seed, n, s.cin, s.cout,
                s.group, h, w);
  CompareRandomConv(c, s, n, h, w, extreme, what, small);
}

void GemmCase(uint32_t seed, size_t m, size_t n, size_t k, bool extreme, bool small = false) {
  Case c(seed);
  const bool u8 = c.Int(0, 1);
  Q8QuantParams q = RandomQuant(c, n, c.Int(0, 1), u8);
  std::vector<int8_t> b(n * k);
  std::vector<int32_t> bias(n);
  std::vector<uint8_t> a(m * k);
  DrawWeights(c, small, extreme, b);
  for (auto& v : bias) v = c.Int(-100000, 100000);
  for (auto& v : a) v = extreme ? 255 : c.Int(0, 255);
  if (extreme) {
    q.inputZero = 0;
    if (u8) q.output.outputScale = q.inputScale * q.weightScale[0] * 1e6f;  // keep outputs in range
  }
  Q8PackedWeights packed(b.data(), bias.data(), 1, n, k, q);
  char what[160];
  std::snprintf(what, sizeof what, "gemm seed=%u m=%zu n=%zu k=%zu %s%s%s", seed, m, n, k, u8 ? "u8" : "f32", extreme ? " extreme" : "",
                small ? " small weights" : "");
  if (u8) CompareIsas<uint8_t>(what, m * n, [&](uint8_t* o) { Q8Gemm(packed, a.data(), m, o); });
  else CompareIsas<float>(what, m * n, [&](float* o) { Q8Gemm(packed, a.data(), m, o); });
}

// Multipliers so large that products pass int32 and float (inf): every output at qmin or qmax
// (or zero-point codes where the accumulator is 0), on every output stage of the fast paths
// (GEMM tiles, pointwise blocks, depthwise kernels, the vpmaddubsw kernels).
void HugeMultiplierCase(uint32_t seed) {
  Case c(seed);
  Q8ConvShape s;
  const int kind = c.Int(0, 2);  // pointwise, 3x3 depthwise, general
  s.group = kind == 1 ? c.Int(1, 40) : 1;
  s.cin = kind == 1 ? s.group : c.Int(1, 40);
  s.cout = kind == 1 ? s.group : c.Int(1, 20);
  s.kh = s.kw = kind == 0 ? 1 : 3;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = kind == 0 ? 0 : 1;
  const size_t n = c.Int(1, 9), h = c.Int(1, 20), w = c.Int(1, 20);
  Q8QuantParams q = RandomQuant(c, s.cout, c.Int(0, 1), true);
  q.output.outputScale = c.Int(0, 1) ? 1e-30f : 1e-38f;
  std::vector<int8_t> wt(s.cout * (s.cin / s.group) * s.kh * s.kw);
  std::vector<uint8_t> x(n * s.cin * h * w);
  DrawWeights(c, c.Int(0, 1), false, wt);
  for (auto& v : x) v = c.Int(0, 255);
  Q8PackedConv conv(s, wt.data(), nullptr, q);
  char what[160];
  std::snprintf(what, sizeof what, "huge multiplier seed=%u kind=%d n=%zu cin=%zu cout=%zu h=%zu w=%zu", seed, kind, n, s.cin,
                s.cout, h, w);
  CompareIsas<uint8_t>(what, n * s.cout * s.OutH(h) * s.OutW(w), [&](uint8_t* o) { Q8Conv2d(conv, x.data(), n, h, w, o); });
}

// Q8PackedWeights::ubs_depth(): the int16 depth of the vpmaddubsw kernels from the largest pair
// |w[k]| + |w[k+1]| (k even) of any row, 0 past 128; an odd K's last weight pairs with nothing.
void UbsDepthCases() {
  struct Want {
    std::vector<int8_t> w;
    size_t k, depth;
  };
  const Want wants[] = {
      {{7, -8, 0, 3}, 4, 8},        // 4-bit: P = 15
      {{-8, -8, -8, -8}, 4, 8},     // P = 16: 8 * 255 * 16 = 32640
      {{-8, -9, 0, 0}, 4, 4},       // P = 17
      {{-16, -16}, 2, 4},           // P = 32
      {{-16, -17}, 2, 2},           // P = 33
      {{-64, -64}, 2, 1},           // P = 128: 255 * 128 = 32640
      {{-64, -65}, 2, 0},           // P = 129: a pair sum can saturate
      {{127, 1, 0, 0}, 4, 1},       // 8-bit weights whose pairs stay within 128
      {{0, 100, 100, 0}, 4, 1},     // pairs (k, k + 1) for even k only: 100 + 100 is no pair
      {{-128, 0, 0, 0}, 2, 1},      // two rows of K = 2
      {{0, 0, 0}, 3, 8},            // no weight at all
      {{1, 2, -128}, 3, 1},         // K odd: -128 alone in its pair
  };
  for (const Want& want : wants) {
    Q8QuantParams q;
    q.weightScale = {0.01f};
    Q8PackedWeights packed(want.w.data(), nullptr, 1, want.w.size() / want.k, want.k, q);
    if (packed.ubs_depth() != want.depth) {
      ++g_failures;
      std::printf("FAIL ubs_depth of {");
      for (int8_t v : want.w) std::printf(" %d", v);
      std::printf(" } (K %zu): %zu, expected %zu\n", want.k, packed.ubs_depth(), want.depth);
    }
  }
}

void QuantizeCase(uint32_t seed) {
  Case c(seed);
  Q8Layout l;
  l.outer = c.Int(1, 4), l.channels = c.Int(1, 9), l.inner = c.Int(1, 70);
  std::vector<float> scale(l.channels), x(l.size());
  std::vector<int32_t> zero(l.channels);
  const bool u8 = c.Int(0, 1);
  Q8QuantSpec q;
  q.qmin = u8 ? 0 : -128, q.qmax = u8 ? 255 : 127;
  if (c.Int(0, 1)) q.qmin = u8 ? 0 : -8, q.qmax = u8 ? 15 : 7;  // 4-bit
  for (size_t i = 0; i < l.channels; ++i) scale[i] = c.Float(0.01f, 0.2f), zero[i] = c.Int(q.qmin, q.qmax);
  for (auto& v : x) v = c.Int(0, 3) ? c.Float(-30, 30) : (c.Int(-300, 300) + 0.5f) * scale[0];  // ties
  if (x.size() > 4) {  // NaN (-> qmin), infinities and huge values (-> the bounds)
    x[c.Int(0, static_cast<int>(x.size()) - 1)] = NAN;
    x[c.Int(0, static_cast<int>(x.size()) - 1)] = c.Int(0, 1) ? INFINITY : -INFINITY;
    x[c.Int(0, static_cast<int>(x.size()) - 1)] = c.Int(0, 1) ? 1e30f : -3e9f;
  }
  q.scale = scale.data(), q.zero = zero.data();
  char what[128];
  std::snprintf(what, sizeof what, "quantize seed=%u %zux%zux%zu %s", seed, l.outer, l.channels, l.inner, u8 ? "u8" : "s8");
  const Q8Storage st = u8 ? Q8Storage::kUint8 : Q8Storage::kInt8;
  CompareIsas<uint8_t>(what, l.size(), [&](uint8_t* o) { Q8Quantize(x.data(), l, q, st, o); });
  std::vector<uint8_t> qv(l.size());
  Q8Quantize(x.data(), l, q, st, qv.data());
  CompareIsas<float>(std::string("de") + what, l.size(), [&](float* o) { Q8Dequantize(qv.data(), st, l, q, o); });
  CompareIsas<float>(std::string("fake-") + what, l.size(), [&](float* o) { Q8FakeQuantize(x.data(), l, q, o); });
}

// The fused residual Add + quantize against the reference path (scalar add, reference quantize)
// on every fast path: codes and DQ(Q(y)) bit for bit (no NaN inputs: the f32 adds' clamps
// differ there by design).
void AddQuantizeCase(uint32_t seed) {
  Case c(seed);
  const size_t n = c.Int(1, 3000);
  std::vector<float> a(n), b(n);
  const float scale = c.Float(0.01f, 0.2f);
  for (size_t i = 0; i < n; ++i) {
    a[i] = c.Float(-20, 20);
    b[i] = c.Int(0, 4) ? c.Float(-20, 20) : (c.Int(-300, 300) + 0.5f) * scale - a[i];
  }
  const int32_t zero = c.Int(0, 255);
  Q8QuantSpec q;
  q.scale = &scale, q.zero = &zero;
  const float clamp[2] = {0.0f, c.Int(0, 1) ? 6.0f : INFINITY};
  const bool clamped = c.Int(0, 1);
  char what[96];
  std::snprintf(what, sizeof what, "add-quantize seed=%u n=%zu%s", seed, n, clamped ? " clamped" : "");
  const Q8AddOperand fa = Q8AddOperand::Values(a.data()), fb = Q8AddOperand::Values(b.data());
  CompareIsas<uint8_t>(what, n, [&](uint8_t* o) { Q8AddQuantize(fa, fb, n, clamped ? clamp : nullptr, q, o, nullptr); });
  CompareIsas<float>(std::string("fake ") + what, n, [&](float* o) { Q8AddQuantize(fa, fb, n, clamped ? clamp : nullptr, q, nullptr, o); });

  // Operands as codes: the same as the float path on their dequantized values, on every path.
  const float scale_b = c.Float(0.01f, 0.2f);
  const int32_t zero_b = c.Int(0, 255);
  std::vector<uint8_t> codes_a(n), codes_b(n);
  for (size_t i = 0; i < n; ++i) codes_a[i] = static_cast<uint8_t>(c.Int(0, 255)), codes_b[i] = static_cast<uint8_t>(c.Int(0, 255));
  std::vector<float> dq_a(n), dq_b(n);
  for (size_t i = 0; i < n; ++i) {
    dq_a[i] = static_cast<float>(codes_a[i] - zero) * scale;  // the reference's formula
    dq_b[i] = static_cast<float>(codes_b[i] - zero_b) * scale_b;
  }
  const Q8AddOperand ca = Q8AddOperand::Codes(codes_a.data(), scale, zero), cb = Q8AddOperand::Codes(codes_b.data(), scale_b, zero_b);
  const std::pair<const char*, std::pair<Q8AddOperand, Q8AddOperand>> mixes[] = {
      {"a codes", {ca, fb}}, {"b codes", {fa, cb}}, {"both codes", {ca, cb}}};
  for (const auto& [name, ops] : mixes) {
    const Q8AddOperand want_a = ops.first.codes ? Q8AddOperand::Values(dq_a.data()) : fa;
    const Q8AddOperand want_b = ops.second.codes ? Q8AddOperand::Values(dq_b.data()) : fb;
    std::vector<uint8_t> want(n), got(n);
    std::vector<float> want_fake(n), got_fake(n);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
      if (!IsaSupported(isa)) continue;
      const Isa saved = ActiveIsa();
      SetIsa(isa);
      Q8AddQuantize(want_a, want_b, n, clamped ? clamp : nullptr, q, want.data(), want_fake.data());
      Q8AddQuantize(ops.first, ops.second, n, clamped ? clamp : nullptr, q, got.data(), got_fake.data());
      SetIsa(saved);
      size_t at = 0;
      if (!SameBits(want, got, &at) || !SameBits(want_fake, got_fake, &at)) {
        ++g_failures;
        std::printf("FAIL %s, %s [%s]: element %zu: codes %d against %d\n", what, name, IsaName(isa), at, got[at], want[at]);
      }
    }
  }
}

}  // namespace

int RunInt8Tests() {
  g_failures = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) ConvCase(seed, false);
  for (uint32_t seed = 1000; seed <= 1040; ++seed) ConvCase(seed, true);
  for (uint32_t seed = 4000; seed <= 4200; ++seed) ConvCase(seed, false, 2);
  for (uint32_t seed = 4500; seed <= 4530; ++seed) ConvCase(seed, true, 2);
  for (uint32_t seed = 5000; seed <= 5300; ++seed) ConvCase(seed, false, 4);
  for (uint32_t seed = 5500; seed <= 5540; ++seed) ConvCase(seed, true, 4);
  for (uint32_t seed = 5300; seed <= 5440; ++seed) ConvRowsCase(seed, false);
  for (uint32_t seed = 5450; seed <= 5470; ++seed) ConvRowsCase(seed, true);
  for (uint32_t seed = 5480; seed <= 5499; ++seed) ConvRowsCase(seed, false, true);
  for (uint32_t seed = 5600; seed <= 5800; ++seed) DepthwiseWideCase(seed, false);
  for (uint32_t seed = 5900; seed <= 5930; ++seed) DepthwiseWideCase(seed, true);
  for (uint32_t seed = 6000; seed <= 6150; ++seed) ConvCase(seed, false, 1);  // a third on small maps
  for (uint32_t seed = 6500; seed <= 6560; ++seed) PointwiseBlocksCase(seed, false);
  for (uint32_t seed = 6600; seed <= 6610; ++seed) PointwiseBlocksCase(seed, true);
  // Weights of 4 to 7 bits: the vpmaddubsw kernels on AVX2 (any depth, the int16 bound reached).
  UbsDepthCases();
  for (uint32_t seed = 7500; seed <= 7560; ++seed) HugeMultiplierCase(seed);
  for (uint32_t seed = 7000; seed <= 7150; ++seed) ConvCase(seed, false, -1, true);
  for (uint32_t seed = 7200; seed <= 7240; ++seed) ConvCase(seed, true, -1, true);
  for (uint32_t seed = 7300; seed <= 7360; ++seed) PointwiseBlocksCase(seed, false, true);
  for (uint32_t seed = 7400; seed <= 7420; ++seed) PointwiseBlocksCase(seed, true, true);
  uint32_t seed = 2000;
  for (size_t k : {1, 2, 15, 16, 17, 511, 512, 513, 1024, 4096}) {
    for (size_t m : {1, 15, 16, 17, 33}) {
      for (size_t n : {1, 3, 4, 5, 10}) GemmCase(seed++, m, n, k, false);
    }
    GemmCase(seed++, 17, 5, k, true);
    GemmCase(seed++, 33, 10, k, false, true);
    GemmCase(seed++, 17, 5, k, true, true);
  }
  for (uint32_t s = 3000; s < 3200; ++s) QuantizeCase(s);
  for (uint32_t s = 3500; s < 3540; ++s) AddQuantizeCase(s);
  std::string compared;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon})
    if (IsaSupported(isa)) compared += std::string(" ") + IsaName(isa);
#if defined(__x86_64__) || defined(_M_X64)
  if (Q8HasAvx512Vnni()) compared += " (vpdpbusd)";
#endif
#if defined(__aarch64__)
  compared += Q8HasNeonI8mm() ? " (usmmla)" : Q8HasNeonDot() ? " (sdot)" : " (smlal)";
#endif
  std::printf("int8 kernels: %s (%d failures; compared with the reference:%s)\n", g_failures ? "FAILED" : "ok",
              g_failures, compared.empty() ? " nothing, scalar only" : compared.c_str());
  return g_failures;
}

}  // namespace layerq
