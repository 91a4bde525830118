# node-gyp: the `emu` addon (build/Release/lstm_cuda_emu.node). The native glue (native/*.cc) plus every
# kernels/*.cu compiled as C++ against the CUDA emulator (kernels/emu/cuda_emu.h): gyp has no .cu rule,
# so each kernel file is its own translation unit through a one-line wrapper in native/emu/.
# The ASan variant is built by `node native/build.mjs --asan` (build/asan/lstm_cuda_emu.node).
# The `cpu` addon (build/Release/lstm_cuda_cpu.node): the same glue with every launcher implemented as native
# CPU code (native/cpu/): -O3 for the baseline instruction set, the AVX2 and AVX-512 paths compiled in
# their own translation units by target pragmas and chosen at run time (no -march=native).
{
  'targets': [
    {
      'target_name': 'lstm_cuda_emu',
      'sources': [
        'native/addon.cc',
        'native/allocator.cc',
        'native/storage.cc',
        'native/test_launch.cc',
        'native/emu/adam.cc',
        'native/emu/dropout.cc',
        'native/emu/elementwise.cc',
        'native/emu/embedding.cc',
        'native/emu/gemm.cc',
        'native/emu/grad_norm.cc',
        'native/emu/lstm.cc',
        'native/emu/sample.cc',
        'native/emu/softmax_xent.cc',
      ],
      'include_dirs': [
        'kernels',
        '<!(node -p "require(\'node-addon-api\').include_dir")',
      ],
      'defines': ['LSTM_CUDA_EMU', 'NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions', '-O3'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-O3'],
      'cflags': ['-O2', '-pthread', '-Wno-unknown-pragmas'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-O2'],
      'ldflags': ['-pthread'],
    },
    {
      'target_name': 'lstm_cuda_cpu',
      'sources': [
        'native/addon.cc',
        'native/allocator.cc',
        'native/storage.cc',
        'native/cpu/launchers.cc',
        'native/cpu/thread_pool.cc',
        'native/cpu/isa_avx512.cc',
        'native/cpu/isa_avx2.cc',
        'native/cpu/isa_portable.cc',
      ],
      'include_dirs': [
        'kernels',
        '<!(node -p "require(\'node-addon-api\').include_dir")',
      ],
      'defines': ['LSTM_CUDA_CPU', 'NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions', '-O2'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-O2'],
      'cflags': ['-O3', '-pthread', '-fno-math-errno', '-Wno-unknown-pragmas'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-O3'],
      'ldflags': ['-pthread'],
    },
  ],
}
