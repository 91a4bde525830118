// The native CPU backend's kernel table: one entry per launcher of kernels/lstm_cuda.h that runs SIMD
// code, with the launcher's arguments (no stream). Each SIMD path (isa_avx512.cc, isa_avx2.cc,
// isa_portable.cc: the same source, kernels_impl.h, compiled for that instruction set) fills one table;
// launchers.cc picks the best the machine supports at run time and implements the launchers through it.
// Entries return 0 or a cudaError_t value (the SIMD translation units do not include the runtime header).
#pragma once
#include <stddef.h>
#include <stdint.h>

struct CpuKernels {
  const char* name;  // "AVX-512", "AVX2+FMA", "NEON", "portable (SSE2)", "portable"
  int gemm_mr, gemm_nr;
  int (*gemm)(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B,
              float beta, float* C);
  int (*lstm_gates_forward)(int B, int H, float* gates, const float* b_ih, const float* b_hh,
                            const float* c_prev, float* c, float* h, float* tanh_c);
  int (*lstm_gates_backward)(int B, int H, const float* gates, const float* c_prev, const float* tanh_c,
                             const float* dh, float* dc, float* dgates);
  int (*lstm_forward)(int T, int B, int I, int H, const float* x, const float* w_ih, const float* w_hh,
                      const float* b_ih, const float* b_hh, const float* h0, const float* c0, float* h,
                      float* c, float* gates, float* tanh_c);
  int (*lstm_backward)(int T, int B, int I, int H, const float* x, const float* w_ih, const float* w_hh,
                       const float* h0, const float* c0, const float* h, const float* c, const float* gates,
                       const float* tanh_c, const float* dh, const float* dh_T, const float* dc_T, float* dx,
                       float* dh0, float* dc0, float* dw_ih, float* dw_hh, float* db_ih, float* db_hh,
                       float* workspace);
  int (*softmax_xent_forward)(int N, int V, const float* logits, const int32_t* targets, int ignore_index,
                              float* loss, float* lse);
  int (*softmax_xent_backward)(int N, int V, const float* logits, const int32_t* targets, int ignore_index,
                               const float* lse, const float* dloss, float* dlogits);
  int (*adam_step)(int n, float* param, const float* grad, float* m, float* v, float lr, float beta1,
                   float beta2, float eps, float weight_decay, bool decoupled, float bc1, float bc2);
  int (*sgd_step)(int n, float* param, const float* grad, float* buf, float lr, float momentum,
                  float weight_decay, bool first);
  int (*sum_squares)(int n, const float* x, float* out, int out_index);
  int (*fill)(int n, float* x, float value);
  int (*axpby)(int n, float alpha, const float* x, float beta, const float* y, float* out);
  int (*affine)(int n, float alpha, const float* x, float beta, float* out);
  int (*mul)(int n, const float* x, const float* y, float* out);
  int (*sum)(int n, const float* x, float* out);
  int (*add_row_vector)(int M, int N, float* x, const float* b);
  int (*sum_rows)(int M, int N, const float* x, float* out, bool accumulate);
};

// The tables of the SIMD paths compiled into this build (nullptr where the architecture has none).
const CpuKernels* cpu_kernels_avx512();
const CpuKernels* cpu_kernels_avx2();
const CpuKernels* cpu_kernels_portable();

// Per-calling-thread scratch memory of the kernels (packed GEMM panels): slot s holds at least `floats`
// floats, 64-byte aligned, kept between calls (so a training loop allocates nothing after its first
// step). nullptr when the memory cannot be had. Slots: see kernels_impl.h.
float* cpu_scratch(int slot, size_t floats);
