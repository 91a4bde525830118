// The GEMM's math mode, for the kernels that call gemm() internally (lstm.cu) — the launcher itself is
// declared in lstm_cuda.h.
//   GemmMath::fp32   exact fp32 FMAs (the recipe)
//   GemmMath::tf32   tensor cores: operands rounded to TF32 (10-bit mantissa, cvt.rna), fp32 accumulation
// The process-wide setting Tf32Mode chooses (Backend.setMathMode in TypeScript, through native/addon.cc):
// off exact everywhere; lstm TF32 for the LSTM layer's GEMMs only (PyTorch's default on the same GPU: cuDNN
// RNNs use TF32, matmuls do not); all every GEMM. Its initial value, read from the environment at the
// first GEMM or query: LSTM_CUDA_TF32 "0"/"fp32" off, "lstm", "1"/"all"; unset: lstm on the cuda build,
// off on the emu build (whose suite checks exact fp32 against the reference; test/gemm_tf32.test.ts sets
// the mode). NVIDIA_TF32_OVERRIDE=0 makes the initial value off, as it does for cuBLAS and cuDNN.
#pragma once
#include "lstm_cuda.h"

enum class GemmMath { fp32, tf32 };
enum class Tf32Mode : int { off = 0, lstm = 1, all = 2 };

// The current setting (initialised from the environment on first use) and its setter.
Tf32Mode gemm_tf32_mode();
void gemm_set_tf32_mode(Tf32Mode mode);

// The mode for a GEMM of the LSTM layer (lstm = true) or any other (gemm()).
GemmMath gemm_math(bool lstm);
// gemm() (lstm_cuda.h) in the given mode.
cudaError_t gemm_with(GemmMath math, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                      const float* A, const float* B, float beta, float* C, cudaStream_t stream);
