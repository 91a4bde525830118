// Row block copies between row-major tables of D columns: dst[dstRow + r] (+)= src[srcRow + r] for r < R.
// CPU reference: src/cpu/rows.ts. One kernel serves selecting a row (the last state of an LSTM layer),
// stacking rows (per-layer states) and the gradients of both (accumulate).
//
// Kernels:
//   copy_rows_kernel   one thread per element of the R·D block (grid-strided); each dst element is
//                      written by one thread: no atomics, deterministic.
#include "block_reduce.cuh"
#include "lstm_cuda.h"

namespace {

constexpr int ROWS_THREADS = 256;

// ------------------------------------------------------------------------------------------ kernels

__global__ void copy_rows_kernel(long long n, int D, const float* __restrict__ src, float* __restrict__ dst,
                                 bool accumulate) {
  // shapes: src [R,D] block (already offset), dst [R,D] block (already offset), n = R·D
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    dst[i] = accumulate ? dst[i] + src[i] : src[i];
  }
}

}  // namespace

// ----------------------------------------------------------------------------------------- launchers

// Contract and shapes: src/spec/kernels.mjs (copyRows); the checker guarantees
// srcRow + R <= srcRows and dstRow + R <= dstRows and that src and dst are different storages.
cudaError_t copy_rows(int R, int D, const float* src, int srcRows, int srcRow, float* dst, int dstRows,
                      int dstRow, bool accumulate, cudaStream_t stream) {
  (void)srcRows;
  (void)dstRows;
  const long long n = (long long)R * D;
  if (n <= 0) return cudaSuccess;
  return launch(copy_rows_kernel, dim3(grid_blocks(n, ROWS_THREADS)), dim3(ROWS_THREADS), 0, stream, n, D,
                src + (long long)srcRow * D, dst + (long long)dstRow * D, accumulate);
}
