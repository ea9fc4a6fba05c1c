// N-API adapter for the calibration statistics (kernels/f32-stats). Synchronous: each call is
// one pass over one activation tensor (milliseconds), split over the thread pool, and the
// observers that call it are synchronous by contract. Lengths are re-checked here.
#include <cmath>
#include <string>

#include "bindings/async.h"
#include "kernels/f32-stats/f32-stats.h"

namespace layerq {
namespace {

size_t Count(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("Expected number for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0) {
    throw Napi::RangeError::New(v.Env(), std::string("Expected non-negative integer for ") + name);
  }
  return static_cast<size_t>(d);
}

double Finite(const Napi::Value& v, const char* name) {
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    throw Napi::TypeError::New(v.Env(), std::string("Expected finite number for ") + name);
  }
  return v.As<Napi::Number>().DoubleValue();
}

// extremes(x) -> [min, max, nonfinite]
Napi::Value ExtremesJs(const Napi::CallbackInfo& info) {
  auto arr = info[0].As<Napi::Float32Array>();
  const float* x = F32(info[0], 0, "x");
  const f32::Extremes e = f32::ComputeExtremes(x, arr.ElementLength());
  Napi::Array out = Napi::Array::New(info.Env(), 3);
  out.Set(0u, Napi::Number::New(info.Env(), e.min));
  out.Set(1u, Napi::Number::New(info.Env(), e.max));
  out.Set(2u, Napi::Number::New(info.Env(), static_cast<double>(e.nonfinite)));
  return out;
}

// histogramAdd(x, lo, inv, counts)
Napi::Value HistogramAddJs(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0], 0, "x");
  const size_t n = info[0].As<Napi::Float32Array>().ElementLength();
  const double lo = Finite(info[1], "lo"), inv = Finite(info[2], "inv");
  double* counts = DataOf<double, Napi::Float64Array>(info[3], 1, "counts");
  f32::HistogramAdd(x, n, lo, inv, counts, info[3].As<Napi::Float64Array>().ElementLength());
  return info.Env().Undefined();
}

// histogramUpdate(x, lo, hi, inv, counts) -> [min, max, nonfinite, added (1 or 0)]
Napi::Value HistogramUpdateJs(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0], 0, "x");
  const size_t n = info[0].As<Napi::Float32Array>().ElementLength();
  const double lo = Finite(info[1], "lo"), hi = Finite(info[2], "hi"), inv = Finite(info[3], "inv");
  double* counts = DataOf<double, Napi::Float64Array>(info[4], 1, "counts");
  f32::Extremes e;
  const bool added = f32::HistogramUpdate(x, n, lo, hi, inv, counts, info[4].As<Napi::Float64Array>().ElementLength(), &e);
  Napi::Array out = Napi::Array::New(info.Env(), 4);
  out.Set(0u, Napi::Number::New(info.Env(), e.min));
  out.Set(1u, Napi::Number::New(info.Env(), e.max));
  out.Set(2u, Napi::Number::New(info.Env(), static_cast<double>(e.nonfinite)));
  out.Set(3u, Napi::Number::New(info.Env(), added ? 1 : 0));
  return out;
}

// channelSums(x, n, c, inner, sums)
Napi::Value ChannelSumsJs(const Napi::CallbackInfo& info) {
  const size_t n = Count(info[1], "n"), c = Count(info[2], "c"), inner = Count(info[3], "inner");
  const float* x = F32(info[0], n * c * inner, "x");
  double* sums = DataOf<double, Napi::Float64Array>(info[4], c, "sums");
  f32::ChannelSums(x, n, c, inner, sums);
  return info.Env().Undefined();
}

}  // namespace

void InitStats(Napi::Env env, Napi::Object exports) {
  exports.Set("f32Extremes", Napi::Function::New(env, ExtremesJs));
  exports.Set("f32HistogramAdd", Napi::Function::New(env, HistogramAddJs));
  exports.Set("f32HistogramUpdate", Napi::Function::New(env, HistogramUpdateJs));
  exports.Set("f32ChannelSums", Napi::Function::New(env, ChannelSumsJs));
}

}  // namespace layerq
