// The emu build compiles kernels/embedding.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/embedding.cu"
