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
//   Ordering: the candidates (p_j, j) of the row are sorted by one block with a bottom-up merge sort:
//   ceil(log2 V) rounds, each merging pairs of sorted runs (width 1, 2, 4, …) from one buffer into the
//   other; thread t writes outputs [t·E, (t+1)·E), E = ceil(V / threads), finding where they start in
//   each pair by a merge-path binary search. The order is total (indices are distinct), so any correct
//   sort gives the same list. O(V·log V / threads) per row, one __syncthreads per round. The two buffers
//   (each p [V] doubles + j [V] ints) sit in dynamic shared memory when 24·V bytes fit the default 48 KB
//   (V ≤ 2005), else in the caller's workspace, one slice per block (sample_workspace_floats; the grid
//   then has at most SAMPLE_WORKSPACE_ELEMS / V blocks). Thread 0 then walks the sorted list.
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
constexpr long long SAMPLE_WORKSPACE_ELEMS = 1 << 22;  // candidates of all blocks in the workspace (96 MB)
constexpr size_t SAMPLE_ENTRY_BYTES = 2 * (sizeof(double) + sizeof(int));  // a candidate in both buffers

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

// How many of the first d outputs of merging sorted runs a (na entries) and b (nb) come from a.
__device__ unsigned merge_split(const double* pa, const int* ja, unsigned na, const double* pb, const int* jb,
                                unsigned nb, unsigned d) {
  unsigned lo = d > nb ? d - nb : 0, hi = d < na ? d : na;
  while (lo < hi) {  // first i whose a[i] is not among the first d: a[i] comes after b[d - i - 1]
    const unsigned i = (lo + hi) / 2;
    if (comes_before(pa[i], ja[i], pb[d - i - 1], jb[d - i - 1])) lo = i + 1;
    else hi = i;
  }
  return lo;
}

// Sorts the V candidates (p[i], j[i]) into the candidate order by the whole block, using (p2, j2) [V] as
// the other buffer; returns which buffer holds the result (false: p, j; true: p2, j2).
__device__ bool block_merge_sort(double* p, int* j, double* p2, int* j2, unsigned V) {
  const unsigned per = (V + blockDim.x - 1) / blockDim.x;
  const unsigned o0 = threadIdx.x * per < V ? threadIdx.x * per : V, o1 = o0 + per < V ? o0 + per : V;
  bool swapped = false;
  for (unsigned w = 1; w < V; w <<= 1) {
    const double* sp = swapped ? p2 : p;
    const int* sj = swapped ? j2 : j;
    double* dp = swapped ? p : p2;
    int* dj = swapped ? j : j2;
    // this thread's outputs [o0, o1), pair by pair: a = [base, base + na), b = [base + na, base + na + nb)
    for (unsigned o = o0; o < o1;) {
      const unsigned base = o / (2 * w) * (2 * w);
      const unsigned na = V - base < w ? V - base : w, nb = V - base - na < w ? V - base - na : w;
      const double *pa = sp + base, *pb = pa + na;
      const int *ja = sj + base, *jb = ja + na;
      const unsigned end = o1 < base + na + nb ? o1 : base + na + nb;
      unsigned ia = merge_split(pa, ja, na, pb, jb, nb, o - base), ib = o - base - ia;
      for (; o < end; ++o) {
        if (ib >= nb || (ia < na && comes_before(pa[ia], ja[ia], pb[ib], jb[ib]))) {
          dp[o] = pa[ia];
          dj[o] = ja[ia++];
        } else {
          dp[o] = pb[ib];
          dj[o] = jb[ib++];
        }
      }
    }
    swapped = !swapped;
    __syncthreads();  // the next round reads what every thread wrote
  }
  return swapped;
}

// Thread 0's walk over the sorted candidates: the kept prefix (K, then top-p) and the draw at u·mass.
__device__ int draw_sorted(const double* p, const int* j, int K, bool use_top_p, float top_p, double u) {
  double mass = 0.0;
  int kept = 0;
  while (kept < K) {
    mass += p[kept++];
    if (use_top_p && mass >= top_p) break;
  }
  const double target = u * mass;
  double run = 0.0;
  for (int r = 0; r < kept; ++r) {
    run += p[r];
    if (run > target) return j[r];
  }
  return j[kept - 1];  // rounding left none: the last kept one
}

// grid: any (rows grid-strided); block: a multiple of 32 threads. Sort buffers: dynamic shared memory
// (24·V bytes: p [V], p2 [V] doubles, then j [V], j2 [V] ints) when workspace is null, else the same
// layout in workspace, one such slice of 24·V bytes per block (the doubles first).
__global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(int B, int V, const float* __restrict__ logits, float temperature, int top_k,
                  float top_p, uint32_t seed, uint32_t offset, const int32_t* __restrict__ offset_add,
                  int32_t* __restrict__ tokens, float* __restrict__ logp, float* __restrict__ entropy,
                  double* workspace) {
  // shapes: logits [B,V], offset_add [1] or nullptr, tokens [B], logp [B], entropy [B]
  if (offset_add != nullptr) offset += (uint32_t)*offset_add;  // a counter on the device (CUDA graphs)
  __shared__ float scratch_f[32];
  __shared__ double scratch_d[32];
  __shared__ int scratch_i[32];
  const int tid = threadIdx.x, nt = blockDim.x;
  const int K = (top_k <= 0 || top_k > V) ? V : top_k;
  const bool use_top_p = top_p < 1.f;
  const double temp = temperature;
  double* p = workspace ? workspace + (size_t)blockIdx.x * 3 * V : sample_smem;
  double* p2 = p + V;
  int* order = reinterpret_cast<int*>(p2 + V);
  int* order2 = order + V;
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
      if (z > 0.0 && z < INFINITY) {
        for (int j = tid; j < V; j += nt) {
          p[j] = tempered_exp(x[j], shift, temp) / z;
          order[j] = j;
        }
        __syncthreads();
        const bool in2 = block_merge_sort(p, order, p2, order2, (unsigned)V);
        if (tid == 0) token = draw_sorted(in2 ? p2 : p, in2 ? order2 : order, K, use_top_p, top_p, u);
        __syncthreads();  // p and order are rewritten by the next row
      }
    }
    if (tid == 0) {
      tokens[b] = token;
      logp[b] = (float)((double)x[token] - (shift + log_s));
      entropy[b] = (float)(log_s - e / s);
    }
  }
}

// Blocks of one launch: rows grid-strided over at most 65,536 blocks; with the workspace, at most
// SAMPLE_WORKSPACE_ELEMS / V of them (each owns a V-candidate slice).
unsigned sample_blocks(int B, int V, bool in_workspace) {
  long long cap = 65536;
  if (in_workspace) cap = SAMPLE_WORKSPACE_ELEMS / V > 1 ? SAMPLE_WORKSPACE_ELEMS / V : 1;
  return (unsigned)(B < cap ? B : cap);
}

bool sample_in_workspace(int V) {
  return (size_t)V * SAMPLE_ENTRY_BYTES + SAMPLE_STATIC_SHARED > SAMPLE_DEFAULT_SHARED;
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
size_t sample_workspace_floats(int B, int V) {
  if (B <= 0 || V <= 0 || !sample_in_workspace(V)) return 0;
  // per block: 2·V doubles (2 floats each) + 2·V ints (1 float each)
  return (size_t)sample_blocks(B, V, true) * V * 6;
}

cudaError_t sample(int B, int V, const float* logits, float temperature, int top_k, float top_p,
                   uint32_t seed, uint32_t offset, const int32_t* offset_add, int32_t* tokens, float* logp,
                   float* entropy, float* workspace, cudaStream_t stream) {
  if (B <= 0 || V <= 0) return cudaSuccess;
  const bool in_workspace = sample_in_workspace(V);
  const size_t shared = in_workspace ? 0 : (size_t)V * SAMPLE_ENTRY_BYTES;
  // no more threads than candidates (rounded up to whole warps)
  int threads = (V + 31) / 32 * 32;
  if (threads > SAMPLE_THREADS) threads = SAMPLE_THREADS;
  return launch(sample_kernel, dim3(sample_blocks(B, V, in_workspace)), dim3(threads), shared, stream, B, V,
                logits, temperature, top_k, top_p, seed, offset, offset_add, tokens, logp, entropy,
                in_workspace ? reinterpret_cast<double*>(workspace) : nullptr);
}
