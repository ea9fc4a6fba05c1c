// N-API adapter of the fitted-rounding kernels (kernels/f32-rounding): Gram accumulation and
// GPTQ rounding, both off the event loop. Arguments are validated in TypeScript
// (src/engine/native-rounding.ts); here only types and lengths are re-checked against the
// shapes before any memory is touched, and kernel exceptions become JS errors.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/args.h"
#include "bindings/async.h"
#include "kernels/f32-rounding/f32-rounding.h"

namespace layerq {
namespace {

using args::Fail;
using args::Product;
using args::Size;
using args::Sizes;
using args::Typed;

// accumulateConvGram(h Float64Array, x Float32Array, dims [4], conv {kernel, strides, pads,
// dilations, group}, positionStride) -> Promise<rows added>
Napi::Value AccumulateConvGram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<size_t> d = Sizes(info[2], 4, "dims");
  const Napi::Object c = args::Object(info[3], "conv");
  const std::vector<size_t> kn = Sizes(c.Get("kernel"), 2, "kernel"), st = Sizes(c.Get("strides"), 2, "strides"),
                            pd = Sizes(c.Get("pads"), 4, "pads"), dl = Sizes(c.Get("dilations"), 2, "dilations");
  f32::GramConvShape s;
  s.n = d[0], s.c = d[1], s.h = d[2], s.w = d[3];
  s.kh = kn[0], s.kw = kn[1], s.stride_h = st[0], s.stride_w = st[1];
  s.pad_top = pd[0], s.pad_left = pd[1], s.pad_bottom = pd[2], s.pad_right = pd[3];
  s.dilation_h = dl[0], s.dilation_w = dl[1];
  s.group = Size(c.Get("group"), "group");
  if (s.group == 0 || s.c % s.group) Fail(env, "group must divide dims[1]");
  const size_t stride = Size(info[4], "positionStride");
  const size_t k = Product(env, {s.c / s.group, s.kh, s.kw});
  double* h = Typed<double>(info[0], Product(env, {s.group, k, k}), "h");
  const float* x = Typed<float>(info[1], Product(env, {s.n, s.c, s.h, s.w}), "x");
  return RunAsyncNumber(env, [s, x, stride, h] { return static_cast<double>(f32::AccumulateConvGram(s, x, stride, h)); },
                        {info[0], info[1]});
}

// accumulateGemmGram(h Float64Array, x Float32Array, rows, K, rowStride) -> Promise<rows added>
Napi::Value AccumulateGemmGram(const Napi::CallbackInfo& info) {
  const size_t rows = Size(info[2], "rows"), k = Size(info[3], "K"), stride = Size(info[4], "rowStride");
  double* h = Typed<double>(info[0], Product(info.Env(), {k, k}), "h");
  const float* x = Typed<float>(info[1], Product(info.Env(), {rows, k}), "x");
  return RunAsyncNumber(info.Env(), [x, rows, k, stride, h] { return static_cast<double>(f32::AccumulateGemmGram(x, rows, k, stride, h)); },
                        {info[0], info[1]});
}

// fitRounding(w Float32Array, cout, K, scale Float32Array, qmin, qmax, h Float64Array, group,
// damp, codes Int8Array) -> Promise<groups that fell back to nearest rounding>
Napi::Value FitRounding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  f32::FitRoundingParams p;
  p.cout = Size(info[1], "cout"), p.k = Size(info[2], "K"), p.group = Size(info[7], "group");
  if (p.group == 0 || p.cout % p.group) Fail(env, "group must divide cout");
  p.scale_count = args::ArrayOf<float>(info[3], "scale").ElementLength();
  if (p.scale_count != 1 && p.scale_count != p.cout) Fail(env, "scale: expected 1 or cout elements");
  p.scale = Typed<float>(info[3], p.scale_count, "scale");
  p.qmin = args::IntIn(info[4], "qmin", -128, 127), p.qmax = args::IntIn(info[5], "qmax", p.qmin, 127);
  p.damp = args::NumberIn(info[8], "damp", 0, HUGE_VAL);
  if (!std::isfinite(p.damp)) Fail(env, "damp must be finite and >= 0");
  const size_t wlen = Product(env, {p.cout, p.k});
  const float* w = Typed<float>(info[0], wlen, "w");
  const double* h = Typed<double>(info[6], Product(env, {p.group, p.k, p.k}), "h");
  int8_t* codes = Typed<int8_t>(info[9], wlen, "codes");
  return RunAsyncNumber(env, [p, w, h, codes] { return static_cast<double>(f32::FitRounding(p, w, h, codes)); },
                        {info[0], info[3], info[6], info[9]});
}

}  // namespace

void InitRounding(Napi::Env env, Napi::Object exports) {
  args::ExportFunctions(env, exports, {
      {"accumulateConvGram", AccumulateConvGram},
      {"accumulateGemmGram", AccumulateGemmGram},
      {"fitRounding", FitRounding},
  });
}

}  // namespace layerq
