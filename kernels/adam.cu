// Fused optimizer steps: Adam / AdamW (PyTorch's formulas) and SGD with momentum, one pass over n.
// CPU references: src/cpu/adam.ts (Adam / AdamW) and src/cpu/sgd.ts (SGD).
//
// Kernels (grid-stride over n, one element per thread per iteration); the per-element math is
// kernels/adam_update.cuh, shared with the native CPU backend (native/cpu/):
//   adam_step_kernel  g = grad (+ wd·p when !decoupled); p *= 1 - lr·wd when decoupled;
//                     m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
//                     p -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)     (torch.optim.Adam, non-fused)
//   sgd_step_kernel   g = grad + wd·p; with a buffer: buf = first ? g : momentum·buf + g, g = buf;
//                     p -= lr·g                                              (torch.optim.SGD, dampening 0)
#include "block_reduce.cuh"
#include "lstm_cuda.h"
#include "adam_update.cuh"  // after lstm_cuda.h: the qualifiers come with the runtime (or its emulation)

namespace {

constexpr int OPT_THREADS = 256;

__global__ void adam_step_kernel(int n, float* __restrict__ param, const float* __restrict__ grad,
                                 float* __restrict__ m, float* __restrict__ v, AdamStep s) {
  // shapes: param, grad, m, v [n]
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    adam_update(param[i], grad[i], m[i], v[i], s);
}

__global__ void sgd_step_kernel(int n, float* __restrict__ param, const float* __restrict__ grad,
                                float* __restrict__ buf, float lr, float momentum, float weight_decay,
                                bool first) {
  // shapes: param, grad, buf [n] (buf may be nullptr)
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    sgd_update(param[i], grad[i], buf ? buf + i : nullptr, lr, momentum, weight_decay, first);
}

}  // namespace

// ----------------------------------------------------------------------------------------- launchers

// Adam (decoupled = false: L2 added to the gradient) or AdamW (decoupled = true), one step.
//   param: in/out [n]   grad: in [n]   m, v: in/out [n] first and second moments
//   bc1 = 1 - β1^step, bc2 = 1 - β2^step, computed on the host in double
cudaError_t adam_step(int n, float* param, const float* grad, float* m, float* v, float lr,
                      float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                      float bc1, float bc2, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return launch(adam_step_kernel, dim3(grid_blocks(n, OPT_THREADS)), dim3(OPT_THREADS), 0, stream, n,
                param, grad, m, v, adam_step_scalars(lr, beta1, beta2, eps, weight_decay, decoupled, bc1, bc2));
}

// SGD with optional momentum (PyTorch, dampening 0, no Nesterov), one step.
//   param: in/out [n]   grad: in [n]
//   buf:   in/out [n] momentum buffer, or nullptr when momentum == 0 (then g is used directly)
//   first: true on the first step (buf = g, its old contents ignored)
cudaError_t sgd_step(int n, float* param, const float* grad, float* buf, float lr, float momentum,
                     float weight_decay, bool first, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return launch(sgd_step_kernel, dim3(grid_blocks(n, OPT_THREADS)), dim3(OPT_THREADS), 0, stream, n,
                param, grad, buf, lr, momentum, weight_decay, first);
}
