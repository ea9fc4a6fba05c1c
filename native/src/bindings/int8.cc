// N-API adapter of the int8 kernels (kernels/q8-*): packed weights live in type-tagged handles
// (args::WrapHandle), conv/GEMM and quantize calls run through RunSized (async.h). Arguments are
// validated in TypeScript (src/engine/native-int8.ts); here only types and lengths are
// re-checked against the shapes (bindings/args.h) before any memory is touched.
#include <array>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/args.h"
#include "bindings/async.h"
#include "kernels/q8-conv/q8-conv.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/q8-quantize/q8-quantize.h"

namespace layerq {
namespace args {
template <> struct HandleTag<Q8PackedConv> : HandleTagOf<0x0c8c0000000000b1ULL> {
  static constexpr const char* kName = "packed int8 conv weights";
};
template <> struct HandleTag<Q8PackedWeights> : HandleTagOf<0x0c860000000000b2ULL> {
  static constexpr const char* kName = "packed int8 GEMM weights";
};
}  // namespace args

namespace {

using args::Fail;
using args::IntIn;
using args::Product;
using args::Size;
using args::Typed;

std::vector<size_t> Dims(const Napi::Value& v, size_t rank, const char* name) { return args::Sizes(v, rank, name); }

// quant: { inputScale, inputZero, weightScale: Float32Array, output: { kind, ... } }.
Q8QuantParams ParseQuant(const Napi::Object& o, size_t channels) {
  Q8QuantParams q;
  q.inputScale = args::Float(o.Get("inputScale"), "inputScale");
  q.inputZero = IntIn(o.Get("inputZero"), "inputZero", 0, 255);
  const Napi::TypedArrayOf<float> ws = args::ArrayOf<float>(o.Get("weightScale"), "weightScale");
  const size_t n = ws.ElementLength();
  if (n != 1 && n != channels) Fail(o.Env(), "weightScale: expected 1 or " + std::to_string(channels) + " elements");
  q.weightScale.assign(ws.Data(), ws.Data() + n);
  const Napi::Object out = args::Object(o.Get("output"), "output");
  const std::string kind = args::String(out.Get("kind"), "output.kind");
  if (kind == "uint8") {
    q.output.kind = Q8OutputKind::kUint8;
    q.output.outputScale = args::Float(out.Get("scale"), "output.scale");
    q.output.zero = IntIn(out.Get("zero"), "output.zero", 0, 255);
    q.output.qmin = IntIn(out.Get("min"), "output.min", 0, 255);
    q.output.qmax = IntIn(out.Get("max"), "output.max", 0, 255);
  } else if (kind == "float32") {
    q.output.kind = Q8OutputKind::kFloat32;
    if (out.Get("min").IsNumber()) q.output.fmin = args::Float(out.Get("min"), "output.min");
    if (out.Get("max").IsNumber()) q.output.fmax = args::Float(out.Get("max"), "output.max");
  } else {
    Fail(o.Env(), "output.kind must be 'uint8' or 'float32'");
  }
  return q;
}

// Output buffer of the packed kind (Uint8Array or Float32Array) with `count` elements.
void* OutputOf(const Napi::Value& v, Q8OutputKind kind, size_t count) {
  if (kind == Q8OutputKind::kUint8) return Typed<uint8_t>(v, count, "out");
  return Typed<float>(v, count, "out");
}

// q8PackConv(weight Int8Array, wDims [4], bias Int32Array | null, conv {strides, pads,
// dilations, group}, quant) -> External
Napi::Value PackConv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<size_t> wd = Dims(info[1], 4, "wDims");
  const Napi::Object c = args::Object(info[3], "conv");
  const std::vector<size_t> st = Dims(c.Get("strides"), 2, "strides"), pd = Dims(c.Get("pads"), 4, "pads"),
                            dl = Dims(c.Get("dilations"), 2, "dilations");
  Q8ConvShape s;
  s.group = Size(c.Get("group"), "group");
  s.cout = wd[0], s.cin = wd[1] * s.group, s.kh = wd[2], s.kw = wd[3];
  s.stride_h = st[0], s.stride_w = st[1];
  s.pad_top = pd[0], s.pad_left = pd[1], s.pad_bottom = pd[2], s.pad_right = pd[3];
  s.dilation_h = dl[0], s.dilation_w = dl[1];
  // No size derived from these may overflow in the kernels (TypeScript refuses them first).
  for (size_t v : {s.kh, s.kw, s.stride_h, s.stride_w, s.pad_top, s.pad_left, s.pad_bottom, s.pad_right, s.dilation_h, s.dilation_w}) {
    if (v > 65535) Fail(env, "q8 conv: kernel, stride, pad or dilation above 65535");
  }
  const int8_t* w = Typed<int8_t>(info[0], Product(env, wd), "weight");
  const int32_t* bias = info[2].IsNull() || info[2].IsUndefined() ? nullptr : Typed<int32_t>(info[2], s.cout, "bias");
  const Q8QuantParams q = ParseQuant(args::Object(info[4], "quant"), s.cout);
  return args::NewHandle<Q8PackedConv>(env, s, w, bias, q);
}

// A residual of q8Conv2d: { data: Float32Array | Uint8Array (codes), scale, zero (of the codes),
// clamp: Float32Array [2] | null, sum: { scale, zero, qmin, qmax }, codes: Uint8Array | null,
// fake: Float32Array | null }, arrays of `size` elements. The spec points at scale and zero here:
// the job re-points them at its own copy.
struct ResidualArgs {
  Q8ConvResidual r;
  std::array<float, 2> clamp{};
  float scale = 1;
  int32_t zero = 0;
};

ResidualArgs ParseResidual(const Napi::Object& o, size_t size) {
  Napi::Env env = o.Env();
  ResidualArgs a;
  const Napi::Value data = o.Get("data");
  if (args::IsArrayOf<uint8_t>(data)) {
    const float scale = args::Float(o.Get("scale"), "residual.scale");
    if (!(scale > 0) || !std::isfinite(scale)) Fail(env, "residual.scale must be finite and > 0");
    a.r.residual = Q8AddOperand::Codes(Typed<uint8_t>(data, size, "residual.data"), scale, IntIn(o.Get("zero"), "residual.zero", 0, 255));
  } else {
    a.r.residual = Q8AddOperand::Values(Typed<float>(data, size, "residual.data"));
  }
  const Napi::Value clamp = o.Get("clamp");
  if (!clamp.IsNull() && !clamp.IsUndefined()) {
    const float* c = Typed<float>(clamp, 2, "residual.clamp");
    a.clamp = {c[0], c[1]};
    a.r.clamp = a.clamp.data();
  }
  const Napi::Object sum = args::Object(o.Get("sum"), "residual.sum");
  a.scale = args::Float(sum.Get("scale"), "residual.sum.scale");
  a.r.quant.qmin = IntIn(sum.Get("qmin"), "residual.sum.qmin", 0, 255);
  a.r.quant.qmax = IntIn(sum.Get("qmax"), "residual.sum.qmax", a.r.quant.qmin, 255);
  a.zero = IntIn(sum.Get("zero"), "residual.sum.zero", a.r.quant.qmin, a.r.quant.qmax);
  if (!(a.scale > 0) || !std::isfinite(a.scale)) Fail(env, "residual.sum.scale must be finite and > 0");
  const Napi::Value codes = o.Get("codes"), fake = o.Get("fake");
  if (!codes.IsNull() && !codes.IsUndefined()) a.r.codes = Typed<uint8_t>(codes, size, "residual.codes");
  if (!fake.IsNull() && !fake.IsUndefined()) a.r.fake = Typed<float>(fake, size, "residual.fake");
  if (!a.r.codes && !a.r.fake) Fail(env, "residual: codes or fake must be given");
  return a;
}

// q8Conv2d(packed, x Uint8Array, xDims [4], out[, residual]) -> Promise<void>; with a residual
// (ParseResidual), also the codes and/or floats of conv + residual (Q8ConvResidual).
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto conv = args::UnwrapHandle<Q8PackedConv>(info[0], "packed");
  const std::vector<size_t> xd = Dims(info[2], 4, "xDims");
  const Q8ConvShape& s = conv->shape();
  if (xd[1] != s.cin) Fail(env, "xDims[1] must equal the weight's input channels " + std::to_string(s.cin));
  const size_t ho = s.OutH(xd[2]), wo = s.OutW(xd[3]);
  if (!ho || !wo) Fail(env, "kernel larger than the padded input");
  const uint8_t* x = Typed<uint8_t>(info[1], xd[0] * xd[1] * xd[2] * xd[3], "x");
  const size_t out_size = Product(env, {xd[0], s.cout, ho, wo});
  void* out = OutputOf(info[3], conv->weights().quant().output.kind, out_size);
  const double macs = static_cast<double>(xd[0]) * s.cout * ho * wo * conv->weights().k();
  if (info.Length() < 5 || info[4].IsUndefined() || info[4].IsNull()) {
    return RunSized(env, macs <= kSyncMacs, [conv, x, xd, out] { Q8Conv2d(*conv, x, xd[0], xd[2], xd[3], out); },
                    {info[1], info[3]});
  }
  const Napi::Object o = args::Object(info[4], "residual");
  const ResidualArgs a = ParseResidual(o, out_size);
  std::vector<Napi::Value> keep = {info[1], info[3], o.Get("data")};
  if (a.r.codes) keep.push_back(o.Get("codes"));
  if (a.r.fake) keep.push_back(o.Get("fake"));
  return RunSized(env, macs <= kSyncMacs, [conv, x, xd, out, a] {
    ResidualArgs job = a;  // the spec points into this copy
    job.r.quant.scale = &job.scale, job.r.quant.zero = &job.zero;
    if (job.r.clamp) job.r.clamp = job.clamp.data();
    Q8Conv2d(*conv, x, xd[0], xd[2], xd[3], out, &job.r);
  }, keep);
}

// q8PackGemm(b Int8Array, bDims [2], transB, bias Int32Array | null, quant) -> External
Napi::Value PackGemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<size_t> bd = Dims(info[1], 2, "bDims");
  const bool trans = info[2].ToBoolean();
  const size_t n = trans ? bd[0] : bd[1], k = trans ? bd[1] : bd[0];
  const int8_t* b = Typed<int8_t>(info[0], Product(env, {n, k}), "b");
  const int32_t* bias = info[3].IsNull() || info[3].IsUndefined() ? nullptr : Typed<int32_t>(info[3], n, "bias");
  const Q8QuantParams q = ParseQuant(args::Object(info[4], "quant"), n);
  std::vector<int8_t> bt;
  if (!trans) {  // [K][N] -> [N][K]: each output channel's weights contiguous
    bt.resize(n * k);
    for (size_t i = 0; i < k; ++i)
      for (size_t j = 0; j < n; ++j) bt[j * k + i] = b[i * n + j];
    b = bt.data();
  }
  return args::NewHandle<Q8PackedWeights>(env, b, bias, 1, n, k, q);
}

// q8Gemm(packed, a Uint8Array, M, out) -> Promise<void>
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto packed = args::UnwrapHandle<Q8PackedWeights>(info[0], "packed");
  const size_t m = Size(info[2], "M");
  const uint8_t* a = Typed<uint8_t>(info[1], Product(env, {m, packed->k()}), "a");
  void* out = OutputOf(info[3], packed->quant().output.kind, Product(env, {m, packed->m()}));
  const double macs = static_cast<double>(m) * packed->k() * packed->m();
  return RunSized(env, macs <= kSyncMacs, [packed, a, m, out] { Q8Gemm(*packed, a, m, out); }, {info[1], info[3]});
}

// Quantize family: (in, [outer, channels, inner], scale Float32Array, zero Int32Array, qmin,
// qmax, out, async) -> Promise<void> when async, else undefined.
struct QuantArgs {
  Q8Layout layout;
  Q8QuantSpec spec;
};

QuantArgs ParseQuantArgs(const Napi::CallbackInfo& info) {
  QuantArgs a;
  const std::vector<size_t> l = Dims(info[1], 3, "layout");
  Product(info.Env(), l);  // layout.size() below cannot wrap around
  a.layout.outer = l[0], a.layout.channels = l[1], a.layout.inner = l[2];
  a.spec.scale = Typed<float>(info[2], l[1], "scale");
  a.spec.zero = Typed<int32_t>(info[3], l[1], "zero");
  a.spec.qmin = IntIn(info[4], "qmin", -65536, 65536);
  a.spec.qmax = IntIn(info[5], "qmax", a.spec.qmin, 65536);
  return a;
}

Napi::Value Run(const Napi::CallbackInfo& info, std::function<void()> job) {
  const std::vector<size_t> l = Dims(info[1], 3, "layout");
  const double n = static_cast<double>(l[0]) * static_cast<double>(l[1]) * static_cast<double>(l[2]);
  if (info[7].ToBoolean()) return RunSized(info.Env(), n <= kSyncElements, std::move(job), {info[0], info[2], info[3], info[6]});
  try {
    job();
  } catch (const std::exception& e) {
    Fail(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

Q8Storage StorageOf(const Napi::Value& v) {
  return args::IsArrayOf<int8_t>(v) ? Q8Storage::kInt8 : Q8Storage::kUint8;
}

Napi::Value Quantize(const Napi::CallbackInfo& info) {
  const QuantArgs a = ParseQuantArgs(info);
  const size_t n = a.layout.size();
  const float* x = Typed<float>(info[0], n, "x");
  const Q8Storage st = StorageOf(info[6]);
  void* out = st == Q8Storage::kInt8 ? static_cast<void*>(Typed<int8_t>(info[6], n, "out"))
                                     : static_cast<void*>(Typed<uint8_t>(info[6], n, "out"));
  return Run(info, [a, x, st, out] { Q8Quantize(x, a.layout, a.spec, st, out); });
}

Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  const QuantArgs a = ParseQuantArgs(info);
  const size_t n = a.layout.size();
  const Q8Storage st = StorageOf(info[0]);
  const void* q = st == Q8Storage::kInt8 ? static_cast<const void*>(Typed<int8_t>(info[0], n, "q"))
                                         : static_cast<const void*>(Typed<uint8_t>(info[0], n, "q"));
  float* out = Typed<float>(info[6], n, "out");
  return Run(info, [a, q, st, out] { Q8Dequantize(q, st, a.layout, a.spec, out); });
}

Napi::Value FakeQuantize(const Napi::CallbackInfo& info) {
  const QuantArgs a = ParseQuantArgs(info);
  const size_t n = a.layout.size();
  const float* x = Typed<float>(info[0], n, "x");
  float* out = Typed<float>(info[6], n, "out");
  return Run(info, [a, x, out] { Q8FakeQuantize(x, a.layout, a.spec, out); });
}

// An operand of q8AddQuantize: a Float32Array, or a Uint8Array of codes whose per-tensor scale
// and zero point are the numbers at info[scale_at], info[scale_at + 1].
Q8AddOperand AddOperand(const Napi::CallbackInfo& info, size_t at, size_t scale_at, size_t n, const char* name) {
  if (!args::IsArrayOf<uint8_t>(info[at])) return Q8AddOperand::Values(Typed<float>(info[at], n, name));
  const float scale = args::Float(info[scale_at], "codes scale");
  if (!(scale > 0) || !std::isfinite(scale)) Fail(info.Env(), std::string("addQuantize: bad scale of ") + name);
  return Q8AddOperand::Codes(Typed<uint8_t>(info[at], n, name), scale, IntIn(info[scale_at + 1], "codes zero", 0, 255));
}

// q8AddQuantize(a, b, n, clamp Float32Array [2] | null, scale, zero, qmin, qmax, codes Uint8Array |
// null, fake Float32Array | null, aScale, aZero, bScale, bZero) -> Promise<void>. a and b:
// Float32Array, or Uint8Array codes with their scale and zero point (read only for codes).
Napi::Value AddQuantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t n = Size(info[2], "n");
  const Q8AddOperand a = AddOperand(info, 0, 10, n, "a");
  const Q8AddOperand b = AddOperand(info, 1, 12, n, "b");
  const bool has_clamp = !info[3].IsNull() && !info[3].IsUndefined();
  std::array<float, 2> clamp{};
  if (has_clamp) {
    const float* c = Typed<float>(info[3], 2, "clamp");
    clamp = {c[0], c[1]};
  }
  const float scale = args::Float(info[4], "scale");
  Q8QuantSpec q;
  q.qmin = IntIn(info[6], "qmin", 0, 255);
  q.qmax = IntIn(info[7], "qmax", q.qmin, 255);
  const int32_t zero = IntIn(info[5], "zero", 0, 255);
  if (!(scale > 0) || !std::isfinite(scale) || zero < q.qmin || zero > q.qmax) Fail(env, "addQuantize: bad scale or zero point");
  uint8_t* codes = info[8].IsNull() ? nullptr : Typed<uint8_t>(info[8], n, "codes");
  float* fake = info[9].IsNull() ? nullptr : Typed<float>(info[9], n, "fake");
  std::vector<Napi::Value> keep = {info[0], info[1]};
  if (codes) keep.push_back(info[8]);
  if (fake) keep.push_back(info[9]);
  return RunSized(env, static_cast<double>(n) <= kSyncElements, [=] {
    Q8QuantSpec spec = q;
    spec.scale = &scale;
    spec.zero = &zero;
    Q8AddQuantize(a, b, n, has_clamp ? clamp.data() : nullptr, spec, codes, fake);
  }, keep);
}

}  // namespace

void InitInt8(Napi::Env env, Napi::Object exports) {
  args::ExportFunctions(env, exports, {
      {"q8AddQuantize", AddQuantize},
      {"q8PackConv", PackConv},
      {"q8Conv2d", Conv2d},
      {"q8PackGemm", PackGemm},
      {"q8Gemm", Gemm},
      {"q8Quantize", Quantize},
      {"q8Dequantize", Dequantize},
      {"q8FakeQuantize", FakeQuantize},
  });
}

}  // namespace layerq
