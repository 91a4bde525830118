// The GEMM's math mode, for the kernels that call gemm() internally (lstm.cu) — the launcher itself is
// declared in lstm_cuda.h.
//   GemmMath::fp32   exact fp32 FMAs (the recipe)
//   GemmMath::tf32   tensor cores: operands rounded to TF32 (10-bit mantissa, cvt.rna), fp32 accumulation
// LSTM_CUDA_TF32 chooses, read at every call: "0" exact everywhere; "lstm" TF32 for the LSTM layer's GEMMs
// only (PyTorch's default on the same GPU: cuDNN RNNs use TF32, matmuls do not); "1" or "all" every GEMM.
// Unset: "lstm" on the cuda build, "0" on the emu build (whose suite checks exact fp32 against the
// reference; test/gemm_tf32.test.ts runs the TF32 path). NVIDIA_TF32_OVERRIDE=0 turns TF32 off as it does
// for cuBLAS and cuDNN.
#pragma once
#include "lstm_cuda.h"

enum class GemmMath { fp32, tf32 };

// The mode for a GEMM of the LSTM layer (lstm = true) or any other (gemm()).
GemmMath gemm_math(bool lstm);
// gemm() (lstm_cuda.h) in the given mode.
cudaError_t gemm_with(GemmMath math, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                      const float* A, const float* B, float beta, float* C, cudaStream_t stream);
