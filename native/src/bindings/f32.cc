// N-API adapter for the f32 kernels. Arguments are validated in TypeScript
// (src/engine/native-f32.ts); here we re-check what memory safety depends on (types, sizes,
// typed-array lengths against shapes: bindings/args.h) and run the kernels (RunSized, async.h).
// Packed weights are type-tagged handles (args::WrapHandle), as in the int8 bindings.
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bindings/args.h"
#include "bindings/async.h"
#include "kernels/f32-conv/f32-block.h"
#include "kernels/f32-conv/f32-conv.h"
#include "kernels/f32-copy/f32-copy.h"
#include "kernels/f32-elementwise/f32-elementwise.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-pool/f32-pool.h"

namespace layerq {
namespace args {
template <> struct HandleTag<f32::PackedConv> : HandleTagOf<0xf32c0000000000a1ULL> {
  static constexpr const char* kName = "packed f32 conv weights";
};
template <> struct HandleTag<f32::PackedGemmB> : HandleTagOf<0xf3260000000000a2ULL> {
  static constexpr const char* kName = "packed f32 GEMM weights";
};
template <> struct HandleTag<f32::PackedBlock> : HandleTagOf<0xf32b0000000000a3ULL> {
  static constexpr const char* kName = "packed f32 block weights";
};
}  // namespace args

namespace {

using args::Dims;
using args::Fail;
using args::Float;
using args::Int;
using args::Positive;
using args::Product;
using args::Size;
using args::Typed;

constexpr size_t kMaxWindowParam = 65535;

float* F32(const Napi::Value& v, size_t n, const char* name) { return Typed<float>(v, n, name); }

const float* OptionalF32(const Napi::Value& v, size_t n, const char* name) { return args::OptionalTyped<float>(v, n, name); }

// f32PackConv(weight, [cout, cinPerGroup, kh, kw], bias|null, group, [sh, sw], [pt, pl, pb, pr],
// [dh, dw], min, max) -> handle
Napi::Value PackConvJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto wd = args::Sizes(info[1], 4, "wDims");
  const auto strides = args::Sizes(info[4], 2, "strides"), pads = args::Sizes(info[5], 4, "pads"),
             dil = args::Sizes(info[6], 2, "dilations");
  f32::ConvShape s;
  s.group = Positive(info[3], "group");
  s.cout = wd[0];
  s.cin = Product(env, {wd[1], s.group});
  s.kh = wd[2];
  s.kw = wd[3];
  s.sh = strides[0];
  s.sw = strides[1];
  s.pt = pads[0];
  s.pl = pads[1];
  s.pb = pads[2];
  s.pr = pads[3];
  s.dh = dil[0];
  s.dw = dil[1];
  if (Product(env, wd) == 0 || s.sh == 0 || s.sw == 0 || s.dh == 0 || s.dw == 0 || s.cout % s.group != 0) {
    Fail(env, "conv: zero dimension, stride or dilation, or cout not divisible by group");
  }
  // No size derived from these may overflow in the kernels (TypeScript refuses them first).
  for (size_t v : {s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.pb, s.pr, s.dh, s.dw}) {
    if (v > kMaxWindowParam) Fail(env, "conv: kernel, stride, pad or dilation above 65535");
  }
  const float* w = F32(info[0], Product(env, wd), "weight");
  const float* bias = OptionalF32(info[2], s.cout, "bias");
  return args::NewHandle<f32::PackedConv>(env, f32::PackConv(w, bias, s, Float(info[7], "min"), Float(info[8], "max")));
}

// f32PackGemm(b, K, N, transB, bias|null, alpha, beta, min, max) -> handle
Napi::Value PackGemmJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t k = Positive(info[1], "K"), n = Positive(info[2], "N");
  const float* b = F32(info[0], Product(env, {k, n}), "b");
  const float* bias = OptionalF32(info[4], n, "bias");
  return args::NewHandle<f32::PackedGemmB>(
      env, f32::PackGemmB(b, k, n, info[3].ToBoolean().Value(), bias, Float(info[5], "alpha"), Float(info[6], "beta"),
                          Float(info[7], "min"), Float(info[8], "max")));
}

// conv2d(packed, x, [n, cin, h, w], out[, residual, min, max]): with a residual (out's shape),
// out = clamp(conv(x) + residual, min, max) (f32::ConvResidual).
Napi::Value Conv2dJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::shared_ptr<f32::PackedConv> packed = args::UnwrapHandle<f32::PackedConv>(info[0], "packed");
  const f32::PackedConv& pc = *packed;
  const auto xd = Dims(info[2], "xDims");
  if (xd.size() != 4 || xd[1] != pc.s.cin) Fail(env, "conv2d: xDims must be [N, Cin, H, W]");
  const size_t ho = f32::ConvOutDim(xd[2], pc.s.kh, pc.s.sh, pc.s.pt, pc.s.pb, pc.s.dh);
  const size_t wo = f32::ConvOutDim(xd[3], pc.s.kw, pc.s.sw, pc.s.pl, pc.s.pr, pc.s.dw);
  const float* x = F32(info[1], Product(env, xd), "x");
  const size_t out_size = Product(env, {xd[0], pc.s.cout, ho, wo});
  float* out = F32(info[3], out_size, "out");
  const size_t n = xd[0], h = xd[2], w = xd[3];
  const double macs = static_cast<double>(n) * pc.s.cout * ho * wo * (pc.s.cin / pc.s.group) * pc.s.kh * pc.s.kw;
  f32::ConvResidual residual;
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    residual.data = F32(info[4], out_size, "residual");
    residual.clamp = {Float(info[5], "min"), Float(info[6], "max")};
  }
  return RunSized(env, macs <= kSyncMacs,
                  [packed, x, n, h, w, out, residual] {
                    f32::Conv2d(*packed, x, n, h, w, out, residual.data != nullptr ? &residual : nullptr);
                  },
                  {info[1], info[3], info.Length() > 4 ? info[4] : env.Undefined()});
}

// The three packed convs of a block's arguments (expand|null, dw, project).
struct BlockConvs {
  std::shared_ptr<f32::PackedConv> expand, dw, project;
};
BlockConvs UnwrapBlockConvs(const Napi::CallbackInfo& info) {
  BlockConvs b;
  if (!info[0].IsNull()) b.expand = args::UnwrapHandle<f32::PackedConv>(info[0], "expand");
  b.dw = args::UnwrapHandle<f32::PackedConv>(info[1], "dw");
  b.project = args::UnwrapHandle<f32::PackedConv>(info[2], "project");
  return b;
}

// f32BlockShapeError(expand|null, dw, project) -> why the convs cannot run as one block, or null.
Napi::Value BlockShapeErrorJs(const Napi::CallbackInfo& info) {
  const BlockConvs b = UnwrapBlockConvs(info);
  const char* error = f32::BlockShapeError(b.expand.get(), *b.dw, *b.project);
  return error != nullptr ? Napi::String::New(info.Env(), error) : info.Env().Null();
}

// f32PackBlock(expand|null, dw, project) -> handle: three packed convs chained as one
// inverted-residual block (f32-block.h).
Napi::Value PackBlockJs(const Napi::CallbackInfo& info) {
  const BlockConvs b = UnwrapBlockConvs(info);
  if (const char* error = f32::BlockShapeError(b.expand.get(), *b.dw, *b.project)) {
    Fail(info.Env(), std::string("block: ") + error);
  }
  return args::NewHandle<f32::PackedBlock>(info.Env(), f32::PackBlock(b.expand.get(), *b.dw, *b.project));
}

// f32BlockConv2d(block, x, [n, cin, h, w], out)
Napi::Value BlockConv2dJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::shared_ptr<f32::PackedBlock> block = args::UnwrapHandle<f32::PackedBlock>(info[0], "block");
  const f32::ConvShape& d = block->dw.s;
  const size_t cin = block->has_expand ? block->expand.s.cin : d.cin, cout = block->project.s.cout;
  const auto xd = Dims(info[2], "xDims");
  if (xd.size() != 4 || xd[1] != cin) Fail(env, "blockConv2d: xDims must be [N, Cin, H, W]");
  const f32::BlockDims bd = f32::BlockOutDims(*block, xd[2], xd[3]);
  const float* x = F32(info[1], Product(env, xd), "x");
  float* out = F32(info[3], Product(env, {xd[0], cout, bd.ho, bd.wo}), "out");
  const size_t n = xd[0], h = xd[2], w = xd[3];
  const f32::ConvShape& e = block->expand.s;
  const double expand_macs = block->has_expand ? static_cast<double>(bd.he) * bd.we * cin * d.cin * e.kh * e.kw : 0.0;
  const double macs =
      static_cast<double>(n) * (expand_macs + static_cast<double>(bd.ho) * bd.wo * d.cin * (d.kh * d.kw + cout));
  return RunSized(env, macs <= kSyncMacs, [block, x, n, h, w, out] { f32::BlockConv2d(*block, x, n, h, w, out); },
                  {info[1], info[3]});
}

// gemm(packed, a, M, out)
Napi::Value GemmJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::shared_ptr<f32::PackedGemmB> packed = args::UnwrapHandle<f32::PackedGemmB>(info[0], "packed");
  const size_t m = Size(info[2], "M");
  const float* a = F32(info[1], Product(env, {m, packed->k}), "a");
  float* out = F32(info[3], Product(env, {m, packed->n}), "out");
  const double macs = static_cast<double>(m) * packed->k * packed->n;
  return RunSized(env, macs <= kSyncMacs, [packed, a, m, out] { f32::Gemm(*packed, a, m, out); }, {info[1], info[3]});
}

// binary(op, a, aDims, b, bDims, out[, min, max]): min/max clamp each output (fused Relu/Clip).
Napi::Value BinaryJs(const Napi::CallbackInfo& info) {
  const size_t op = Size(info[0], "op");
  if (op > 3) Fail(info.Env(), "binary: unknown op");
  auto ad = std::make_shared<std::vector<size_t>>(Dims(info[2], "aDims"));
  auto bd = std::make_shared<std::vector<size_t>>(Dims(info[4], "bDims"));
  size_t od[8], rank = 0;
  if (!f32::BroadcastDims(ad->data(), ad->size(), bd->data(), bd->size(), od, &rank)) {
    Fail(info.Env(), "binary: shapes do not broadcast");
  }
  const float* a = F32(info[1], Product(info.Env(), *ad), "a");
  const float* b = F32(info[3], Product(info.Env(), *bd), "b");
  float* out = F32(info[5], Product(info.Env(), std::vector<size_t>(od, od + rank)), "out");
  const bool has_clamp = info.Length() > 6 && !info[6].IsUndefined();
  f32::OutputClamp clamp;
  if (has_clamp) {
    clamp.min = Float(info[6], "min");
    clamp.max = Float(info[7], "max");
    if (!(clamp.min <= clamp.max)) Fail(info.Env(), "binary: expected min <= max");
  }
  const bool small = static_cast<double>(Product(info.Env(), std::vector<size_t>(od, od + rank))) <= kSyncElements;
  return RunSized(info.Env(), small, [op, a, b, ad, bd, out, has_clamp, clamp] {
    f32::Binary(static_cast<f32::BinaryOp>(op), a, ad->data(), ad->size(), b, bd->data(), bd->size(), out,
                has_clamp ? &clamp : nullptr);
  }, {info[1], info[3], info[5]});
}

// unary(op, x, out, n, min, max, alpha, beta)
Napi::Value UnaryJs(const Napi::CallbackInfo& info) {
  const size_t op = Size(info[0], "op");
  if (op > 4) Fail(info.Env(), "unary: unknown op");
  const size_t n = Size(info[3], "n");
  const float* x = F32(info[1], n, "x");
  float* out = F32(info[2], n, "out");
  f32::UnaryParams p;
  p.min = Float(info[4], "min");
  p.max = Float(info[5], "max");
  p.alpha = Float(info[6], "alpha");
  p.beta = Float(info[7], "beta");
  return RunSized(info.Env(), n <= kSyncElements, [op, p, x, out, n] { f32::Unary(static_cast<f32::UnaryOp>(op), p, x, out, n); },
                  {info[1], info[2]});
}

// pool2d(isMax, x, [n, c, h, w], [kh, kw, sh, sw, pt, pl, pb, pr, ceil, includePad], out)
Napi::Value Pool2dJs(const Napi::CallbackInfo& info) {
  const bool is_max = info[0].ToBoolean().Value();
  const auto xd = Dims(info[2], "xDims");
  const auto pv = Dims(info[3], "params", 10);
  if (xd.size() != 4 || pv.size() != 10) Fail(info.Env(), "pool2d: xDims [N, C, H, W] and 10 params expected");
  f32::PoolShape s;
  s.kh = pv[0]; s.kw = pv[1]; s.sh = pv[2]; s.sw = pv[3];
  s.pt = pv[4]; s.pl = pv[5]; s.pb = pv[6]; s.pr = pv[7];
  s.ceil_mode = pv[8] != 0;
  s.count_include_pad = pv[9] != 0;
  if (s.kh == 0 || s.kw == 0 || s.sh == 0 || s.sw == 0) Fail(info.Env(), "pool2d: zero kernel or stride");
  for (size_t i = 0; i < 8; ++i) {
    if (pv[i] > kMaxWindowParam) Fail(info.Env(), "pool2d: kernel, stride or pad above 65535");
  }
  const size_t ho = f32::PoolOutDim(xd[2], s.kh, s.sh, s.pt, s.pb, s.ceil_mode);
  const size_t wo = f32::PoolOutDim(xd[3], s.kw, s.sw, s.pl, s.pr, s.ceil_mode);
  const float* x = F32(info[1], Product(info.Env(), xd), "x");
  float* out = F32(info[4], Product(info.Env(), {xd[0], xd[1], ho, wo}), "out");
  const size_t n = xd[0], c = xd[1], h = xd[2], w = xd[3];
  return RunSized(info.Env(), static_cast<double>(Product(info.Env(), xd)) <= kSyncElements, [is_max, x, n, c, h, w, s, out] {
    if (is_max) f32::MaxPool2d(x, n, c, h, w, s, out);
    else f32::AvgPool2d(x, n, c, h, w, s, out);
  }, {info[1], info[4]});
}

// globalAvgPool(x, planes, hw, out)
Napi::Value GlobalAvgPoolJs(const Napi::CallbackInfo& info) {
  const size_t planes = Size(info[1], "planes"), hw = Size(info[2], "hw");
  const float* x = F32(info[0], Product(info.Env(), {planes, hw}), "x");
  float* out = F32(info[3], planes, "out");
  return RunSized(info.Env(), static_cast<double>(planes) * hw <= kSyncElements, [x, planes, hw, out] { f32::GlobalAvgPool(x, planes, hw, out); },
                  {info[0], info[3]});
}

// softmax(x, rows, cols, out)
Napi::Value SoftmaxJs(const Napi::CallbackInfo& info) {
  const size_t rows = Size(info[1], "rows"), cols = Size(info[2], "cols");
  const float* x = F32(info[0], Product(info.Env(), {rows, cols}), "x");
  float* out = F32(info[3], Product(info.Env(), {rows, cols}), "out");
  return RunSized(info.Env(), static_cast<double>(rows) * cols <= kSyncElements, [x, rows, cols, out] { f32::Softmax(x, rows, cols, out); },
                  {info[0], info[3]});
}

// Lowest and highest element offsets of a view; false when it touches nothing (a zero dim).
// Throws on int64 overflow.
bool Extent(Napi::Env env, int64_t offset, const std::vector<int64_t>& strides, const std::vector<size_t>& dims,
            int64_t* lo, int64_t* hi) {
  for (size_t d : dims) if (d == 0) return false;
  int64_t l = offset, h = offset;
  for (size_t d = 0; d < dims.size(); ++d) {
    int64_t span = 0;
    if (__builtin_mul_overflow(static_cast<int64_t>(dims[d] - 1), strides[d], &span) ||
        __builtin_add_overflow(span < 0 ? l : h, span, span < 0 ? &l : &h)) {
      Fail(env, "stridedCopy: view extent overflows");
    }
  }
  *lo = l;
  *hi = h;
  return true;
}

// stridedCopy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, dims[, fillValue])
// dst[dstOffset + i . dstStrides] = src[srcOffset + i . srcStrides] for i within dims; with
// fillValue, all of dst is set to it first. Every touched element is checked against the arrays.
Napi::Value StridedCopyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto dims = Dims(info[6], "dims");
  const int64_t so = Int(info[1], "srcOffset"), dof = Int(info[4], "dstOffset");
  auto ints = [&](const Napi::Value& v, const char* name) {
    if (!v.IsArray() || v.As<Napi::Array>().Length() != dims.size()) {
      Fail(env, std::string("Expected an array of dims.length integers for ") + name);
    }
    Napi::Array arr = v.As<Napi::Array>();
    std::vector<int64_t> out(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); ++i) out[i] = Int(arr.Get(i), name);
    return out;
  };
  const auto ss = ints(info[2], "srcStrides"), ds = ints(info[5], "dstStrides");
  const bool fill = info.Length() > 7 && !info[7].IsUndefined();
  const float value = fill ? Float(info[7], "fillValue") : 0.0f;
  int64_t slo = 0, shi = -1, dlo = 0, dhi = -1;
  const bool touches = Extent(env, so, ss, dims, &slo, &shi);
  Extent(env, dof, ds, dims, &dlo, &dhi);
  if (touches && (slo < 0 || dlo < 0)) Fail(env, "stridedCopy: view starts before the array");
  const float* src = F32(info[0], touches ? static_cast<size_t>(shi) + 1 : 0, "src");
  float* dst = F32(info[3], touches ? static_cast<size_t>(dhi) + 1 : 0, "dst");
  const size_t dst_len = args::ArrayOf<float>(info[3], "dst").ElementLength();
  std::array<size_t, 8> nd{};
  std::array<int64_t, 8> sa{}, da{};
  for (size_t d = 0; d < dims.size(); ++d) {
    nd[d] = dims[d];
    sa[d] = ss[d];
    da[d] = ds[d];
  }
  const size_t rank = dims.size();
  // Without `touches` some dim is 0: the kernel only fills.
  return RunSized(env, static_cast<double>(dst_len) <= kSyncElements, [src, so, sa, dst, dof, da, nd, rank, fill, value, dst_len] {
    f32::StridedCopy(src, so, sa.data(), dst, dof, da.data(), nd.data(), rank, fill, value, dst_len);
  }, {info[0], info[3]});
}

}  // namespace

void InitF32(Napi::Env env, Napi::Object exports) {
  args::ExportFunctions(env, exports, {
      {"f32PackConv", PackConvJs},
      {"f32PackGemm", PackGemmJs},
      {"f32Conv2d", Conv2dJs},
      {"f32BlockShapeError", BlockShapeErrorJs},
      {"f32PackBlock", PackBlockJs},
      {"f32BlockConv2d", BlockConv2dJs},
      {"f32Gemm", GemmJs},
      {"f32Binary", BinaryJs},
      {"f32Unary", UnaryJs},
      {"f32Pool2d", Pool2dJs},
      {"f32GlobalAvgPool", GlobalAvgPoolJs},
      {"f32Softmax", SoftmaxJs},
      {"f32StridedCopy", StridedCopyJs},
  });
}

}  // namespace layerq
