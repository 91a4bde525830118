// The caching device allocator (see allocator.h): exact-size free lists, counters, empty-and-retry on
// out-of-memory.
#include "allocator.h"

size_t CachingAllocator::RoundedSize(size_t bytes) {
  if (bytes == 0) bytes = 1;
#ifdef LSTM_CUDA_EMU
  return bytes;
#else
  return (bytes + 511) / 512 * 512;
#endif
}

cudaError_t CachingAllocator::Allocate(size_t bytes, void** ptr, size_t* rounded) {
  const size_t size = RoundedSize(bytes);
  void* p = nullptr;
  bool from_cache = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      if (it->second.empty()) free_.erase(it);
      stats_.cached_bytes -= size;
      stats_.cached_count -= 1;
      from_cache = true;
    }
  }
  if (!from_cache) {
    int calls = 1;
    cudaError_t err = cudaMalloc(&p, size);
    if (err != cudaSuccess) {
      cudaGetLastError();  // out-of-memory is not sticky: clear it, give the cache back, retry once
      EmptyCache();
      calls += 1;
      err = cudaMalloc(&p, size);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.malloc_calls += calls;
    if (err != cudaSuccess) {
      cudaGetLastError();
      return err;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.live_count += 1;
  stats_.live_bytes += size;
  if (stats_.live_bytes > stats_.peak_live_bytes) stats_.peak_live_bytes = stats_.live_bytes;
  *ptr = p;
  *rounded = size;
  return cudaSuccess;
}

void CachingAllocator::Release(void* ptr, size_t rounded) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_[rounded].push_back(ptr);
  stats_.live_count -= 1;
  stats_.live_bytes -= rounded;
  stats_.cached_bytes += rounded;
  stats_.cached_count += 1;
}

cudaError_t CachingAllocator::EmptyCache() {
  std::map<size_t, std::vector<void*>> victims;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    victims.swap(free_);
    stats_.cached_bytes = 0;
    stats_.cached_count = 0;
  }
  cudaError_t first = cudaSuccess;
  if (victims.empty()) return first;
  cudaError_t err = cudaDeviceSynchronize();
  if (err != cudaSuccess) first = err;
  for (auto& kv : victims) {
    for (void* p : kv.second) {
      err = cudaFree(p);
      if (err != cudaSuccess && first == cudaSuccess) first = err;
    }
  }
  return first;
}

AllocatorStats CachingAllocator::Stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

CachingAllocator& DeviceAllocator() {
  static CachingAllocator* allocator = new CachingAllocator();
  return *allocator;
}
