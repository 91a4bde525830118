// Sum of squares of one buffer: the per-parameter partial of the global gradient norm (clipping).
// CPU reference: src/cpu/grad_norm.ts.
//
// Kernel: sum_squares_kernel, grid_sum_blocks(n) blocks of 256 threads (one per 8,192 elements, at most
// 1,024: a 4M-element W_hh keeps 512 blocks' loads in flight instead of one block's). Block b sums the
// squares of its contiguous slice in double (like the cpu reference) in a fixed strided order + block
// reduction; the last block to finish adds the blocks' totals in block order (grid_reduce_last in
// block_reduce.cuh: an integer ticket, no float atomics). One launch, no workspace (the partials live in
// this file's __device__ buffer), the same bits every run.
#include "block_reduce.cuh"
#include "lstm_cuda.h"

namespace {

__device__ double sum_squares_partials[GRID_SUM_MAX_BLOCKS];  // one total per block
__device__ unsigned sum_squares_ticket;                         // blocks finished (0 between launches)

__global__ void sum_squares_kernel(int n, const float* __restrict__ x, float* __restrict__ out,
                                   int out_index) {
  // shapes: x [n], out [> out_index]
  __shared__ double scratch[32];
  __shared__ bool is_last;
  double total;
  if (grid_sum<true>(n, x, sum_squares_partials, &sum_squares_ticket, scratch, &is_last, &total) &&
      threadIdx.x == 0)
    out[out_index] = (float)total;
}

}  // namespace

// ----------------------------------------------------------------------------------------- launcher

//   x:   in  [n]
//   out: out, only out[out_index] is written: Σ x[i]² (0 when n = 0, like the empty sum on cpu)
cudaError_t sum_squares(int n, const float* x, float* out, int out_index, cudaStream_t stream) {
  if (n < 0) n = 0;
  return launch(sum_squares_kernel, dim3(grid_sum_blocks(n)), dim3(GRID_SUM_THREADS), 0, stream, n, x, out,
                out_index);
}
