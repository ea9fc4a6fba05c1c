// f32 kernels against naive references, on every ISA this CPU supports (the scalar path
// everywhere; AVX2 and AVX-512 on x86, NEON later under qemu). Seeded; failures print seed and shape.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "kernels/f32-conv/f32-block.h"
#include "kernels/f32-conv/f32-conv.h"
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-elementwise/f32-elementwise.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-pool/f32-pool.h"

namespace layerq {
namespace {

int g_failures = 0;

std::vector<float> Random(size_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// |got - want| <= tol * mag (mag: sum of |products|, XNNPACK style).
void Check(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& mag,
           float tol, const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i) {
    const float err = std::fabs(got[i] - want[i]);
    if (!(err <= tol * std::max(mag[i], 1e-6f))) {
      std::printf("FAIL %s: element %zu got %g want %g\n", what.c_str(), i, got[i], want[i]);
      ++g_failures;
      return;
    }
  }
}

void TestConv(Isa isa, const f32::ConvShape& s, size_t n, size_t h, size_t w, unsigned seed) {
  std::mt19937 gen(seed);
  const size_t cin_g = s.cin / s.group, cout_g = s.cout / s.group;
  auto x = Random(n * s.cin * h * w, gen), wt = Random(s.cout * cin_g * s.kh * s.kw, gen), bias = Random(s.cout, gen);
  const size_t ho = f32::ConvOutDim(h, s.kh, s.sh, s.pt, s.pb, s.dh), wo = f32::ConvOutDim(w, s.kw, s.sw, s.pl, s.pr, s.dw);
  std::vector<float> want(n * s.cout * ho * wo), mag(want.size()), got(want.size(), NAN);
  for (size_t b = 0; b < n; ++b)
    for (size_t m = 0; m < s.cout; ++m)
      for (size_t oy = 0; oy < ho; ++oy)
        for (size_t ox = 0; ox < wo; ++ox) {
          double acc = bias[m], abs = std::fabs(bias[m]);
          const size_t g = m / cout_g;
          for (size_t c = 0; c < cin_g; ++c)
            for (size_t ky = 0; ky < s.kh; ++ky)
              for (size_t kx = 0; kx < s.kw; ++kx) {
                const long iy = long(oy * s.sh + ky * s.dh) - long(s.pt), ix = long(ox * s.sw + kx * s.dw) - long(s.pl);
                if (iy < 0 || ix < 0 || iy >= long(h) || ix >= long(w)) continue;
                const double p = x[((b * s.cin + g * cin_g + c) * h + iy) * w + ix] * wt[((m * cin_g + c) * s.kh + ky) * s.kw + kx];
                acc += p;
                abs += std::fabs(p);
              }
          const size_t o = ((b * s.cout + m) * ho + oy) * wo + ox;
          want[o] = std::max(float(acc), 0.0f);
          mag[o] = float(abs);
        }
  SetIsa(isa);
  f32::PackedConv pc = f32::PackConv(wt.data(), bias.data(), s, 0.0f, INFINITY);
  f32::Conv2d(pc, x.data(), n, h, w, got.data());
  char what[200];
  std::snprintf(what, sizeof what, "conv %s seed %u n %zu cin %zu cout %zu %zux%zu k %zux%zu s %zu,%zu p %zu d %zu g %zu",
                IsaName(isa), seed, n, s.cin, s.cout, h, w, s.kh, s.kw, s.sh, s.sw, s.pt, s.dh, s.group);
  Check(got, want, mag, 1e-5f, what);
  // With a residual (Add and Clip fused): bit for bit the conv's outputs, then the add and clamp.
  const auto residual = Random(got.size(), gen);
  f32::ConvResidual r;
  r.data = residual.data();
  r.clamp.min = -0.5f;
  r.clamp.max = 1.5f;
  std::vector<float> fused(got.size(), NAN);
  f32::Conv2d(pc, x.data(), n, h, w, fused.data(), &r);
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float expect = std::min(std::max(got[i] + residual[i], r.clamp.min), r.clamp.max);
    if (std::memcmp(&expect, &fused[i], sizeof expect) != 0 && bad++ == 0) {
      std::printf("FAIL %s with residual: element %zu got %.9g want %.9g\n", what, i, fused[i], expect);
      ++g_failures;
    }
  }
}

// A pointwise conv on one image's planes x_gap and out_gap floats apart beyond their pixels
// (rows of a taller image, read and written in place) against Conv2d on the planes copied out:
// equal bit for bit, and the floats between the output planes untouched.
void TestPointwiseStrided(Isa isa, size_t cin, size_t cout, size_t pixels, size_t x_gap, size_t out_gap,
                          unsigned seed) {
  std::mt19937 gen(seed);
  SetIsa(isa);
  f32::ConvShape s;
  s.cin = cin;
  s.cout = cout;
  const auto wt = Random(cout * cin, gen), bias = Random(cout, gen);
  const f32::PackedConv pc = f32::PackConv(wt.data(), bias.data(), s, 0.0f, 6.0f);
  const size_t xs = pixels + x_gap, os = pixels + out_gap;
  const auto x = Random(cin * xs, gen);
  std::vector<float> packed(cin * pixels), want(cout * pixels), got(cout * os, -7.0f);
  for (size_t c = 0; c < cin; ++c) std::copy_n(x.data() + c * xs, pixels, packed.data() + c * pixels);
  f32::Conv2d(pc, packed.data(), 1, 1, pixels, want.data());
  f32::PointwiseConv2dStrided(pc, x.data(), xs, pixels, got.data(), os);
  char what[160];
  std::snprintf(what, sizeof what, "pointwise strided %s seed %u %zu->%zu pixels %zu strides %zu, %zu", IsaName(isa),
                seed, cin, cout, pixels, xs, os);
  for (size_t c = 0; c < cout; ++c) {
    for (size_t j = 0; j < os; ++j) {
      const float g = got[c * os + j], w = j < pixels ? want[c * pixels + j] : -7.0f;
      if (std::memcmp(&g, &w, sizeof g) != 0) {
        std::printf("FAIL %s: channel %zu float %zu got %.9g want %.9g\n", what, c, j, g, w);
        ++g_failures;
        return;
      }
    }
  }
}

// An inverted-residual block (ce == 0: no expansion) against its three convs run one after the
// other on the same path: equal bit for bit, for the strip rows the L2 rule picks (forced_rows
// 0) and for forced strips (1 row, a few, all). The expansion is 1x1, or `stem` (its kernel,
// strides and pads).
void TestBlock(Isa isa, size_t cin, size_t ce, size_t cout, const f32::ConvShape& dw_shape, size_t n, size_t h,
               size_t w, size_t forced_rows, unsigned seed, const f32::ConvShape* stem = nullptr) {
  std::mt19937 gen(seed);
  SetIsa(isa);
  const size_t c = ce == 0 ? cin : ce;
  f32::ConvShape es = stem != nullptr ? *stem : f32::ConvShape{}, ps, ds = dw_shape;
  es.cin = cin; es.cout = c;
  ds.cin = ds.cout = ds.group = c;
  ps.cin = c; ps.cout = cout;
  auto pack = [&](const f32::ConvShape& s, float lo, float hi) {
    const auto wt = Random(s.cout * s.cin / s.group * s.kh * s.kw, gen), bias = Random(s.cout, gen);
    return f32::PackConv(wt.data(), bias.data(), s, lo, hi);
  };
  const f32::PackedConv e = pack(es, 0.0f, 6.0f), d = pack(ds, 0.0f, 6.0f), p = pack(ps, -INFINITY, INFINITY);
  const size_t he = ce != 0 ? f32::ConvOutDim(h, es.kh, es.sh, es.pt, es.pb, es.dh) : h;
  const size_t we = ce != 0 ? f32::ConvOutDim(w, es.kw, es.sw, es.pl, es.pr, es.dw) : w;
  const size_t ho = f32::ConvOutDim(he, ds.kh, ds.sh, ds.pt, ds.pb, ds.dh), wo = f32::ConvOutDim(we, ds.kw, ds.sw, ds.pl, ds.pr, ds.dw);
  const auto x = Random(n * cin * h * w, gen);
  std::vector<float> t1(n * c * he * we), t2(n * c * ho * wo), want(n * cout * ho * wo), got(want.size(), NAN);
  const float* src = x.data();
  if (ce != 0) {
    f32::Conv2d(e, x.data(), n, h, w, t1.data());
    src = t1.data();
  }
  f32::Conv2d(d, src, n, he, we, t2.data());
  f32::Conv2d(p, t2.data(), n, ho, wo, want.data());
  char what[240];
  std::snprintf(what, sizeof what, "block %s seed %u n %zu %zu->%zu->%zu %zux%zu k %zux%zu s %zu p %zu,%zu,%zu,%zu rows %zu%s",
                IsaName(isa), seed, n, cin, ce, cout, h, w, ds.kh, ds.kw, ds.sh, ds.pt, ds.pl, ds.pb, ds.pr, forced_rows,
                stem != nullptr ? " (stem expansion)" : "");
  if (const char* error = f32::BlockShapeError(ce != 0 ? &e : nullptr, d, p)) {
    std::printf("FAIL %s: refused (%s)\n", what, error);
    ++g_failures;
    return;
  }
  const f32::PackedBlock block = f32::PackBlock(ce != 0 ? &e : nullptr, d, p);
  f32::BlockStripRowsForTesting(forced_rows);
  f32::BlockConv2d(block, x.data(), n, h, w, got.data());
  f32::BlockStripRowsForTesting(0);
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      std::printf("FAIL %s: element %zu got %.9g want %.9g\n", what, i, got[i], want[i]);
      ++g_failures;
      return;
    }
  }
}

// Blocks whose convs do not chain are refused, with the reason.
void TestBlockShapeErrors() {
  auto conv = [](size_t cin, size_t cout, size_t k, size_t st, size_t pad, size_t g) {
    f32::ConvShape s;
    s.cin = cin; s.cout = cout; s.kh = s.kw = k; s.sh = s.sw = st; s.pt = s.pl = s.pb = s.pr = pad; s.group = g;
    const std::vector<float> wt(cout * cin / g * k * k, 0.5f);
    return f32::PackConv(wt.data(), nullptr, s, -INFINITY, INFINITY);
  };
  const f32::PackedConv e = conv(8, 16, 1, 1, 0, 1), d = conv(16, 16, 3, 1, 1, 16), p = conv(16, 4, 1, 1, 0, 1);
  f32::PackedConv dilated = d, wide_pad = conv(16, 16, 3, 1, 3, 16);
  dilated.s.dh = 2;
  const f32::PackedConv stem = conv(8, 16, 3, 2, 1, 1), stem_wide_pad = conv(8, 16, 3, 2, 3, 1);
  const f32::PackedConv grouped = conv(8, 16, 3, 1, 1, 2);
  f32::PackedConv stem_dilated = stem;
  stem_dilated.s.dh = 2;
  const struct { const f32::PackedConv* e; const f32::PackedConv* d; const f32::PackedConv* p; const char* want; } cases[] = {
      {&e, &d, &p, nullptr},
      {nullptr, &d, &p, nullptr},
      {&d, &d, &p, "expand must"},                                  // a depthwise expansion
      {&stem, &d, &p, nullptr},                                     // a 3x3 stride 2 stem
      {&grouped, &d, &p, "expand must be a group 1"},
      {&stem_dilated, &d, &p, "expand must have dilation 1"},
      {&stem_wide_pad, &d, &p, "expand's pads"},
      {&e, &p, &p, "dw must be a depthwise"},                        // a pointwise "depthwise"
      {&e, &dilated, &p, "dw must have dilation 1"},
      {&e, &wide_pad, &p, "dw pads"},
      {&e, &d, &d, "project must"},
      {&p, &d, &p, "expand's output channels"},                      // 16->4 into 16 channels
  };
  for (const auto& c : cases) {
    const char* got = f32::BlockShapeError(c.e, *c.d, *c.p);
    const bool ok = c.want == nullptr ? got == nullptr : got != nullptr && std::string(got).find(c.want) == 0;
    if (!ok) {
      std::printf("FAIL block shape: want %s got %s\n", c.want ? c.want : "(none)", got ? got : "(none)");
      ++g_failures;
    }
  }
  const f32::PackedConv p8 = conv(8, 4, 1, 1, 0, 1);
  if (f32::BlockShapeError(&e, d, p8) == nullptr) {
    std::printf("FAIL block shape: project of 8 input channels after 16 accepted\n");
    ++g_failures;
  }
}

void TestGemm(Isa isa, size_t m, size_t k, size_t n, bool trans_b, unsigned seed) {
  std::mt19937 gen(seed);
  auto a = Random(m * k, gen), b = Random(k * n, gen), bias = Random(n, gen);
  std::vector<float> want(m * n), mag(m * n), got(m * n, NAN);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double acc = bias[j], abs = std::fabs(bias[j]);
      for (size_t p = 0; p < k; ++p) {
        const double v = a[i * k + p] * (trans_b ? b[j * k + p] : b[p * n + j]);
        acc += v;
        abs += std::fabs(v);
      }
      want[i * n + j] = float(acc);
      mag[i * n + j] = float(abs);
    }
  SetIsa(isa);
  auto packed = f32::PackGemmB(b.data(), k, n, trans_b, bias.data(), 1.0f, 1.0f, -INFINITY, INFINITY);
  f32::Gemm(packed, a.data(), m, got.data());
  Check(got, want, mag, 1e-5f, std::string("gemm ") + IsaName(isa) + " seed " + std::to_string(seed) + " M " +
                                   std::to_string(m) + " K " + std::to_string(k) + " N " + std::to_string(n));
}

void TestElementwise(Isa isa, unsigned seed) {
  std::mt19937 gen(seed);
  SetIsa(isa);
  const size_t ad[4] = {3, 8, 5, 7}, bd[4] = {1, 8, 1, 1};
  auto a = Random(3 * 8 * 35, gen), b = Random(8, gen);
  std::vector<float> got(a.size()), want(a.size()), ones(a.size(), 1.0f);
  f32::Binary(f32::BinaryOp::kSub, a.data(), ad, 4, b.data(), bd, 4, got.data());
  for (size_t i = 0; i < a.size(); ++i) want[i] = a[i] - b[(i / 35) % 8];
  Check(got, want, ones, 0.0f, std::string("binary per-channel ") + IsaName(isa));
  f32::UnaryParams p;
  f32::Unary(f32::UnaryOp::kSigmoid, p, a.data(), got.data(), a.size());
  for (size_t i = 0; i < a.size(); ++i) want[i] = 1.0f / (1.0f + std::exp(-a[i]));
  Check(got, want, ones, 2e-6f, std::string("sigmoid ") + IsaName(isa));
  f32::Softmax(a.data(), 12, 70, got.data());
  for (size_t r = 0; r < 12; ++r) {
    float mx = *std::max_element(&a[r * 70], &a[r * 70] + 70);
    double sum = 0;
    for (size_t j = 0; j < 70; ++j) sum += std::exp(double(a[r * 70 + j] - mx));
    for (size_t j = 0; j < 70; ++j) want[r * 70 + j] = float(std::exp(double(a[r * 70 + j] - mx)) / sum);
  }
  Check(got, want, ones, 1e-6f, std::string("softmax ") + IsaName(isa));
}

// Every binary op (contiguous, either operand broadcast; with and without the fused clamp) and
// every unary activation of `isa` against the scalar spans, lengths around the vector widths.
void TestElementwiseSpans(Isa isa, unsigned seed) {
  std::mt19937 gen(seed);
  for (size_t n : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100}) {
    auto a = Random(n, gen), b = Random(n, gen);
    for (auto& v : b) v += v >= 0 ? 0.25f : -0.25f;  // no division by ~0
    std::vector<float> want(n), got(n), ones(n, 1.0f);
    for (int op = 0; op < 4; ++op) {
      for (int bc = 0; bc < 3; ++bc) {  // 0 both contiguous, 1 a broadcast, 2 b broadcast
        for (int clamp = 0; clamp < 2; ++clamp) {
          const size_t one[1] = {1}, full[1] = {n};
          f32::OutputClamp c;
          c.min = -0.3f, c.max = 0.6f;
          auto run = [&](Isa i, float* out) {
            SetIsa(i);
            f32::Binary(static_cast<f32::BinaryOp>(op), a.data(), bc == 1 ? one : full, 1, b.data(), bc == 2 ? one : full, 1,
                        out, clamp ? &c : nullptr);
          };
          run(Isa::kScalar, want.data());
          run(isa, got.data());
          Check(got, want, ones, 1e-6f, "binary op " + std::to_string(op) + " bc " + std::to_string(bc) + " clamp " +
                                         std::to_string(clamp) + " n " + std::to_string(n) + " " + IsaName(isa));
        }
      }
    }
    for (int op : {0, 1, 3, 4}) {  // relu, clip, hardsigmoid, hardswish
      f32::UnaryParams p;
      p.min = -0.2f, p.max = 0.5f;
      SetIsa(Isa::kScalar);
      f32::Unary(static_cast<f32::UnaryOp>(op), p, a.data(), want.data(), n);
      SetIsa(isa);
      f32::Unary(static_cast<f32::UnaryOp>(op), p, a.data(), got.data(), n);
      Check(got, want, ones, 1e-6f, "unary op " + std::to_string(op) + " n " + std::to_string(n) + " " + IsaName(isa));
    }
  }
}

void TestPool(Isa isa, unsigned seed) {
  std::mt19937 gen(seed);
  SetIsa(isa);
  f32::PoolShape s;
  s.kh = s.kw = 3;
  s.sh = s.sw = 2;
  s.pt = s.pl = s.pb = s.pr = 1;
  const size_t h = 33, w = 35, ho = f32::PoolOutDim(h, 3, 2, 1, 1, false), wo = f32::PoolOutDim(w, 3, 2, 1, 1, false);
  auto x = Random(2 * h * w, gen);
  std::vector<float> got(2 * ho * wo), want(got.size()), ones(got.size(), 1.0f);
  f32::MaxPool2d(x.data(), 1, 2, h, w, s, got.data());
  for (size_t c = 0; c < 2; ++c)
    for (size_t oy = 0; oy < ho; ++oy)
      for (size_t ox = 0; ox < wo; ++ox) {
        float m = -INFINITY;
        for (long y = long(oy * 2) - 1; y < long(oy * 2) + 2; ++y)
          for (long xx = long(ox * 2) - 1; xx < long(ox * 2) + 2; ++xx)
            if (y >= 0 && xx >= 0 && y < long(h) && xx < long(w)) m = std::max(m, x[(c * h + y) * w + xx]);
        want[(c * ho + oy) * wo + ox] = m;
      }
  Check(got, want, ones, 0.0f, std::string("maxpool ") + IsaName(isa));
}

// GlobalAvgPool: plane sizes below, at and past the AVX2 mean's 16-float loop (2x2 maps are
// MobileNetV2-w05's last), against a double mean.
void TestGlobalAvgPool(Isa isa, unsigned seed) {
  std::mt19937 gen(seed);
  SetIsa(isa);
  for (size_t hw : {1, 4, 15, 16, 17, 49, 64}) {
    const size_t planes = 7;
    auto x = Random(planes * hw, gen);
    std::vector<float> got(planes, NAN), want(planes), mag(planes);
    f32::GlobalAvgPool(x.data(), planes, hw, got.data());
    for (size_t p = 0; p < planes; ++p) {
      double sum = 0.0, abs = 0.0;
      for (size_t i = 0; i < hw; ++i) sum += x[p * hw + i], abs += std::fabs(x[p * hw + i]);
      want[p] = float(sum / double(hw));
      mag[p] = float(abs / double(hw));
    }
    Check(got, want, mag, 1e-6f, std::string("global avg pool ") + IsaName(isa) + " hw " + std::to_string(hw));
  }
}

}  // namespace

int RunF32Tests() {
  g_failures = 0;
  // Every path this CPU can run: AVX2 is forced on AVX-512 CPUs too; a missing ISA is skipped.
  std::vector<Isa> isas = {Isa::kScalar};
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (IsaSupported(isa)) isas.push_back(isa);
    else std::printf("f32: %s not supported here, skipped\n", IsaName(isa));
  }
  unsigned seed = 1;
  for (Isa isa : isas) {
    auto shape = [](size_t cin, size_t cout, size_t k, size_t s, size_t p, size_t g) {
      f32::ConvShape c;
      c.cin = cin; c.cout = cout; c.kh = c.kw = k; c.sh = c.sw = s; c.pt = c.pl = c.pb = c.pr = p; c.group = g;
      return c;
    };
    TestConv(isa, shape(3, 16, 3, 1, 1, 1), 2, 32, 32, seed++);   // stem (direct)
    TestConv(isa, shape(16, 32, 3, 2, 1, 1), 2, 32, 32, seed++);  // stride 2 (phase split)
    TestConv(isa, shape(64, 64, 3, 1, 1, 1), 2, 8, 8, seed++);    // 64@8
    TestConv(isa, shape(5, 7, 3, 2, 1, 1), 2, 9, 9, seed++);      // short rows: im2col panels
    TestConv(isa, shape(24, 13, 1, 1, 0, 1), 2, 7, 7, seed++);    // 1x1 flat
    TestConv(isa, shape(5, 13, 1, 1, 0, 1), 2, 47, 50, seed++);   // expanding a large map: tile blocks
    TestConv(isa, shape(3, 30, 3, 2, 1, 1), 1, 95, 97, seed++);   // (a 3x3 stem too)
    for (size_t hw : {1, 2, 3, 5, 7, 11})                           // 1x1 on small maps: the batch as one image
      TestConv(isa, shape(37, 21, 1, 1, 0, 1), 5, hw, hw, seed++);
    // 1x1 on packed pixel blocks: expansions in place-sized maps (>= 512 pixels, one and several
    // blocks a task, batch 1 split between threads, a partial A panel), projections on maps whose
    // pixels do not fill whole segments (tile by tile), the batch as one image with K large.
    // Each also with the direct microkernel over the packed tiles (AVX-512's branch).
    for (bool direct : {false, true}) {
      f32::PackedPointwiseDirectForTesting(direct);
      TestConv(isa, shape(16, 40, 1, 1, 0, 1), 2, 32, 32, seed++);
      TestConv(isa, shape(200, 210, 1, 1, 0, 1), 1, 24, 32, seed++);
      TestConv(isa, shape(150, 157, 1, 1, 0, 1), 3, 16, 40, seed++);
      TestConv(isa, shape(300, 22, 1, 1, 0, 1), 3, 9, 9, seed++);
      TestConv(isa, shape(300, 22, 1, 1, 0, 1), 3, 5, 5, seed++);
      TestConv(isa, shape(30, 41, 1, 1, 0, 1), 3, 14, 14, seed++);  // AVX-512: the batch as one image
      TestConv(isa, shape(30, 41, 1, 1, 0, 1), 2, 15, 15, seed++);
      TestConv(isa, shape(40, 90, 1, 1, 0, 1), 1, 7, 7, seed++);
      TestConv(isa, shape(24, 13, 1, 1, 0, 1), 2, 7, 7, seed++);
      // Fewer tiles than tasks: the A panels split between tasks (with a partial last panel).
      TestConv(isa, shape(40, 150, 1, 1, 0, 1), 9, 2, 2, seed++);
      TestConv(isa, shape(40, 150, 1, 1, 0, 1), 5, 3, 3, seed++);
    }
    f32::PackedPointwiseDirectForTesting(false);
    // In place, images not a whole number of tiles: tiles of segments across images (1x1 on 4x4
    // and 8x8 maps, a 3x3 unpadded conv with 16x16 outputs), the batch's last tile partial.
    for (size_t n : {2, 5, 7, 13}) {
      TestConv(isa, shape(19, 13, 1, 1, 0, 1), n, 4, 4, seed++);
      TestConv(isa, shape(33, 70, 1, 1, 0, 1), n, 8, 8, seed++);
    }
    TestConv(isa, shape(5, 7, 3, 1, 0, 1), 3, 18, 18, seed++);
    for (size_t n : {2, 3, 6, 7, 13})                              // 1x1 on 2x2 maps: image pairs (AVX2)
      TestConv(isa, shape(19, 13, 1, 1, 0, 1), n, 2, 2, seed++);
    TestConv(isa, shape(8, 8, 3, 2, 1, 8), 2, 17, 33, seed++);    // depthwise stride 2
    TestConv(isa, shape(8, 12, 3, 1, 1, 2), 1, 10, 12, seed++);   // grouped
    for (size_t k : {1, 3, 24, 63, 64, 65, 200})
      for (size_t n : {1, 23, 24, 25, 50}) TestGemm(isa, 5, k, n, (k + n) % 2 == 0, seed++);
    // Direct conv tiles around the segment sizes (8 pixels; AVX-512: 16 pixels, 6 per tile,
    // two-row segments on 8-pixel rows): output widths and heights, partial A panels.
    std::mt19937 pick(seed);
    for (int i = 0; i < 24; ++i) {
      static const size_t kWo[] = {8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 95, 96, 97};
      static const size_t kHo[] = {1, 2, 3, 5, 8};
      static const size_t kCout[] = {1, 3, 4, 5, 8, 13};
      const size_t wo = kWo[pick() % 14], ho = kHo[pick() % 5], cout = kCout[pick() % 6], cin = 1 + pick() % 9;
      const size_t st = pick() % 4 == 0 ? 2 : 1, pad = pick() % 3 == 0 ? 0 : 1;
      TestConv(isa, shape(cin, cout, 3, st, pad, 1), 2, (ho - 1) * st + 3 - 2 * pad, (wo - 1) * st + 3 - 2 * pad, seed++);
    }
    // Depthwise (group == cin == cout): sizes around the flat kernels' 8/16-lane vectors (small
    // planes pack several channels per vector), channels not multiples of 8/16, stride 1/2,
    // pad 0/1, dilation 1/2; the MobileNetV2-w05 shapes first.
    for (size_t hw : {16, 8, 4, 2}) {
      TestConv(isa, shape(96, 96, 3, 1, 1, 96), 2, hw, hw, seed++);
      TestConv(isa, shape(96, 96, 3, 2, 1, 96), 2, hw, hw, seed++);
    }
    // 3x3 pad 1 on rows of >= 16 pixels (the AVX2 row kernel: masked first/last vectors, two
    // rows and three vectors at a time), stride 1 and 2, odd and even sizes, ImageNet widths.
    for (size_t hw : {16, 17, 23, 31, 32, 33, 40, 41, 57, 112})
      for (size_t st : {1, 2}) TestConv(isa, shape(5, 5, 3, st, 1, 5), 2, hw, hw + st * 3, seed++);
    // 3x3 pad 1 on output rows of 8 to 31 pixels (the AVX2 padded-copy kernel: 4 output rows at a
    // time, a partial last block and vector) and on 4x4 planes (the AVX2 4x4 kernel: channel runs
    // of 32, a partial run), around and past their bounds.
    for (size_t hw : {7, 8, 10, 13, 19, 22, 23, 24, 28, 31, 32, 46, 47, 48})
      for (size_t st : {1, 2}) TestConv(isa, shape(3, 3, 3, st, 1, 3), 2, hw + 1, hw, seed++);
    for (size_t c : {1, 31, 32, 33, 70}) TestConv(isa, shape(c, c, 3, 1, 1, c), 3, 4, 4, seed++);
    for (int i = 0; i < 40; ++i) {
      static const size_t kHw[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33};
      static const size_t kC[] = {1, 3, 7, 8, 9, 16, 17, 33, 130, 200};
      const size_t c = kC[pick() % 10], h = kHw[pick() % 14], w = kHw[pick() % 14];
      f32::ConvShape d = shape(c, c, 3, 1 + pick() % 2, pick() % 2, c);
      d.dh = d.dw = 1 + (pick() % 3 == 0 ? 1 : 0);
      if (f32::ConvOutDim(h, 3, d.sh, d.pt, d.pb, d.dh) == 0 || f32::ConvOutDim(w, 3, d.sw, d.pl, d.pr, d.dw) == 0) continue;
      TestConv(isa, d, 1 + pick() % 2, h, w, seed++);
    }
    // Inverted-residual blocks: MobileNet's (3x3 pad 1, stride 1 and 2, with and without the
    // expansion), rows long enough for the depthwise row kernel (>= 16 output pixels) and not,
    // other windows (5x5, SAME-style asymmetric pads, 3x3 unpadded: the strip as a padded
    // image), odd sizes, strips of 1 row, a few rows and the whole map, batch 1 to 3.
    auto dws = [](size_t k, size_t st, size_t pt, size_t pl, size_t pb, size_t pr) {
      f32::ConvShape d;
      d.kh = d.kw = k; d.sh = d.sw = st; d.pt = pt; d.pl = pl; d.pb = pb; d.pr = pr;
      return d;
    };
    for (size_t rows : {0, 1, 2, 5, 1000}) {
      TestBlock(isa, 8, 24, 8, dws(3, 1, 1, 1, 1, 1), 2, 20, 33, rows, seed++);
      TestBlock(isa, 5, 19, 7, dws(3, 2, 1, 1, 1, 1), 3, 23, 40, rows, seed++);
      TestBlock(isa, 16, 0, 8, dws(3, 1, 1, 1, 1, 1), 2, 17, 32, rows, seed++);
      TestBlock(isa, 6, 0, 9, dws(3, 2, 1, 1, 1, 1), 1, 31, 34, rows, seed++);
      TestBlock(isa, 4, 12, 4, dws(3, 1, 1, 1, 1, 1), 2, 9, 10, rows, seed++);   // rows under 16 pixels
      TestBlock(isa, 4, 10, 6, dws(5, 1, 2, 2, 2, 2), 2, 13, 19, rows, seed++);
      TestBlock(isa, 4, 10, 6, dws(5, 2, 2, 2, 2, 2), 1, 14, 21, rows, seed++);
      TestBlock(isa, 3, 8, 5, dws(3, 2, 0, 0, 1, 1), 2, 16, 18, rows, seed++);   // SAME_UPPER, stride 2
      TestBlock(isa, 3, 8, 5, dws(3, 1, 0, 0, 0, 0), 1, 12, 20, rows, seed++);   // unpadded
      TestBlock(isa, 3, 8, 5, dws(3, 2, 0, 0, 0, 0), 2, 16, 18, rows, seed++);   // a last input row no window reads
      TestBlock(isa, 8, 16, 8, dws(3, 1, 1, 1, 1, 1), 2, 16, 16, rows, seed++);  // rows of 16 (AVX-512: whole images)
      TestBlock(isa, 8, 16, 8, dws(3, 2, 1, 1, 1, 1), 2, 16, 16, rows, seed++);  // rows of 8
      TestBlock(isa, 33, 40, 7, dws(3, 1, 1, 1, 1, 1), 3, 4, 4, rows, seed++);   // 4x4 maps
      // A stem as the expansion: 3x3 stride 2 pad 1 (MobileNetV2), SAME_UPPER (pads 0, 1), a 7x7
      // stride 2 pad 3, a 3x3 stride 1 unpadded; before stride 1 and 2 depthwise convs.
      const f32::ConvShape stems[] = {dws(3, 2, 1, 1, 1, 1), dws(3, 2, 0, 0, 1, 1), dws(7, 2, 3, 3, 3, 3),
                                      dws(3, 1, 0, 0, 0, 0)};
      TestBlock(isa, 3, 16, 8, dws(3, 1, 1, 1, 1, 1), 2, 45, 38, rows, seed++, &stems[0]);
      TestBlock(isa, 3, 12, 8, dws(3, 2, 1, 1, 1, 1), 1, 40, 64, rows, seed++, &stems[1]);
      TestBlock(isa, 4, 8, 6, dws(3, 1, 1, 1, 1, 1), 2, 37, 30, rows, seed++, &stems[2]);
      TestBlock(isa, 5, 8, 7, dws(5, 2, 2, 2, 2, 2), 1, 29, 35, rows, seed++, &stems[3]);
    }
    // Strips' convs: expansions of maps past 512 pixels and maps not a whole number of segments
    // (packed pixel blocks), the others read in place; planes apart by their pixels or more.
    for (size_t pixels : {16, 40, 224, 600, 1232}) {
      for (size_t gap : {0, 5, 112}) {
        TestPointwiseStrided(isa, 24, 40, pixels, gap, 2 * gap, seed++);
        TestPointwiseStrided(isa, 40, 8, pixels, 2 * gap, gap, seed++);
      }
    }
    TestBlock(isa, 16, 96, 24, dws(3, 2, 1, 1, 1, 1), 2, 112, 112, 0, seed++);  // MobileNetV2 at 224x224
    TestBlock(isa, 32, 0, 16, dws(3, 1, 1, 1, 1, 1), 1, 112, 112, 0, seed++);
    TestBlock(isa, 24, 144, 24, dws(3, 1, 1, 1, 1, 1), 1, 56, 56, 0, seed++);
    const f32::ConvShape stem = dws(3, 2, 1, 1, 1, 1);
    TestBlock(isa, 3, 32, 16, dws(3, 1, 1, 1, 1, 1), 2, 224, 224, 0, seed++, &stem);
    TestElementwise(isa, seed++);
    TestElementwiseSpans(isa, seed++);
    TestPool(isa, seed++);
    TestGlobalAvgPool(isa, seed++);
  }
  TestBlockShapeErrors();
  SetIsa(DetectedIsa());
  std::printf("f32 kernel tests: %d failure(s)\n", g_failures);
  return g_failures;
}

}  // namespace layerq
