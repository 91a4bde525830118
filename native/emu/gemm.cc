// The emu build compiles kernels/gemm.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/gemm.cu"
