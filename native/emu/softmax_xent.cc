// The emu build compiles kernels/softmax_xent.cu as its own C++ translation unit (node-gyp has no .cu rule).
#include "../../kernels/softmax_xent.cu"
