// Warp and block reductions with a fixed combination order, the cross-block step of the multi-block
// reductions (grid_reduce_last), and the grid-size rule of the grid-stride kernels; shared by softmax_xent.cu, sample.cu, grad_norm.cu, elementwise.cu, embedding.cu, dropout.cu
// and adam.cu.
//
// Determinism: a reduction's order depends only on blockDim (never on scheduling), and every thread of
// the warp / block ends up with the same bits: the xor butterfly adds the same two partials in every
// lane (float + is commutative), and the cross-warp step is a serial loop every thread runs in order.
// No float atomics anywhere (grid_reduce_last counts finished blocks with an integer one). T is float or double (the host-facing reductions accumulate in double, like the
// cpu reference).
#pragma once
#include "lstm_cuda.h"

constexpr unsigned FULL_WARP = 0xffffffffu;

struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a > b ? a : b; }
};

// The warp's 32 values combined with op; every lane gets the result. All 32 lanes must call it.
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
  for (int mask = 16; mask > 0; mask >>= 1) v = op(v, __shfl_xor_sync(FULL_WARP, v, mask));
  return v;
}

// The block's values combined with op; every thread gets the result. blockDim.x must be a multiple of
// 32 (≤ 1024) and every thread must call it (it contains __syncthreads).
//   scratch: __shared__ T[32], owned by the caller; may be reused by the next call right away.
template <class T, class Op>
__device__ __forceinline__ T block_reduce(T v, T* scratch, Op op) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_reduce(v, op);
  __syncthreads();  // a previous call's readers are done with scratch
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T r = scratch[0];
  for (int w = 1; w < nwarps; ++w) r = op(r, scratch[w]);
  return r;
}

// Σ f(x[i]) over begin ≤ i < end by one block, in double (f = x, or x² when square): thread t sums
// i = begin + t, begin + t + blockDim, … in order, then block_reduce. A block's share of the deterministic
// reductions sum and sum_squares; the order depends on the range and blockDim only. scratch:
// __shared__ double[32]. Every thread gets the total.
template <bool square>
__device__ __forceinline__ double block_sum_strided(long long begin, long long end, const float* __restrict__ x,
                                                    double* scratch) {
  double acc = 0.0;
  for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const double v = x[i];
    acc += square ? v * v : v;
  }
  return block_reduce(acc, scratch, SumOp());
}

// The cross-block step of a multi-block reduction, in the same launch: every block stores its total in
// partials[blockIdx.x] and takes an integer ticket; the block that takes the last one adds
// partials[0 .. gridDim.x) in the fixed order of block_reduce (thread t: t, t + blockDim, …) and returns
// true with *total set (every thread of it); the others return false. No float atomics: the result
// depends only on gridDim and blockDim, never on which block finished last. The ticket is reset to 0 by
// the last block, so it must be 0 when the launch starts and no two launches may use the same partials
// and ticket at once (the addon runs every kernel on one stream). v must be the same in every thread
// (a block_reduce result); every thread must call it. scratch: __shared__ T[32]; is_last: __shared__ bool.
template <class T>
__device__ __forceinline__ bool grid_reduce_last(T v, T* partials, unsigned* ticket, T* scratch, bool* is_last,
                                                 T* total) {
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = v;
    __threadfence();  // the partial is visible to every block before the ticket says it is there
    *is_last = atomicAdd(ticket, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!*is_last) return false;
  __threadfence();
  const volatile T* p = partials;  // written by other blocks: not from a stale L1 line
  T acc = 0;
  for (unsigned i = threadIdx.x; i < gridDim.x; i += blockDim.x) acc += p[i];
  *total = block_reduce(acc, scratch, SumOp());
  if (threadIdx.x == 0) *ticket = 0;
  return true;
}

// Blocks for a grid-stride loop over n items with `threads` threads per block, each thread taking a
// few items: enough blocks to fill a GPU, never more than the items need (n > 0).
static inline unsigned grid_blocks(long long n, int threads) {
  const long long cap = 8192;
  long long blocks = (n + threads - 1) / threads;
  return (unsigned)(blocks < cap ? blocks : cap);
}

// Σ f(x[i]) over i < n by the whole grid (1-D, grid_sum_blocks(n) blocks): block b sums the b-th
// contiguous slice (block_sum_strided), then grid_reduce_last adds the slices' totals in block order.
// Returns true, with *total set, in the threads of the one block that has the total (with one block:
// that block, with no ticket taken). partials: a __device__ double[GRID_SUM_MAX_BLOCKS] and ticket a
// __device__ unsigned of the calling .cu (see grid_reduce_last for the rules).
constexpr int GRID_SUM_THREADS = 256, GRID_SUM_MAX_BLOCKS = 1024;
constexpr long long GRID_SUM_PER_BLOCK = 8192;  // elements per block below the block cap: 32 per thread
static inline unsigned grid_sum_blocks(long long n) {
  const long long b = (n + GRID_SUM_PER_BLOCK - 1) / GRID_SUM_PER_BLOCK;
  return (unsigned)(b < 1 ? 1 : b > GRID_SUM_MAX_BLOCKS ? GRID_SUM_MAX_BLOCKS : b);
}
template <bool square>
__device__ __forceinline__ bool grid_sum(long long n, const float* __restrict__ x, double* partials,
                                         unsigned* ticket, double* scratch, bool* is_last, double* total) {
  const long long per = (n + gridDim.x - 1) / gridDim.x;
  const long long begin = per * blockIdx.x, end = begin + per < n ? begin + per : n;
  const double mine = block_sum_strided<square>(begin, end, x, scratch);
  if (gridDim.x == 1) {
    *total = mine;
    return true;
  }
  return grid_reduce_last(mine, partials, ticket, scratch, is_last, total);
}
