// N-API adapter of `layerq bench` (native/src/bench): the peak probes and the native kernel
// timing, each run off the event loop (a promise of its result); and what the kernels see of
// the CPU (features from CPUID/HWCAP, model name, compiler). Arguments are validated in
// TypeScript (src/bench/native-bench.ts); here types and ranges are re-checked.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/kernel-bench.h"
#include "bench/peak-probe.h"
#include "bindings/args.h"
#include "bindings/async.h"
#include "common/cpu.h"
#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

// Runs `job` on a worker thread; `result` then turns its output into the promise's value.
template <typename T>
class ValueWorker : public Napi::AsyncWorker {
 public:
  ValueWorker(Napi::Env env, std::function<T()> job, std::function<Napi::Value(Napi::Env, const T&)> result)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)), result_(std::move(result)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      value_ = job_();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(result_(Env(), value_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<T()> job_;
  std::function<Napi::Value(Napi::Env, const T&)> result_;
  T value_{};
};

template <typename T>
Napi::Value Queue(Napi::Env env, std::function<T()> job, std::function<Napi::Value(Napi::Env, const T&)> result) {
  auto* w = new ValueWorker<T>(env, std::move(job), std::move(result));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

using args::NumberIn;

// A shape field: an integer in [0, 1e9].
size_t Count(const Napi::Object& o, const char* name) {
  const size_t n = args::Size(o.Get(name), name);
  if (n > 1000000000) args::Fail(o.Env(), std::string("Out of range: ") + name);
  return n;
}

Isa IsaArg(const Napi::Value& v) {
  const std::string name = args::String(v, "isa");
  Isa isa;
  if (!ParseIsa(name, &isa)) args::FailType(v.Env(), "Expected ISA name");
  if (!IsaSupported(isa)) throw Napi::Error::New(v.Env(), "this CPU does not support ISA '" + name + "'");
  return isa;
}

// benchCpu() -> { model, features, flags: {...}, compiler }
Napi::Value Cpu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& f = DetectedFeatures();
  Napi::Object o = Napi::Object::New(env);
  o.Set("model", CpuModelName());
  o.Set("features", CpuFeatureList(f));
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("avx2Fma", f.avx2_fma);
  flags.Set("avx512", f.avx512);
  flags.Set("avx512Vnni", f.avx512_vnni);
  flags.Set("avx512Vbmi", f.avx512_vbmi);
  flags.Set("avxVnni", f.avx_vnni);
  flags.Set("neon", f.neon);
  flags.Set("neonDot", f.neon_dot);
  flags.Set("neonI8mm", f.neon_i8mm);
  o.Set("flags", flags);
  // The instruction the int8 GEMM kernels use on the fastest path (after LAYERQ_NEON_I8MM and
  // LAYERQ_NEON_DOT).
#if defined(__x86_64__) || defined(_M_X64)
  o.Set("int8Sequence", Q8HasAvx512Vnni() ? "vpdpbusd" : f.avx2_fma ? "vpmaddwd" : "scalar");
#elif defined(__aarch64__)
  o.Set("int8Sequence", Q8HasNeonI8mm() ? "usmmla" : Q8HasNeonDot() ? "sdot" : "smlal");
#else
  o.Set("int8Sequence", "scalar");
#endif
#if defined(__VERSION__)
  o.Set("compiler", std::string(__VERSION__));
#endif
  return o;
}

// benchPeakProbes() -> [{ name, isa, dtype, sequence }]
Napi::Value Probes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<PeakProbe> probes = AvailablePeakProbes();
  Napi::Array a = Napi::Array::New(env, probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", probes[i].name);
    o.Set("isa", probes[i].isa);
    o.Set("dtype", probes[i].dtype);
    o.Set("sequence", probes[i].sequence);
    a.Set(static_cast<uint32_t>(i), o);
  }
  return a;
}

// benchPeak(name, threads, minSeconds, repeats) -> Promise<{ wall, cpu }> (ops per second)
Napi::Value Peak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = args::String(info[0], "probe name");
  const int threads = static_cast<int>(NumberIn(info[1], "threads", 1, 1024));
  const double min_seconds = NumberIn(info[2], "minSeconds", 1e-4, 60);
  const int repeats = static_cast<int>(NumberIn(info[3], "repeats", 1, 1000));
  for (const PeakProbe& p : AvailablePeakProbes()) {
    if (name != p.name) continue;
    return Queue<PeakRate>(
        env, [p, threads, min_seconds, repeats] { return MeasurePeak(p, threads, min_seconds, repeats); },
        [](Napi::Env e, const PeakRate& v) {
          Napi::Object o = Napi::Object::New(e);
          o.Set("wall", v.wall);
          o.Set("cpu", v.cpu);
          return static_cast<Napi::Value>(o);
        });
  }
  throw Napi::Error::New(env, "no peak probe '" + name + "' on this CPU");
}

// benchLayer(shape, dtype 'f32' | 'int8' | 'w4a8', isa, threads, minSeconds[, check = true]) -> Promise<result>
Napi::Value Layer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = args::Object(info[0], "shape");
  BenchLayerShape s;
  s.gemm = o.Get("gemm").ToBoolean();
  s.n = Count(o, "n"), s.cin = Count(o, "cin"), s.cout = Count(o, "cout"), s.h = Count(o, "h"), s.w = Count(o, "w");
  s.kh = Count(o, "kh"), s.kw = Count(o, "kw"), s.group = Count(o, "group");
  s.stride_h = Count(o, "strideH"), s.stride_w = Count(o, "strideW");
  s.dilation_h = Count(o, "dilationH"), s.dilation_w = Count(o, "dilationW");
  s.pad_top = Count(o, "padTop"), s.pad_left = Count(o, "padLeft"), s.pad_bottom = Count(o, "padBottom"), s.pad_right = Count(o, "padRight");
  const std::string bad = s.Invalid();
  if (!bad.empty()) throw Napi::RangeError::New(env, "bench shape: " + bad);
  const std::string dt = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  if (dt != "f32" && dt != "int8" && dt != "w4a8") throw Napi::TypeError::New(env, "Expected dtype 'f32', 'int8' or 'w4a8'");
  const BenchDtype dtype = dt == "int8" ? BenchDtype::kInt8 : dt == "w4a8" ? BenchDtype::kW4A8 : BenchDtype::kF32;
  const Isa isa = IsaArg(info[2]);
  const int threads = static_cast<int>(NumberIn(info[3], "threads", 1, 1024));
  const double min_seconds = NumberIn(info[4], "minSeconds", 1e-4, 60);
  const bool check = info.Length() < 6 || info[5].IsUndefined() || info[5].ToBoolean();
  return Queue<KernelBenchResult>(
      env, [s, dtype, isa, threads, min_seconds, check] { return BenchLayer(s, dtype, isa, threads, min_seconds, check); },
      [](Napi::Env e, const KernelBenchResult& r) {
        Napi::Object out = Napi::Object::New(e);
        out.Set("passed", r.passed);
        out.Set("checkedImages", static_cast<double>(r.checked_images));
        out.Set("maxAbsDiff", r.max_abs_diff);
        out.Set("tolerance", r.tolerance);
        out.Set("mismatches", static_cast<double>(r.mismatches));
        out.Set("bestSeconds", r.best_seconds);
        out.Set("medianSeconds", r.median_seconds);
        out.Set("cpuSeconds", r.cpu_seconds);
        out.Set("calls", static_cast<double>(r.calls));
        return static_cast<Napi::Value>(out);
      });
}

}  // namespace

void InitBench(Napi::Env env, Napi::Object exports) {
  args::ExportFunctions(env, exports, {
      {"benchCpu", Cpu},
      {"benchPeakProbes", Probes},
      {"benchPeak", Peak},
      {"benchLayer", Layer},
  });
}

}  // namespace layerq
