// Dropout mask from the counter-based RNG: the same bits on every backend (kernels/rng.cuh = src/rng.ts).
// CPU reference: src/cpu/dropout.ts.
//
// Kernel: dropout_mask_kernel, grid-stride over n; element i hashes counter offset + i (mod 2^32) and
// keeps the element iff the top 24 bits of the hash are ≥ threshold (threshold = round(p·2^24)).
#include "block_reduce.cuh"
#include "lstm_cuda.h"
#include "rng.cuh"

namespace {

constexpr int DROPOUT_THREADS = 256;

__global__ void dropout_mask_kernel(int n, uint32_t seed, uint32_t offset, uint32_t threshold,
                                    float scale, float* __restrict__ mask) {
  // shapes: mask [n]
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    mask[i] = (rng_u32(seed, offset + (uint32_t)i) >> 8) >= threshold ? scale : 0.f;
}

}  // namespace

// ----------------------------------------------------------------------------------------- launcher

//   mask: out [n], mask[i] = scale if (rng_u32(seed, offset + i) >> 8) >= threshold, else 0
//   seed, offset: uint32 (the counter wraps modulo 2^32)   threshold: round(p·2^24)   scale: fround(1/(1-p))
cudaError_t dropout_mask(int n, uint32_t seed, uint32_t offset, uint32_t threshold, float scale,
                         float* mask, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return launch(dropout_mask_kernel, dim3(grid_blocks(n, DROPOUT_THREADS)), dim3(DROPOUT_THREADS), 0,
                stream, n, seed, offset, threshold, scale, mask);
}
