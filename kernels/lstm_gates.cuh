// The LSTM cell's gate math, written once for every backend that compiles C++: the .cu kernels
// (kernels/lstm.cu, on the GPU and under the emulator) instantiate it with float and ScalarGateMath; the
// native CPU backend (native/cpu/) with its SIMD vector types and their vectorised σ/tanh, as the
// epilogue of its recurrent GEMM. The TypeScript reference (src/cpu/lstm.ts) is the independent twin
// that both are tested against.
//
// Gate order i, f, g, o (PyTorch). Forward, from the pre-activations (biases already added):
//   i = σ(ĩ), f = σ(f̃), g = tanh(g̃), o = σ(õ),  c_t = f⊙c_{t-1} + i⊙g,  h_t = o⊙tanh(c_t).
// Backward, from the saved activations only (no recompute), dh = total gradient of h_t and dc_in =
// gradient carried into c_t:
//   dc_t = dc_in + dh·o·(1 - tanh²(c_t)),  dĩ = dc_t·g·i(1-i),  df̃ = dc_t·c_{t-1}·f(1-f),
//   dg̃ = dc_t·i·(1-g²),  dõ = dh·tanh(c_t)·o(1-o),  dc_{t-1} = dc_t·f.
// M (the math policy) supplies M::sigmoid(F) and M::tanh(F) for the number type F.
#pragma once
#include <math.h>

// σ and tanh on float for the .cu kernels: σ without overflow (exp of a non-positive argument only).
struct ScalarGateMath {
  static __host__ __device__ __forceinline__ float sigmoid(float x) {
    if (x >= 0.f) return 1.f / (1.f + expf(-x));
    const float e = expf(x);
    return e / (1.f + e);
  }
  static __host__ __device__ __forceinline__ float tanh(float x) { return tanhf(x); }
};

// One cell forward. In: the four pre-activations and c_{t-1}. Out: the activations (saved for
// backward), c_t, tanh(c_t) (saved) and h_t.
template <class M, class F>
__host__ __device__ __forceinline__ void lstm_cell_forward(F pi, F pf, F pg, F po, F c_prev, F& i, F& f,
                                                           F& g, F& o, F& c, F& tanh_c, F& h) {
  i = M::sigmoid(pi);
  f = M::sigmoid(pf);
  g = M::tanh(pg);
  o = M::sigmoid(po);
  c = f * c_prev + i * g;
  tanh_c = M::tanh(c);
  h = o * tanh_c;
}

// One cell backward. In: the saved activations i, f, g, o, c_{t-1}, tanh(c_t); dh (total gradient of
// h_t) and dc_in (gradient carried into c_t). Out: the pre-activation gradients and dc_{t-1}.
template <class F>
__host__ __device__ __forceinline__ void lstm_cell_backward(F i, F f, F g, F o, F c_prev, F tanh_c, F dh,
                                                            F dc_in, F& di, F& df, F& dg, F& d_o,
                                                            F& dc_prev) {
  // `1.f - x` broadcasts the scalar when F is a vector type
  const F dct = dc_in + dh * o * (1.f - tanh_c * tanh_c);
  di = dct * g * i * (1.f - i);
  df = dct * c_prev * f * (1.f - f);
  dg = dct * i * (1.f - g * g);
  d_o = dh * tanh_c * o * (1.f - o);
  dc_prev = dct * f;
}
