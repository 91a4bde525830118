// Test-only: a trivial kernel launched with an invalid configuration (4096 threads per block, above the
// 1024 limit), so native_errors.test.ts can check that a CUDA launch error reaches JS with its name.
// Compiled by nvcc (LANGUAGE CUDA in native/CMakeLists.txt) for cuda and by g++ for emu.
#include "lstm_cuda.h"

namespace {
__global__ void noop_kernel(int* out) {
  if (out != nullptr) out[threadIdx.x] = 0;
}
}  // namespace

cudaError_t test_invalid_launch(cudaStream_t stream) {
  return launch(noop_kernel, dim3(1), dim3(4096), 0, stream, static_cast<int*>(nullptr));
}
