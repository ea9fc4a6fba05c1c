// Shared N-API plumbing for kernel bindings: run a job on a libuv worker thread (off the JS
// event loop) and settle a promise; keep the typed arrays it reads and writes alive meanwhile.
#pragma once
#include <napi.h>

#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "common/threadpool.h"

namespace layerq {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // `keep` are the JS values (typed arrays, packed weights) the job touches: referenced until
  // the promise settles so the GC cannot free their memory under the job.
  // The promise resolves to the number `job` returns when `resolve_number`, else undefined.
  PromiseWorker(Napi::Env env, std::function<double()> job, const std::vector<Napi::Value>& keep,
                bool resolve_number = false)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)),
        resolve_number_(resolve_number) {
    for (const auto& v : keep) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // No C++ exception may leave a worker thread (std::terminate): each one becomes the promise's
  // rejection.
  void Execute() override {
    try {
      result_ = job_();
    } catch (const std::bad_alloc&) {
      SetError("out of memory in a native kernel");
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native exception");
    }
  }
  void OnOK() override {
    deferred_.Resolve(resolve_number_ ? Napi::Number::New(Env(), result_) : Env().Undefined());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<double()> job_;
  bool resolve_number_;
  double result_ = 0;
  std::vector<Napi::ObjectReference> refs_;
};

// Queues `job` off the event loop; returns the promise it settles.
inline Napi::Value RunAsync(Napi::Env env, std::function<void()> job,
                            const std::vector<Napi::Value>& keep) {
  auto* worker = new PromiseWorker(env, [job = std::move(job)] { job(); return 0.0; }, keep);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// As RunAsync, the promise resolving to the number `job` returns.
inline Napi::Value RunAsyncNumber(Napi::Env env, std::function<double()> job,
                                  const std::vector<Napi::Value>& keep) {
  auto* worker = new PromiseWorker(env, std::move(job), keep, true);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Engine kernel calls run on the calling (JS) thread, with the pool's workers, and return an
// already settled promise: a hop to a libuv worker and back costs tens of microseconds a call
// (more on a busy machine), both cores idle meanwhile, and a forward pass makes a hundred such
// calls (MobileNetV2 at 224x224 on 2 cores used 1.5 of them with the hops, 1.8 without). The
// engine's Program.run gives the event loop a turn every few tens of milliseconds instead.
// Small calls (below the limits) run on the calling thread alone: waking the pool's workers
// costs more than the split saves. ResNet-20's batch-1 convs (2.4 M multiply-accumulates each)
// split: 1.15-1.35x the whole batch-1 pass, FP32 and int8 (bench/engine.ts, steady state);
// MobileNetV2-w05's (under 1 M) gain nothing from it. LAYERQ_SYNC=0 puts every call off the
// event loop, as before.
constexpr double kSyncMacs = 1e6;      // conv / GEMM multiply-accumulates
constexpr double kSyncElements = 5e5;  // elements read or written by elementwise, quantize, pooling, copies

inline bool SyncCallsEnabled() {
  static const bool on = [] {
    const char* v = std::getenv("LAYERQ_SYNC");
    return !(v && std::string(v) == "0");
  }();
  return on;
}

// The job right now, on this thread alone when `small`, else with the pool (LAYERQ_SYNC=0:
// RunAsync): a settled promise either way.
inline Napi::Value RunSized(Napi::Env env, bool small, std::function<void()> job,
                            const std::vector<Napi::Value>& keep) {
  if (!SyncCallsEnabled()) return RunAsync(env, std::move(job), keep);
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  try {
    if (small) {
      SerialScope serial;  // a small job: waking the pool costs more than it saves
      job();
    } else {
      job();
    }
    deferred.Resolve(env.Undefined());
  } catch (const std::bad_alloc&) {
    deferred.Reject(Napi::Error::New(env, "out of memory in a native kernel").Value());
  } catch (const std::exception& e) {
    deferred.Reject(Napi::Error::New(env, e.what()).Value());
  }
  return deferred.Promise();
}

// Module sections; each lives in its own bindings file and adds its functions to `exports`.
void InitCommon(Napi::Env env, Napi::Object exports);
void InitF32(Napi::Env env, Napi::Object exports);
void InitInt8(Napi::Env env, Napi::Object exports);
void InitRounding(Napi::Env env, Napi::Object exports);
void InitStats(Napi::Env env, Napi::Object exports);
void InitBench(Napi::Env env, Napi::Object exports);

}  // namespace layerq
