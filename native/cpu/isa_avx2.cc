// The AVX2+FMA path of the native CPU kernels (kernels_impl.h): 8-float vectors, a 6×16 GEMM micro-tile
// (12 of the 16 ymm registers accumulate). Chosen at run time where the CPU supports AVX2 and FMA.
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#define CPU_ISA cpu_avx2
#define CPU_VBYTES 32
#define CPU_MR 6
#define CPU_NV 2
#define CPU_NAME "AVX2+FMA"
#define CPU_TABLE cpu_kernels_avx2
#include "kernels_impl.h"
#else
#include "cpu_kernels.h"
const CpuKernels* cpu_kernels_avx2() { return nullptr; }
#endif
