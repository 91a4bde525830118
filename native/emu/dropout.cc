// The emu build compiles kernels/dropout.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/dropout.cu"
