// The AVX-512 path of the native CPU kernels (kernels_impl.h): 16-float vectors, a 12×32 GEMM micro-tile
// (24 of the 32 zmm registers accumulate). Chosen at run time where the CPU and the OS support AVX-512F.
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx2,fma")
#define CPU_ISA cpu_avx512
#define CPU_VBYTES 64
#define CPU_MR 12
#define CPU_NV 2
#define CPU_NAME "AVX-512"
#define CPU_TABLE cpu_kernels_avx512
#include "kernels_impl.h"
#else
#include "cpu_kernels.h"
const CpuKernels* cpu_kernels_avx512() { return nullptr; }
#endif
