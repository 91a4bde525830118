// Elementwise kernels and the small deterministic reductions the ops and optimizers need:
// fill, axpby, affine, mul, sum, add_row_vector, sum_rows.
// CPU reference: src/cpu/elementwise.ts.
//
// Kernels:
//   fill / axpby / affine / mul   grid-stride over n, one element per thread per iteration; outputs may
//                                 alias inputs where the launcher says so (each element is read, then
//                                 written, by the same thread).
//   sum_kernel                    grid_sum_blocks(n) blocks of 256 threads, each a contiguous slice in
//                                 a fixed strided order + block_reduce, in double (like the cpu
//                                 reference); the last block adds the slices in block order
//                                 (grid_reduce_last: an integer ticket, no float atomics).
//   add_row_vector_kernel         grid-stride over the M·N elements: x[m,j] += b[j].
//   sum_rows_kernel               grid (column tiles, S row slices): block (tile, s) owns 32 columns of
//                                 the s-th contiguous slice of rows; its 32 warps each sum every 32nd
//                                 row of the slice (warp w: rows w, w+32, …, in order), warp 0 adds the
//                                 32 partials in order w = 0..31, in double (like the cpu reference).
//                                 With S > 1 each slice's sums go to a __device__ buffer and the last
//                                 slice block of a tile to finish (an integer ticket per tile) adds
//                                 them in slice order. S depends on M and N only (sum_rows_slices):
//                                 fixed order, no float atomics, the same bits every run. The [T·B,4H]
//                                 bias sums (8192 × 2048 at H=512) get 64 tiles × 5 slices = 320
//                                 blocks instead of 64.
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

__device__ double sum_partials[GRID_SUM_MAX_BLOCKS];  // one total per block
__device__ unsigned sum_ticket;                         // blocks finished (0 between launches)

__global__ void sum_kernel(int n, const float* __restrict__ x, float* __restrict__ out) {
  // shapes: x [n], out [1]
  __shared__ double scratch[32];
  __shared__ bool is_last;
  double total;
  if (grid_sum<false>(n, x, sum_partials, &sum_ticket, scratch, &is_last, &total) && threadIdx.x == 0)
    out[0] = (float)total;
}

__global__ void add_row_vector_kernel(int M, int N, float* __restrict__ x, const float* __restrict__ b) {
  // shapes: x [M,N], b [N]
  const long long total = (long long)M * N;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
    x[i] += b[i % N];
}

// The slice partials of sum_rows (S·N ≤ SUM_ROWS_PARTIALS doubles) and one ticket per column tile.
constexpr int SUM_ROWS_PARTIALS = 1 << 20, SUM_ROWS_MAX_TILES = 4096, SUM_ROWS_MAX_SLICES = 64;
__device__ double sum_rows_partials[SUM_ROWS_PARTIALS];
__device__ unsigned sum_rows_tickets[SUM_ROWS_MAX_TILES];

// Row slices of sum_rows: enough blocks for 2 per SM of an H100 (264), each slice ≥ 256 rows (8 per warp).
static inline int sum_rows_slices(int M, int N) {
  const int tiles = (N + 31) / 32;
  if (tiles > SUM_ROWS_MAX_TILES) return 1;
  int s = (264 + tiles - 1) / tiles;
  s = s < M / 256 ? s : M / 256;
  s = s < SUM_ROWS_MAX_SLICES ? s : SUM_ROWS_MAX_SLICES;
  while (s > 1 && (long long)s * N > SUM_ROWS_PARTIALS) --s;
  return s < 1 ? 1 : s;
}

__global__ void sum_rows_kernel(int M, int N, const float* __restrict__ x, float* __restrict__ out,
                                bool accumulate) {
  // shapes: x [M,N], out [N]; grid (≤ tiles, S)
  __shared__ double partial[SUM_ROWS_GROUPS][32];
  __shared__ bool is_last;
  const int lane = threadIdx.x & 31, group = threadIdx.x >> 5;
  const int tiles = (N + 31) / 32, S = (int)gridDim.y, s = (int)blockIdx.y;
  const long long per = ((long long)M + S - 1) / S;
  const long long r0 = per * s, r1 = r0 + per < M ? r0 + per : M;
  for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int j = tile * 32 + lane;
    double acc = 0.0;
    if (j < N)
      for (long long m = r0 + group; m < r1; m += SUM_ROWS_GROUPS) acc += x[m * N + j];
    partial[group][lane] = acc;
    __syncthreads();
    double total = 0.0;
    if (group == 0) {
      total = partial[0][lane];
      for (int g = 1; g < SUM_ROWS_GROUPS; ++g) total += partial[g][lane];
    }
    if (S > 1) {  // this slice's sums out; the tile's last slice block adds all slices in order
      if (group == 0 && j < N) sum_rows_partials[(size_t)s * N + j] = total;
      __threadfence();  // every lane's partial is visible before thread 0 takes the ticket
      __syncthreads();
      if (threadIdx.x == 0) is_last = atomicAdd(&sum_rows_tickets[tile], 1u) == (unsigned)S - 1;
      __syncthreads();
      if (is_last && group == 0 && j < N) {
        __threadfence();
        const volatile double* p = sum_rows_partials;  // written by other blocks
        total = p[j];
        for (int q = 1; q < S; ++q) total += p[(size_t)q * N + j];
      }
      if (is_last && threadIdx.x == 0) sum_rows_tickets[tile] = 0;
    }
    if (group == 0 && j < N && (S == 1 || is_last)) out[j] = (float)(accumulate ? out[j] + total : total);
    __syncthreads();  // partial and is_last are rewritten by the next tile
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

//   x: in [n]   out: out [1], out[0] = Σ x (deterministic multi-block reduction; 0 when n = 0)
cudaError_t sum(int n, const float* x, float* out, cudaStream_t stream) {
  if (n < 0) n = 0;
  return launch(sum_kernel, dim3(grid_sum_blocks(n)), dim3(GRID_SUM_THREADS), 0, stream, n, x, out);
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
  const int S = sum_rows_slices(M, N);
  const dim3 grid(S > 1 ? (unsigned)((N + 31) / 32) : grid_blocks(N, 32), (unsigned)S);
  return launch(sum_rows_kernel, grid, dim3(SUM_ROWS_GROUPS * 32), 0, stream, M, N, x, out, accumulate);
}
