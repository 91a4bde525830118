// Warp and block reductions with a fixed combination order, and the grid-size rule of the grid-stride
// kernels; shared by softmax_xent.cu, sample.cu, grad_norm.cu, elementwise.cu, embedding.cu, dropout.cu
// and adam.cu.
//
// Determinism: a reduction's order depends only on blockDim (never on scheduling), and every thread of
// the warp / block ends up with the same bits: the xor butterfly adds the same two partials in every
// lane (float + is commutative), and the cross-warp step is a serial loop every thread runs in order.
// No atomics anywhere. T is float or double (the host-facing reductions accumulate in double, like the
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

// Σ f(x[i]) over i < n by one block, in double (f = x, or x² when square): thread t sums
// i = t, t + blockDim, … in order, then block_reduce. The single-block deterministic reductions sum and
// sum_squares; the order depends on n and blockDim only. scratch: __shared__ double[32]. Every thread
// gets the total.
template <bool square>
__device__ __forceinline__ double block_sum_strided(long long n, const float* __restrict__ x,
                                                    double* scratch) {
  double acc = 0.0;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) {
    const double v = x[i];
    acc += square ? v * v : v;
  }
  return block_reduce(acc, scratch, SumOp());
}
constexpr int REDUCE_THREADS = 1024;  // block size of the single-block reductions

// Blocks for a grid-stride loop over n items with `threads` threads per block, each thread taking a
// few items: enough blocks to fill a GPU, never more than the items need (n > 0).
static inline unsigned grid_blocks(long long n, int threads) {
  const long long cap = 8192;
  long long blocks = (n + threads - 1) / threads;
  return (unsigned)(blocks < cap ? blocks : cap);
}
