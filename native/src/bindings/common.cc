// Runtime configuration shared by all kernels: ISA dispatch and thread count.
#include "bindings/args.h"
#include "bindings/async.h"
#include "common/cpu.h"
#include "common/threadpool.h"

namespace layerq {
namespace {

Napi::Value GetIsaInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("detected", IsaName(DetectedIsa()));
  o.Set("active", IsaName(ActiveIsa()));
  o.Set("threads", ThreadCount());
  return o;
}

// setIsa(name): forces a kernel path; throws when the CPU lacks it.
Napi::Value SetIsaJs(const Napi::CallbackInfo& info) {
  const std::string name = args::String(info[0], "isa");
  Isa isa;
  if (!ParseIsa(name, &isa)) throw Napi::Error::New(info.Env(), "unknown ISA '" + name + "'");
  if (!SetIsa(isa)) throw Napi::Error::New(info.Env(), "this CPU does not support ISA '" + name + "'");
  return info.Env().Undefined();
}

// setThreads(n): n is clamped to [1, kMaxThreads] (TypeScript refuses values outside it first).
Napi::Value SetThreadsJs(const Napi::CallbackInfo& info) {
  const double n = args::Number(info[0], "threads");
  SetThreadCount(n >= kMaxThreads ? kMaxThreads : n >= 1 ? static_cast<int>(n) : 1);
  return info.Env().Undefined();
}

}  // namespace

void InitCommon(Napi::Env env, Napi::Object exports) {
  args::ExportFunctions(env, exports, {
      {"isaInfo", GetIsaInfo},
      {"setIsa", SetIsaJs},
      {"setThreads", SetThreadsJs},
  });
}

}  // namespace layerq
