// Every launcher of kernels/lstm_cuda.h for the native CPU build: the SIMD kernels through the table of
// the best instruction set this machine supports (chosen once, at first use; $LSTM_CUDA_CPU_SIMD =
// avx512 | avx2 | portable picks a supported one for tests), plus the scalar ones (embedding, dropout,
// sampling), the runtime's error strings and device query, and the per-thread scratch memory.
// Native code never aborts: out-of-range indices and negative sizes return cudaErrorInvalidValue, and a
// failed allocation cudaErrorMemoryAllocation, which the glue turns into a JS Error.
#include <math.h>
#include <unistd.h>

#include <algorithm>
#include <stdio.h>

#include "lstm_cuda.h"
#include "cpu_kernels.h"
#include "rng.cuh"
#include "thread_pool.h"

// ------------------------------------------------------------------------------------ the SIMD path

namespace {

bool supported(const char* simd) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (strcmp(simd, "avx512") == 0) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  if (strcmp(simd, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return strcmp(simd, "portable") == 0;
}

const CpuKernels* choose() {
  const char* want = getenv("LSTM_CUDA_CPU_SIMD");
  if (want != nullptr && supported(want)) {
    if (strcmp(want, "avx512") == 0) return cpu_kernels_avx512();
    if (strcmp(want, "avx2") == 0) return cpu_kernels_avx2();
    return cpu_kernels_portable();
  }
  if (supported("avx512")) return cpu_kernels_avx512();
  if (supported("avx2")) return cpu_kernels_avx2();
  return cpu_kernels_portable();
}

const CpuKernels& K() {
  static const CpuKernels* k = choose();
  return *k;
}

cudaError_t status(int code) { return static_cast<cudaError_t>(code); }

// Scratch slots of the calling thread (see cpu_kernels.h), freed when the thread exits.
struct Scratch {
  static constexpr int kSlots = 4;
  float* p[kSlots] = {};
  size_t cap[kSlots] = {};
  ~Scratch() {
    for (float* q : p) free(q);
  }
};
thread_local Scratch scratch;

}  // namespace

float* cpu_scratch(int slot, size_t floats) {
  if (slot < 0 || slot >= Scratch::kSlots) return nullptr;
  if (floats == 0) floats = 1;
  if (scratch.cap[slot] < floats) {
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    void* q = aligned_alloc(64, bytes);
    if (q == nullptr) return nullptr;
    free(scratch.p[slot]);
    scratch.p[slot] = static_cast<float*>(q);
    scratch.cap[slot] = floats;
  }
  return scratch.p[slot];
}

// ------------------------------------------------------------------------------------- runtime

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    default: return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorNotSupported: return "operation not supported";
    default: return "unknown error";
  }
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (p == nullptr || device != 0) return cudaErrorInvalidValue;
  memset(p, 0, sizeof *p);
  const int threads = cpu_threads();
  snprintf(p->name, sizeof p->name, "CPU (%s, %d thread%s)", K().name, threads, threads == 1 ? "" : "s");
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  p->totalGlobalMem = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
  p->multiProcessorCount = threads;
  return cudaSuccess;
}

// The CPU build launches no kernels: an "invalid launch" is the configuration error a GPU would give.
cudaError_t test_invalid_launch(cudaStream_t) { return cudaErrorInvalidConfiguration; }

// ------------------------------------------------------------------------------------ launchers

cudaError_t gemm(bool trans_a, bool trans_b, int M, int N, int K_, float alpha, const float* A, const float* B,
                 float beta, float* C, cudaStream_t) {
  if (M < 0 || N < 0 || K_ < 0) return cudaErrorInvalidValue;
  return status(K().gemm(trans_a, trans_b, M, N, K_, alpha, A, B, beta, C));
}

cudaError_t lstm_gates_forward(int B, int H, float* gates, const float* b_ih, const float* b_hh, const float* c_prev,
                               float* c, float* h, float* tanh_c, cudaStream_t) {
  if (B < 0 || H < 0) return cudaErrorInvalidValue;
  return status(K().lstm_gates_forward(B, H, gates, b_ih, b_hh, c_prev, c, h, tanh_c));
}

cudaError_t lstm_gates_backward(int B, int H, const float* gates, const float* c_prev, const float* tanh_c,
                                const float* dh, float* dc, float* dgates, cudaStream_t) {
  if (B < 0 || H < 0) return cudaErrorInvalidValue;
  return status(K().lstm_gates_backward(B, H, gates, c_prev, tanh_c, dh, dc, dgates));
}

cudaError_t lstm_forward(int T, int B, int I, int H, const float* x, const float* w_ih, const float* w_hh,
                         const float* b_ih, const float* b_hh, const float* h0, const float* c0, float* h, float* c,
                         float* gates, float* tanh_c, cudaStream_t) {
  if (T < 0 || B < 0 || I < 0 || H < 0) return cudaErrorInvalidValue;
  return status(K().lstm_forward(T, B, I, H, x, w_ih, w_hh, b_ih, b_hh, h0, c0, h, c, gates, tanh_c));
}

size_t lstm_backward_workspace_floats(int T, int B, int H) {
  return (size_t)T * B * 4 * H + 2 * (size_t)B * H;
}

cudaError_t lstm_backward(int T, int B, int I, int H, const float* x, const float* w_ih, const float* w_hh,
                          const float* h0, const float* c0, const float* h, const float* c, const float* gates,
                          const float* tanh_c, const float* dh, const float* dh_T, const float* dc_T, float* dx,
                          float* dh0, float* dc0, float* dw_ih, float* dw_hh, float* db_ih, float* db_hh,
                          float* workspace, cudaStream_t) {
  if (T < 0 || B < 0 || I < 0 || H < 0) return cudaErrorInvalidValue;
  return status(K().lstm_backward(T, B, I, H, x, w_ih, w_hh, h0, c0, h, c, gates, tanh_c, dh, dh_T, dc_T, dx, dh0,
                                  dc0, dw_ih, dw_hh, db_ih, db_hh, workspace));
}

namespace {
// Every target in [0,V) or == ignore_index.
bool targets_ok(int N, int V, const int32_t* targets, int ignore_index) {
  for (int n = 0; n < N; ++n) {
    const int t = targets[n];
    if (t != ignore_index && (t < 0 || t >= V)) return false;
  }
  return true;
}
bool indices_ok(int N, int V, const int32_t* idx) {
  for (int n = 0; n < N; ++n)
    if (idx[n] < 0 || idx[n] >= V) return false;
  return true;
}
}  // namespace

cudaError_t softmax_xent_forward(int N, int V, const float* logits, const int32_t* targets, int ignore_index,
                                 float* loss, float* lse, cudaStream_t) {
  if (N < 0 || V < 0) return cudaErrorInvalidValue;
  if (!targets_ok(N, V, targets, ignore_index)) return cudaErrorInvalidValue;
  return status(K().softmax_xent_forward(N, V, logits, targets, ignore_index, loss, lse));
}

cudaError_t softmax_xent_backward(int N, int V, const float* logits, const int32_t* targets, int ignore_index,
                                  const float* lse, const float* dloss, float* dlogits, cudaStream_t) {
  if (N < 0 || V < 0) return cudaErrorInvalidValue;
  if (!targets_ok(N, V, targets, ignore_index)) return cudaErrorInvalidValue;
  return status(K().softmax_xent_backward(N, V, logits, targets, ignore_index, lse, dloss, dlogits));
}

// Gather, parallel over rows.
cudaError_t embedding_forward(int N, int V, int D, const float* weight, const int32_t* idx, float* out,
                              cudaStream_t) {
  if (N < 0 || V < 0 || D < 0) return cudaErrorInvalidValue;
  if (N == 0 || D == 0) return cudaSuccess;
  if (!indices_ok(N, V, idx)) return cudaErrorInvalidValue;
  constexpr int ROWS = 256;
  parallel_for((N + ROWS - 1) / ROWS, [&](int task) {
    for (int n = task * ROWS; n < std::min(N, task * ROWS + ROWS); ++n)
      memcpy(out + (size_t)n * D, weight + (size_t)idx[n] * D, sizeof(float) * D);
  });
  return cudaSuccess;
}

// Scatter-add in ascending n for every element (the reference's order), parallel over column slices.
cudaError_t embedding_backward(int N, int V, int D, const int32_t* idx, const float* dout, float* dweight,
                               cudaStream_t) {
  if (N < 0 || V < 0 || D < 0) return cudaErrorInvalidValue;
  if (N == 0 || D == 0) return cudaSuccess;
  if (!indices_ok(N, V, idx)) return cudaErrorInvalidValue;
  constexpr int COLS = 64;
  parallel_for((D + COLS - 1) / COLS, [&](int task) {
    const int d0 = task * COLS, d1 = std::min(D, d0 + COLS);
    for (int n = 0; n < N; ++n) {
      float* dst = dweight + (size_t)idx[n] * D;
      const float* src = dout + (size_t)n * D;
      for (int d = d0; d < d1; ++d) dst[d] += src[d];
    }
  });
  return cudaSuccess;
}

// Row block copy (kernels/rows.cu): dst[dst_row + r] (+)= src[src_row + r], r < R, rows of D.
cudaError_t copy_rows(int R, int D, const float* src, int src_rows, int src_row, float* dst, int dst_rows,
                      int dst_row, bool accumulate, cudaStream_t) {
  if (R < 0 || D < 0 || src_row < 0 || dst_row < 0 || src_row > src_rows - R || dst_row > dst_rows - R)
    return cudaErrorInvalidValue;
  const size_t n = (size_t)R * D;
  const float* s = src + (size_t)src_row * D;
  float* d = dst + (size_t)dst_row * D;
  if (accumulate) {
    for (size_t i = 0; i < n; ++i) d[i] += s[i];
  } else if (n > 0) {
    memcpy(d, s, sizeof(float) * n);
  }
  return cudaSuccess;
}

cudaError_t dropout_mask(int n, uint32_t seed, uint32_t offset, uint32_t threshold, float scale, float* mask,
                         cudaStream_t) {
  if (n < 0) return cudaErrorInvalidValue;
  constexpr int CHUNK = 16384;
  parallel_for((n + CHUNK - 1) / CHUNK, [&](int task) {
    for (int i = task * CHUNK; i < std::min(n, task * CHUNK + CHUNK); ++i)
      mask[i] = (rng_u32(seed, offset + (uint32_t)i) >> 8) >= threshold ? scale : 0.f;
  });
  return cudaSuccess;
}

cudaError_t adam_step(int n, float* param, const float* grad, float* m, float* v, float lr, float beta1, float beta2,
                      float eps, float weight_decay, bool decoupled, float bc1, float bc2, cudaStream_t) {
  if (n < 0) return cudaErrorInvalidValue;
  return status(K().adam_step(n, param, grad, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, bc1, bc2));
}

cudaError_t sgd_step(int n, float* param, const float* grad, float* buf, float lr, float momentum,
                     float weight_decay, bool first, cudaStream_t) {
  if (n < 0) return cudaErrorInvalidValue;
  return status(K().sgd_step(n, param, grad, buf, lr, momentum, weight_decay, first));
}

cudaError_t sum_squares(int n, const float* x, float* out, int out_index, cudaStream_t) {
  if (out_index < 0) return cudaErrorInvalidValue;
  return status(K().sum_squares(n < 0 ? 0 : n, x, out, out_index));
}

cudaError_t fill(int n, float* x, float value, cudaStream_t) {
  if (n < 0) return cudaErrorInvalidValue;
  return status(K().fill(n, x, value));
}
cudaError_t axpby(int n, float alpha, const float* x, float beta, const float* y, float* out, cudaStream_t) {
  if (n < 0) return cudaErrorInvalidValue;
  return status(K().axpby(n, alpha, x, beta, y, out));
}
cudaError_t affine(int n, float alpha, const float* x, float beta, float* out, cudaStream_t) {
  if (n < 0) return cudaErrorInvalidValue;
  return status(K().affine(n, alpha, x, beta, out));
}
cudaError_t mul(int n, const float* x, const float* y, float* out, cudaStream_t) {
  if (n < 0) return cudaErrorInvalidValue;
  return status(K().mul(n, x, y, out));
}
cudaError_t sum(int n, const float* x, float* out, cudaStream_t) {
  return status(K().sum(n < 0 ? 0 : n, x, out));
}
cudaError_t add_row_vector(int M, int N, float* x, const float* b, cudaStream_t) {
  if (M < 0 || N < 0) return cudaErrorInvalidValue;
  return status(K().add_row_vector(M, N, x, b));
}
cudaError_t sum_rows(int M, int N, const float* x, float* out, bool accumulate, cudaStream_t) {
  if (M < 0 || N < 0) return cudaErrorInvalidValue;
  return status(K().sum_rows(M, N, x, out, accumulate));
}

// ---------------------------------------------------------------------------------------- sample

namespace {

// A candidate of the draw: its probability and index, sorted together (no indirection in the sort).
struct Candidate {
  double p;
  int j;
};

// One row: src/cpu/sample.ts step for step, in double (the same draws as the reference); O(V log V).
//   c: scratch [V]
void sample_row(int V, const float* x, float temperature, int top_k, float top_p, float u, int32_t* token,
                float* logp, float* entropy, Candidate* c) {
  double mx = -INFINITY;
  int arg = 0;
  for (int v = 0; v < V; ++v)
    if (x[v] > mx) {
      mx = x[v];
      arg = v;
    }
  double s = 0.0;
  for (int v = 0; v < V; ++v) s += exp((double)x[v] - mx);
  const double lse = mx + log(s);
  double pl = 0.0;
  for (int v = 0; v < V; ++v) {
    const double q = exp((double)x[v] - lse);
    if (q > 0) pl += q * ((double)x[v] - lse);
  }
  *entropy = (float)-pl;
  int tok = arg;
  if (temperature > 0.f) {
    const double t = temperature;
    double z = 0.0;
    for (int v = 0; v < V; ++v) {
      const double e = exp(((double)x[v] - mx) / t);
      c[v] = {e, v};
      z += e;
    }
    if (z > 0 && z < INFINITY) {  // else (a NaN or +inf logit, an all -inf row): the argmax
      for (int v = 0; v < V; ++v) c[v].p /= z;
      // p descending, index ascending: a total order, so the list is the reference's
      std::sort(c, c + V, [](const Candidate& a, const Candidate& b) { return a.p > b.p || (a.p == b.p && a.j < b.j); });
      int kept = top_k > 0 && top_k < V ? top_k : V;
      if (top_p < 1.f) {
        double run = 0.0;
        for (int r = 0; r < kept; ++r) {
          run += c[r].p;
          if (run >= (double)top_p) {
            kept = r + 1;
            break;
          }
        }
      }
      double mass = 0.0;
      for (int r = 0; r < kept; ++r) mass += c[r].p;
      const double target = (double)u * mass;
      double run = 0.0;
      tok = c[kept - 1].j;
      for (int r = 0; r < kept; ++r) {
        run += c[r].p;
        if (run > target) {
          tok = c[r].j;
          break;
        }
      }
    }
  }
  *token = tok;
  *logp = (float)((double)x[tok] - lse);
}

}  // namespace

// workspace: Candidate [V] (rows one after another)
size_t sample_workspace_floats(int B, int V) {
  return B > 0 && V > 0 ? (size_t)V * (sizeof(Candidate) / sizeof(float)) : 0;
}

cudaError_t sample(int B, int V, const float* logits, float temperature, int top_k, float top_p, uint32_t seed,
                   uint32_t offset, const int32_t* offset_add, int32_t* tokens, float* logp, float* entropy,
                   float* workspace, cudaStream_t) {
  if (B <= 0 || V <= 0) return cudaSuccess;
  if (offset_add != nullptr) offset += (uint32_t)*offset_add;
  Candidate* c = reinterpret_cast<Candidate*>(workspace);
  for (int b = 0; b < B; ++b)
    sample_row(V, logits + (size_t)b * V, temperature, top_k, top_p, rng_uniform(seed, offset + (uint32_t)b),
               tokens + b, logp + b, entropy + b, c);
  return cudaSuccess;
}
