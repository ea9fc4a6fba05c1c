// Depthwise Conv2d driver: flat-kernel geometry (tap offsets, lane masks, per-lane weights),
// stride-phase split copies, and (image, channel) tasks; the plane kernel where the flat
// layout does not apply.
#include <algorithm>
#include <cstring>
#include <vector>

#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/f32-dwconv/f32-dwconv.h"

namespace layerq {
namespace f32 {
namespace {

using DwConv3x3PaddedFn = void (*)(const float* x, size_t h, size_t w, float* xp, size_t ws, const float* taps,
                                   float bias, size_t stride, size_t ho, size_t wo, float min, float max,
                                   float* scratch, float* out);
using DwConv3x3Plane4x4Fn = void (*)(const float* x, size_t planes, const float* taps, const float* bias, float min,
                                     float max, float* out);

// The depthwise kernels of one ISA path, chosen once per call from ActiveIsa(): tried in order,
// the AVX-512 register-shift 3x3, the 3x3 row kernel, the flat kernel, the plane kernel.
struct DwConvUkernels {
  DwConv3x3Fn shift3x3 = nullptr;      // null: none on this path
  DwConv3x3RowsFn rows3x3 = nullptr;   // null: none on this path
  DwConvFlatFn flat = nullptr;         // null: none on this path
  DwConvSplit2Fn split2 = DwConvSplit2Scalar;
  size_t lanes = 0;                    // of the flat kernel
  DwConvPlaneFn plane = DwConvPlaneScalar;
  DwConv3x3PaddedFn padded3x3 = nullptr;  // null: none on this path
  DwConv3x3Plane4x4Fn plane4x4 = nullptr;  // null: none on this path
};

const DwConvUkernels kDwConvScalar = {};
#if defined(__x86_64__) || defined(_M_X64)
const DwConvUkernels kDwConvAvx2 = {nullptr,         DwConv3x3RowsAvx2, DwConvFlatAvx2,     DwConvSplit2Scalar, 8,
                                    DwConvPlaneAvx2, DwConv3x3PaddedAvx2, DwConv3x3Plane4x4Avx2};
// The row, padded-plane and 4x4 kernels are AVX2 on AVX-512 too: they run where the
// register-shift kernel does not apply (output rows not dividing 16) and beat the flat kernel's
// one accumulator chain a vector (28x28 and 14x14 planes: 1.6-2.7x). A 16-lane row kernel was
// slower (1.4-5.9x on 112x112 and 56x56 planes: each unaligned 64-byte load splits cache lines).
const DwConvUkernels kDwConvAvx512 = {DwConv3x3Avx512,   DwConv3x3RowsAvx2,   DwConvFlatAvx512, DwConvSplit2Avx512, 16,
                                      DwConvPlaneAvx512, DwConv3x3PaddedAvx2, DwConv3x3Plane4x4Avx2};
#endif
#if defined(__aarch64__)
const DwConvUkernels kDwConvNeon = {nullptr, nullptr, nullptr, DwConvSplit2Scalar, 0, DwConvPlaneNeon};
#endif

const DwConvUkernels& DwConvUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::kAvx512) return kDwConvAvx512;
  if (isa == Isa::kAvx2) return kDwConvAvx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) return kDwConvNeon;
#endif
  (void)isa;
  return kDwConvScalar;
}

// floor(a / b) and its remainder in [0, b), for a possibly negative.
inline void FloorDiv(long a, long b, long* q, long* r) {
  *q = a >= 0 ? a / b : -((-a + b - 1) / b);
  *r = a - *q * b;
}

// Cells of phase r of a dimension of n input cells at stride s: inputs r, r + s, ...
inline size_t PhaseCells(size_t n, size_t s, size_t r) { return r < n ? (n - r + s - 1) / s : 0; }

// Generic phase split (any stride; stride 1 is a copy to row stride wo), as DwConvSplit2Fn.
void SplitGeneric(const float* x, size_t planes, size_t h, size_t w, size_t sh, size_t sw, size_t wo,
                  size_t plane_stride, size_t phase_stride, float* dst) {
  for (size_t c = 0; c < planes; ++c) {
    const float* xc = x + c * h * w;
    for (size_t ry = 0; ry < sh; ++ry) {
      for (size_t rx = 0; rx < sw; ++rx) {
        float* d = dst + (ry * sw + rx) * phase_stride + c * plane_stride;
        const size_t hr = PhaseCells(h, sh, ry), wr = PhaseCells(w, sw, rx);
        for (size_t r = 0; r < hr; ++r) {
          const float* row = xc + (r * sh + ry) * w + rx;
          for (size_t i = 0; i < wr; ++i) d[r * wo + i] = row[i * sw];
        }
      }
    }
  }
}

// Everything the flat kernel needs for one conv call.
struct FlatGeometry {
  bool ok = false;
  bool packed = false;  // several channels per vector (ho * wo < lanes)
  bool copy = false;    // phase split / copy to row stride wo (else read x directly)
  size_t group = 1;     // channels per vector (packed)
  size_t vectors = 0;   // per block: per plane, or per image (packed)
  size_t plane_stride = 0, phase_stride = 0, buffer = 0;  // copy layout (floats)
  std::vector<int32_t> offsets;
  std::vector<uint32_t> masks, store;
  std::vector<float> lane_w, lane_bias;  // packed only
};

FlatGeometry MakeFlatGeometry(const PackedConv& pc, size_t h, size_t w, size_t ho, size_t wo, size_t lanes) {
  const ConvShape& s = pc.s;
  FlatGeometry g;
  const size_t c = s.cout, taps = s.kh * s.kw, pixels = ho * wo, phases = s.sh * s.sw;
  g.packed = pixels < lanes;
  g.group = g.packed ? lanes / pixels : 1;
  g.copy = !(s.sh == 1 && s.sw == 1 && w == wo && (!g.packed || h == ho));
  size_t rows = 0;  // phase rows stored per plane (copy)
  for (size_t r = 0; r < s.sh; ++r) rows = std::max(rows, PhaseCells(h, s.sh, r));
  if (g.copy) {
    for (size_t r = 0; r < s.sw; ++r)
      if (PhaseCells(w, s.sw, r) > wo) return g;  // a phase row would not fit the output row stride
    if (g.packed && rows > ho) return g;          // channel planes must be ho * wo apart
    g.plane_stride = g.packed ? pixels : rows * wo;
    g.phase_stride = g.packed ? c * pixels : rows * wo;
    g.buffer = phases * (g.packed ? c * pixels : rows * wo);
  }
  const long row_stride = static_cast<long>(g.copy ? wo : w);
  // Taps: phase, phase-plane shift (qy, qx) and the phase's extent.
  std::vector<long> qy(taps), qx(taps), hr(taps), wr(taps);
  g.offsets.resize(taps);
  for (size_t ky = 0, t = 0; ky < s.kh; ++ky) {
    for (size_t kx = 0; kx < s.kw; ++kx, ++t) {
      long ry, rx;
      FloorDiv(static_cast<long>(ky * s.dh) - static_cast<long>(s.pt), static_cast<long>(s.sh), &qy[t], &ry);
      FloorDiv(static_cast<long>(kx * s.dw) - static_cast<long>(s.pl), static_cast<long>(s.sw), &qx[t], &rx);
      hr[t] = static_cast<long>(PhaseCells(h, s.sh, ry));
      wr[t] = static_cast<long>(PhaseCells(w, s.sw, rx));
      const long phase = ry * static_cast<long>(s.sw) + rx;
      g.offsets[t] = static_cast<int32_t>(phase * static_cast<long>(g.phase_stride) + qy[t] * row_stride + qx[t]);
    }
  }
  g.vectors = g.packed ? (c + g.group - 1) / g.group : (pixels + lanes - 1) / lanes;
  g.masks.assign(g.vectors * taps, 0);
  g.store.assign(g.vectors, 0);
  for (size_t v = 0; v < g.vectors; ++v) {
    for (size_t l = 0; l < lanes; ++l) {
      size_t q;  // pixel of the lane in its plane
      if (g.packed) {
        const size_t ch = v * g.group + l / pixels;
        if (l / pixels >= g.group || ch >= c) continue;
        q = l % pixels;
      } else {
        q = v * lanes + l;
        if (q >= pixels) continue;
      }
      g.store[v] |= 1u << l;
      const long oy = static_cast<long>(q / wo), ox = static_cast<long>(q % wo);
      for (size_t t = 0; t < taps; ++t) {
        const long r = oy + qy[t], col = ox + qx[t];
        if (r >= 0 && r < hr[t] && col >= 0 && col < wr[t]) g.masks[v * taps + t] |= 1u << l;
      }
    }
  }
  if (g.packed) {
    g.lane_w.assign(g.vectors * taps * lanes, 0.0f);
    g.lane_bias.assign(g.vectors * lanes, 0.0f);
    for (size_t v = 0; v < g.vectors; ++v) {
      for (size_t l = 0; l < lanes; ++l) {
        const size_t ch = v * g.group + l / pixels;
        if (l / pixels >= g.group || ch >= c) continue;
        for (size_t t = 0; t < taps; ++t) g.lane_w[(v * taps + t) * lanes + l] = pc.a[ch * taps + t];
        g.lane_bias[v * lanes + l] = pc.bias[ch];
      }
    }
  }
  g.ok = true;
  return g;
}

bool FlatDepthwise(const DwConvUkernels& fk, const PackedConv& pc, const float* x, size_t n, size_t h, size_t w,
                   size_t ho, size_t wo, float* out) {
  const ConvShape& s = pc.s;
  const FlatGeometry g = MakeFlatGeometry(pc, h, w, ho, wo, fk.lanes);
  if (!g.ok) return false;
  const size_t c = s.cout, taps = s.kh * s.kw, pixels = ho * wo, plane = h * w;
  DwFlatPlan p;
  p.lanes = fk.lanes;
  p.taps = taps;
  p.step = g.packed ? g.group * pixels : fk.lanes;
  p.offsets = g.offsets.data();
  p.masks = g.masks.data();
  p.store = g.store.data();
  p.lane_weights = g.packed;
  p.min = pc.min;
  p.max = pc.max;
  const bool split2 = s.sh == 2 && s.sw == 2;
  auto split = [&](const float* src, size_t planes, float* dst) {
    if (split2) {
      fk.split2(src, planes, h, w, wo, g.plane_stride, g.phase_stride, dst);
    } else {
      SplitGeneric(src, planes, h, w, s.sh, s.sw, wo, g.plane_stride, g.phase_stride, dst);
    }
  };
  if (!g.packed) {
    // Tasks: (image, channel) planes, contiguous runs per worker; the copy buffer is per worker.
    ParallelFor(n * c, 1, [&](size_t begin, size_t end) {
      std::vector<float> buf(g.buffer);
      for (size_t i = begin; i < end; ++i) {
        const size_t ch = i % c;
        const float* src = x + i * plane;
        if (g.copy) {
          split(src, 1, buf.data());
          src = buf.data();
        }
        fk.flat(p, src, pc.a.data() + ch * taps, pc.bias.data() + ch, 0, g.vectors, out + i * pixels);
      }
    });
    return true;
  }
  // Packed: tasks are (image, run of vectors); split an image only when there are few images.
  const size_t threads = static_cast<size_t>(ParallelWidth());
  const size_t parts = std::min(g.vectors, std::max<size_t>(1, (2 * threads + n - 1) / n));
  ParallelFor(n * parts, 1, [&](size_t begin, size_t end) {
    std::vector<float> buf(g.buffer);
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / parts, part = t % parts;
      const size_t v0 = g.vectors * part / parts, v1 = g.vectors * (part + 1) / parts;
      if (v0 == v1) continue;
      const float* src = x + img * c * plane;
      if (g.copy) {
        const size_t c0 = v0 * g.group, c1 = std::min(c, v1 * g.group);
        split(src + c0 * plane, c1 - c0, buf.data() + c0 * pixels);
        src = buf.data();
      }
      fk.flat(p, src, g.lane_w.data(), g.lane_bias.data(), v0, v1, out + img * c * pixels);
    }
  });
  return true;
}

// The AVX-512 register-shift kernel's geometry: 3x3, pad 1, dilation 1, stride 1 or 2, output
// rows of a divisor of 16 pixels.
bool Shift3x3Applies(const ConvShape& s, size_t wo) {
  return s.kh == 3 && s.kw == 3 && s.dh == 1 && s.dw == 1 && s.pt == 1 && s.pl == 1 && s.pb == 1 && s.pr == 1 &&
         s.sh == s.sw && (s.sh == 1 || s.sh == 2) && 16 % wo == 0;
}

#if defined(__x86_64__) || defined(_M_X64)
// The 3x3 register-shift kernel (Dw3x3Plan): 3x3, pad 1, stride 1 or 2, dilation 1, output rows
// of wo | 16 pixels and planes of >= 16 pixels or a divisor of 16. False when it does not apply.
bool Depthwise3x3(DwConv3x3Fn kernel, DwConvSplit2Fn split2, const PackedConv& pc, const float* x, size_t n,
                  size_t h, size_t w, size_t ho, size_t wo, float* out) {
  constexpr size_t kLanes = 16;
  const ConvShape& s = pc.s;
  if (!Shift3x3Applies(s, wo)) return false;
  const size_t c = s.cout, pixels = ho * wo, plane = h * w;
  Dw3x3Plan p;
  p.wo = wo;
  p.stride = s.sh;
  // Packed: whole planes per vector (also one 16-pixel plane per vector: one call per image, not
  // per plane). wo == 16 with one row stays per plane (the row shifts need wo < 16 when packed).
  p.packed = pixels < kLanes || (pixels == kLanes && wo < kLanes);
  p.one_plane = pixels == kLanes;
  if (p.packed && kLanes % pixels != 0) return false;
  p.min = pc.min;
  p.max = pc.max;
  for (size_t l = 0; l < kLanes; ++l) {
    const size_t ox = l % wo, q = l % pixels;
    if (ox != 0) p.left |= 1u << l;
    if (ox != wo - 1) p.right |= 1u << l;
    if (q >= wo) p.top |= 1u << l;
    if (q + wo < pixels) p.bottom |= 1u << l;
  }
  const size_t run = p.packed ? c * pixels : pixels;  // floats per block
  p.vectors = (run + kLanes - 1) / kLanes;
  p.tail = run - (p.vectors - 1) * kLanes;
  // Stride 2 on even sizes: each vector regroups its own 64 input floats (no split copy).
  p.direct = s.sh == 2 && h == 2 * ho && w == 2 * wo;
  if (p.direct) {
    for (size_t k = 0; k < 4; ++k) {
      const size_t ry = k / 2, rx = k % 2;
      for (size_t l = 0; l < kLanes; ++l) {
        const size_t q = l % pixels, first = p.packed ? (l / pixels) * plane : 0;
        const size_t oy = q / wo, ox = q % wo;
        const size_t f = first + (2 * oy + ry) * w + 2 * ox + rx;  // < 64
        p.gather[k][l] = static_cast<int32_t>(f & 31);
        if (f >= 32) p.blend[k] |= 1u << l;
      }
    }
  }
  const bool split = s.sh == 2 && !p.direct;
  p.phase_stride = split ? p.vectors * kLanes : 0;
  const size_t buffer = split ? 4 * p.phase_stride : 0;
  if (!p.packed) {
    ParallelFor(n * c, 1, [&](size_t begin, size_t end) {
      std::vector<float> buf(buffer);  // cells no input maps to stay zero
      for (size_t i = begin; i < end; ++i) {
        const size_t ch = i % c;
        const float* src = x + i * plane;
        if (split) {
          split2(src, 1, h, w, wo, 0, p.phase_stride, buf.data());
          src = buf.data();
        }
        kernel(p, src, pc.a.data() + ch * 9, pc.bias.data() + ch, 0, p.vectors, out + i * pixels);
      }
    });
    return true;
  }
  // Packed: lanes / pixels whole planes per vector, per-lane weights; tasks (image, vector run).
  const size_t group = kLanes / pixels;
  std::vector<float> lane_w(p.one_plane ? 0 : p.vectors * 9 * kLanes, 0.0f);
  std::vector<float> lane_bias(p.one_plane ? 0 : p.vectors * kLanes, 0.0f);
  for (size_t v = 0; v < p.vectors && !p.one_plane; ++v) {
    for (size_t l = 0; l < kLanes; ++l) {
      const size_t ch = v * group + l / pixels;
      if (ch >= c) continue;
      for (size_t t = 0; t < 9; ++t) lane_w[(v * 9 + t) * kLanes + l] = pc.a[ch * 9 + t];
      lane_bias[v * kLanes + l] = pc.bias[ch];
    }
  }
  const size_t threads = static_cast<size_t>(ParallelWidth());
  const size_t parts = std::min(p.vectors, std::max<size_t>(1, (2 * threads + n - 1) / n));
  ParallelFor(n * parts, 1, [&](size_t begin, size_t end) {
    std::vector<float> buf(buffer);
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / parts, part = t % parts;
      const size_t v0 = p.vectors * part / parts, v1 = p.vectors * (part + 1) / parts;
      if (v0 == v1) continue;
      const float* src = x + img * c * plane;
      if (split) {
        const size_t c0 = v0 * group, c1 = std::min(c, v1 * group);
        split2(src + c0 * plane, c1 - c0, h, w, wo, pixels, p.phase_stride, buf.data() + c0 * pixels);
        src = buf.data();
      }
      kernel(p, src, p.one_plane ? pc.a.data() : lane_w.data(), p.one_plane ? pc.bias.data() : lane_bias.data(), v0,
             v1, out + img * c * pixels);
    }
  });
  return true;
}

#endif  // x86-64: the register-shift kernel is AVX-512 only

// The row kernel's geometry: 3x3, pad 1, dilation 1, stride 1 or 2, output rows of at least 16
// pixels (shorter rows: the flat kernel wastes fewer lanes).
bool Rows3x3Applies(const ConvShape& s, size_t wo) {
  return s.kh == 3 && s.kw == 3 && s.dh == 1 && s.dw == 1 && s.pt == 1 && s.pl == 1 && s.pb == 1 && s.pr == 1 &&
         s.sh == s.sw && (s.sh == 1 || s.sh == 2) && wo >= 16;
}

// 3x3, pad 1, dilation 1, stride 1 or 2 row by row (DwConv3x3RowsFn): (image, channel) tasks.
bool Depthwise3x3Rows(DwConv3x3RowsFn kernel, const PackedConv& pc, const float* x, size_t n, size_t h, size_t w, size_t ho, size_t wo,
                      float* out) {
  const ConvShape& s = pc.s;
  if (!Rows3x3Applies(s, wo)) return false;
  const size_t c = s.cout;
  ParallelFor(n * c, 1, [&](size_t begin, size_t end) {
    const std::vector<float> zero(w + 16, 0.0f);
    for (size_t i = begin; i < end; ++i) {
      const size_t ch = i % c;
      kernel(x + i * h * w, 0, h, w, pc.a.data() + ch * 9, pc.bias[ch], s.sh, 0, ho, wo, pc.min, pc.max, zero.data(),
             out + i * ho * wo);
    }
  });
  return true;
}

// 3x3, pad 1, dilation 1, stride 1 or 2 on planes with output rows of 8 (stride 2: 4) to 31 (stride 2:
// 23) pixels (CIFAR MobileNet's 16x16 and 8x8 maps, ImageNet's 28x28): each plane copied into a
// zero-padded buffer so that no load is masked (the row kernel masks both vectors of a 16-pixel row
// and the flat kernel every tap of an 8-pixel row), four output rows at a time: (image, channel)
// tasks. On 28x28 stride 1 it beats the row kernel 1.35-1.5x (batch 16); at stride 2 onto 28x28
// and at 56x56 they measured level, at 112x112 the row kernel is faster.
bool Depthwise3x3Padded(DwConv3x3PaddedFn kernel, const PackedConv& pc, const float* x, size_t n, size_t h,
                        size_t w, size_t ho, size_t wo, float* out) {
  const ConvShape& s = pc.s;
  if (s.kh != 3 || s.kw != 3 || s.dh != 1 || s.dw != 1 || s.pt != 1 || s.pl != 1 || s.pb != 1 || s.pr != 1 ||
      s.sh != s.sw || (s.sh != 1 && s.sh != 2) || wo < (s.sh == 2 ? 4 : 8) || wo >= (s.sh == 2 ? 24 : 32)) {
    return false;  // rows of < 8 pixels (stride 2: < 4): the 4x4 and flat kernels waste fewer lanes
  }
  const size_t st = s.sh, c = s.cout, wo8 = (wo + 7) / 8 * 8, ho4 = (ho + 3) / 4 * 4;
  const size_t ws = std::max(w + 2, st == 1 ? wo8 + 2 : 2 * wo8 + 1);
  const size_t hp = std::max(h + 2, st * (ho4 - 1) + 3);
  ParallelFor(n * c, 1, [&](size_t begin, size_t end) {
    std::vector<float> buf(hp * ws + wo8, 0.0f);  // padding cells stay zero; the tail is the scratch row
    float* scratch = buf.data() + hp * ws;
    for (size_t i = begin; i < end; ++i) {
      const size_t ch = i % c;
      kernel(x + i * h * w, h, w, buf.data(), ws, pc.a.data() + ch * 9, pc.bias[ch], st, ho, wo, pc.min, pc.max,
             scratch, out + i * ho * wo);
    }
  });
  return true;
}

// 3x3, pad 1, stride 1 on 4x4 planes (CIFAR MobileNet's 4x4 stages): (image, channel run) tasks.
bool Depthwise3x3Plane4x4(DwConv3x3Plane4x4Fn kernel, const PackedConv& pc, const float* x, size_t n, size_t h,
                          size_t w, float* out) {
  const ConvShape& s = pc.s;
  if (s.kh != 3 || s.kw != 3 || s.dh != 1 || s.dw != 1 || s.pt != 1 || s.pl != 1 || s.pb != 1 || s.pr != 1 ||
      s.sh != 1 || s.sw != 1 || h != 4 || w != 4) {
    return false;
  }
  const size_t c = s.cout, runs = (c + 31) / 32;  // runs of 32 channels: 2 KiB of input a task
  ParallelFor(n * runs, 1, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / runs, c0 = (t % runs) * 32, c1 = std::min(c, c0 + 32);
      const size_t first = (img * c + c0) * 16;
      kernel(x + first, c1 - c0, pc.a.data() + c0 * 9, pc.bias.data() + c0, pc.min, pc.max, out + first);
    }
  });
  return true;
}

}  // namespace

bool DepthwiseRowsExact(const PackedConv& pc, size_t wo) {
  return DwConvUkernelsFor(ActiveIsa()).shift3x3 == nullptr || !Shift3x3Applies(pc.s, wo);
}

bool DepthwiseConv2dRows(const PackedConv& pc, const float* x, size_t row0, size_t x_stride, size_t h, size_t w,
                         size_t y0, size_t y1, float* out) {
  const ConvShape& s = pc.s;
  const size_t wo = ConvOutDim(w, s.kw, s.sw, s.pl, s.pr, s.dw);
  const DwConv3x3RowsFn kernel = DwConvUkernelsFor(ActiveIsa()).rows3x3;
  if (kernel == nullptr || !Rows3x3Applies(s, wo)) return false;
  const std::vector<float> zero(w + 16, 0.0f);
  for (size_t ch = 0; ch < s.cout; ++ch) {
    kernel(x + ch * x_stride, row0, h, w, pc.a.data() + ch * 9, pc.bias[ch], s.sh, y0, y1, wo, pc.min, pc.max,
           zero.data(), out + ch * (y1 - y0) * wo);
  }
  return true;
}

void DepthwiseConv2d(const PackedConv& pc, const float* x, size_t n, size_t h, size_t w, float* out) {
  const ConvShape& s = pc.s;
  const size_t ho = ConvOutDim(h, s.kh, s.sh, s.pt, s.pb, s.dh);
  const size_t wo = ConvOutDim(w, s.kw, s.sw, s.pl, s.pr, s.dw);
  if (n == 0 || ho == 0 || wo == 0) return;
  const DwConvUkernels& uk = DwConvUkernelsFor(ActiveIsa());
#if defined(__x86_64__) || defined(_M_X64)
  if (uk.shift3x3 != nullptr && Depthwise3x3(uk.shift3x3, uk.split2, pc, x, n, h, w, ho, wo, out)) return;
#endif
  if (uk.plane4x4 != nullptr && Depthwise3x3Plane4x4(uk.plane4x4, pc, x, n, h, w, out)) return;
  if (uk.padded3x3 != nullptr && Depthwise3x3Padded(uk.padded3x3, pc, x, n, h, w, ho, wo, out)) return;
  if (uk.rows3x3 != nullptr && Depthwise3x3Rows(uk.rows3x3, pc, x, n, h, w, ho, wo, out)) return;
  if (uk.flat != nullptr && FlatDepthwise(uk, pc, x, n, h, w, ho, wo, out)) return;
  const DwConvPlaneFn plane = uk.plane;
  const size_t c = s.cout, taps = s.kh * s.kw;
  ParallelFor(n * c, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const size_t ch = i % c;
      plane(x + i * h * w, h, w, pc.a.data() + ch * taps, pc.bias[ch], s, ho, wo, pc.min, pc.max,
            out + i * ho * wo);
    }
  });
}

}  // namespace f32
}  // namespace layerq
