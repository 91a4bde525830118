// Elementwise kernels and the small deterministic reductions the ops and optimizers need:
// fill, axpby, affine, mul, sum, add_row_vector, sum_rows.
// CPU reference: src/cpu/elementwise.ts.
//
// Kernels:
//   fill / axpby / affine / mul   grid-stride over n, one element per thread per iteration; outputs may
//                                 alias inputs where the launcher says so (each element is read, then
//                                 written, by the same thread).
//   sum_kernel                    one block of 1024 threads, fixed strided order + block_reduce, in
//                                 double (like the cpu reference).
//   add_row_vector_kernel         grid-stride over the M·N elements: x[m,j] += b[j].
//   sum_rows_kernel               a block owns 32 columns; its 32 warps each sum every 32nd row (warp w:
//                                 rows w, w+32, …, in order), then warp 0 adds the 32 partials in order
//                                 w = 0..31, in double (like the cpu reference). Fixed order, no
//                                 atomics: the same bits every run. (32 warps per 32 columns keep
//                                 enough loads in flight for the [T·B, 4H] bias-gradient sums.)
#include "block_reduce.cuh"
#include "lstm_cuda.h"

namespace {

constexpr int EW_THREADS = 256;
constexpr int SUM_ROWS_GROUPS = 32;  // warps per sum_rows block = row groups (1024 threads)

// ------------------------------------------------------------------------------------------ kernels

__global__ void fill_kernel(int n, float* __restrict__ x, float value) {
  // shapes: x [n]
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) x[i] = value;
}

// no __restrict__: out may alias x or y
__global__ void axpby_kernel(int n, float alpha, const float* x, float beta, const float* y, float* out) {
  // shapes: x, y, out [n]
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = alpha * x[i] + beta * y[i];
}

__global__ void affine_kernel(int n, float alpha, const float* x, float beta, float* out) {
  // shapes: x, out [n]
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = alpha * x[i] + beta;
}

__global__ void mul_kernel(int n, const float* x, const float* y, float* out) {
  // shapes: x, y, out [n]
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = x[i] * y[i];
}

__global__ void sum_kernel(int n, const float* __restrict__ x, float* __restrict__ out) {
  // shapes: x [n], out [1]
  __shared__ double scratch[32];
  const double total = block_sum_strided<false>(n, x, scratch);
  if (threadIdx.x == 0) out[0] = (float)total;
}

__global__ void add_row_vector_kernel(int M, int N, float* __restrict__ x, const float* __restrict__ b) {
  // shapes: x [M,N], b [N]
  const long long total = (long long)M * N;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
    x[i] += b[i % N];
}

__global__ void sum_rows_kernel(int M, int N, const float* __restrict__ x, float* __restrict__ out,
                                bool accumulate) {
  // shapes: x [M,N], out [N]
  __shared__ double partial[SUM_ROWS_GROUPS][32];
  const int lane = threadIdx.x & 31, group = threadIdx.x >> 5;
  const int tiles = (N + 31) / 32;
  for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int j = tile * 32 + lane;
    double acc = 0.0;
    if (j < N)
      for (long long m = group; m < M; m += SUM_ROWS_GROUPS) acc += x[m * N + j];
    partial[group][lane] = acc;
    __syncthreads();
    if (group == 0 && j < N) {
      double s = partial[0][lane];
      for (int g = 1; g < SUM_ROWS_GROUPS; ++g) s += partial[g][lane];
      out[j] = (float)(accumulate ? out[j] + s : s);
    }
    __syncthreads();  // partial is rewritten by the next tile
  }
}

}  // namespace

// ----------------------------------------------------------------------------------------- launchers

//   x: out [n], x[i] = value
cudaError_t fill(int n, float* x, float value, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return launch(fill_kernel, dim3(grid_blocks(n, EW_THREADS)), dim3(EW_THREADS), 0, stream, n, x, value);
}

//   x, y: in [n]   out: out [n] = alpha·x + beta·y (may alias x or y)
cudaError_t axpby(int n, float alpha, const float* x, float beta, const float* y, float* out,
                  cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return launch(axpby_kernel, dim3(grid_blocks(n, EW_THREADS)), dim3(EW_THREADS), 0, stream, n, alpha,
                x, beta, y, out);
}

//   x: in [n]   out: out [n] = alpha·x + beta (may alias x)
cudaError_t affine(int n, float alpha, const float* x, float beta, float* out, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return launch(affine_kernel, dim3(grid_blocks(n, EW_THREADS)), dim3(EW_THREADS), 0, stream, n, alpha,
                x, beta, out);
}

//   x, y: in [n]   out: out [n] = x⊙y (may alias x or y)
cudaError_t mul(int n, const float* x, const float* y, float* out, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return launch(mul_kernel, dim3(grid_blocks(n, EW_THREADS)), dim3(EW_THREADS), 0, stream, n, x, y,
                out);
}

//   x: in [n]   out: out [1], out[0] = Σ x (deterministic single-block reduction; 0 when n = 0)
cudaError_t sum(int n, const float* x, float* out, cudaStream_t stream) {
  if (n < 0) n = 0;
  return launch(sum_kernel, dim3(1), dim3(REDUCE_THREADS), 0, stream, n, x, out);
}

//   x: in/out [M,N], x[m,j] += b[j]   b: in [N]
cudaError_t add_row_vector(int M, int N, float* x, const float* b, cudaStream_t stream) {
  if (M <= 0 || N <= 0) return cudaSuccess;
  const long long total = (long long)M * N;
  return launch(add_row_vector_kernel, dim3(grid_blocks(total, EW_THREADS)), dim3(EW_THREADS), 0,
                stream, M, N, x, b);
}

//   x:   in [M,N]
//   out: out [N] = Σ_m x[m,j] (accumulate = false) or acc [N] += Σ_m x[m,j] (accumulate = true);
//        deterministic; M = 0 gives zeros (or leaves an accumulated out unchanged)
cudaError_t sum_rows(int M, int N, const float* x, float* out, bool accumulate, cudaStream_t stream) {
  if (N <= 0) return cudaSuccess;
  if (M < 0) M = 0;
  return launch(sum_rows_kernel, dim3(grid_blocks(N, 32)), dim3(SUM_ROWS_GROUPS * 32), 0, stream, M, N,
                x, out, accumulate);
}
