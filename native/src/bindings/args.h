// Argument re-checks for every N-API binding (sharp's `src/common.h`), after the TypeScript
// wrappers' validation (src/engine/validate.ts): typed arrays of exactly the element type the
// kernel reads and at least the length the shape implies, non-negative integer sizes, shapes
// whose products cannot wrap around, and the packed-weight handles, tagged with their C++ type.
// Failures throw JS TypeError (wrong kind of value) or RangeError (wrong size or range) through
// NAPI_CPP_EXCEPTIONS before any memory is touched. Messages name the parameter.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace layerq {
namespace args {

[[noreturn]] inline void Fail(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }
[[noreturn]] inline void FailType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

// The typed-array type that holds elements of type T (Uint8Array, not Uint8ClampedArray).
template <typename T> struct ArrayType;
template <> struct ArrayType<float> { static constexpr napi_typedarray_type kType = napi_float32_array; static constexpr const char* kName = "Float32Array"; };
template <> struct ArrayType<double> { static constexpr napi_typedarray_type kType = napi_float64_array; static constexpr const char* kName = "Float64Array"; };
template <> struct ArrayType<int8_t> { static constexpr napi_typedarray_type kType = napi_int8_array; static constexpr const char* kName = "Int8Array"; };
template <> struct ArrayType<uint8_t> { static constexpr napi_typedarray_type kType = napi_uint8_array; static constexpr const char* kName = "Uint8Array"; };
template <> struct ArrayType<int32_t> { static constexpr napi_typedarray_type kType = napi_int32_array; static constexpr const char* kName = "Int32Array"; };

template <typename T>
bool IsArrayOf(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == ArrayType<T>::kType;
}

// Elements of `v`, which must be a typed array of exactly T's type (any length).
template <typename T>
Napi::TypedArrayOf<T> ArrayOf(const Napi::Value& v, const char* name) {
  if (!IsArrayOf<T>(v)) FailType(v.Env(), std::string("wrong typed array type for ") + name + ": expected " + ArrayType<T>::kName);
  return v.As<Napi::TypedArrayOf<T>>();
}

// Data of a typed array of exactly T's type holding at least `expected` elements.
template <typename T>
T* Typed(const Napi::Value& v, size_t expected, const char* name) {
  Napi::TypedArrayOf<T> a = ArrayOf<T>(v, name);
  if (a.ElementLength() < expected) {
    Fail(v.Env(), std::string(name) + ": expected at least " + std::to_string(expected) + " elements but received " +
                      std::to_string(a.ElementLength()));
  }
  return a.Data();
}

// As Typed, or nullptr when `v` is null or undefined (an optional bias).
template <typename T>
T* OptionalTyped(const Napi::Value& v, size_t expected, const char* name) {
  return v.IsNull() || v.IsUndefined() ? nullptr : Typed<T>(v, expected, name);
}

// A non-negative integer that fits a size_t exactly.
inline size_t Size(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) FailType(v.Env(), std::string("Expected non-negative integer for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0) || d != std::floor(d)) Fail(v.Env(), std::string("Expected non-negative integer for ") + name);
  return static_cast<size_t>(d);
}

inline size_t Positive(const Napi::Value& v, const char* name) {
  const size_t s = Size(v, name);
  if (s == 0) Fail(v.Env(), std::string("Expected positive integer for ") + name);
  return s;
}

// A signed integer within the safe-integer range.
inline int64_t Int(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) FailType(v.Env(), std::string("Expected integer for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(std::fabs(d) <= 9007199254740991.0) || d != std::floor(d)) Fail(v.Env(), std::string("Expected integer for ") + name);
  return static_cast<int64_t>(d);
}

// An integer in [lo, hi] (quantization ranges, zero points).
inline int32_t IntIn(const Napi::Value& v, const char* name, int32_t lo, int32_t hi) {
  const int64_t i = Int(v, name);
  if (i < lo || i > hi) Fail(v.Env(), std::string("Expected integer in [") + std::to_string(lo) + ", " + std::to_string(hi) + "] for " + name);
  return static_cast<int32_t>(i);
}

// Any number (NaN included: the kernels' clamps and scales are checked where they matter).
inline double Number(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) FailType(v.Env(), std::string("Expected number for ") + name);
  return v.As<Napi::Number>().DoubleValue();
}

inline double NumberIn(const Napi::Value& v, const char* name, double lo, double hi) {
  const double d = Number(v, name);
  if (!(d >= lo && d <= hi)) Fail(v.Env(), std::string("Out of range: ") + name);
  return d;
}

inline float Float(const Napi::Value& v, const char* name) { return static_cast<float>(Number(v, name)); }

inline double Finite(const Napi::Value& v, const char* name) {
  const double d = Number(v, name);
  if (!std::isfinite(d)) Fail(v.Env(), std::string("Expected finite number for ") + name);
  return d;
}

inline Napi::Object Object(const Napi::Value& v, const char* name) {
  if (!v.IsObject()) FailType(v.Env(), std::string("Expected an object for ") + name);
  return v.As<Napi::Object>();
}

inline std::string String(const Napi::Value& v, const char* name) {
  if (!v.IsString()) FailType(v.Env(), std::string("Expected a string for ") + name);
  return v.As<Napi::String>().Utf8Value();
}

// An array of exactly `n` sizes.
inline std::vector<size_t> Sizes(const Napi::Value& v, size_t n, const char* name) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != n) Fail(v.Env(), std::string("Expected an array of ") + std::to_string(n) + " sizes for " + name);
  std::vector<size_t> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = Size(v.As<Napi::Array>().Get(static_cast<uint32_t>(i)), name);
  return d;
}

// An array of at most `max_rank` sizes (a tensor's dims).
inline std::vector<size_t> Dims(const Napi::Value& v, const char* name, size_t max_rank = 8) {
  if (!v.IsArray()) FailType(v.Env(), std::string("Expected array for ") + name);
  const size_t n = v.As<Napi::Array>().Length();
  if (n > max_rank) Fail(v.Env(), std::string("Expected rank <= ") + std::to_string(max_rank) + " for " + name);
  return Sizes(v, n, name);
}

// Product of sizes; an error (not a wrapped-around length check) on overflow.
inline size_t Product(Napi::Env env, std::initializer_list<size_t> sizes) {
  size_t p = 1;
  for (size_t v : sizes)
    if (__builtin_mul_overflow(p, v, &p)) Fail(env, "shape too large");
  return p;
}

inline size_t Product(Napi::Env env, const std::vector<size_t>& sizes) {
  size_t p = 1;
  for (size_t v : sizes)
    if (__builtin_mul_overflow(p, v, &p)) Fail(env, "shape too large");
  return p;
}

// ---- exports ----------------------------------------------------------------------------
// One function of a bindings file: the name JavaScript calls it by, and the binding.
struct Export {
  const char* name;
  Napi::Function::Callback fn;
};

// Sets a bindings file's functions on the addon's exports (its Init*).
inline void ExportFunctions(Napi::Env env, Napi::Object exports, std::initializer_list<Export> functions) {
  for (const Export& f : functions) exports.Set(f.name, Napi::Function::New(env, f.fn));
}

// ---- packed-weight handles --------------------------------------------------------------
// Packed weights are held by JS as an External owning a shared_ptr, tagged with the C++ type
// (`HandleTag<T>::kTag`, napi_type_tag_object) so that one kernel family's handle passed to
// another is a TypeError, not a reinterpreted pointer. Released by the GC (the finalizer drops
// the shared_ptr); a running job holds its own shared_ptr, so a handle collected mid-call
// cannot free weights under the kernel. Each bindings file specializes HandleTag for its types:
//   template <> struct HandleTag<Packed> : HandleTagOf<0x...> { static constexpr const char* kName = "..."; };
template <typename T> struct HandleTag;

// The tag of one handle type: layerq's high half and a low half unique to the type.
template <uint64_t kLow>
struct HandleTagOf {
  static constexpr napi_type_tag kTag = {0x6c61796572710001ULL, kLow};
};

template <typename T>
Napi::Value WrapHandle(Napi::Env env, std::shared_ptr<T> p) {
  auto ext = Napi::External<std::shared_ptr<T>>::New(env, new std::shared_ptr<T>(std::move(p)),
                                                      [](Napi::Env, std::shared_ptr<T>* h) { delete h; });
  ext.TypeTag(&HandleTag<T>::kTag);
  return ext;
}

// A handle to a new T(a...): the packing of one bindings call. T's std::invalid_argument (a
// shape or quantization the packer refuses) becomes a RangeError.
template <typename T, typename... A>
Napi::Value NewHandle(Napi::Env env, A&&... a) {
  try {
    return WrapHandle(env, std::make_shared<T>(std::forward<A>(a)...));
  } catch (const std::invalid_argument& e) {
    Fail(env, e.what());
  }
}

template <typename T>
std::shared_ptr<T> UnwrapHandle(const Napi::Value& v, const char* name) {
  if (!v.IsExternal() || !v.As<Napi::External<std::shared_ptr<T>>>().CheckTypeTag(&HandleTag<T>::kTag)) {
    FailType(v.Env(), std::string("Expected ") + HandleTag<T>::kName + " for " + name);
  }
  return *v.As<Napi::External<std::shared_ptr<T>>>().Data();
}

}  // namespace args
}  // namespace layerq
