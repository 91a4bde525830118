// The emu build compiles kernels/sample.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/sample.cu"
