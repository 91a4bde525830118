// Fused softmax + cross-entropy over rows of logits, with an ignore index for padding.
// CPU reference: src/cpu/softmax_xent.ts.
//
// Kernels (one warp per row, rows grid-strided over the warps of the grid; lanes stride over V so each
// warp reads whole 128-byte lines):
//   softmax_xent_forward_kernel   pass 1: row max (warp shuffle); pass 2: Σ exp(x - max) in double
//                                 (warp shuffle); lse = max + log Σ; loss = lse - x[target] (0 on
//                                 ignored rows), both rounded to float once, from the double.
//   softmax_xent_backward_kernel  dlogits = (exp(x - lse) - onehot)·dloss from the saved lse; 0 rows
//                                 for ignored targets. Overwrites dlogits.
// Deterministic: each row's sums are a fixed lane-strided order plus a fixed xor butterfly.
#include <math.h>

#include "block_reduce.cuh"
#include "lstm_cuda.h"

namespace {

constexpr int XENT_THREADS = 128;  // 4 rows per block
constexpr int XENT_ROWS_PER_BLOCK = XENT_THREADS / 32;

// ------------------------------------------------------------------------------------------ kernels

__global__ void softmax_xent_forward_kernel(int N, int V, const float* __restrict__ logits,
                                            const int32_t* __restrict__ targets, int ignore_index,
                                            float* __restrict__ loss, float* __restrict__ lse) {
  // shapes: logits [N,V], targets [N], loss [N], lse [N]
  const int lane = threadIdx.x & 31;
  const long long warps = (long long)gridDim.x * XENT_ROWS_PER_BLOCK;
  for (long long row = (long long)blockIdx.x * XENT_ROWS_PER_BLOCK + (threadIdx.x >> 5); row < N;
       row += warps) {
    const float* x = logits + row * V;
    float m = -INFINITY;
    for (int j = lane; j < V; j += 32) m = fmaxf(m, x[j]);
    m = warp_reduce(m, MaxOp());
    // a row of -inf: shift by 0 so exp gives 0, not NaN, and lse = -inf
    const float shift = m == -INFINITY ? 0.f : m;
    double s = 0.0;  // accumulated in double, like the cpu reference
    for (int j = lane; j < V; j += 32) s += expf(x[j] - shift);
    s = warp_reduce(s, SumOp());
    if (lane == 0) {
      const double row_lse = shift + log(s);
      const int t = targets[row];
      lse[row] = (float)row_lse;
      loss[row] = t == ignore_index ? 0.f : (float)(row_lse - x[t]);
    }
  }
}

__global__ void softmax_xent_backward_kernel(int N, int V, const float* __restrict__ logits,
                                             const int32_t* __restrict__ targets, int ignore_index,
                                             const float* __restrict__ lse,
                                             const float* __restrict__ dloss,
                                             float* __restrict__ dlogits) {
  // shapes: logits [N,V], targets [N], lse [N], dloss [N], dlogits [N,V]
  const int lane = threadIdx.x & 31;
  const long long warps = (long long)gridDim.x * XENT_ROWS_PER_BLOCK;
  for (long long row = (long long)blockIdx.x * XENT_ROWS_PER_BLOCK + (threadIdx.x >> 5); row < N;
       row += warps) {
    const float* x = logits + row * V;
    float* dx = dlogits + row * V;
    const int t = targets[row];
    if (t == ignore_index) {
      for (int j = lane; j < V; j += 32) dx[j] = 0.f;
      continue;
    }
    const float row_lse = lse[row], g = dloss[row];
    for (int j = lane; j < V; j += 32) dx[j] = (expf(x[j] - row_lse) - (j == t ? 1.f : 0.f)) * g;
  }
}

unsigned xent_blocks(int N) {
  return grid_blocks(N, XENT_ROWS_PER_BLOCK);
}

}  // namespace

// ----------------------------------------------------------------------------------------- launchers

// Forward: per-row loss and logsumexp.
//   logits:  in  [N,V]
//   targets: in  int32 [N], each in [0,V) or == ignore_index
//   loss:    out [N] = lse[n] - logits[n, targets[n]], 0 on ignored rows
//   lse:     out [N] = logsumexp(logits[n]); saved for softmax_xent_backward (written on ignored rows too)
cudaError_t softmax_xent_forward(int N, int V, const float* logits, const int32_t* targets,
                                 int ignore_index, float* loss, float* lse, cudaStream_t stream) {
  if (N <= 0) return cudaSuccess;
  return launch(softmax_xent_forward_kernel, dim3(xent_blocks(N)), dim3(XENT_THREADS), 0, stream, N,
                V, logits, targets, ignore_index, loss, lse);
}

// Backward.
//   logits, targets: in, as given to softmax_xent_forward
//   lse:     in  [N] saved by softmax_xent_forward
//   dloss:   in  [N] upstream gradient per row
//   dlogits: out [N,V] (overwritten) = (softmax(logits[n]) - onehot(targets[n]))·dloss[n]; 0 rows where
//            targets[n] == ignore_index
cudaError_t softmax_xent_backward(int N, int V, const float* logits, const int32_t* targets,
                                  int ignore_index, const float* lse, const float* dloss,
                                  float* dlogits, cudaStream_t stream) {
  if (N <= 0) return cudaSuccess;
  return launch(softmax_xent_backward_kernel, dim3(xent_blocks(N)), dim3(XENT_THREADS), 0, stream, N,
                V, logits, targets, ignore_index, lse, dloss, dlogits);
}
