// The emu build compiles kernels/grad_norm.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/grad_norm.cu"
