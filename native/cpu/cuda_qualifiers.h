// The CUDA qualifiers (__host__, __device__, __forceinline__) as plain C++, so that the kernels/*.cuh
// headers shared with the .cu kernels (the gate math, the optimizer updates, the RNG) compile under g++ in
// the native CPU build: in its glue (cuda_cpu.h) and in its SIMD kernels (kernels_impl.h), which must not
// see cuda_cpu.h's inline runtime functions (each instruction set's translation unit links only its own).
// The emulator (kernels/emu/cuda_emu.h) defines these itself, with the rest of the CUDA language.
#pragma once

#ifndef __host__
#define __host__
#endif
#ifndef __device__
#define __device__
#endif
#ifndef __forceinline__
#define __forceinline__ inline __attribute__((always_inline))
#endif
