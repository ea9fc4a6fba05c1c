// Argument re-checks for the N-API bindings, after the TypeScript wrappers' validation: typed
// array types and lengths against shapes (with overflow-checked products), non-negative
// integer sizes. Failures throw JS RangeError / TypeError (NAPI_CPP_EXCEPTIONS), never touch
// memory. Used by bindings/rounding.cc; the older bindings keep local copies for now.
#pragma once
#include <napi.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "bindings/async.h"

namespace layerq {
namespace args {

[[noreturn]] inline void Fail(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

// Data of a typed array of exactly type `type` holding at least `expected` elements.
template <typename T, typename Array>
T* Checked(const Napi::Value& v, napi_typedarray_type type, size_t expected, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(v.Env(), std::string("wrong typed array type for ") + name);
  return DataOf<T, Array>(v, expected, name);
}

inline size_t Size(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) Fail(v.Env(), std::string("Expected a number for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d < 9007199254740992.0) || d != static_cast<double>(static_cast<size_t>(d)))
    Fail(v.Env(), std::string("bad size for ") + name);
  return static_cast<size_t>(d);
}

inline std::vector<size_t> Sizes(const Napi::Value& v, size_t n, const char* name) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != n) Fail(v.Env(), std::string("bad array for ") + name);
  std::vector<size_t> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = Size(v.As<Napi::Array>().Get(i), name);
  return d;
}

// Product of sizes; an error (not a wrapped-around length check) on overflow.
inline size_t Product(Napi::Env env, std::initializer_list<size_t> sizes) {
  size_t p = 1;
  for (size_t v : sizes)
    if (__builtin_mul_overflow(p, v, &p)) Fail(env, "shape too large");
  return p;
}

}  // namespace args
}  // namespace layerq
