// Shared N-API plumbing for kernel bindings: run a job on a libuv worker thread (off the JS
// event loop) and settle a promise; keep the typed arrays it reads and writes alive meanwhile.
#pragma once
#include <napi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace layerq {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // `keep` are the JS values (typed arrays, packed weights) the job touches: referenced until
  // the promise settles so the GC cannot free their memory under the job.
  PromiseWorker(Napi::Env env, std::function<void()> job, const std::vector<Napi::Value>& keep)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {
    for (const auto& v : keep) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      job_();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> job_;
  std::vector<Napi::ObjectReference> refs_;
};

// Queues `job` off the event loop; returns the promise it settles.
inline Napi::Value RunAsync(Napi::Env env, std::function<void()> job,
                            const std::vector<Napi::Value>& keep) {
  auto* worker = new PromiseWorker(env, std::move(job), keep);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Typed-array access with a length check against what the caller's shape implies.
template <typename T, typename Array>
T* DataOf(const Napi::Value& v, size_t expected, const char* name) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string("Expected typed array for ") + name);
  auto arr = v.As<Array>();
  if (arr.ElementLength() < expected) {
    throw Napi::RangeError::New(v.Env(), std::string(name) + ": expected at least " +
                                             std::to_string(expected) + " elements but received " +
                                             std::to_string(arr.ElementLength()));
  }
  return arr.Data();
}

inline float* F32(const Napi::Value& v, size_t n, const char* name) {
  return DataOf<float, Napi::Float32Array>(v, n, name);
}

// Module sections; each lives in its own bindings file and adds its functions to `exports`.
void InitCommon(Napi::Env env, Napi::Object exports);
void InitF32(Napi::Env env, Napi::Object exports);
void InitInt8(Napi::Env env, Napi::Object exports);
void InitBench(Napi::Env env, Napi::Object exports);

}  // namespace layerq
