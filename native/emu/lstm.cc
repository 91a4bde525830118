// The emu build compiles kernels/lstm.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/lstm.cu"
