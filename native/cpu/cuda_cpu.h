// The CUDA runtime subset the native glue uses (errors, streams, memory, device query), for the native
// CPU build (g++ -DLSTM_CUDA_CPU): memory is host memory (64-byte aligned), every "async" call runs
// synchronously, the one stream is a token, and the device is this machine's CPU. The kernels of this
// build are native C++ (native/cpu/*.cc), not the .cu files, so nothing here launches anything.
// Also brings the CUDA qualifiers (cuda_qualifiers.h) so that kernels/*.cuh headers shared with the .cu
// kernels compile as plain C++.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_qualifiers.h"

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorNotSupported = 801,
  cudaErrorUnknown = 999,
};
typedef struct CpuStream* cudaStream_t;
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor;
  int multiProcessorCount;  // worker threads of the CPU backend's pool
};

const char* cudaGetErrorName(cudaError_t err);
const char* cudaGetErrorString(cudaError_t err);
// The thread's last error (always cudaSuccess here: every call returns its status), then cleared.
inline cudaError_t cudaGetLastError() { return cudaSuccess; }

inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (p == nullptr) return cudaErrorInvalidValue;
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* q = aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (q == nullptr) return cudaErrorMemoryAllocation;
  *p = q;
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t) {
  if (bytes > 0 && dst != src) memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  if (bytes > 0) memset(p, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = nullptr;
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
// name: "CPU (<SIMD path>, <n> threads)"; totalGlobalMem: physical memory.
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device);
