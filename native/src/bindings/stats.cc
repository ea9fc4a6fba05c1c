// N-API adapter for the calibration statistics (kernels/f32-stats). Synchronous: each call is
// one pass over one activation tensor (milliseconds), split over the thread pool, and the
// observers that call it are synchronous by contract. Types and lengths are re-checked here
// (bindings/args.h).
#include <string>

#include "bindings/args.h"
#include "kernels/f32-stats/f32-stats.h"

namespace layerq {
namespace {

using args::ArrayOf;
using args::Finite;
using args::Product;
using args::Size;
using args::Typed;

// extremes(x) -> [min, max, nonfinite]
Napi::Value ExtremesJs(const Napi::CallbackInfo& info) {
  const Napi::Float32Array x = ArrayOf<float>(info[0], "x");
  const f32::Extremes e = f32::ComputeExtremes(x.Data(), x.ElementLength());
  Napi::Array out = Napi::Array::New(info.Env(), 3);
  out.Set(0u, Napi::Number::New(info.Env(), e.min));
  out.Set(1u, Napi::Number::New(info.Env(), e.max));
  out.Set(2u, Napi::Number::New(info.Env(), static_cast<double>(e.nonfinite)));
  return out;
}

// histogramAdd(x, lo, inv, counts)
Napi::Value HistogramAddJs(const Napi::CallbackInfo& info) {
  const Napi::Float32Array x = ArrayOf<float>(info[0], "x");
  const double lo = Finite(info[1], "lo"), inv = Finite(info[2], "inv");
  double* counts = Typed<double>(info[3], 1, "counts");
  f32::HistogramAdd(x.Data(), x.ElementLength(), lo, inv, counts, ArrayOf<double>(info[3], "counts").ElementLength());
  return info.Env().Undefined();
}

// histogramUpdate(x, lo, hi, inv, counts) -> [min, max, nonfinite, added (1 or 0)]
Napi::Value HistogramUpdateJs(const Napi::CallbackInfo& info) {
  const Napi::Float32Array x = ArrayOf<float>(info[0], "x");
  const double lo = Finite(info[1], "lo"), hi = Finite(info[2], "hi"), inv = Finite(info[3], "inv");
  double* counts = Typed<double>(info[4], 1, "counts");
  f32::Extremes e;
  const bool added = f32::HistogramUpdate(x.Data(), x.ElementLength(), lo, hi, inv, counts, ArrayOf<double>(info[4], "counts").ElementLength(), &e);
  Napi::Array out = Napi::Array::New(info.Env(), 4);
  out.Set(0u, Napi::Number::New(info.Env(), e.min));
  out.Set(1u, Napi::Number::New(info.Env(), e.max));
  out.Set(2u, Napi::Number::New(info.Env(), static_cast<double>(e.nonfinite)));
  out.Set(3u, Napi::Number::New(info.Env(), added ? 1 : 0));
  return out;
}

// channelSums(x, n, c, inner, sums)
Napi::Value ChannelSumsJs(const Napi::CallbackInfo& info) {
  const size_t n = Size(info[1], "n"), c = Size(info[2], "c"), inner = Size(info[3], "inner");
  const float* x = Typed<float>(info[0], Product(info.Env(), {n, c, inner}), "x");
  double* sums = Typed<double>(info[4], c, "sums");
  f32::ChannelSums(x, n, c, inner, sums);
  return info.Env().Undefined();
}

}  // namespace

void InitStats(Napi::Env env, Napi::Object exports) {
  args::ExportFunctions(env, exports, {
      {"f32Extremes", ExtremesJs},
      {"f32HistogramAdd", HistogramAddJs},
      {"f32HistogramUpdate", HistogramUpdateJs},
      {"f32ChannelSums", ChannelSumsJs},
  });
}

}  // namespace layerq
