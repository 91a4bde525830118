// LSTM layer: the fused gate kernels (forward and backward of one step) and the time loops over T steps.
// CPU reference lives in src/cpu/lstm.ts.
//
// The recipe is cuDNN 5 / haste: forward = one big GEMM for the input projection of all T steps, then per
// step one recurrent GEMM (beta = 1 into that step's gates) and one fused gate kernel. Backward (BPTT) =
// per step, reversed, one fused gate-backward kernel (which also adds the incoming dh terms and carries
// dc in place) and one GEMM for dh_{t-1}; after the loop big GEMMs for dW_ih, dW_hh, dx and sum_rows for
// the biases. No float atomics anywhere: every sum has a fixed order (deterministic).
//
// Second generation: where it fits (small and medium batch), the time loop is ONE cooperative launch of
// the persistent recurrent kernel instead (kernels/lstm_persistent.cuh: W_hh resident in shared memory, the
// gates fused, one grid barrier per step); LSTM_CUDA_LSTM_PATH=auto|persistent|steps chooses, and
// lstm_path_report() says which path the last calls took.
//
// Kernels:   lstm_gates_forward_kernel, lstm_gates_backward_kernel (one thread per (b, j), all 4 gates);
//            lstm_persistent_forward_kernel, lstm_persistent_backward_kernel (lstm_persistent.cuh)
// Launchers: lstm_gates_forward, lstm_gates_backward, lstm_forward, lstm_backward_workspace_floats,
//            lstm_backward; lstm_path_report, lstm_path_plan_report (the path switch's answers). GEMMs go
//            through gemm_with(gemm_math(true), ...) (gemm.cu: TF32 on the cuda build unless the math mode
//            is off, see gemm.cuh), the bias reduction through sum_rows()
//            (elementwise.cu).
//
// Gate order i, f, g, o (PyTorch); the activations overwrite the pre-activations in `gates`:
//   i = σ(ĩ), f = σ(f̃), g = tanh(g̃), o = σ(õ),  c_t = f⊙c_{t-1} + i⊙g,  h_t = o⊙tanh(c_t).
// The cell math itself is kernels/lstm_gates.cuh, shared with the native CPU backend (native/cpu/).
#include "gemm.cuh"
#include "lstm_gates.cuh"
#include "lstm_persistent.cuh"

namespace {

constexpr int GATE_THREADS = 256;

// ------------------------------------------------------------------------------------------ kernels

// grid: ceil(B·H/256); thread (b, j) reads the 4 pre-activations of unit j and writes the 4 activations.
//   gates: in/out [B,4H]   b_ih, b_hh: in [4H] or nullptr   c_prev: in [B,H]   c, h, tanh_c: out [B,H]
__global__ void lstm_gates_forward_kernel(int B, int H, float* __restrict__ gates,
                                          const float* __restrict__ b_ih, const float* __restrict__ b_hh,
                                          const float* __restrict__ c_prev, float* __restrict__ c,
                                          float* __restrict__ h, float* __restrict__ tanh_c) {
  // shapes: gates [B,4H], biases [4H], c_prev/c/h/tanh_c [B,H]
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)B * H) return;
  const int b = (int)(idx / H), j = (int)(idx % H);
  float* g = gates + (size_t)b * 4 * H;
  float pre[4];
  for (int q = 0; q < 4; ++q) {
    float v = g[q * H + j];
    if (b_ih) v += b_ih[q * H + j];
    if (b_hh) v += b_hh[q * H + j];
    pre[q] = v;
  }
  float ig, fg, gg, og, ct, tc, ht;
  lstm_cell_forward<ScalarGateMath>(pre[0], pre[1], pre[2], pre[3], c_prev[idx], ig, fg, gg, og, ct, tc, ht);
  g[j] = ig;
  g[H + j] = fg;
  g[2 * H + j] = gg;
  g[3 * H + j] = og;
  c[idx] = ct;
  tanh_c[idx] = tc;
  h[idx] = ht;
}

// grid: ceil(B·H/256); thread (b, j) handles unit j of row b. Uses only saved activations (no recompute).
//   gates: in [B,4H] activations   c_prev, tanh_c: in [B,H]
//   dh_a, dh_b: in [B,H] or nullptr; the gradient w.r.t. h_t is dh_a + dh_b (e.g. dh[t] + carried dh)
//   dc_in: in [B,H] or nullptr (zeros): gradient w.r.t. c_t carried from step t+1
//   dc_out: out [B,H]: gradient w.r.t. c_{t-1}; MAY ALIAS dc_in (each thread reads its element first)
//   dgates: out [B,4H] gradient w.r.t. the pre-activations
__global__ void lstm_gates_backward_kernel(int B, int H, const float* __restrict__ gates,
                                           const float* __restrict__ c_prev,
                                           const float* __restrict__ tanh_c, const float* dh_a,
                                           const float* dh_b, const float* dc_in, float* dc_out,
                                           float* __restrict__ dgates) {
  // shapes: gates/dgates [B,4H], everything else [B,H]
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)B * H) return;
  const int b = (int)(idx / H), j = (int)(idx % H);
  const float* g = gates + (size_t)b * 4 * H;
  const float ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j];
  const float tc = tanh_c[idx];
  float dh = 0.f;
  if (dh_a) dh += dh_a[idx];
  if (dh_b) dh += dh_b[idx];
  float* dg = dgates + (size_t)b * 4 * H;
  float di, df, dgg, dog, dcp;
  lstm_cell_backward(ig, fg, gg, og, c_prev[idx], tc, dh, dc_in ? dc_in[idx] : 0.f, di, df, dgg, dog, dcp);
  dg[j] = di;
  dg[H + j] = df;
  dg[2 * H + j] = dgg;
  dg[3 * H + j] = dog;
  dc_out[idx] = dcp;  // read dc_in[idx] above: dc_out may alias it
}

inline dim3 gate_grid(int B, int H) {
  return dim3((unsigned)(((long long)B * H + GATE_THREADS - 1) / GATE_THREADS));
}

}  // namespace

// ---------------------------------------------------------------------------------------- launchers

// One step's fused gates (see lstm_cuda.h).
//   gates: in/out [B,4H] (in: pre-activations without bias; out: σ(i), σ(f), tanh(g), σ(o), saved)
//   b_ih, b_hh: in [4H] or nullptr   c_prev: in [B,H]   c, h, tanh_c: out [B,H]
cudaError_t lstm_gates_forward(int B, int H, float* gates, const float* b_ih, const float* b_hh,
                               const float* c_prev, float* c, float* h, float* tanh_c,
                               cudaStream_t stream) {
  if (B < 0 || H < 0) return cudaErrorInvalidValue;
  if (B == 0 || H == 0) return cudaSuccess;
  return launch(lstm_gates_forward_kernel, gate_grid(B, H), dim3(GATE_THREADS), 0, stream, B, H, gates,
                b_ih, b_hh, c_prev, c, h, tanh_c);
}

// One step's fused gate backward (see lstm_cuda.h).
//   gates: in [B,4H] saved activations   c_prev, tanh_c: in [B,H]   dh: in [B,H] total gradient of h_t
//   dc: in/out [B,H] (in: gradient of c_t; out: gradient of c_{t-1})   dgates: out [B,4H]
cudaError_t lstm_gates_backward(int B, int H, const float* gates, const float* c_prev,
                                const float* tanh_c, const float* dh, float* dc, float* dgates,
                                cudaStream_t stream) {
  if (B < 0 || H < 0) return cudaErrorInvalidValue;
  if (B == 0 || H == 0) return cudaSuccess;
  return launch(lstm_gates_backward_kernel, gate_grid(B, H), dim3(GATE_THREADS), 0, stream, B, H, gates,
                c_prev, tanh_c, dh, (const float*)nullptr, (const float*)dc, dc, dgates);
}

// One layer over T ≥ 1 steps.
//   x: in [T,B,I]   w_ih: in [4H,I]   w_hh: in [4H,H]   b_ih, b_hh: in [4H] or nullptr
//   h0, c0: in [B,H] (h_{-1}, c_{-1})
//   h, c, tanh_c: out [T,B,H]   gates: out [T,B,4H] activations   (all saved for backward)
// Launch sequence: 1 GEMM [T·B,I]×[I,4H] -> gates; then the persistent kernel (1 cooperative launch for all
// T steps) where it fits, else per step t: GEMM gates[t] += h_{t-1}·W_hhᵀ, gate kernel.
cudaError_t lstm_forward(int T, int B, int I, int H, const float* x, const float* w_ih,
                         const float* w_hh, const float* b_ih, const float* b_hh, const float* h0,
                         const float* c0, float* h, float* c, float* gates, float* tanh_c,
                         cudaStream_t stream) {
  if (T < 0 || B < 0 || I < 0 || H < 0) return cudaErrorInvalidValue;
  if (T == 0 || B == 0 || H == 0) return cudaSuccess;
  const size_t BH = (size_t)B * H, BG = (size_t)B * 4 * H;
  const GemmMath math = gemm_math(true);
  // gates = x·W_ihᵀ for all T·B rows at once (beta 0: gates' old contents are never read)
  cudaError_t err = gemm_with(math, false, true, T * B, 4 * H, I, 1.f, x, w_ih, 0.f, gates, stream);
  if (err != cudaSuccess) return err;
  const PersistPlan plan = lstm_path_decide(false, T, B, H);
  if (plan.ok) {  // the whole time loop in one cooperative launch (lstm_persistent.cuh)
    return launch_cooperative(lstm_persistent_forward_kernel, dim3(plan.blocks), dim3(plan.threads), plan.smem,
                              stream, T, B, H, plan.units, plan.group, gates, w_hh, b_ih, b_hh, h0, c0, h, c,
                              tanh_c);
  }
  for (int t = 0; t < T; ++t) {
    const float* h_prev = t == 0 ? h0 : h + (t - 1) * BH;
    const float* c_prev = t == 0 ? c0 : c + (t - 1) * BH;
    float* gt = gates + t * BG;
    err = gemm_with(math, false, true, B, 4 * H, H, 1.f, h_prev, w_hh, 1.f, gt, stream);
    if (err != cudaSuccess) return err;
    err = lstm_gates_forward(B, H, gt, b_ih, b_hh, c_prev, c + t * BH, h + t * BH, tanh_c + t * BH,
                             stream);
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}

// Workspace layout (floats, in this order):
//   dgates   [T,B,4H]  gradient w.r.t. the gate pre-activations of every step (input of the weight GEMMs)
//   dh_carry [B,H]     dh_{t-1} = dgates[t]·W_hh, carried to the next (earlier) step
//   dc_carry [B,H]     dc_{t-1}, updated in place by the gate-backward kernel
size_t lstm_backward_workspace_floats(int T, int B, int H) {
  return (size_t)T * B * 4 * H + 2 * (size_t)B * H;
}

static cudaError_t lstm_backward_weights(int T, int B, int I, int H, const float* x, const float* w_ih,
                                         const float* h0, const float* h, const float* dgates, float* dx,
                                         float* dw_ih, float* dw_hh, float* db_ih, float* db_hh, cudaStream_t stream);

// BPTT over one layer (see lstm_cuda.h).
//   x, w_ih, w_hh, h0, c0, h, c, gates, tanh_c: in, as given to / saved by lstm_forward
//   dh: in [T,B,H] or nullptr   dh_T, dc_T: in [B,H] or nullptr (gradient w.r.t. h[T-1], c[T-1])
//   dx: out [T,B,I] or nullptr   dh0, dc0: out [B,H] or nullptr
//   dw_ih: acc [4H,I]   dw_hh: acc [4H,H]   db_ih, db_hh: acc [4H]   (each may be nullptr)
//   workspace: lstm_backward_workspace_floats(T,B,H) floats, layout above
cudaError_t lstm_backward(int T, int B, int I, int H, const float* x, const float* w_ih,
                          const float* w_hh, const float* h0, const float* c0, const float* h,
                          const float* c, const float* gates, const float* tanh_c, const float* dh,
                          const float* dh_T, const float* dc_T, float* dx, float* dh0, float* dc0,
                          float* dw_ih, float* dw_hh, float* db_ih, float* db_hh, float* workspace,
                          cudaStream_t stream) {
  if (T < 0 || B < 0 || I < 0 || H < 0) return cudaErrorInvalidValue;
  const GemmMath math = gemm_math(true);
  if (T == 0 || B == 0 || H == 0) {
    // nothing to propagate; dx (if any elements) is zero: a GEMM with K = 0 and beta 0 writes zeros
    return dx ? gemm_with(math, false, false, T * B, I, 0, 1.f, nullptr, nullptr, 0.f, dx, stream)
              : cudaSuccess;
  }
  const size_t BH = (size_t)B * H, BG = (size_t)B * 4 * H;
  float* dgates = workspace;
  float* dh_carry = dgates + T * BG;
  float* dc_carry = dh_carry + BH;
  cudaError_t err;
  const PersistPlan plan = lstm_path_decide(true, T, B, H);
  if (plan.ok) {  // the whole time loop in one cooperative launch (lstm_persistent.cuh); carries unused
    err = launch_cooperative(lstm_persistent_backward_kernel, dim3(plan.blocks), dim3(plan.threads), plan.smem,
                             stream, T, B, H, plan.units, plan.group, gates, w_hh, c0, c, tanh_c, dh, dh_T, dc_T,
                             dgates, dh0, dc0);
    if (err != cudaSuccess) return err;
    return lstm_backward_weights(T, B, I, H, x, w_ih, h0, h, dgates, dx, dw_ih, dw_hh, db_ih, db_hh, stream);
  }
  for (int t = T - 1; t >= 0; --t) {
    const float* c_prev = t == 0 ? c0 : c + (t - 1) * BH;
    const float* dh_a = dh ? dh + t * BH : nullptr;
    const float* dh_b = t == T - 1 ? dh_T : dh_carry;
    const float* dc_in = t == T - 1 ? dc_T : dc_carry;
    float* dc_out = t == 0 && dc0 ? dc0 : dc_carry;
    float* dgt = dgates + t * BG;
    err = launch(lstm_gates_backward_kernel, gate_grid(B, H), dim3(GATE_THREADS), 0, stream, B, H,
                 gates + t * BG, c_prev, tanh_c + t * BH, dh_a, dh_b, dc_in, dc_out, dgt);
    if (err != cudaSuccess) return err;
    // dh_{t-1} = dgates[t]·W_hh  ([B,4H]×[4H,H]); overwrites the carry the kernel above just consumed
    float* dh_prev = t > 0 ? dh_carry : dh0;
    if (dh_prev) {
      err = gemm_with(math, false, false, B, H, 4 * H, 1.f, dgt, w_hh, 0.f, dh_prev, stream);
      if (err != cudaSuccess) return err;
    }
  }
  return lstm_backward_weights(T, B, I, H, x, w_ih, h0, h, dgates, dx, dw_ih, dw_hh, db_ih, db_hh, stream);
}

// What is left of lstm_backward after the time loop, on either path: from dgates [T,B,4H] (complete),
// dW_ih += dgatesᵀ·x, dW_hh += dgates[0]ᵀ·h0 + dgates[1:]ᵀ·h[:-1], dx = dgates·W_ih, db_ih, db_hh += Σ rows.
static cudaError_t lstm_backward_weights(int T, int B, int I, int H, const float* x, const float* w_ih,
                                         const float* h0, const float* h, const float* dgates, float* dx,
                                         float* dw_ih, float* dw_hh, float* db_ih, float* db_hh, cudaStream_t stream) {
  const GemmMath math = gemm_math(true);
  const size_t BG = (size_t)B * 4 * H;
  cudaError_t err;
  const int TB = T * B;
  if (dw_ih) {  // dW_ih += dgatesᵀ·x  ([4H,T·B]×[T·B,I])
    err = gemm_with(math, true, false, 4 * H, I, TB, 1.f, dgates, x, 1.f, dw_ih, stream);
    if (err != cudaSuccess) return err;
  }
  if (dw_hh) {  // dW_hh += dgates[0]ᵀ·h0 + dgates[1:]ᵀ·h[:-1]
    err = gemm_with(math, true, false, 4 * H, H, B, 1.f, dgates, h0, 1.f, dw_hh, stream);
    if (err != cudaSuccess) return err;
    if (T > 1) {
      err = gemm_with(math, true, false, 4 * H, H, (T - 1) * B, 1.f, dgates + BG, h, 1.f, dw_hh, stream);
      if (err != cudaSuccess) return err;
    }
  }
  if (dx) {  // dx = dgates·W_ih  ([T·B,4H]×[4H,I]), overwritten
    err = gemm_with(math, false, false, TB, I, 4 * H, 1.f, dgates, w_ih, 0.f, dx, stream);
    if (err != cudaSuccess) return err;
  }
  // the bias gradients are both Σ over the T·B rows of dgates
  if (db_ih) {
    err = sum_rows(TB, 4 * H, dgates, db_ih, true, stream);
    if (err != cudaSuccess) return err;
  }
  if (db_hh) {
    err = sum_rows(TB, 4 * H, dgates, db_hh, true, stream);
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}

// ---------------------------------------------------------------------------------- path reporting

// The paths the last lstm_forward and lstm_backward of this process took, e.g. "forward: B=64 H=512
// persistent: 128 blocks x 4 units, ...; backward: ..." ("none yet" before the first).
std::string lstm_path_report() {
  const std::string& f = lstm_path_record(false);
  const std::string& b = lstm_path_record(true);
  return "forward: " + (f.empty() ? std::string("none yet") : f) + "; backward: " + (b.empty() ? std::string("none yet") : b);
}

// What the path switch would choose for a layer of batch B and hidden size H over T ≥ 2 steps now (records
// nothing; auto takes the per-step path at T = 1).
std::string lstm_path_plan_report(int B, int H) {
  if (lstm_path_choice() == LstmPath::steps) return "steps (LSTM_CUDA_LSTM_PATH=steps)";
  const PersistPlan f = lstm_persistent_plan(false, B, H), b = lstm_persistent_plan(true, B, H);
  return "forward " + (f.ok ? f.why : "steps (" + f.why + ")") + "; backward " + (b.ok ? b.why : "steps (" + b.why + ")");
}
