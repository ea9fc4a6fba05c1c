// Kernel timing for `layerq bench` (kernel-bench.h): seeded random data, the reference check,
// then samples of back-to-back calls.
#include "bench/kernel-bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

#include "common/threadpool.h"
#include "kernels/f32-conv/f32-conv.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/q8-conv/q8-conv.h"
#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

size_t OutDim(size_t in, size_t k, size_t stride, size_t pad0, size_t pad1, size_t dilation) {
  const size_t padded = in + pad0 + pad1, span = (k - 1) * dilation + 1;
  return padded < span || stride == 0 ? 0 : (padded - span) / stride + 1;
}

// Restores the active ISA and the thread count on scope exit.
class Restore {
 public:
  Restore() : isa_(ActiveIsa()), threads_(ThreadCount()) {}
  ~Restore() {
    SetIsa(isa_);
    if (ThreadCount() != threads_) SetThreadCount(threads_);
  }

 private:
  Isa isa_;
  int threads_;
};

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Samples {
  std::vector<double> wall, cpu;  // per call, sorted
  size_t calls = 0;
};

// Per-call wall and process CPU seconds of 7 samples, each long enough to take min_seconds / 7.
Samples TimeCalls(const std::function<void()>& call, double min_seconds) {
  using Clock = std::chrono::steady_clock;
  constexpr int kSamples = 7;
  call();  // warm-up: caches, thread pool, page faults of the output
  auto t0 = Clock::now();
  call();
  const double one = std::max(1e-7, std::chrono::duration<double>(Clock::now() - t0).count());
  const size_t per = std::max<size_t>(1, static_cast<size_t>(min_seconds / kSamples / one));
  Samples s;
  s.calls = 1;
  for (int i = 0; i < kSamples; ++i) {
    const double c0 = ProcessCpuSeconds();
    t0 = Clock::now();
    for (size_t c = 0; c < per; ++c) call();
    s.wall.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(per));
    s.cpu.push_back((ProcessCpuSeconds() - c0) / static_cast<double>(per));
    s.calls += per;
  }
  std::sort(s.wall.begin(), s.wall.end());
  std::sort(s.cpu.begin(), s.cpu.end());
  return s;
}

void Record(const Samples& t, KernelBenchResult* r) {
  r->best_seconds = t.wall.front();
  r->median_seconds = t.wall[t.wall.size() / 2];
  r->cpu_seconds = t.cpu.front();
  r->calls = t.calls;
}

// The images of the check: all of them, or as many as keep it under ~3e8 MACs (the scalar
// reference runs about 1 ns a MAC).
size_t CheckImages(const BenchLayerShape& s) {
  BenchLayerShape one = s;
  one.n = 1;
  const double per = std::max(1.0, one.Macs());
  return std::max<size_t>(1, std::min(s.n, static_cast<size_t>(3e8 / per)));
}

struct Int8Data {
  std::vector<uint8_t> x;
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  Q8QuantParams q;
};

// Weights of `bits` bits (8: [-127, 127]; 4: [-8, 7]).
Int8Data MakeInt8(const BenchLayerShape& s, size_t k_per_out, size_t x_count, int bits) {
  std::mt19937 rng(12345);
  Int8Data d;
  d.x.resize(x_count);
  for (auto& v : d.x) v = static_cast<uint8_t>(rng() & 0xff);
  d.w.resize(s.cout * k_per_out);
  const int low = bits == 8 ? -127 : -(1 << (bits - 1)), levels = bits == 8 ? 255 : 1 << bits;
  for (auto& v : d.w) v = static_cast<int8_t>(static_cast<int>(rng() % levels) + low);
  d.bias.resize(s.cout);
  for (auto& v : d.bias) v = static_cast<int32_t>(rng() % 2001) - 1000;
  // Scales that spread the requantized outputs over most of [0, 255] (8-bit weights: acc std
  // ~ 5400 sqrt(K); the weights' spread scales it).
  d.q.inputScale = 0.02f;
  d.q.inputZero = 128;
  d.q.weightScale.resize(s.cout);
  for (size_t c = 0; c < s.cout; ++c) d.q.weightScale[c] = 0.001f * (1.0f + 0.01f * static_cast<float>(c % 17));
  const float spread = static_cast<float>(levels) / 255.0f;
  const float multiplier = 40.0f / (5400.0f * spread * std::sqrt(static_cast<float>(k_per_out)));
  d.q.output.kind = Q8OutputKind::kUint8;
  d.q.output.zero = 128;
  d.q.output.qmin = 0;
  d.q.output.qmax = 255;
  d.q.output.outputScale = d.q.inputScale * 0.001f / multiplier;
  return d;
}

KernelBenchResult BenchInt8(const BenchLayerShape& s, Isa isa, double min_seconds, bool check, int bits) {
  KernelBenchResult r;
  const size_t k = s.cin / s.group * s.kh * s.kw;
  const size_t in_per = s.gemm ? s.cin : s.cin * s.h * s.w;
  const size_t out_per = s.gemm ? s.cout : s.cout * s.OutH() * s.OutW();
  const Int8Data d = MakeInt8(s, k, s.n * in_per, bits);
  std::vector<uint8_t> out(s.n * out_per), ref;
  r.checked_images = CheckImages(s);
  std::function<void(size_t, uint8_t*)> run, reference;
  std::unique_ptr<Q8PackedConv> conv;
  std::unique_ptr<Q8PackedWeights> gemm;
  if (s.gemm) {
    gemm = std::make_unique<Q8PackedWeights>(d.w.data(), d.bias.data(), 1, s.cout, s.cin, d.q);
    run = [&](size_t n, uint8_t* o) { Q8Gemm(*gemm, d.x.data(), n, o); };
    reference = [&](size_t n, uint8_t* o) { Q8GemmScalar(*gemm, d.x.data(), n, o); };
  } else {
    Q8ConvShape cs;
    cs.cin = s.cin, cs.cout = s.cout, cs.kh = s.kh, cs.kw = s.kw, cs.group = s.group;
    cs.stride_h = s.stride_h, cs.stride_w = s.stride_w, cs.dilation_h = s.dilation_h, cs.dilation_w = s.dilation_w;
    cs.pad_top = s.pad_top, cs.pad_left = s.pad_left, cs.pad_bottom = s.pad_bottom, cs.pad_right = s.pad_right;
    conv = std::make_unique<Q8PackedConv>(cs, d.w.data(), d.bias.data(), d.q);
    run = [&](size_t n, uint8_t* o) { Q8Conv2d(*conv, d.x.data(), n, s.h, s.w, o); };
    reference = [&](size_t n, uint8_t* o) { Q8Conv2dScalar(*conv, d.x.data(), n, s.h, s.w, o); };
  }
  SetIsa(isa);
  if (check) {
    const size_t nc = r.checked_images;
    ref.assign(nc * out_per, 0);
    reference(nc, ref.data());
    std::fill(out.begin(), out.end(), uint8_t{0x5a});
    run(nc, out.data());
    for (size_t i = 0; i < ref.size(); ++i) r.mismatches += out[i] != ref[i];
  } else {
    r.checked_images = 0;
  }
  r.passed = r.mismatches == 0;
  if (!r.passed) return r;
  Record(TimeCalls([&] { run(s.n, out.data()); }, min_seconds), &r);
  return r;
}

KernelBenchResult BenchF32(const BenchLayerShape& s, Isa isa, double min_seconds, bool check) {
  KernelBenchResult r;
  const size_t k = s.cin / s.group * s.kh * s.kw;
  const size_t in_per = s.gemm ? s.cin : s.cin * s.h * s.w;
  const size_t out_per = s.gemm ? s.cout : s.cout * s.OutH() * s.OutW();
  std::mt19937 rng(54321);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(s.n * in_per), w(s.cout * k), bias(s.cout);
  for (auto& v : x) v = u(rng);
  for (auto& v : w) v = u(rng);
  for (auto& v : bias) v = u(rng);
  std::vector<float> out(s.n * out_per);
  std::function<void(size_t, float*)> run;
  f32::PackedConv conv;
  f32::PackedGemmB gemm;
  if (s.gemm) {
    gemm = f32::PackGemmB(w.data(), s.cin, s.cout, true, bias.data(), 1.0f, 1.0f, -INFINITY, INFINITY);
    run = [&](size_t n, float* o) { f32::Gemm(gemm, x.data(), n, o); };
  } else {
    f32::ConvShape cs;
    cs.cin = s.cin, cs.cout = s.cout, cs.kh = s.kh, cs.kw = s.kw, cs.group = s.group;
    cs.sh = s.stride_h, cs.sw = s.stride_w, cs.dh = s.dilation_h, cs.dw = s.dilation_w;
    cs.pt = s.pad_top, cs.pl = s.pad_left, cs.pb = s.pad_bottom, cs.pr = s.pad_right;
    conv = f32::PackConv(w.data(), bias.data(), cs, -INFINITY, INFINITY);
    run = [&](size_t n, float* o) { f32::Conv2d(conv, x.data(), n, s.h, s.w, o); };
  }
  r.checked_images = check ? CheckImages(s) : 0;
  const size_t nc = r.checked_images;
  std::vector<float> ref(nc * out_per);
  if (check) {
    SetIsa(Isa::kScalar);
    run(nc, ref.data());
  }
  SetIsa(isa);
  if (check) run(nc, out.data());
  double peak = 1.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    peak = std::max(peak, static_cast<double>(std::fabs(ref[i])));
    const double diff = std::fabs(static_cast<double>(out[i]) - ref[i]);
    r.max_abs_diff = std::isnan(diff) ? INFINITY : std::max(r.max_abs_diff, diff);
  }
  r.tolerance = 1e-5 * peak;
  r.passed = r.max_abs_diff <= r.tolerance;
  if (!r.passed) return r;
  Record(TimeCalls([&] { run(s.n, out.data()); }, min_seconds), &r);
  return r;
}

}  // namespace

size_t BenchLayerShape::OutH() const { return gemm ? 1 : OutDim(h, kh, stride_h, pad_top, pad_bottom, dilation_h); }
size_t BenchLayerShape::OutW() const { return gemm ? 1 : OutDim(w, kw, stride_w, pad_left, pad_right, dilation_w); }

double BenchLayerShape::Macs() const {
  const double k = static_cast<double>(group ? cin / group : 0) * static_cast<double>(kh * kw);
  return static_cast<double>(n) * static_cast<double>(cout) * static_cast<double>(OutH() * OutW()) * k;
}

std::string BenchLayerShape::Invalid() const {
  if (!n || !cin || !cout || !h || !w || !kh || !kw || !group) return "zero dimension";
  if (!stride_h || !stride_w || !dilation_h || !dilation_w) return "zero stride or dilation";
  if (cin % group || cout % group) return "channels not divisible by group";
  if (gemm && (group != 1 || kh != 1 || kw != 1 || h != 1 || w != 1 || stride_h != 1 || stride_w != 1 ||
               pad_top || pad_left || pad_bottom || pad_right)) {
    return "a GEMM has no spatial dims, strides, pads or groups";
  }
  if (!OutH() || !OutW()) return "kernel larger than the padded input";
  if (Macs() > 1e12) return "shape too large";
  return "";
}

KernelBenchResult BenchLayer(const BenchLayerShape& shape, BenchDtype dtype, Isa isa, int threads,
                             double min_seconds, bool check) {
  const std::string bad = shape.Invalid();
  if (!bad.empty()) throw std::invalid_argument("bench layer: " + bad);
  if (!IsaSupported(isa)) throw std::invalid_argument(std::string("bench layer: this CPU lacks ISA ") + IsaName(isa));
  Restore restore;
  if (ThreadCount() != std::max(1, threads)) SetThreadCount(std::max(1, threads));
  if (dtype == BenchDtype::kF32) return BenchF32(shape, isa, min_seconds, check);
  return BenchInt8(shape, isa, min_seconds, check, dtype == BenchDtype::kW4A8 ? 4 : 8);
}

}  // namespace layerq
