// The portable path of the native CPU kernels (kernels_impl.h): 4-float vectors in the compiler's
// baseline instruction set, which is NEON on arm64 (8×12 micro-tile: 24 of the 32 q registers
// accumulate) and SSE2 on x86-64 (4×8), plain scalar code elsewhere. Always available.
#define CPU_ISA cpu_portable
#define CPU_VBYTES 16
#if defined(__aarch64__)
#define CPU_MR 8
#define CPU_NV 3
#define CPU_NAME "NEON"
#else
#define CPU_MR 4
#define CPU_NV 2
#if defined(__x86_64__)
#define CPU_NAME "portable (SSE2)"
#else
#define CPU_NAME "portable"
#endif
#endif
#define CPU_TABLE cpu_kernels_portable
#include "kernels_impl.h"
