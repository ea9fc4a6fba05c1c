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

using args::Checked;
using args::Fail;
using args::Product;
using args::Size;
using args::Sizes;

// accumulateConvGram(h Float64Array, x Float32Array, dims [4], conv {kernel, strides, pads,
// dilations, group}, positionStride) -> Promise<rows added>
Napi::Value AccumulateConvGram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<size_t> d = Sizes(info[2], 4, "dims");
  if (!info[3].IsObject()) Fail(env, "Expected an object for conv");
  const Napi::Object c = info[3].As<Napi::Object>();
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
  double* h = Checked<double, Napi::Float64Array>(info[0], napi_float64_array, Product(env, {s.group, k, k}), "h");
  const float* x = Checked<float, Napi::Float32Array>(info[1], napi_float32_array, Product(env, {s.n, s.c, s.h, s.w}), "x");
  return RunAsyncNumber(env, [s, x, stride, h] { return static_cast<double>(f32::AccumulateConvGram(s, x, stride, h)); },
                        {info[0], info[1]});
}

// accumulateGemmGram(h Float64Array, x Float32Array, rows, K, rowStride) -> Promise<rows added>
Napi::Value AccumulateGemmGram(const Napi::CallbackInfo& info) {
  const size_t rows = Size(info[2], "rows"), k = Size(info[3], "K"), stride = Size(info[4], "rowStride");
  double* h = Checked<double, Napi::Float64Array>(info[0], napi_float64_array, Product(info.Env(), {k, k}), "h");
  const float* x = Checked<float, Napi::Float32Array>(info[1], napi_float32_array, Product(info.Env(), {rows, k}), "x");
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
  if (!info[3].IsTypedArray()) Fail(env, "Expected Float32Array for scale");
  p.scale_count = info[3].As<Napi::TypedArray>().ElementLength();
  if (p.scale_count != 1 && p.scale_count != p.cout) Fail(env, "scale: expected 1 or cout elements");
  p.scale = Checked<float, Napi::Float32Array>(info[3], napi_float32_array, p.scale_count, "scale");
  if (!info[4].IsNumber() || !info[5].IsNumber() || !info[8].IsNumber()) Fail(env, "Expected numbers for qmin, qmax, damp");
  p.qmin = info[4].As<Napi::Number>().Int32Value(), p.qmax = info[5].As<Napi::Number>().Int32Value();
  if (p.qmin < -128 || p.qmax > 127 || p.qmin > p.qmax) Fail(env, "qmin/qmax must satisfy -128 <= qmin <= qmax <= 127");
  p.damp = info[8].As<Napi::Number>().DoubleValue();
  if (!(p.damp >= 0) || !std::isfinite(p.damp)) Fail(env, "damp must be finite and >= 0");
  const size_t wlen = Product(env, {p.cout, p.k});
  const float* w = Checked<float, Napi::Float32Array>(info[0], napi_float32_array, wlen, "w");
  const double* h = Checked<double, Napi::Float64Array>(info[6], napi_float64_array, Product(env, {p.group, p.k, p.k}), "h");
  int8_t* codes = Checked<int8_t, Napi::Int8Array>(info[9], napi_int8_array, wlen, "codes");
  return RunAsyncNumber(env, [p, w, h, codes] { return static_cast<double>(f32::FitRounding(p, w, h, codes)); },
                        {info[0], info[3], info[6], info[9]});
}

}  // namespace

void InitRounding(Napi::Env env, Napi::Object exports) {
  exports.Set("accumulateConvGram", Napi::Function::New(env, AccumulateConvGram));
  exports.Set("accumulateGemmGram", Napi::Function::New(env, AccumulateGemmGram));
  exports.Set("fitRounding", Napi::Function::New(env, FitRounding));
}

}  // namespace layerq
