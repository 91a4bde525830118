// Embedding lookup: gather rows of a [V,D] table by index, and its deterministic scatter-add backward.
// CPU reference: src/cpu/embedding.ts.
//
// Kernels:
//   embedding_forward_kernel   one warp per output row n (grid-strided), lanes over D:
//                              out[n] = weight[idx[n]].
//   embedding_backward_kernel  one warp per task (v, 32-column tile of D), tasks grid-strided over the
//                              warps. The warp scans idx[0..N) in order, 32 at a time: each lane loads one
//                              index, __ballot_sync marks the rows equal to v, and every lane adds
//                              dout[n, its column] for those rows in ascending n onto the old value.
//                              Each dweight element is owned by exactly one lane, updated in the order
//                              n = 0, 1, …: no atomics, same bits every run (and the same bits as the
//                              sequential float32 cpu reference). Work: V·ceil(D/32)·N/32 ballots plus
//                              N·D adds: nothing next to the LSTM for V ≤ 256 (a byte / char vocabulary).
#include "block_reduce.cuh"
#include "lstm_cuda.h"

namespace {

constexpr int EMB_THREADS = 256;
constexpr int EMB_WARPS = EMB_THREADS / 32;

// ------------------------------------------------------------------------------------------ kernels

__global__ void embedding_forward_kernel(int N, int D, const float* __restrict__ weight,
                                         const int32_t* __restrict__ idx, float* __restrict__ out) {
  // shapes: weight [V,D], idx [N], out [N,D]
  const int lane = threadIdx.x & 31;
  const long long warps = (long long)gridDim.x * EMB_WARPS;
  for (long long n = (long long)blockIdx.x * EMB_WARPS + (threadIdx.x >> 5); n < N; n += warps) {
    const float* src = weight + (long long)idx[n] * D;
    float* dst = out + n * D;
    for (int d = lane; d < D; d += 32) dst[d] = src[d];
  }
}

__global__ void embedding_backward_kernel(int N, int V, int D, const int32_t* __restrict__ idx,
                                          const float* __restrict__ dout,
                                          float* __restrict__ dweight) {
  // shapes: idx [N], dout [N,D], dweight [V,D]
  const int lane = threadIdx.x & 31;
  const int tiles = (D + 31) / 32;
  const long long tasks = (long long)V * tiles;
  const long long warps = (long long)gridDim.x * EMB_WARPS;
  for (long long task = (long long)blockIdx.x * EMB_WARPS + (threadIdx.x >> 5); task < tasks;
       task += warps) {
    const int v = (int)(task / tiles);
    const int d = (int)(task % tiles) * 32 + lane;
    // start from the old value: dweight[v,d] += dout[n,d] one n at a time, the cpu reference's rounding
    float acc = d < D ? dweight[(long long)v * D + d] : 0.f;
    for (int n0 = 0; n0 < N; n0 += 32) {
      const int n = n0 + lane;
      const unsigned hits = __ballot_sync(FULL_WARP, n < N && idx[n] == v);
      // warp-uniform walk over the set bits in ascending row order
      for (int k = 0; k < 32 && (hits >> k) != 0u; ++k)
        if (((hits >> k) & 1u) && d < D) acc += dout[(long long)(n0 + k) * D + d];
    }
    if (d < D) dweight[(long long)v * D + d] = acc;
  }
}

}  // namespace

// ----------------------------------------------------------------------------------------- launchers

// Gather.
//   weight: in  [V,D]
//   idx:    in  int32 [N], each in [0,V) (validated in TS)
//   out:    out [N,D], out[n] = weight[idx[n]]
cudaError_t embedding_forward(int N, int V, int D, const float* weight, const int32_t* idx,
                              float* out, cudaStream_t stream) {
  (void)V;
  if (N <= 0 || D <= 0) return cudaSuccess;
  return launch(embedding_forward_kernel, dim3(grid_blocks(N, EMB_WARPS)), dim3(EMB_THREADS), 0,
                stream, N, D, weight, idx, out);
}

// Scatter-add (the gradient of the gather).
//   idx:     in  int32 [N], each in [0,V)
//   dout:    in  [N,D]
//   dweight: acc [V,D], dweight[v] += Σ_{n: idx[n]=v} dout[n], summed in ascending n (deterministic,
//            no float atomics); rows no index hits are left as they were
cudaError_t embedding_backward(int N, int V, int D, const int32_t* idx, const float* dout,
                               float* dweight, cudaStream_t stream) {
  if (N <= 0 || V <= 0 || D <= 0) return cudaSuccess;
  const long long tasks = (long long)V * ((D + 31) / 32);
  return launch(embedding_backward_kernel, dim3(grid_blocks(tasks, EMB_WARPS)), dim3(EMB_THREADS), 0,
                stream, N, V, D, idx, dout, dweight);
}
