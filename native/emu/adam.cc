// The emu build compiles kernels/adam.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/adam.cu"
