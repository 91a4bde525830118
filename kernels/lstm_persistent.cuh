// The persistent recurrent LSTM kernels: the whole time loop of one layer in ONE cooperative launch, for
// small and medium batch (included by kernels/lstm.cu, whose lstm_forward/lstm_backward choose this path or
// the per-step recipe; see lstm_persistent_plan below).
//
// Slicing: block k of the grid (at most one per SM) owns the hidden units j ∈ [k·U, k·U + U) and keeps
// its slice of W_hh in shared memory for all T steps, interleaved by gate so one 16-byte load gives the
// four gates' weights:
//   forward   Wf[u·H + k] = (W_hh[0H+j][k], W_hh[1H+j][k], W_hh[2H+j][k], W_hh[3H+j][k])   rows of its units
//   backward  Wb[u·H + k] = (W_hh[0H+k][j], W_hh[1H+k][j], W_hh[2H+k][j], W_hh[3H+k][j])   columns of its units
// Per step each block reads the whole previous state (h_{t-1}, or dgates[t] in backward) from global
// memory (L2; __ldcg, never L1: other SMs wrote it) in chunks staged in shared memory, computes its units'
// recurrent products, applies the cell math (lstm_gates.cuh, the same functions as the per-step kernels)
// and writes its units' results; then ONE grid-wide barrier (cooperative_groups::this_grid().sync()) makes
// them visible to every block for the next step.
//   forward:  pre = h_{t-1}·W_hhᵀ (own gate rows) + x·W_ihᵀ (gates[t], from the one big GEMM before the
//             launch) + b_ih + b_hh -> gates[t], c[t], tanh_c[t], h[t] of its units; barrier.
//   backward: gate backward of its units from dh[t] + the carried dh_t and dc_t (registers: a thread
//             keeps the same (b, j) for all steps) -> dgates[t] (own units); barrier; dh_{t-1} of its
//             units = dgates[t]·W_hh[:, own] — its OWN units again, so the next step needs no second
//             barrier. After the launch the weight GEMMs, dx and the bias sums run as in the recipe.
// Threads: a work item is (unit u, group of 4 batch rows); a thread computes the 4 gates × 4 rows of one
// item over a slice of k (G threads per item split k and meet by a fixed xor butterfly of warp shuffles),
// so each 16-byte weight load feeds 16 FMAs. The recurrent product is exact fp32 FFMA (no TF32 here: the
// per-step path's GEMMs use TF32 on the cuda build unless the math mode is off, gemm.cuh); every sum has
// a fixed order, so results are deterministic (they differ from the per-step path's in the last bits).
//
// Kernels:   lstm_persistent_forward_kernel, lstm_persistent_backward_kernel
// Host:      lstm_persistent_plan (does it fit: shared memory, threads, co-residency, cooperative launch),
//            lstm_path_choice (LSTM_CUDA_LSTM_PATH), lstm_path_decide (the choice, recorded for
//            lstm_path_report in lstm.cu). The launches are in lstm.cu's lstm_forward / lstm_backward.
#pragma once
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "lstm_gates.cuh"
#ifndef LSTM_CUDA_EMU
#include <cooperative_groups.h>
#endif

// Dynamic shared memory of both kernels, declared at file scope (the emulator binds extern __shared__ names
// at file scope: EMU_DYNAMIC_SHARED_NAMES in emu/cuda_emu.h).
extern __shared__ float4 dynamic_smem[];

namespace {

constexpr int PERSIST_MAX_THREADS = 256;  // threads per block at most (one block per SM: 8 warps)
constexpr int PERSIST_ROWS = 4;           // batch rows per work item
constexpr int PERSIST_FWD_KC = 64;        // forward: h_{t-1} columns staged per chunk
constexpr int PERSIST_BWD_KC = 32;        // backward: dgates[t] columns (× 4 gates) staged per chunk
// padded row strides of the staging buffers (floats / float4s): the G lanes of an item read consecutive
// columns, and items of the same unit read rows 4 apart, which the +1 puts on other banks
constexpr int PERSIST_FWD_KCS = PERSIST_FWD_KC + 1;
constexpr int PERSIST_BWD_KCS = PERSIST_BWD_KC + 1;

// Sums v over the G consecutive lanes of an item (G a power of two ≤ 32, the same for the whole block):
// a fixed xor butterfly, every lane ends with the same total.
__device__ __forceinline__ float persist_group_sum(float v, int G) {
  for (int o = G >> 1; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// This thread's role in a block of the persistent kernels: the block owns units [j0, j0 + units); the
// thread works on item (unit u, rows b0..b0+3) and on the k ≡ s (mod G) slice of the product; lane s of
// the item finishes (cell math, stores) the rows m ≡ s (mod G).
struct PersistRole {
  int j0, units, nbg, u, b0, s, j, G;
  bool active;
  __device__ PersistRole(int B, int H, int U, int G_) : G(G_) {
    j0 = blockIdx.x * U;
    units = min(U, H - j0);
    nbg = (B + PERSIST_ROWS - 1) / PERSIST_ROWS;
    const int item = threadIdx.x / G;
    s = threadIdx.x % G;
    u = item / nbg;
    b0 = (item % nbg) * PERSIST_ROWS;
    active = item < U * nbg && u < units;
    j = j0 + u;
  }
  __device__ bool owns(int m, int B) const { return active && b0 + m < B && m % G == s; }
};

// Loads the block's slice of W_hh [4H,H] into W [U·H] float4, gate-interleaved, zeros for units past H:
// rows (forward: W[u·H + k] = W_hh[qH + j0+u][k]) or columns (backward: W[u·H + k] = W_hh[qH + k][j0+u]).
__device__ __forceinline__ void persist_load_w(float4* W, const float* w_hh, int H, int U, const PersistRole& r,
                                               bool columns) {
  for (int e = threadIdx.x; e < U * H; e += blockDim.x) {
    const int uu = e / H, k = e - uu * H;
    float4 w = make_float4(0.f, 0.f, 0.f, 0.f);
    if (uu < r.units) {
      const float* p = columns ? w_hh + (size_t)k * H + r.j0 + uu : w_hh + (size_t)(r.j0 + uu) * H + k;
      w = make_float4(p[0], p[(size_t)H * H], p[(size_t)2 * H * H], p[(size_t)3 * H * H]);
    }
    W[e] = w;
  }
}

// grid: ceil(H/U) blocks (co-resident), block: `threads` = items·G rounded up to a warp; dynamic shared
// memory: Wf [U·H] float4, then hs [4·⌈B/4⌉ rows, PERSIST_FWD_KCS] floats.
//   gates: in/out [T,B,4H] (in: x·W_ihᵀ; out: the activations, saved)   w_hh: in [4H,H]
//   b_ih, b_hh: in [4H] or nullptr   h0, c0: in [B,H]   h, c, tanh_c: out [T,B,H]
__global__ void __launch_bounds__(PERSIST_MAX_THREADS, 1)
lstm_persistent_forward_kernel(int T, int B, int H, int U, int G, float* __restrict__ gates,
                               const float* __restrict__ w_hh, const float* __restrict__ b_ih,
                               const float* __restrict__ b_hh, const float* __restrict__ h0,
                               const float* __restrict__ c0, float* h, float* c, float* tanh_c) {
  // shapes: gates [T,B,4H], w_hh [4H,H], biases [4H], h0/c0 [B,H], h/c/tanh_c [T,B,H]
  float4* Wf = dynamic_smem;
  float* hs = reinterpret_cast<float*>(dynamic_smem + (size_t)U * H);
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const PersistRole r(B, H, U, G);
  const int nbg = r.nbg, u = r.u, b0 = r.b0, s = r.s, j = r.j;
  const size_t BH = (size_t)B * H, BG = (size_t)B * 4 * H;

  // the block's W_hh rows; rows of hs past B stay zero
  persist_load_w(Wf, w_hh, H, U, r, false);
  for (int e = tid; e < nbg * PERSIST_ROWS * PERSIST_FWD_KCS; e += nthreads) hs[e] = 0.f;

  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  for (int t = 0; t < T; ++t) {
    const float* hp = t == 0 ? h0 : h + (size_t)(t - 1) * BH;
    const float* cp = t == 0 ? c0 : c + (size_t)(t - 1) * BH;
    float acc[4][PERSIST_ROWS];
#pragma unroll
    for (int q = 0; q < 4; ++q)
#pragma unroll
      for (int m = 0; m < PERSIST_ROWS; ++m) acc[q][m] = 0.f;
    for (int k0 = 0; k0 < H; k0 += PERSIST_FWD_KC) {
      const int kc = min(PERSIST_FWD_KC, H - k0);
      __syncthreads();  // the previous chunk has been consumed (and, at k0 = 0, the weights are in)
      for (int e = tid; e < B * kc; e += nthreads) {
        const int b = e / kc, kk = e - b * kc;
        hs[b * PERSIST_FWD_KCS + kk] = __ldcg(hp + (size_t)b * H + k0 + kk);
      }
      __syncthreads();  // the chunk is staged
      if (r.active) {
        const float4* wr = Wf + (size_t)u * H + k0;
        const float* hr = hs + b0 * PERSIST_FWD_KCS;
        for (int kk = s; kk < kc; kk += G) {
          const float4 w = wr[kk];
#pragma unroll
          for (int m = 0; m < PERSIST_ROWS; ++m) {
            const float x = hr[m * PERSIST_FWD_KCS + kk];
            acc[0][m] = fmaf(w.x, x, acc[0][m]);
            acc[1][m] = fmaf(w.y, x, acc[1][m]);
            acc[2][m] = fmaf(w.z, x, acc[2][m]);
            acc[3][m] = fmaf(w.w, x, acc[3][m]);
          }
        }
      }
    }
    if (G > 1) {
#pragma unroll
      for (int q = 0; q < 4; ++q)
#pragma unroll
        for (int m = 0; m < PERSIST_ROWS; ++m) acc[q][m] = persist_group_sum(acc[q][m], G);
    }
    // lane s of the item finishes rows m ≡ s (mod G): the cell math as lstm_gates_forward_kernel does it
#pragma unroll
    for (int m = 0; m < PERSIST_ROWS; ++m) {
      const int b = b0 + m;
      if (!r.owns(m, B)) continue;
      float* g = gates + (size_t)t * BG + (size_t)b * 4 * H;
      float pre[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        float v = acc[q][m] + g[q * H + j];
        if (b_ih) v += b_ih[q * H + j];
        if (b_hh) v += b_hh[q * H + j];
        pre[q] = v;
      }
      const size_t idx = (size_t)b * H + j;
      float ig, fg, gg, og, ct, tc, ht;
      lstm_cell_forward<ScalarGateMath>(pre[0], pre[1], pre[2], pre[3], cp[idx], ig, fg, gg, og, ct, tc, ht);
      g[j] = ig;
      g[H + j] = fg;
      g[2 * H + j] = gg;
      g[3 * H + j] = og;
      c[(size_t)t * BH + idx] = ct;
      tanh_c[(size_t)t * BH + idx] = tc;
      h[(size_t)t * BH + idx] = ht;
    }
    if (t + 1 < T) grid.sync();  // h[t] (and c[t]) of every unit are written before any block reads them
  }
}

// grid, block as the forward; dynamic shared memory: Wb [U·H] float4, then ds [4·⌈B/4⌉ rows,
// PERSIST_BWD_KCS] float4 (a chunk of dgates[t], the 4 gates of one column together).
//   gates: in [T,B,4H] saved activations   w_hh: in [4H,H]   c0: in [B,H]   c, tanh_c: in [T,B,H]
//   dh: in [T,B,H] or nullptr   dh_T, dc_T: in [B,H] or nullptr
//   dgates: out [T,B,4H]   dh0, dc0: out [B,H] or nullptr
__global__ void __launch_bounds__(PERSIST_MAX_THREADS, 1)
lstm_persistent_backward_kernel(int T, int B, int H, int U, int G, const float* __restrict__ gates,
                                const float* __restrict__ w_hh, const float* __restrict__ c0,
                                const float* __restrict__ c, const float* __restrict__ tanh_c,
                                const float* __restrict__ dh, const float* __restrict__ dh_T,
                                const float* __restrict__ dc_T, float* dgates, float* __restrict__ dh0,
                                float* __restrict__ dc0) {
  // shapes: gates/dgates [T,B,4H], w_hh [4H,H], c/tanh_c/dh [T,B,H], c0/dh_T/dc_T/dh0/dc0 [B,H]
  float4* Wb = dynamic_smem;
  float4* ds = dynamic_smem + (size_t)U * H;
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const PersistRole r(B, H, U, G);
  const int nbg = r.nbg, u = r.u, b0 = r.b0, s = r.s, j = r.j;
  const size_t BH = (size_t)B * H, BG = (size_t)B * 4 * H;

  // the block's W_hh columns; rows of ds past B stay zero
  persist_load_w(Wb, w_hh, H, U, r, true);
  for (int e = tid; e < nbg * PERSIST_ROWS * PERSIST_BWD_KCS; e += nthreads) ds[e] = make_float4(0.f, 0.f, 0.f, 0.f);

  // the carried gradients of this thread's rows: dh_t (from step t+1's product) and dc_t
  float dhc[PERSIST_ROWS], dcc[PERSIST_ROWS];
#pragma unroll
  for (int m = 0; m < PERSIST_ROWS; ++m) {
    const int b = b0 + m;
    const bool mine = r.owns(m, B);
    const size_t idx = (size_t)b * H + j;
    dhc[m] = mine && dh_T ? dh_T[idx] : 0.f;
    dcc[m] = mine && dc_T ? dc_T[idx] : 0.f;
  }

  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  for (int t = T - 1; t >= 0; --t) {
    const float* cp = t == 0 ? c0 : c + (size_t)(t - 1) * BH;
    // the gate backward of this thread's rows, as lstm_gates_backward_kernel does it
#pragma unroll
    for (int m = 0; m < PERSIST_ROWS; ++m) {
      const int b = b0 + m;
      if (!r.owns(m, B)) continue;
      const size_t idx = (size_t)b * H + j;
      const float* g = gates + (size_t)t * BG + (size_t)b * 4 * H;
      float dhv = 0.f;
      if (dh) dhv += dh[(size_t)t * BH + idx];
      dhv += dhc[m];
      float di, df, dgg, dog, dcp;
      lstm_cell_backward(g[j], g[H + j], g[2 * H + j], g[3 * H + j], cp[idx], tanh_c[(size_t)t * BH + idx], dhv,
                         dcc[m], di, df, dgg, dog, dcp);
      float* dg = dgates + (size_t)t * BG + (size_t)b * 4 * H;
      dg[j] = di;
      dg[H + j] = df;
      dg[2 * H + j] = dgg;
      dg[3 * H + j] = dog;
      dcc[m] = dcp;
    }
    if (t == 0 && !dh0) break;  // dh_{-1} is not wanted: no product, no barrier
    grid.sync();  // dgates[t] of every unit are written before any block reads them
    // dh_{t-1}[b][j] = Σ_{q,k} dgates[t][b][qH + k]·W_hh[qH + k][j] for this thread's rows
    float acc[PERSIST_ROWS];
#pragma unroll
    for (int m = 0; m < PERSIST_ROWS; ++m) acc[m] = 0.f;
    const float* dgt = dgates + (size_t)t * BG;
    for (int k0 = 0; k0 < H; k0 += PERSIST_BWD_KC) {
      const int kc = min(PERSIST_BWD_KC, H - k0);
      __syncthreads();  // the previous chunk has been consumed (and, at first, the weights are in)
      for (int e = tid; e < B * kc; e += nthreads) {
        const int b = e / kc, kk = e - b * kc;
        const float* r = dgt + (size_t)b * 4 * H + k0 + kk;
        ds[b * PERSIST_BWD_KCS + kk] = make_float4(__ldcg(r), __ldcg(r + H), __ldcg(r + 2 * H), __ldcg(r + 3 * H));
      }
      __syncthreads();  // the chunk is staged
      if (r.active) {
        const float4* wr = Wb + (size_t)u * H + k0;
        const float4* dr = ds + b0 * PERSIST_BWD_KCS;
        for (int kk = s; kk < kc; kk += G) {
          const float4 w = wr[kk];
#pragma unroll
          for (int m = 0; m < PERSIST_ROWS; ++m) {
            const float4 d = dr[m * PERSIST_BWD_KCS + kk];
            float a = acc[m];
            a = fmaf(w.x, d.x, a);
            a = fmaf(w.y, d.y, a);
            a = fmaf(w.z, d.z, a);
            a = fmaf(w.w, d.w, a);
            acc[m] = a;
          }
        }
      }
    }
#pragma unroll
    for (int m = 0; m < PERSIST_ROWS; ++m) dhc[m] = G > 1 ? persist_group_sum(acc[m], G) : acc[m];
  }
  // the gradients w.r.t. the initial state
#pragma unroll
  for (int m = 0; m < PERSIST_ROWS; ++m) {
    const int b = b0 + m;
    if (!r.owns(m, B)) continue;
    const size_t idx = (size_t)b * H + j;
    if (dh0) dh0[idx] = dhc[m];
    if (dc0) dc0[idx] = dcc[m];
  }
}

// ---------------------------------------------------------------------------------------- the plan

// Whether (and how) the persistent kernel runs a layer of batch B and hidden size H on this device.
struct PersistPlan {
  bool ok = false;
  int units = 0, blocks = 0, group = 0, threads = 0;
  size_t smem = 0;
  std::string why;  // ok: the shape of the launch; else: the reason it does not fit
};

std::string persist_strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string persist_strf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// U = ⌈H / SMs⌉ units per block (one block per SM at most), items = U·⌈B/4⌉ ≤ 256 threads, G = the largest
// power of two ≤ 32 with items·G ≤ 256; shared memory = the W_hh slice + one staged chunk. Fits when that
// is within the opt-in limit, the occupancy calculator holds every block at once and the device supports
// cooperative launches.
PersistPlan lstm_persistent_plan(bool backward, int B, int H) {
  PersistPlan p;
  int dev = 0, sms = 0, coop = 0, optin = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess) {
    cudaGetLastError();
    p.why = "the device attributes could not be read";
    return p;
  }
  if (!coop) {
    p.why = "the device does not support cooperative launches";
    return p;
  }
  const int U = (H + sms - 1) / sms;
  const int nbg = (B + PERSIST_ROWS - 1) / PERSIST_ROWS;
  const long long items = (long long)U * nbg;
  if (items > PERSIST_MAX_THREADS) {
    p.why = persist_strf("B=%d, H=%d: %d units x %d row groups = %lld work items per block exceed %d threads", B, H,
                         U, nbg, items, PERSIST_MAX_THREADS);
    return p;
  }
  int G = 1;
  while (G < 32 && items * G * 2 <= PERSIST_MAX_THREADS) G *= 2;
  const int threads = (int)((items * G + 31) / 32 * 32);
  const size_t rows = (size_t)nbg * PERSIST_ROWS;
  const size_t smem = (size_t)U * H * sizeof(float4) +
                      (backward ? rows * PERSIST_BWD_KCS * sizeof(float4) : rows * PERSIST_FWD_KCS * sizeof(float));
  p.units = U, p.blocks = (H + U - 1) / U, p.group = G, p.threads = threads, p.smem = smem;
  if (smem > (size_t)optin) {
    p.why = persist_strf("B=%d, H=%d: the W_hh slice (%d units) and staging need %zu bytes of shared memory per block, "
                         "more than the device's %d", B, H, U, smem, optin);
    return p;
  }
  cudaError_t err = backward ? cudaFuncSetAttribute(lstm_persistent_backward_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem)
                             : cudaFuncSetAttribute(lstm_persistent_forward_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
  int per_sm = 0;
  if (err == cudaSuccess)
    err = backward ? cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, lstm_persistent_backward_kernel, threads, smem)
                   : cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, lstm_persistent_forward_kernel, threads, smem);
  if (err != cudaSuccess) {
    cudaGetLastError();
    p.why = persist_strf("the occupancy query failed (%s)", cudaGetErrorString(err));
    return p;
  }
  if ((long long)per_sm * sms < p.blocks) {
    p.why = persist_strf("B=%d, H=%d: %d blocks of %d threads and %zu bytes of shared memory cannot all be resident "
                         "(%d per SM on %d SMs)", B, H, p.blocks, threads, smem, per_sm, sms);
    return p;
  }
  p.ok = true;
  p.why = persist_strf("persistent: %d blocks x %d units, %d threads (%d per work item of 1 unit x 4 rows), %zu bytes "
                       "shared", p.blocks, U, threads, G, smem);
  return p;
}

// --------------------------------------------------------------------------------- the path switch

enum class LstmPath { automatic, persistent, steps };

// LSTM_CUDA_LSTM_PATH, read at every call: auto (default) = persistent where it fits and T ≥ 2, else
// steps; persistent = also at T = 1 (a shape that does not fit still falls back, and the record says so);
// steps = the per-step recipe always.
LstmPath lstm_path_choice() {
  const char* v = getenv("LSTM_CUDA_LSTM_PATH");
  if (v == nullptr || v[0] == '\0' || strcmp(v, "auto") == 0) return LstmPath::automatic;
  if (strcmp(v, "persistent") == 0) return LstmPath::persistent;
  if (strcmp(v, "steps") == 0) return LstmPath::steps;
  return LstmPath::automatic;
}

// The record of the last forward and backward (one process-wide pair; the launchers run on the addon's
// one stream).
std::string& lstm_path_record(bool backward) {
  static std::string fwd, bwd;
  return backward ? bwd : fwd;
}

// Chooses the path for one call of T steps and records it. Returns the plan (ok: run persistent). auto
// takes the per-step path for T = 1 (one generation step: no step to keep W_hh on chip for, and the
// emulator's cooperative launches start an OS thread per block); LSTM_CUDA_LSTM_PATH=persistent does not.
PersistPlan lstm_path_decide(bool backward, int T, int B, int H) {
  const LstmPath choice = lstm_path_choice();
  PersistPlan p;
  if (choice == LstmPath::steps) {
    p.why = "steps (LSTM_CUDA_LSTM_PATH=steps)";
  } else if (choice == LstmPath::automatic && T == 1) {
    p.why = "steps (T=1: a single step)";
  } else {
    p = lstm_persistent_plan(backward, B, H);
    if (!p.ok) {
      p.why = std::string("steps (") + (choice == LstmPath::persistent ? "LSTM_CUDA_LSTM_PATH=persistent, but " : "") +
              p.why + ")";
    }
  }
  lstm_path_record(backward) = persist_strf("B=%d H=%d ", B, H) + p.why;
  return p;
}

}  // namespace
