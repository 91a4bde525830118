// The emu build compiles kernels/elementwise.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/elementwise.cu"
