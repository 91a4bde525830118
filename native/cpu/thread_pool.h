// The native CPU backend's thread pool: parallel_for(tasks, fn) runs fn(0..tasks) on the calling thread
// and the pool's workers, and returns when every task is done. Results never depend on the thread count:
// callers split work into tasks by the problem's shape alone, each task writes its own outputs with a
// fixed operation order, and any thread may run any task (claimed dynamically, so a worker that the OS
// deschedules does not stall the others: the caller runs what is left).
// Size: $LSTM_CUDA_CPU_THREADS when set (1..256), else the machine's hardware threads.
#pragma once

// Threads taking part in a parallel_for (workers + the caller), ≥ 1.
int cpu_threads();
// Largest task count of one parallel_for (callers group work above it).
constexpr int kMaxParallelTasks = 1 << 20;
// Runs fn(ctx, i) for i in [0, tasks), tasks ≤ kMaxParallelTasks. Not reentrant: a task must not call it.
void parallel_for_raw(int tasks, void (*fn)(void* ctx, int task), void* ctx);

template <class F>
inline void parallel_for(int tasks, const F& f) {
  if (tasks <= 0) return;
  if (tasks == 1) {
    f(0);
    return;
  }
  parallel_for_raw(tasks, [](void* ctx, int i) { (*static_cast<const F*>(ctx))(i); },
                   const_cast<void*>(static_cast<const void*>(&f)));
}
