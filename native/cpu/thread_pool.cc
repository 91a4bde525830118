// The thread pool behind parallel_for (see thread_pool.h).
//
// One job at a time. The job is published in one 64-bit word, claim = generation (24 bits) | tasks
// (20 bits) | next unclaimed task (20 bits); a thread claims task `next` with a compare-and-swap that
// also checks the generation, so a worker that wakes late can never claim a task of a later job. fn and
// ctx are written before the word is published and read only after a successful claim (the job cannot
// end while a claimed task is unfinished). Workers spin briefly for the next job (the LSTM time loop
// publishes one every few tens of microseconds), then sleep on a condition variable.
#include "thread_pool.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr int kTaskBits = 20;
constexpr uint64_t kTaskMask = (1u << kTaskBits) - 1;
constexpr uint64_t kGenMask = (1u << 24) - 1;

inline uint64_t word(uint64_t gen, uint64_t tasks, uint64_t next) {
  return (gen << (2 * kTaskBits)) | (tasks << kTaskBits) | next;
}
inline uint64_t gen_of(uint64_t w) { return w >> (2 * kTaskBits); }
inline uint64_t tasks_of(uint64_t w) { return (w >> kTaskBits) & kTaskMask; }
inline uint64_t next_of(uint64_t w) { return w & kTaskMask; }

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) {
      try {
        workers_.emplace_back([this] { Work(); });
      } catch (...) {
        break;  // fewer workers than asked: the caller runs more of each job
      }
    }
  }
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void Run(int tasks, void (*fn)(void*, int), void* ctx) {
    fn_ = fn;
    ctx_ = ctx;
    done_.store(0, std::memory_order_relaxed);
    gen_ = (gen_ + 1) & kGenMask;
    claim_.store(word(gen_, static_cast<uint64_t>(tasks), 0), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      cv_.notify_all();
    }
    RunTasks(gen_);
    int spins = 0;
    while (done_.load(std::memory_order_acquire) < tasks) {
      if (++spins < 4000) cpu_relax();
      else sched_yield();  // a worker holding a task was descheduled
    }
  }

 private:
  // Claims and runs tasks of generation gen until none is left.
  void RunTasks(uint64_t gen) {
    uint64_t w = claim_.load(std::memory_order_acquire);
    while (gen_of(w) == gen && next_of(w) < tasks_of(w)) {
      if (claim_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        fn_(ctx_, static_cast<int>(next_of(w)));
        done_.fetch_add(1, std::memory_order_acq_rel);
        w = claim_.load(std::memory_order_acquire);
      }
    }
  }

  void Work() {
    uint64_t seen = gen_of(claim_.load(std::memory_order_acquire));
    for (;;) {
      uint64_t g = gen_of(claim_.load(std::memory_order_acquire));
      for (int spin = 0; g == seen && spin < 3000; ++spin) {  // ~0.1 ms
        cpu_relax();
        g = gen_of(claim_.load(std::memory_order_acquire));
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while ((g = gen_of(claim_.load(std::memory_order_seq_cst))) == seen) cv_.wait(lock);
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      }
      seen = g;
      RunTasks(g);
    }
  }

  std::vector<std::thread> workers_;  // detached at exit: the pool is never destroyed
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};
  std::atomic<int> sleepers_{0};
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  uint64_t gen_ = 0;  // the caller's copy of the current generation
  std::mutex mutex_;
  std::condition_variable cv_;
};

int configured_threads() {
  const char* env = getenv("LSTM_CUDA_CPU_THREADS");
  if (env != nullptr && env[0] != '\0') {
    char* end = nullptr;
    const long n = strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 256) return static_cast<int>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : (hw > 256 ? 256 : static_cast<int>(hw));
}

Pool& pool() {
  // Never destroyed: workers block forever on exit instead of racing static destructors.
  static Pool* p = new Pool(configured_threads());
  return *p;
}

std::mutex run_mutex;  // one job at a time, whichever JS thread (worker_threads) calls

}  // namespace

int cpu_threads() { return pool().threads(); }

void parallel_for_raw(int tasks, void (*fn)(void* ctx, int task), void* ctx) {
  if (tasks <= 0) return;
  Pool& p = pool();
  if (tasks == 1 || p.threads() == 1) {
    for (int i = 0; i < tasks; ++i) fn(ctx, i);
    return;
  }
  std::lock_guard<std::mutex> lock(run_mutex);
  p.Run(tasks, fn, ctx);
}
