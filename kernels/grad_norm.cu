// Sum of squares of one buffer: the per-parameter partial of the global gradient norm (clipping).
// CPU reference: src/cpu/grad_norm.ts.
//
// Kernel: sum_squares_kernel, a single block of 1024 threads. Thread t accumulates x[i]² for
// i = t, t+1024, … in order (in double, like the cpu reference), then a fixed warp-butterfly + serial cross-warp sum
// (block_reduce.cuh). No workspace, no atomics: the same bits every run. One block streams the whole
// buffer, which is fine for parameter-sized n (≤ ~10^7: well under a millisecond per tensor on a GPU).
#include "block_reduce.cuh"
#include "lstm_cuda.h"

namespace {

__global__ void sum_squares_kernel(int n, const float* __restrict__ x, float* __restrict__ out,
                                   int out_index) {
  // shapes: x [n], out [> out_index]
  __shared__ double scratch[32];
  const double total = block_sum_strided<true>(n, x, scratch);
  if (threadIdx.x == 0) out[out_index] = (float)total;
}

}  // namespace

// ----------------------------------------------------------------------------------------- launcher

//   x:   in  [n]
//   out: out, only out[out_index] is written: Σ x[i]² (0 when n = 0, like the empty sum on cpu)
cudaError_t sum_squares(int n, const float* x, float* out, int out_index, cudaStream_t stream) {
  if (n < 0) n = 0;
  return launch(sum_squares_kernel, dim3(1), dim3(REDUCE_THREADS), 0, stream, n, x, out, out_index);
}
