# node-gyp: the `emu` and `cpu` addons, over one native glue: native/addon.cc, allocator.cc, storage.cc and
# the kernel wrappers generated from the kernel spec (native/gen/kernel_glue.cc, by native/gen_glue.mjs,
# which gyp runs here at configure time and which prints the generated sources).
# - `emu` (build/Release/lstm_cuda_emu.node): the glue plus every kernels/*.cu compiled as C++ against the
#   CUDA emulator (kernels/emu/cuda_emu.h). gyp has no .cu rule, so each kernel file is its own translation
#   unit through a generated one-line wrapper, native/gen/emu/<op>.cc: a new kernels/<op>.cu needs no line
#   here. The ASan variant is built by `node native/build.mjs --asan` (build/asan/lstm_cuda_emu.node).
# - `cpu` (build/Release/lstm_cuda_cpu.node): the same glue with every launcher implemented as native CPU
#   code (native/cpu/): -O3 for the baseline instruction set, the AVX2 and AVX-512 paths compiled in their
#   own translation units by target pragmas and chosen at run time (no -march=native).
# Another backend over the same glue is one more target like `cpu`: '<@(glue_sources)',
# '<!@(node native/gen_glue.mjs --glue-sources)', its launchers; '<@(glue_include_dirs)'; its define.
{
  'variables': {
    'glue_sources': [
      'native/addon.cc',
      'native/allocator.cc',
      'native/storage.cc',
    ],
    'glue_include_dirs': [
      'kernels',
      'native',
      'native/gen',
      '<!(node -p "require(\'node-addon-api\').include_dir")',
    ],
  },
  'targets': [
    {
      'target_name': 'lstm_cuda_emu',
      'sources': [
        '<@(glue_sources)',
        'native/test_launch.cc',
        '<!@(node native/gen_glue.mjs --emu-sources)',
      ],
      'include_dirs': ['<@(glue_include_dirs)'],
      'defines': ['LSTM_CUDA_EMU', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions', '-O3'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-O3'],
      'cflags': ['-O2', '-pthread', '-Wno-unknown-pragmas'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-O2'],
      'ldflags': ['-pthread'],
    },
    {
      'target_name': 'lstm_cuda_cpu',
      'sources': [
        '<@(glue_sources)',
        '<!@(node native/gen_glue.mjs --glue-sources)',
        'native/cpu/launchers.cc',
        'native/cpu/thread_pool.cc',
        'native/cpu/isa_avx512.cc',
        'native/cpu/isa_avx2.cc',
        'native/cpu/isa_portable.cc',
      ],
      'include_dirs': ['<@(glue_include_dirs)'],
      'defines': ['LSTM_CUDA_CPU', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions', '-O2'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-O2'],
      'cflags': ['-O3', '-pthread', '-fno-math-errno', '-Wno-unknown-pragmas'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-O3'],
      'ldflags': ['-pthread'],
    },
  ],
}
