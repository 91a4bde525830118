// Token sampling on the device: temperature, top-k, top-p and the draw, plus the model's log-probability
// of the drawn token and its entropy, so that generation never copies logits to the host.
// CPU reference: src/cpu/sample.ts. The algorithm is the contract in src/backend.ts (SampleArgs).
//
// Kernel: sample_kernel, one block per row b (rows grid-strided over blocks). Per row:
//   1. max and argmax of the logits (largest first, lowest index on ties): one pair block reduction.
//   2. model distribution at temperature 1, in double: S = Σ exp(x - max), E = Σ exp(x - max)·(x - max);
//      logp = x[token] - (max + log S), entropy = log S - E / S.
//   3. temperature ≤ 0: token = argmax. Otherwise, all in double like the cpu reference:
//      p_j = exp((x_j - max) / T) / Z, Z = Σ_j exp((x_j - max) / T) (fixed block-reduction order); every
//      p_j comes from the one expression in tempered_exp, so the same j always has the same bits.
//      Candidates are ordered by p descending, index ascending; keep K = topK (0 or > V: all); when
//      topP < 1, keep the shortest prefix whose running sum (accumulated one candidate at a time, in that
//      order) is ≥ topP; mass = that running sum (the sum of all K kept otherwise); the draw walks the
//      kept list again from 0, accumulating p in the same order, and takes the first candidate whose
//      running sum > u·mass (the last kept one if none), u = rng_uniform(seed, offset + b).
//      Matching the reference: the running sums are sequential double adds in rank order, exactly as
//      there; Z (a tree sum here), exp's last bit, and temperature / topP arriving as float can move a p
//      or a threshold by ~1e-16 (1e-8 for the float arguments) relative: the drawn token can differ only
//      when u·mass falls that close to a running sum.
//   Ordering, two paths:
//   - p [V] doubles and the order [V] ints fit in shared memory (V ≤ 4000 in the default 48 KB; up to
//     ~19,000 where the device lets a kernel opt in to more, 227 KB on sm_90): each candidate's rank =
//     number of candidates ordered before it (O(V²)/threads compares of broadcast shared reads,
//     stopping at K); order[rank] = j; thread 0 walks the order.
//   - larger V (no workspace to spill to): selection without a sorted list; each step of the walk is a
//     block reduction for the first candidate ordered after the previous one. O(kept·V) per row: exact
//     for any V, fast only when top-k / top-p keep few candidates.
#include <limits.h>
#include <math.h>

#include "block_reduce.cuh"
#include "lstm_cuda.h"
#include "rng.cuh"

// Dynamic shared memory of sample_kernel, declared at file scope (the emulator binds extern __shared__
// names in the global namespace).
extern __shared__ double sample_smem[];

namespace {

constexpr int SAMPLE_THREADS = 512;  // at most (fewer for small V); the kernel's launch bound
constexpr size_t SAMPLE_DEFAULT_SHARED = 48 * 1024;  // dynamic + static a block gets without opting in
constexpr size_t SAMPLE_STATIC_SHARED = 1024;        // the kernel's static scratch (512 B), rounded up

// ------------------------------------------------------------------------------------------ kernels

// The candidate order: (pa, a) comes before (pb, b) iff pa > pb, or pa == pb and a < b.
template <class K>
__device__ __forceinline__ bool comes_before(K pa, int a, K pb, int b) {
  return pa > pb || (pa == pb && a < b);
}

// Unnormalised probability at temperature T (> 0); shift = the row max.
__device__ __forceinline__ double tempered_exp(float x, float shift, double temperature) {
  return exp(((double)x - shift) / temperature);
}

// The candidate (key, idx) of the block that comes first in the candidate order; every thread gets it.
// Threads without a candidate pass (-INFINITY, INT_MAX). scratch_k, scratch_i: __shared__ [32].
template <class K>
__device__ void block_first(K& key, int& idx, K* scratch_k, int* scratch_i) {
  for (int mask = 16; mask > 0; mask >>= 1) {
    const K k2 = __shfl_xor_sync(FULL_WARP, key, mask);
    const int i2 = __shfl_xor_sync(FULL_WARP, idx, mask);
    if (comes_before(k2, i2, key, idx)) {
      key = k2;
      idx = i2;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  __syncthreads();  // a previous call's readers are done with scratch
  if (lane == 0) {
    scratch_k[warp] = key;
    scratch_i[warp] = idx;
  }
  __syncthreads();
  key = scratch_k[0];
  idx = scratch_i[0];
  for (int w = 1; w < nwarps; ++w)
    if (comes_before(scratch_k[w], scratch_i[w], key, idx)) {
      key = scratch_k[w];
      idx = scratch_i[w];
    }
}

// Selection path: the candidate that comes first among those ordered after (prev_p, prev_j).
__device__ void next_candidate(const float* x, int V, float shift, double temperature, double z,
                               double& prev_p, int& prev_j, double* scratch_k, int* scratch_i) {
  double bk = -INFINITY;
  int bi = INT_MAX;
  for (int j = threadIdx.x; j < V; j += blockDim.x) {
    const double pj = tempered_exp(x[j], shift, temperature) / z;
    if (comes_before(prev_p, prev_j, pj, j) && comes_before(pj, j, bk, bi)) {
      bk = pj;
      bi = j;
    }
  }
  block_first(bk, bi, scratch_k, scratch_i);
  prev_p = bk;
  prev_j = bi;
}

// grid: any (rows grid-strided); block: a multiple of 32 threads; dynamic shared memory: 12·V bytes
// when use_shared (p [V] doubles, then order [V] ints), else 0.
__global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(int B, int V, const float* __restrict__ logits, float temperature, int top_k,
                  float top_p, uint32_t seed, uint32_t offset, const int32_t* __restrict__ offset_add,
                  int32_t* __restrict__ tokens, float* __restrict__ logp, float* __restrict__ entropy,
                  bool use_shared) {
  // shapes: logits [B,V], offset_add [1] or nullptr, tokens [B], logp [B], entropy [B]
  if (offset_add != nullptr) offset += (uint32_t)*offset_add;  // a counter on the device (CUDA graphs)
  __shared__ float scratch_f[32];
  __shared__ double scratch_d[32];
  __shared__ int scratch_i[32];
  const int tid = threadIdx.x, nt = blockDim.x;
  const int K = (top_k <= 0 || top_k > V) ? V : top_k;
  const bool use_top_p = top_p < 1.f;
  const double temp = temperature;
  for (int b = blockIdx.x; b < B; b += gridDim.x) {
    const float* x = logits + (long long)b * V;

    // 1. max and argmax
    float mx = -INFINITY;
    int arg = INT_MAX;
    for (int j = tid; j < V; j += nt)
      if (comes_before(x[j], j, mx, arg)) {
        mx = x[j];
        arg = j;
      }
    block_first(mx, arg, scratch_f, scratch_i);
    if (arg == INT_MAX) arg = 0;  // a row of NaN: stay in bounds (and the draw below falls back to arg)
    const float shift = mx == -INFINITY ? 0.f : mx;  // an all -inf row: exp gives 0, not NaN

    // 2. the model distribution at temperature 1
    double s = 0.0, e = 0.0;
    for (int j = tid; j < V; j += nt) {
      const double d = (double)x[j] - shift, ej = exp(d);
      s += ej;
      if (ej > 0.0) e += ej * d;  // 0·(-inf) would be NaN
    }
    s = block_reduce(s, scratch_d, SumOp());
    e = block_reduce(e, scratch_d, SumOp());
    const double log_s = log(s);

    // 3. the token
    int token = arg;
    if (temperature > 0.f) {
      double z = 0.0;
      for (int j = tid; j < V; j += nt) z += tempered_exp(x[j], shift, temp);
      z = block_reduce(z, scratch_d, SumOp());
      const double u = rng_uniform(seed, offset + (uint32_t)b);
      // A NaN or +inf logit (or an all -inf row) makes z NaN or 0: there is no distribution to draw from, so the
      // token is the argmax, as in src/cpu/sample.ts. z is block-reduced, so this branch is block-uniform.
      if (!(z > 0.0 && z < INFINITY)) {
        // token stays arg
      } else if (use_shared) {
        double* p = sample_smem;
        int* order = reinterpret_cast<int*>(sample_smem + V);
        for (int j = tid; j < V; j += nt) p[j] = tempered_exp(x[j], shift, temp) / z;
        __syncthreads();
        for (int j = tid; j < V; j += nt) {
          const double pj = p[j];
          int rank = 0;
          for (int i = 0; i < V && rank < K; ++i) rank += comes_before(p[i], i, pj, j) ? 1 : 0;
          if (rank < K) order[rank] = j;
        }
        __syncthreads();
        if (tid == 0) {
          double mass = 0.0;
          int kept = 0;
          while (kept < K) {
            mass += p[order[kept++]];
            if (use_top_p && mass >= top_p) break;
          }
          const double target = u * mass;
          double run = 0.0;
          token = order[kept - 1];
          for (int r = 0; r < kept; ++r) {
            run += p[order[r]];
            if (run > target) {
              token = order[r];
              break;
            }
          }
        }
        __syncthreads();  // p and order are rewritten by the next row
      } else {
        // every thread runs the same walk on the same broadcast values: the breaks are block-uniform
        double mass = 0.0, prev_p = INFINITY;
        int kept = 0, prev_j = -1;
        while (kept < K) {
          next_candidate(x, V, shift, temp, z, prev_p, prev_j, scratch_d, scratch_i);
          mass += prev_p;
          ++kept;
          if (use_top_p && mass >= top_p) break;
        }
        const double target = u * mass;
        double run = 0.0;
        prev_p = INFINITY;
        prev_j = -1;
        for (int r = 0; r < kept; ++r) {
          next_candidate(x, V, shift, temp, z, prev_p, prev_j, scratch_d, scratch_i);
          run += prev_p;
          if (run > target) break;
        }
        // the drawn one, or the last kept one when rounding left none (INT_MAX: NaN p, stay in bounds)
        token = prev_j == INT_MAX ? arg : prev_j;
      }
    }
    if (tid == 0) {
      tokens[b] = token;
      logp[b] = (float)((double)x[token] - (shift + log_s));
      entropy[b] = (float)(log_s - e / s);
    }
  }
}

}  // namespace

// ----------------------------------------------------------------------------------------- launcher

// Per row b: a token drawn from softmax(logits[b] / temperature) filtered by top-k / top-p (greedy when
// temperature ≤ 0), with u = rng_uniform(seed, offset + offset_add[0] + b) (offset_add may be nullptr: 0).
//   logits:  in  [B,V]
//   offset_add: in int32 [1] or nullptr, read on the device (a replayed graph's counter)
//   tokens:  out int32 [B]
//   logp:    out [B] log softmax(logits[b])[tokens[b]] at temperature 1, no filtering
//   entropy: out [B] entropy of softmax(logits[b]) at temperature 1, in nats
//   top_k: 0 (or ≥ V) keeps all; top_p ≥ 1 keeps all (≤ 0 keeps the most probable one)
cudaError_t sample(int B, int V, const float* logits, float temperature, int top_k, float top_p,
                   uint32_t seed, uint32_t offset, const int32_t* offset_add, int32_t* tokens, float* logp,
                   float* entropy, cudaStream_t stream) {
  if (B <= 0 || V <= 0) return cudaSuccess;
  // p [V] doubles + order [V] ints in dynamic shared memory when they fit, opting in above 48 KB
  const size_t want = (size_t)V * (sizeof(double) + sizeof(int));
  bool use_shared = want + SAMPLE_STATIC_SHARED <= SAMPLE_DEFAULT_SHARED;
  if (!use_shared) {
    int device = 0, optin = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (e != cudaSuccess) return e;
    if (want + SAMPLE_STATIC_SHARED <= (size_t)optin) {
      e = cudaFuncSetAttribute(sample_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)want);
      if (e != cudaSuccess) return e;
      use_shared = true;
    }
  }
  // no more threads than candidates (rounded up to whole warps)
  int threads = (V + 31) / 32 * 32;
  if (threads > SAMPLE_THREADS) threads = SAMPLE_THREADS;
  const unsigned blocks = B < 65536 ? (unsigned)B : 65536u;
  return launch(sample_kernel, dim3(blocks), dim3(threads), use_shared ? want : 0, stream, B, V, logits,
                temperature, top_k, top_p, seed, offset, offset_add, tokens, logp, entropy, use_shared);
}
