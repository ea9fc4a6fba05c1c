#include "common/threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace layerq {
namespace {

thread_local bool tls_in_worker = false;
thread_local bool tls_serial = false;
std::atomic<bool> g_yield_after_claim{false};  // tests: widen the window between claiming and running a chunk

// How long an idle worker, or a caller waiting for the workers' last chunks, spins before it
// sleeps on a condition variable. Kernel calls come back to back (an engine step every few
// microseconds to milliseconds, with no hop between them: bindings/async.h), while a sleep and
// its wake-up cost tens of microseconds of latency each on a shared machine, every call.
constexpr auto kSpin = std::chrono::microseconds(100);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Spins until done() or kSpin has passed; returns done().
template <class Done>
bool SpinUntil(const Done& done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (unsigned i = 1;; ++i) {
    if (done()) return true;
    CpuRelax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > until) return done();
  }
}

// One ParallelFor call: its chunks, claimed by index. Each call has its own, so a worker that
// wakes late or is preempted between claiming an index and checking it can only ever run a chunk
// of the call it joined (a shared counter reset by the next call let such a worker run a chunk
// twice and the pending count wrap around: the caller then waited forever).
//
// Thread i owns the i-th of `threads` contiguous runs of chunks and claims from it first, then
// from the others' (any chunk is claimed once: every claim is a fetch_add on the run's counter).
// Kernels split work image by image in order, so that the same thread handles the same images
// from one call to the next and reads what it wrote from its own core's caches.
struct Job {
  Job(const std::function<void(size_t)>& f, size_t n, int threads) : fn(&f), chunks(n), runs(threads), pending(n) {
    for (int i = 0; i < runs; ++i) next[i].store(RunBegin(i));
  }
  size_t RunBegin(int i) const { return chunks * static_cast<size_t>(i) / static_cast<size_t>(runs); }
  const std::function<void(size_t)>* fn;
  size_t chunks;
  int runs;
  std::atomic<size_t> next[kMaxThreads];  // next chunk of each run
  std::atomic<size_t> pending;  // chunks not finished
  std::atomic<int> workers{0};  // pool workers inside Work(*this) (joined under Pool::mu_)
};

class Pool {
 public:
  // Starts up to threads - 1 workers. A failed thread creation (std::system_error: EAGAIN,
  // out of memory) is not an error: the pool runs with the workers it has, down to none.
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) {
      try {
        workers_.emplace_back([this, i] { Loop(i); });
      } catch (...) {
        break;
      }
    }
    size_ = static_cast<int>(workers_.size()) + 1;
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return size_; }

  // Runs job(0 .. chunks-1) on the calling thread and the workers; returns when every chunk is
  // done and no worker still holds the call's Job (it lives on this stack frame). Whether a
  // worker has joined is decided under mu_, together with clearing job_, so that none can join
  // once the caller has seen the job finished.
  void Run(size_t chunks, const std::function<void(size_t)>& fn) {
    std::lock_guard<std::mutex> call_lock(call_mu_);
    Job job(fn, chunks, size_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &job;
      generation_.fetch_add(1);
    }
    cv_.notify_all();  // sleeping workers; spinning ones see the generation change
    Work(job, 0);
    auto finished = [&job] { return job.pending.load() == 0 && job.workers.load() == 0; };
    SpinUntil(finished);
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, finished);
    job_ = nullptr;
  }

 private:
  // Runs chunks of job: those of run `self` first, then what is left of the others'.
  void Work(Job& job, int self) {
    for (int k = 0; k < job.runs; ++k) {
      const int run = (self + k) % job.runs;
      const size_t end = job.RunBegin(run + 1);
      for (;;) {
        const size_t c = job.next[run].fetch_add(1);
        if (g_yield_after_claim.load(std::memory_order_relaxed)) std::this_thread::yield();
        if (c >= end) break;
        (*job.fn)(c);
        if (job.pending.fetch_sub(1) == 1) Notify();
      }
    }
  }
  // Wakes a caller sleeping in Run (under mu_: it checks its condition under mu_ too).
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    done_cv_.notify_all();
  }
  void Loop(int self) {
    tls_in_worker = true;
    uint64_t seen = 0;
    for (;;) {
      SpinUntil([&] { return generation_.load() != seen; });
      Job* job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_.load() != seen; });
        seen = generation_.load();
        if (stop_) return;
        job = job_;
        if (job == nullptr) continue;
        job->workers.fetch_add(1);
      }
      Work(*job, self);
      // The last access to the job: once workers is 0 the caller may return and free it.
      if (job->workers.fetch_sub(1) == 1) Notify();
    }
  }

  std::vector<std::thread> workers_;
  int size_ = 1;
  std::mutex call_mu_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  Job* job_ = nullptr;                   // the call in progress (under mu_)
  std::atomic<uint64_t> generation_{0};  // changed under mu_, read by spinning workers too
  bool stop_ = false;
};

int ClampThreads(long n) { return static_cast<int>(std::min<long>(std::max<long>(n, 1), kMaxThreads)); }

int DefaultThreads() {
  if (const char* env = std::getenv("LAYERQ_THREADS")) {
    long n = std::strtol(env, nullptr, 10);
    if (n > 0) return ClampThreads(n);
  }
  return ClampThreads(static_cast<long>(std::thread::hardware_concurrency()));
}

std::mutex g_pool_mu;
std::unique_ptr<Pool> g_pool;

Pool& GetPool() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<Pool>(DefaultThreads());
  return *g_pool;
}

}  // namespace

SerialScope::SerialScope() : was_(tls_serial) { tls_serial = true; }
SerialScope::~SerialScope() { tls_serial = was_; }

int ThreadCount() { return GetPool().size(); }

int ParallelWidth() { return tls_in_worker || tls_serial ? 1 : ThreadCount(); }

void YieldAfterClaimForTesting(bool on) { g_yield_after_claim.store(on); }

void SetThreadCount(int threads) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_pool.reset();  // join the old workers before starting new ones
  g_pool = std::make_unique<Pool>(ClampThreads(threads));
}

void ParallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  Pool& pool = GetPool();
  size_t max_chunks = (n + grain - 1) / grain;
  size_t chunks = std::min<size_t>(max_chunks, static_cast<size_t>(pool.size()) * 4);
  if (chunks <= 1 || tls_in_worker || tls_serial || pool.size() == 1) {
    fn(0, n);
    return;
  }
  size_t per = (n + chunks - 1) / chunks;
  chunks = (n + per - 1) / per;
  pool.Run(chunks, [&](size_t c) {
    size_t b = c * per, e = std::min(n, b + per);
    if (b < e) fn(b, e);
  });
}

}  // namespace layerq
