// What every kernel file includes: the CUDA runtime (or its emulation), the one place a kernel launch is
// spelled, and the launcher prototypes generated from the kernel spec.
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
// A cooperative launch (all blocks co-resident, cooperative_groups::this_grid().sync() allowed); the
// emulator's twin is launch_cooperative in emu/cuda_emu.h. The arguments are converted to the kernel's
// parameter types first, so the pointers handed to cudaLaunchCooperativeKernel point at exactly those.
template <typename... KArgs>
static inline cudaError_t launch_cooperative_as(void (*kernel)(KArgs...), dim3 grid, dim3 block,
                                                size_t shared_bytes, cudaStream_t stream, KArgs... args) {
  void* params[] = {static_cast<void*>(&args)...};
  const cudaError_t err = cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(kernel), grid, block, params,
                                                      shared_bytes, stream);
  return err != cudaSuccess ? err : cudaGetLastError();
}
template <typename... KArgs, typename... Args>
static inline cudaError_t launch_cooperative(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t shared_bytes,
                                             cudaStream_t stream, Args... args) {
  static_assert(sizeof...(KArgs) == sizeof...(Args), "launch_cooperative: the argument count differs from the kernel's");
  return launch_cooperative_as<KArgs...>(kernel, grid, block, shared_bytes, stream, static_cast<KArgs>(args)...);
}
#endif

// The launcher prototypes, one per kernel of the spec (src/spec/kernels.mjs: arguments, roles, shapes and
// contracts), generated into native/gen/ by native/gen_glue.mjs (every native build runs it first).
#include "kernel_launchers.h"

#if !defined(LSTM_CUDA_CPU)
#include <string>
// Which implementation of the LSTM time loop ran (kernels/lstm.cu: the persistent recurrent kernel or the
// per-step recipe; LSTM_CUDA_LSTM_PATH=auto|persistent|steps): the last lstm_forward's and lstm_backward's
// path ("forward: B=.. H=.. persistent: ...; backward: ..."), and what a layer of batch B, hidden size H
// would take now. Read by deviceInfo() and lstmPathPlan() (native/addon.cc).
std::string lstm_path_report();
std::string lstm_path_plan_report(int B, int H);
#endif
