// Launcher declarations for every kernel of the backend interface (src/backend.ts is the TS twin; the
// contracts there hold here too), and the one place a kernel launch is spelled.
//
// Glossary: B = batch, T = time steps, I = input size, H = hidden size, V = vocabulary,
//           N = rows (usually T·B), D = embedding size, M/N/K = GEMM sizes, n = element count.
// All matrices row-major, contiguous, float32 on the device. Gate order i, f, g, o (PyTorch).
// Pointers: "in" is read, "out" is overwritten, "in/out" is read then written, "acc" is accumulated (+=).
// Parameter gradients accumulate; activation gradients overwrite. No launcher allocates memory: the
// caller passes any workspace (see *_workspace_floats). No launcher synchronises the host; each returns
// the launch status (cudaGetLastError) so the glue can turn it into a JS exception.
//
// Built three ways:
//   nvcc                     -> the `cuda` addon (kernels on a GPU)
//   g++ -DLSTM_CUDA_EMU      -> the `emu` addon (kernels/emu/cuda_emu.h runs them on CPU threads)
//   g++ -DLSTM_CUDA_CPU      -> the `cpu` addon: these launchers implemented natively (native/cpu/)
#pragma once
#include <stdint.h>

#if defined(LSTM_CUDA_CPU)
#include "../native/cpu/cuda_cpu.h"
#elif defined(LSTM_CUDA_EMU)
#include "emu/cuda_emu.h"
#else
#include <cuda_runtime.h>
// The only place `<<<` appears: every launcher calls launch(), which the emulator defines its own way.
template <typename... KArgs, typename... Args>
static inline cudaError_t launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t shared_bytes,
                                 cudaStream_t stream, Args... args) {
  kernel<<<grid, block, shared_bytes, stream>>>(args...);
  return cudaGetLastError();
}
#endif

// ------------------------------------------------------------------------------------------ gemm.cu
// C[M,N] = alpha·op(A)·op(B) + beta·C. op(A) is [M,K]: A is stored [M,K], or [K,M] when trans_a.
// op(B) is [K,N]: B is stored [K,N], or [N,K] when trans_b. beta == 0: C's old contents are ignored.
// A, B: in. C: in/out. Sizes may be 0 (no-op) and need not be multiples of the tile.
cudaError_t gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream);

// ------------------------------------------------------------------------------------------ lstm.cu
// One step's fused gates.
//   gates:  in/out [B,4H]  in = x·W_ihᵀ + h_{t-1}·W_hhᵀ (no bias); out = σ(i),σ(f),tanh(g),σ(o) (saved)
//   b_ih, b_hh: in [4H] or nullptr
//   c_prev: in [B,H]   c, h, tanh_c: out [B,H]  (c_t, h_t = o⊙tanh(c_t), tanh(c_t) saved for backward)
cudaError_t lstm_gates_forward(int B, int H, float* gates, const float* b_ih, const float* b_hh,
                               const float* c_prev, float* c, float* h, float* tanh_c,
                               cudaStream_t stream);
// One step's fused gate backward.
//   gates: in [B,4H] activations saved by forward; c_prev, tanh_c: in [B,H]
//   dh: in [B,H] total gradient w.r.t. h_t
//   dc: in/out [B,H] in = gradient carried into c_t; out = gradient w.r.t. c_{t-1}
//   dgates: out [B,4H] gradient w.r.t. the pre-activations
cudaError_t lstm_gates_backward(int B, int H, const float* gates, const float* c_prev,
                                const float* tanh_c, const float* dh, float* dc, float* dgates,
                                cudaStream_t stream);
// One layer over T steps (T ≥ 1): one GEMM for x·W_ihᵀ of all steps, then per step one recurrent GEMM
// (accumulating into that step's gates) and one fused gate kernel. No host synchronisation inside.
//   x: in [T,B,I]   w_ih: in [4H,I]   w_hh: in [4H,H]   b_ih, b_hh: in [4H] or nullptr
//   h0, c0: in [B,H]
//   h, c, tanh_c: out [T,B,H]   gates: out [T,B,4H]   (all saved for backward; h is the layer output)
cudaError_t lstm_forward(int T, int B, int I, int H, const float* x, const float* w_ih,
                         const float* w_hh, const float* b_ih, const float* b_hh, const float* h0,
                         const float* c0, float* h, float* c, float* gates, float* tanh_c,
                         cudaStream_t stream);
// Floats of workspace lstm_backward needs: dgates [T,B,4H] + dh carry [B,H] + dc carry [B,H].
size_t lstm_backward_workspace_floats(int T, int B, int H);
// BPTT over one layer: per step (reversed) one fused gate-backward kernel and one GEMM for dh_{t-1};
// after the loop big GEMMs for dW_ih, dW_hh, dx and a deterministic row reduction for the biases.
//   x, w_ih, w_hh, h0, c0, h, c, gates, tanh_c: in, as given to / saved by lstm_forward
//   dh: in [T,B,H] or nullptr (zeros)   dh_T, dc_T: in [B,H] or nullptr (zeros)
//   dx: out [T,B,I] or nullptr   dh0, dc0: out [B,H] or nullptr
//   dw_ih: acc [4H,I]   dw_hh: acc [4H,H]   db_ih, db_hh: acc [4H]   (each may be nullptr)
//   workspace: scratch of lstm_backward_workspace_floats(T,B,H) floats
cudaError_t lstm_backward(int T, int B, int I, int H, const float* x, const float* w_ih,
                          const float* w_hh, const float* h0, const float* c0, const float* h,
                          const float* c, const float* gates, const float* tanh_c, const float* dh,
                          const float* dh_T, const float* dc_T, float* dx, float* dh0, float* dc0,
                          float* dw_ih, float* dw_hh, float* db_ih, float* db_hh, float* workspace,
                          cudaStream_t stream);

// ---------------------------------------------------------------------------------- softmax_xent.cu
//   logits: in [N,V]   targets: in int32 [N] (each in [0,V) or == ignore_index)
//   loss: out [N] (0 on ignored rows)   lse: out [N] logsumexp per row (saved for backward)
cudaError_t softmax_xent_forward(int N, int V, const float* logits, const int32_t* targets,
                                 int ignore_index, float* loss, float* lse, cudaStream_t stream);
//   lse: in [N]   dloss: in [N]   dlogits: out [N,V] = (softmax - onehot)·dloss; zero rows if ignored
cudaError_t softmax_xent_backward(int N, int V, const float* logits, const int32_t* targets,
                                  int ignore_index, const float* lse, const float* dloss,
                                  float* dlogits, cudaStream_t stream);

// ------------------------------------------------------------------------------------- embedding.cu
//   weight: in [V,D]   idx: in int32 [N] (each in [0,V))   out: out [N,D]
cudaError_t embedding_forward(int N, int V, int D, const float* weight, const int32_t* idx,
                              float* out, cudaStream_t stream);
//   dout: in [N,D]   dweight: acc [V,D], deterministic (no float atomics)
cudaError_t embedding_backward(int N, int V, int D, const int32_t* idx, const float* dout,
                               float* dweight, cudaStream_t stream);

// --------------------------------------------------------------------------------------- dropout.cu
//   mask: out [n] = scale where (rng_u32(seed, offset+i) >> 8) >= threshold, else 0 (kernels/rng.cuh)
cudaError_t dropout_mask(int n, uint32_t seed, uint32_t offset, uint32_t threshold, float scale,
                         float* mask, cudaStream_t stream);

// ------------------------------------------------------------------------------------------ adam.cu
//   param, m, v: in/out [n]   grad: in [n]   bc1 = 1-β1^step, bc2 = 1-β2^step (host, double)
cudaError_t adam_step(int n, float* param, const float* grad, float* m, float* v, float lr,
                      float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                      float bc1, float bc2, cudaStream_t stream);
//   param: in/out [n]   grad: in [n]   buf: in/out [n] or nullptr when momentum == 0
cudaError_t sgd_step(int n, float* param, const float* grad, float* buf, float lr, float momentum,
                     float weight_decay, bool first, cudaStream_t stream);

// ------------------------------------------------------------------------------------ grad_norm.cu
//   x: in [n]   out: out, out[out_index] = Σ x² (deterministic tree reduction)
cudaError_t sum_squares(int n, const float* x, float* out, int out_index, cudaStream_t stream);

// ---------------------------------------------------------------------------------- elementwise.cu
cudaError_t fill(int n, float* x, float value, cudaStream_t stream);
// out = alpha·x + beta·y (out may alias x or y)
cudaError_t axpby(int n, float alpha, const float* x, float beta, const float* y, float* out,
                  cudaStream_t stream);
// out = alpha·x + beta (out may alias x)
cudaError_t affine(int n, float alpha, const float* x, float beta, float* out, cudaStream_t stream);
// out = x⊙y (out may alias x or y)
cudaError_t mul(int n, const float* x, const float* y, float* out, cudaStream_t stream);
// out[0] = Σ x (deterministic)
cudaError_t sum(int n, const float* x, float* out, cudaStream_t stream);
// x[m,j] += b[j]   x: in/out [M,N]   b: in [N]
cudaError_t add_row_vector(int M, int N, float* x, const float* b, cudaStream_t stream);
// out[j] (+)= Σ_m x[m,j]   x: in [M,N]   out: out or acc [N] (deterministic)
cudaError_t sum_rows(int M, int N, const float* x, float* out, bool accumulate, cudaStream_t stream);

// ---------------------------------------------------------------------------------------- sample.cu
// Per row b: draw a token from softmax(logits[b]/temperature) filtered by top-k / top-p, with
// u = rng_uniform(seed, offset + b); the algorithm is spelled out in src/backend.ts (SampleArgs).
//   logits: in [B,V]   tokens: out int32 [B]   logp, entropy: out [B] (model distribution, T = 1)
cudaError_t sample(int B, int V, const float* logits, float temperature, int top_k, float top_p,
                   uint32_t seed, uint32_t offset, int32_t* tokens, float* logp, float* entropy,
                   cudaStream_t stream);
