// The optimizer steps' per-element math, written once for every backend that compiles C++: the .cu
// kernels (kernels/adam.cu, on the GPU and under the emulator) and the native CPU backend
// (native/cpu/kernels_impl.h, once per instruction set) call these per parameter element. The
// TypeScript references (src/cpu/adam.ts, src/cpu/sgd.ts) are the independent twins both are tested
// against. All arithmetic in float, in PyTorch's order (torch.optim.Adam / AdamW non-fused, torch.optim.SGD
// with dampening 0, no Nesterov).
//
// The functions are static: each translation unit that includes this gets its own copy, so a CPU path
// compiled for one instruction set (native/cpu/isa_*.cc) never links to another's.
#pragma once
#include <math.h>

// One Adam step's scalars, computed once per step (not per element).
struct AdamStep {
  float beta1, beta2, eps;
  float step_size;  // lr / bc1
  float sqrt_bc2;   // sqrt(bc2)
  float decay;      // 1 - lr·wd when decoupled (AdamW), else 1
  float l2;         // wd when L2 (Adam), else 0
};

// bc1 = 1 - β1^step, bc2 = 1 - β2^step (computed by the caller in double).
static __host__ __device__ __forceinline__ AdamStep adam_step_scalars(float lr, float beta1, float beta2,
                                                                      float eps, float weight_decay,
                                                                      bool decoupled, float bc1, float bc2) {
  return AdamStep{beta1, beta2, eps, lr / bc1, sqrtf(bc2), decoupled ? 1.f - lr * weight_decay : 1.f,
                  decoupled ? 0.f : weight_decay};
}

// One element of an Adam / AdamW step: g = grad + l2·p; p *= decay; m = β1·m + (1-β1)·g;
// v = β2·v + (1-β2)·g²; p -= step_size · m / (sqrt(v) / sqrt_bc2 + eps) (addcdiv's order).
// p, m, v: in/out.
static __host__ __device__ __forceinline__ void adam_update(float& p, float grad, float& m, float& v,
                                                            const AdamStep& s) {
  const float p0 = p, g = grad + s.l2 * p0;  // p, m, v may be memory a store could alias: read once
  const float mi = s.beta1 * m + (1.f - s.beta1) * g;
  const float vi = s.beta2 * v + (1.f - s.beta2) * g * g;
  m = mi;
  v = vi;
  p = p0 * s.decay - s.step_size * (mi / (sqrtf(vi) / s.sqrt_bc2 + s.eps));
}

// One element of an SGD step: g = grad + wd·p; with a momentum buffer buf = first ? g : momentum·buf + g
// and g = buf (buf == nullptr: no momentum); p -= lr·g. p, *buf: in/out.
static __host__ __device__ __forceinline__ void sgd_update(float& p, float grad, float* buf, float lr,
                                                           float momentum, float weight_decay, bool first) {
  const float p0 = p;  // read once, before the store to *buf
  float g = grad + weight_decay * p0;
  if (buf) {
    g = first ? g : momentum * *buf + g;
    *buf = g;
  }
  p = p0 - lr * g;
}
