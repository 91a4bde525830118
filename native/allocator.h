// The caching device allocator behind every native storage: free lists keyed by size so that a training
// loop reuses buffers instead of calling cudaMalloc per step. On cuda sizes round up to 512 B; on emu
// sizes stay exact so the emulator's guard zones sit right at the end of each buffer.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <map>
#include <mutex>
#include <vector>

#include "lstm_cuda.h"

struct AllocatorStats {
  size_t live_count = 0;     // buffers handed out and not yet returned
  size_t live_bytes = 0;     // their (rounded) sizes
  size_t cached_bytes = 0;   // bytes held in the free lists
  size_t cached_count = 0;
  size_t malloc_calls = 0;   // cudaMalloc calls so far (a flat value in a loop means the cache works)
  size_t peak_live_bytes = 0;
};

class CachingAllocator {
 public:
  // The size a request of `bytes` occupies (rounded on cuda, exact on emu; at least 1 byte).
  static size_t RoundedSize(size_t bytes);
  // A buffer of at least `bytes`; on failure empties the cache and retries once, then returns the
  // cudaError_t (ptr untouched).
  cudaError_t Allocate(size_t bytes, void** ptr, size_t* rounded);
  // Returns a buffer to the free list of its size. Stream-ordered reuse: every kernel runs on the one
  // stream of the addon, so a later user of the buffer is queued after its last use.
  void Release(void* ptr, size_t rounded);
  // cudaFree on every cached buffer (after a device synchronisation).
  cudaError_t EmptyCache();
  AllocatorStats Stats();

 private:
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  AllocatorStats stats_;
};

// The one allocator of this addon. Never destroyed (finalizers may run during process teardown).
CachingAllocator& DeviceAllocator();
