// The CUDA emulator: lets an unmodified .cu kernel file compile with g++ (-DLSTM_CUDA_EMU, included by
// kernels/lstm_cuda.h) and run on CPU threads. Header-only: every TU that includes it gets the same
// inline definitions. It holds, in order:
//   1. CUDA qualifiers, vector types, __shared__ (static and extern) and the built-in variables;
//   2. the runtime API subset the glue uses (errors, memory, streams, events, device properties; the
//      device reports LSTM_CUDA_EMU_SMS multiprocessors, default 132 like an H100 SXM, so launchers that
//      size grids by the SM count make the same choices as on that GPU);
//   3. the execution engine: each block's threads are fibers on one OS thread (a hand-written x86-64
//      context switch, ucontext elsewhere or with LSTM_CUDA_EMU_UCONTEXT=1), blocks spread over a small
//      thread pool (LSTM_CUDA_EMU_THREADS, default hardware_concurrency). A thread runs until it waits
//      (barrier, warp operation) or ends, then switches straight to the next runnable thread of the
//      block; stacks (LSTM_CUDA_EMU_STACK_KB, default 64, 256 under ASan, guard page below) are pooled
//      per OS thread and handed out when a thread starts, so barrier-free kernels reuse two hot stacks;
//   4. device functions: barriers, warp shuffles/votes/reductions, atomics, math intrinsics, and the
//      WMMA subset of mma.h the TF32 GEMM uses (fragments, mma_sync with TF32 operand rounding);
//   5. launch(kernel, grid, block, shared_bytes, stream, args...), the one way kernels start, and
//      launch_cooperative(...) (cudaLaunchCooperativeKernel): every block on its own OS thread at once, so
//      cooperative_groups::this_grid().sync() works, and a block that ends without reaching a grid barrier
//      the others wait at stops the launch with an error naming it (on a GPU: a hang).
//
// It is a test instrument, so it finds bugs instead of hiding them:
//   - thread order: LSTM_CUDA_EMU_SCHEDULE=forward|reverse|shuffle[:seed] or emu_set_schedule() runs
//     each block's threads in another order (shuffle re-draws the order at every barrier round), so a
//     missing __syncthreads gives different answers under two schedules;
//   - a __syncthreads or warp operation that not every thread (lane in the mask) reaches, or that threads
//     reach at different call sites, stops the launch with cudaErrorLaunchFailure and a message naming
//     the kernel, the barrier's file:line and how many threads got there;
//   - cudaMalloc surrounds each allocation with guard zones, checked after every launch and by cudaFree:
//     a write out of bounds gives cudaErrorIllegalAddress naming the allocation and offset; fresh
//     allocations are filled with 0xFF bytes (NaN floats) so reads of never-written memory show;
//   - under -fsanitize=address the fibers tell ASan about every stack switch and cudaMalloc skips the
//     guard zones, so ASan itself reports out-of-bounds reads and writes.
// It also counts what a GPU would be asked to do (bench/static.ts reads it):
//   - LSTM_CUDA_EMU_TRACE=path appends one line per launch, memset, memcpy and synchronisation to path
//     ("launch <kernel> grid=x,y,z block=x,y,z smem=n", "memset n", "memcpy <kind> n", "sync <what>");
//   - LSTM_CUDA_EMU_DRY_RUN=1 checks and traces every launch but runs no kernel (the results are
//     garbage): launch counts of full-size models cost nothing.
// Nothing here exits or aborts: every error is a cudaError_t, with details in emu_last_error_message().
//
// Limits worth knowing: `extern __shared__ T name[]` works for the names in EMU_DYNAMIC_SHARED_NAMES
// below (a link error "undefined reference to `name'" means: add the name there); kernels must not
// include CUDA's own headers (math_constants.h, cooperative_groups.h, cuda_fp16.h, mma.h: include mma.h
// and cooperative_groups.h only #ifndef LSTM_CUDA_EMU, the emulator defines nvcuda::wmma and
// cooperative_groups::this_grid itself); compile with
// -Wno-unknown-pragmas to silence g++ about `#pragma unroll`. Execution is synchronous: a launch has
// finished when launch() returns, streams are trivially ordered.
#pragma once

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#else
#define EMU_ASAN 0
#endif

#if defined(__x86_64__) && !defined(LSTM_CUDA_EMU_FORCE_UCONTEXT)
#define EMU_ASM_SWITCH 1
#else
#define EMU_ASM_SWITCH 0
#endif
#include <ucontext.h>

// ============================================================================ 1. language emulation
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __grid_constant__
// __restrict__ is already a g++ keyword. Block-scope thread_local is static: one copy per OS thread,
// and a block's fibers all run on one OS thread, so each running block has its own copy.
#define __shared__ thread_local

// ---- vector types (alignment as in CUDA's vector_types.h)
#define EMU_VEC2(T, name, al) struct __attribute__((aligned(al))) name { T x, y; }; \
  static inline name make_##name(T x, T y) { return name{x, y}; }
#define EMU_VEC3(T, name) struct name { T x, y, z; }; \
  static inline name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define EMU_VEC4(T, name, al) struct __attribute__((aligned(al))) name { T x, y, z, w; }; \
  static inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }
EMU_VEC2(float, float2, 8)
EMU_VEC3(float, float3)
EMU_VEC4(float, float4, 16)
EMU_VEC2(double, double2, 16)
EMU_VEC3(double, double3)
EMU_VEC4(double, double4, 16)
EMU_VEC2(int, int2, 8)
EMU_VEC3(int, int3)
EMU_VEC4(int, int4, 16)
EMU_VEC2(unsigned int, uint2, 8)
EMU_VEC3(unsigned int, uint3)
EMU_VEC4(unsigned int, uint4, 16)
EMU_VEC2(long long, longlong2, 16)
EMU_VEC2(unsigned long long, ulonglong2, 16)
EMU_VEC2(short, short2, 4)
EMU_VEC4(short, short4, 8)
EMU_VEC2(unsigned short, ushort2, 4)
EMU_VEC4(unsigned short, ushort4, 8)
EMU_VEC2(signed char, char2, 2)
EMU_VEC4(signed char, char4, 4)
EMU_VEC2(unsigned char, uchar2, 2)
EMU_VEC4(unsigned char, uchar4, 4)
#undef EMU_VEC2
#undef EMU_VEC3
#undef EMU_VEC4

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

inline constexpr int warpSize = 32;

// ---- extern __shared__: one per-OS-thread buffer under every listed name (hidden, in a COMDAT group
// so every TU's copy is the same one). The names are plain symbols, so any element type works. To
// support a new name, add it to this list (every TU must see the same list).
#define EMU_DYNAMIC_SHARED_NAMES(X) X(smem) X(sdata) X(shmem) X(s_data) X(smem_raw) X(dyn_smem) \
  X(dsmem) X(shared_mem) X(shared_buf) X(s_mem) X(sbuf) X(sample_smem) X(dynamic_smem) X(extern_smem) \
  X(emu_dynamic_smem)
#define EMU_DYNAMIC_SHARED_BYTES 232448  // 227 KiB: the opt-in maximum of sm_90
#define EMU_DYNAMIC_SHARED_GUARD 256     // pattern bytes checked after shared_bytes
#define EMU_DSM_SYM(n) ".weak " #n "\n.hidden " #n "\n.type " #n ",@object\n" #n ":\n"
#define EMU_DSM_STR2(x) #x
#define EMU_DSM_STR(x) EMU_DSM_STR2(x)
asm(".pushsection .tbss.emu_dynamic_shared,\"awTG\",@nobits,emu_dynamic_shared,comdat\n"
    ".balign 64\n"
    ".weak emu_dynamic_shared\n.hidden emu_dynamic_shared\n.type emu_dynamic_shared,@object\n"
    "emu_dynamic_shared:\n" EMU_DYNAMIC_SHARED_NAMES(EMU_DSM_SYM)
    ".zero " EMU_DSM_STR(EMU_DYNAMIC_SHARED_BYTES) " + " EMU_DSM_STR(EMU_DYNAMIC_SHARED_GUARD) "\n"
    ".popsection\n");
#undef EMU_DSM_SYM
extern "C" __thread unsigned char emu_dynamic_shared[];

// ============================================================================ 2. runtime API types
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorCudartUnloading = 4,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidPitchValue = 12,
  cudaErrorInvalidSymbol = 13,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidKernelImage = 200,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchTimeout = 702,
  cudaErrorAssert = 710,
  cudaErrorHardwareStackError = 714,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorLaunchFailure = 719,
  cudaErrorCooperativeLaunchTooLarge = 720,
  cudaErrorNotSupported = 801,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorUnknown = 999,
};
typedef cudaError_t cudaError;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9,
};
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrCooperativeLaunch = 95,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};
struct CUstream_st { int id; };
struct CUevent_st { double ms; bool recorded; };
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
struct CUgraph_st;      // a captured graph (section 5b)
struct CUgraphExec_st;  // its instantiation
struct CUgraphNode_st;
typedef CUgraph_st* cudaGraph_t;
typedef CUgraphExec_st* cudaGraphExec_t;
typedef CUgraphNode_st* cudaGraphNode_t;
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};
enum cudaStreamCaptureStatus {
  cudaStreamCaptureStatusNone = 0,
  cudaStreamCaptureStatusActive = 1,
  cudaStreamCaptureStatusInvalidated = 2,
};
#define cudaStreamDefault 0x0
#define cudaStreamNonBlocking 0x1
#define cudaEventDefault 0x0
#define cudaEventBlockingSync 0x1
#define cudaEventDisableTiming 0x2
#define cudaStreamLegacy ((cudaStream_t)0x1)
#define cudaStreamPerThread ((cudaStream_t)0x2)

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  size_t sharedMemPerBlockOptin;
  size_t sharedMemPerMultiprocessor;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int maxThreadsPerMultiProcessor;
  int clockRate;
  int memoryClockRate;
  int memoryBusWidth;
  int l2CacheSize;
  size_t totalConstMem;
  int major;
  int minor;
  int multiProcessorCount;
  int concurrentKernels;
  int pciBusID;
  int pciDeviceID;
  int integrated;
  int unifiedAddressing;
};

// ============================================================================ 3. the engine
namespace emu {

enum class Schedule { forward, reverse, shuffle };

// What a thread is doing, seen by its block's scheduler.
enum : uint8_t { F_RUNNABLE, F_BARRIER, F_WARP, F_DONE };
// Warp operation kinds; shuffles may mix within one exchange (each lane names its own source).
enum : uint8_t { W_SYNC, W_SHFL, W_SHFL_UP, W_SHFL_DOWN, W_SHFL_XOR, W_BALLOT, W_ANY, W_ALL,
                 W_ADD_I, W_MIN_I, W_MAX_I, W_ADD_U, W_MIN_U, W_MAX_U, W_AND, W_OR, W_XOR, W_MATCH };

struct Site { const char* file; int line; const char* func; };

struct Block;
struct Fiber {
  void* sp = nullptr;            // saved stack pointer (asm switch)
  ucontext_t* uc = nullptr;      // saved context (ucontext switch)
  char* stack_lo = nullptr;       // the stack it runs on, taken from the pool when it starts
  size_t stack_size = 0;
  unsigned stack_id = 0;
  void* asan_fake = nullptr;
  Block* block = nullptr;
  uint3 tid{0, 0, 0};
  unsigned linear = 0;
  uint8_t state = F_RUNNABLE;
  bool started = false;
  // warp operation in flight
  uint8_t wop = W_SYNC;
  unsigned wmask = 0;
  int warg = 0, wwidth = 32, wsize = 0;
  const Site* wsite = nullptr;
  uint64_t wval[2] = {0, 0};
  uint64_t wres[2] = {0, 0};
  unsigned bar_gen = 0;          // the barrier generation it waits for (F_BARRIER)
};

struct LaunchInfo;
struct Block {
  std::vector<Fiber>* fibers = nullptr;
  unsigned n = 0;                 // threads in the block
  unsigned done = 0;
  unsigned bar_arrived = 0;
  const Site* bar_site = nullptr;
  unsigned bar_count = 0;         // threads of this barrier round whose predicate was true
  unsigned bar_result = 0;        // bar_count of the last completed round (__syncthreads_count)
  unsigned bar_gen = 0;           // completed barrier rounds: waiters of older rounds may run
  bool use_ucontext = false;
  bool from_scheduler = false;    // the last switch came from the scheduler (ASan learns its stack)
  // Stacks are handed out when a thread starts and taken back when it ends, so threads that never
  // wait (kernels without barriers) take turns on two cache-hot stacks.
  std::vector<char*>* stacks = nullptr;
  size_t stack_size = 0;
  std::vector<unsigned> free_stacks;
  int pending_release = -1;       // the stack of a thread that just ended, freed once we are off it
  unsigned pos = 0;               // position in order of the running thread, this round
  std::vector<unsigned> warp_arrived;  // per warp: lanes waiting in a warp operation
  std::vector<unsigned> warp_exist;    // per warp: lanes that exist
  std::vector<unsigned> order;
  uint64_t rng = 0;
  void* sched_sp = nullptr;
  ucontext_t sched_uc;
  const void* sched_stack_lo = nullptr;
  size_t sched_stack_size = 0;
  void* sched_fake = nullptr;
  bool fault = false;
  cudaError_t fault_code = cudaSuccess;
  std::string fault_msg;
  uint3 bid{0, 0, 0};
  LaunchInfo* launch = nullptr;
};

// The built-in variables of the running thread. One per OS thread; the scheduler sets tid and fiber
// before it switches to a fiber.
struct ThreadCtx {
  uint3 tid, bid, bdim, gdim;
  Fiber* fiber;
  Block* block;
};
// (Default TLS model: initial-exec would put the module's whole TLS, the 227 KiB of dynamic shared
// memory included, into static TLS, and dlopen of the addon fails.)
inline thread_local ThreadCtx tls{};

// ---- small utilities
inline uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string strf(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}
inline long env_long(const char* name, long dflt) {
  const char* v = getenv(name);
  if (v == nullptr || *v == '\0') return dflt;
  char* end = nullptr;
  long r = strtol(v, &end, 10);
  return (end != nullptr && *end == '\0') ? r : dflt;
}
inline double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---- configuration (read once from the environment; the emu_set_* API overrides)
struct Config {
  std::atomic<int> schedule{0};
  std::atomic<uint64_t> seed{0};
  int threads = 1;
  size_t stack_bytes = 0;
  bool use_ucontext = false;
  bool poison = true;
  int device_count = 1;
  int sm_count = 132;   // LSTM_CUDA_EMU_SMS: the multiProcessorCount reported (an H100 SXM's by default)
  int trace_fd = -1;    // LSTM_CUDA_EMU_TRACE: where trace_event() appends, -1 = off
  bool dry_run = false;  // LSTM_CUDA_EMU_DRY_RUN: launches are checked and traced, not run
  Config() {
    long hw = (long)std::thread::hardware_concurrency();
    threads = (int)std::max(1L, std::min(64L, env_long("LSTM_CUDA_EMU_THREADS", hw > 0 ? hw : 1)));
    stack_bytes = (size_t)std::max(16L, env_long("LSTM_CUDA_EMU_STACK_KB", EMU_ASAN ? 256 : 64)) * 1024;
    stack_bytes = (stack_bytes + 4095) & ~(size_t)4095;
    const char* uc = getenv("LSTM_CUDA_EMU_UCONTEXT");
    use_ucontext = !EMU_ASM_SWITCH || (uc != nullptr && *uc != '\0' && strcmp(uc, "0") != 0);
    poison = env_long("LSTM_CUDA_EMU_POISON", 1) != 0;
    device_count = (int)env_long("LSTM_CUDA_EMU_DEVICES", 1);
    sm_count = (int)std::max(1L, env_long("LSTM_CUDA_EMU_SMS", 132));
    const char* tr = getenv("LSTM_CUDA_EMU_TRACE");
    if (tr != nullptr && *tr != '\0') trace_fd = open(tr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    dry_run = env_long("LSTM_CUDA_EMU_DRY_RUN", 0) != 0;
    const char* s = getenv("LSTM_CUDA_EMU_SCHEDULE");
    if (s != nullptr) {
      if (strncmp(s, "reverse", 7) == 0) schedule = (int)Schedule::reverse;
      if (strncmp(s, "shuffle", 7) == 0) {
        schedule = (int)Schedule::shuffle;
        if (s[7] == ':') seed = strtoull(s + 8, nullptr, 10);
      }
    }
  }
};
inline Config& config() {
  static Config* c = new Config();
  return *c;
}

// ---- errors: CUDA's "last error" is per host thread; the message says what the emulator saw
struct ErrorState {
  cudaError_t last = cudaSuccess;
  std::string msg;
};
inline ErrorState& err_state() {
  thread_local ErrorState e;
  return e;
}
inline cudaError_t set_error(cudaError_t e, std::string msg) {
  ErrorState& s = err_state();
  s.last = e;
  s.msg = std::move(msg);
  return e;
}

// One line of the LSTM_CUDA_EMU_TRACE file (one write(): lines of concurrent callers never interleave).
inline bool& in_replay();
inline void trace_event(const std::string& line) {
  const int fd = config().trace_fd;
  if (fd < 0) return;
  const std::string l = (in_replay() ? "node " : "") + line + "\n";
  if (write(fd, l.data(), l.size()) < 0) { /* a lost trace line is not a launch failure */ }
}

// ---- stream capture (CUDA graphs, section 5b): what is being recorded, and the refusals
// One capture at a time (the addon captures from its one JS thread). While it is active, a launch or an
// async device-to-device copy or memset on the capturing stream becomes a node of the graph instead of
// running; anything else is refused with cudaErrorStreamCaptureUnsupported and invalidates the capture
// (cudaStreamEndCapture then fails with cudaErrorStreamCaptureInvalidated naming the first refused call),
// as CUDA does in cudaStreamCaptureModeGlobal: a synchronisation, a synchronous copy or memset, a copy to
// or from host memory (the graph would replay whatever the host buffer holds then), cudaMalloc/cudaFree,
// event waits, and work on another stream.
struct GraphNode {
  std::string what;                 // "launch <kernel>" / "memcpy DtoD n" / "memset n", for the trace
  std::function<cudaError_t()> run;  // runs the node (arguments held by value since capture)
};
struct Capture {
  cudaStream_t stream = nullptr;  // the capturing stream, nullptr when none
  std::vector<GraphNode> nodes;
  std::string invalid;            // the first refused call ("" = still valid)
};
inline Capture& capture() {
  static Capture* c = new Capture();
  return *c;
}
inline bool capturing() { return capture().stream != nullptr; }
inline thread_local bool validate_only = false;  // launch_erased only checks the launch (it is being captured)
// Refuses `what` (and invalidates the capture) when a capture is active; cudaSuccess otherwise.
inline cudaError_t refuse_in_capture(const char* what) {
  Capture& c = capture();
  if (c.stream == nullptr) return cudaSuccess;
  std::string m = strf("%s during stream capture: not allowed in a CUDA graph (the capture is invalidated)", what);
  if (c.invalid.empty()) c.invalid = m;
  return set_error(cudaErrorStreamCaptureUnsupported, m);
}
// true when work on `stream` must be recorded instead of run; sets *err (and invalidates) for work on
// another stream while a capture is active.
inline bool record_instead(cudaStream_t stream, const char* what, cudaError_t* err) {
  *err = cudaSuccess;
  Capture& c = capture();
  if (c.stream == nullptr) return false;
  if (stream != c.stream) {
    *err = refuse_in_capture(strf("%s on a stream that is not capturing", what).c_str());
    return true;
  }
  return true;
}
// Set while a graph replays: trace lines of its nodes start with "node " (they are not launches of their own).
inline bool& in_replay() {
  static bool r = false;
  return r;
}

// ---- device memory: guard zones around every allocation
constexpr size_t kGuardFront = 256;  // also keeps the user pointer 256-byte aligned, like cudaMalloc
constexpr size_t kGuardBack = 256;
constexpr unsigned char kGuardByte = 0xA5;
struct Allocation {
  size_t size;
  unsigned char* raw;
  size_t raw_size;
};
struct Memory {
  std::mutex mu;
  std::map<uintptr_t, Allocation> live;  // user pointer -> allocation
  size_t in_use = 0;
  size_t total = 0;
  Memory() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    total = (pages > 0 && page > 0) ? (size_t)pages * (size_t)page : ((size_t)16 << 30);
  }
};
inline Memory& memory() {
  static Memory* m = new Memory();
  return *m;
}
// The allocation holding [p, p+n), or nullptr. Caller holds memory().mu.
inline const Allocation* find_allocation(const void* p, size_t n, uintptr_t* base) {
  Memory& m = memory();
  auto it = m.live.upper_bound((uintptr_t)p);
  if (it == m.live.begin()) return nullptr;
  --it;
  uintptr_t a = (uintptr_t)p;
  if (a < it->first || a + n > it->first + std::max<size_t>(it->second.size, 1)) return nullptr;
  if (base != nullptr) *base = it->first;
  return &it->second;
}
// Checks (and repairs) one allocation's guard zones; returns a description of the damage or "".
inline std::string check_guards(uintptr_t user, const Allocation& a) {
  if (EMU_ASAN) return "";
  const unsigned char* raw = a.raw;
  long first = 0, last = 0;
  bool bad = false;
  auto scan = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      if (raw[i] != kGuardByte) {
        long off = (long)i - (long)kGuardFront;
        if (!bad) first = off;
        last = off;
        bad = true;
      }
    }
  };
  scan(0, kGuardFront);
  scan(kGuardFront + a.size, a.raw_size);
  if (!bad) return "";
  memset(a.raw, kGuardByte, kGuardFront);
  memset(a.raw + kGuardFront + a.size, kGuardByte, a.raw_size - kGuardFront - a.size);
  std::string where = first < 0 ? strf("%ld bytes before the start", -first)
                                : strf("%ld bytes past the end", first - (long)a.size);
  return strf("out-of-bounds write into the guard zone of the %zu-byte allocation at %p: bytes at "
              "offsets [%ld, %ld] changed (first one %s)",
              a.size, (void*)user, first, last, where.c_str());
}
// All allocations' guard zones; the first damage found, or "".
inline std::string check_all_guards() {
  if (EMU_ASAN) return "";
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mu);
  std::string first;
  for (auto& kv : m.live) {
    std::string d = check_guards(kv.first, kv.second);
    if (first.empty()) first = d;
  }
  return first;
}

// ---- the context switch
#if EMU_ASM_SWITCH
extern "C" void emu_ctx_swap(void** save_sp, void* load_sp);
extern "C" void emu_ctx_trampoline();
// save_sp: where to store the current stack pointer; load_sp: the stack to resume. Saves the
// callee-saved registers (SysV: rbx, rbp, r12-r15) on the stack being left. The trampoline starts a
// fresh fiber: r12 = argument, r13 = function (set up by prepare_stack). COMDAT: one copy per program.
asm(".pushsection .text.emu_ctx_swap,\"axG\",@progbits,emu_ctx_swap,comdat\n"
    ".weak emu_ctx_swap\n.hidden emu_ctx_swap\n.type emu_ctx_swap,@function\n"
    ".weak emu_ctx_trampoline\n.hidden emu_ctx_trampoline\n.type emu_ctx_trampoline,@function\n"
    ".p2align 4\n"
    "emu_ctx_swap:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size emu_ctx_swap, .-emu_ctx_swap\n"
    ".p2align 4\n"
    "emu_ctx_trampoline:\n"
    "  movq %r12, %rdi\n  callq *%r13\n  ud2\n"
    ".size emu_ctx_trampoline, .-emu_ctx_trampoline\n"
    ".popsection\n");
#endif

inline void fiber_main(Fiber* f);

inline void asan_start(void** fake, const void* lo, size_t size) {
#if EMU_ASAN
  __sanitizer_start_switch_fiber(fake, lo, size);
#else
  (void)fake, (void)lo, (void)size;
#endif
}
inline void asan_finish(void* fake, const void** lo, size_t* size) {
#if EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, lo, size);
#else
  (void)fake, (void)lo, (void)size;
#endif
}

inline void uc_entry(unsigned hi, unsigned lo) {
  fiber_main(reinterpret_cast<Fiber*>(((uintptr_t)hi << 32) | (uintptr_t)lo));
}

// Readies f's stack so the next switch to it enters fiber_main(f).
inline void prepare_stack(Fiber& f) {
#if EMU_ASAN
  // stale poison from frames that never returned (ended or abandoned threads): a pooled stack is reused
  // by later threads of the same block too, so it is cleared on every start (ASan builds only)
  ASAN_UNPOISON_MEMORY_REGION(f.stack_lo, f.stack_size);
#endif
  if (f.block->use_ucontext) {
    getcontext(f.uc);
    f.uc->uc_stack.ss_sp = f.stack_lo;
    f.uc->uc_stack.ss_size = f.stack_size;
    f.uc->uc_link = nullptr;
    uintptr_t p = (uintptr_t)&f;
    makecontext(f.uc, (void (*)())uc_entry, 2, (unsigned)(p >> 32), (unsigned)(p & 0xffffffffu));
    return;
  }
#if EMU_ASM_SWITCH
  // Stack tops staggered by 64-byte steps: otherwise every fiber's hot frame has the same page offset
  // and they all compete for one L1 cache set.
  const uintptr_t color = (uintptr_t)(f.linear % 61) * 64;
  uintptr_t top = ((uintptr_t)(f.stack_lo + f.stack_size - color) & ~(uintptr_t)15) - 16;
  uintptr_t* sp = reinterpret_cast<uintptr_t*>(top);
#if EMU_ASAN
  ASAN_UNPOISON_MEMORY_REGION(sp - 8, 8 * sizeof(uintptr_t));  // an ended thread's frames may have been here
#endif
  *--sp = (uintptr_t)&emu_ctx_trampoline;  // popped by ret
  *--sp = 0;                               // rbp
  *--sp = 0;                               // rbx
  *--sp = (uintptr_t)&f;                   // r12
  *--sp = (uintptr_t)&fiber_main;          // r13
  *--sp = 0;                               // r14
  *--sp = 0;                               // r15
  f.sp = sp;                               // top - 56: 16-aligned at the trampoline's call
#endif
}

// The next thread of this round (in b.order after position b.pos) that can run, or nullptr at the
// round's end. Barrier waiters whose round has completed become runnable here.
inline Fiber* next_runnable(Block& b) {
  std::vector<Fiber>& fib = *b.fibers;
  for (unsigned k = b.pos + 1; k < b.n; ++k) {
    Fiber& f = fib[b.order[k]];
    if (f.state == F_BARRIER && f.bar_gen != b.bar_gen) f.state = F_RUNNABLE;
    if (f.state == F_RUNNABLE) {
      b.pos = k;
      return &f;
    }
  }
  b.pos = b.n;
  return nullptr;
}

// Switches from the running context (save_sp / save_uc) to fiber to, preparing it on first use.
inline void switch_to(Block& b, void** save_sp, ucontext_t* save_uc, void** fake, Fiber& to) {
  tls.tid = to.tid;
  tls.fiber = &to;
  if (!to.started) {
    to.started = true;
    to.stack_id = b.free_stacks.back();
    b.free_stacks.pop_back();
    to.stack_lo = (*b.stacks)[to.stack_id];
    to.stack_size = b.stack_size;
    prepare_stack(to);
  }
  asan_start(fake, to.stack_lo, to.stack_size);
  if (b.use_ucontext) {
    swapcontext(save_uc, to.uc);
  } else {
#if EMU_ASM_SWITCH
    emu_ctx_swap(save_sp, to.sp);
#else
    (void)save_sp;
#endif
  }
}

// Called after every switch: gives the stack of a thread that has just ended back to the pool.
inline void release_pending(Block& b) {
  if (b.pending_release >= 0) {
    b.free_stacks.push_back((unsigned)b.pending_release);
    b.pending_release = -1;
  }
}

// Scheduler -> first runnable fiber of the round; returns when the round is over (or the block faulted).
inline void resume(Block& b, Fiber& f) {
  b.from_scheduler = true;
  switch_to(b, &b.sched_sp, &b.sched_uc, &b.sched_fake, f);
  asan_finish(b.sched_fake, nullptr, nullptr);
  release_pending(b);
}
// Fiber -> the next fiber of the round, directly (one switch per thread per barrier), or back to the
// scheduler at the round's end. finished: f never runs again (ASan drops its fake stack).
inline void yield_to_scheduler(Fiber& f, bool finished) {
  Block& b = *f.block;
  void** fake = finished ? nullptr : &f.asan_fake;
  Fiber* next = b.fault ? nullptr : next_runnable(b);
  if (next != nullptr) {
    b.from_scheduler = false;
    switch_to(b, &f.sp, f.uc, fake, *next);
  } else {
    asan_start(fake, b.sched_stack_lo, b.sched_stack_size);
    if (b.use_ucontext) {
      swapcontext(f.uc, &b.sched_uc);
    } else {
#if EMU_ASM_SWITCH
      emu_ctx_swap(&f.sp, b.sched_sp);
#endif
    }
  }
  asan_finish(f.asan_fake, nullptr, nullptr);
  release_pending(b);
}

// Records a fault of the running block (the first one wins).
inline void record_fault(cudaError_t code, std::string msg) {
  Block& b = *tls.fiber->block;
  if (!b.fault) {
    b.fault = true;
    b.fault_code = code;
    b.fault_msg = std::move(msg);
  }
}
// Leaves the running fiber for good (the scheduler stops the block). Its frames are never unwound.
[[noreturn]] inline void abandon_fiber() {
  for (;;) yield_to_scheduler(*tls.fiber, true);
}
// Stops the block with an error. Two statements, so that the message's temporaries are destroyed
// before the fiber is abandoned (they would leak otherwise).
#define EMU_FAULT(code, msg)          \
  do {                                \
    ::emu::record_fault(code, msg);   \
    ::emu::abandon_fiber();           \
  } while (0)

// ---- one launch, shared by every OS thread that runs its blocks
struct LaunchInfo {
  const char* name = "";
  void (*invoke)(const void* kernel, const void* args) = nullptr;
  const void* kernel = nullptr;
  const void* args = nullptr;
  dim3 grid, block;
  size_t shared_bytes = 0;
  unsigned nthreads = 0;
  uint64_t nblocks = 0;
  uint64_t serial = 0;
  int schedule = 0;
  uint64_t seed = 0;
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  cudaError_t code = cudaSuccess;
  std::string msg;
  // cooperative launches only: every block on its own OS thread, all co-resident; grid_sync() state
  bool cooperative = false;
  std::mutex grid_mu;
  std::condition_variable grid_cv;
  uint64_t grid_arrived = 0, grid_exited = 0, grid_gen = 0, grid_first_exited = 0;
};

inline std::string block_name(uint3 b) { return strf("(%u,%u,%u)", b.x, b.y, b.z); }
inline std::string thread_name(uint3 t) { return strf("(%u,%u,%u)", t.x, t.y, t.z); }
inline std::string site_name(const Site* s) {
  if (s == nullptr) return "?";
  const char* file = strrchr(s->file, '/');
  return strf("%s:%d in %s()", file ? file + 1 : s->file, s->line, s->func);
}

// The stacks and fiber records of one OS thread, grown to the largest block seen (one spare stack:
// an ending thread's stack is still in use while the next thread starts).
struct FiberPool {
  std::vector<Fiber> fibers;
  std::vector<char*> stacks;
  std::vector<std::pair<char*, size_t>> maps;
  std::vector<std::unique_ptr<ucontext_t>> ucs;
  Block block;
  void ensure(unsigned n) {
    if (fibers.size() < n) {
      fibers.resize(n);
      while (ucs.size() < n) ucs.emplace_back(new ucontext_t());
      for (size_t i = 0; i < n; ++i) fibers[i].uc = ucs[i].get();
    }
    if (stacks.size() >= (size_t)n + 1) return;
    const size_t ss = config().stack_bytes, page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t slot = ss + page;  // one guard page below each stack
    const size_t count = n + 1 - stacks.size();
    void* mem = mmap(nullptr, slot * count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    if (mem == MAP_FAILED) throw std::bad_alloc();
    maps.emplace_back((char*)mem, slot * count);
    for (size_t i = 0; i < count; ++i) {
      char* lo = (char*)mem + i * slot;
      mprotect(lo, page, PROT_NONE);  // a stack overflow faults here instead of corrupting a neighbour
      stacks.push_back(lo + page);
    }
  }
  ~FiberPool() {
    for (auto& m : maps) munmap(m.first, m.second);
  }
};
inline FiberPool& fiber_pool() {
  thread_local FiberPool pool;
  return pool;
}

inline void shuffle_order(Block& b) {
  for (unsigned i = b.n; i > 1; --i) {
    unsigned j = (unsigned)(splitmix64(b.rng) % i);
    std::swap(b.order[i - 1], b.order[j]);
  }
}

inline void fiber_main(Fiber* f) {
  Block& b = *f->block;
  // first entry: learn the scheduler's stack bounds (ASan needs them to switch back)
  const void* from_lo = nullptr;
  size_t from_size = 0;
  asan_finish(nullptr, &from_lo, &from_size);
  if (b.from_scheduler) b.sched_stack_lo = from_lo, b.sched_stack_size = from_size;
  release_pending(b);
  bool threw = false;
  try {
    b.launch->invoke(b.launch->kernel, b.launch->args);
  } catch (const std::exception& e) {
    record_fault(cudaErrorLaunchFailure, strf("thread %s threw a C++ exception: %s", thread_name(f->tid).c_str(), e.what()));
    threw = true;
  } catch (...) {
    record_fault(cudaErrorLaunchFailure, strf("thread %s threw a C++ exception", thread_name(f->tid).c_str()));
    threw = true;
  }
  if (threw) abandon_fiber();
  f->state = F_DONE;
  ++b.done;
  b.pending_release = (int)f->stack_id;
  for (;;) yield_to_scheduler(*f, true);
}

// Explains why no thread of the block can run (a barrier or warp operation that can never complete).
inline std::string diagnose_deadlock(Block& b) {
  std::vector<Fiber>& fib = *b.fibers;
  unsigned at_bar = 0, at_warp = 0;
  const Fiber* warp_waiter = nullptr;
  for (unsigned i = 0; i < b.n; ++i) {
    if (fib[i].state == F_BARRIER && fib[i].bar_gen == b.bar_gen) ++at_bar;
    if (fib[i].state == F_WARP && warp_waiter == nullptr) warp_waiter = &fib[i];
    if (fib[i].state == F_WARP) ++at_warp;
  }
  std::string msg;
  if (at_bar > 0) {
    msg = strf("divergent __syncthreads(): the barrier at %s was reached by %u of %u threads "
               "(%u threads exited without reaching it%s); every thread of a block must reach each "
               "__syncthreads()",
               site_name(b.bar_site).c_str(), at_bar, b.n, b.done,
               at_warp ? strf(", %u wait in a warp operation", at_warp).c_str() : "");
  } else if (warp_waiter != nullptr) {
    unsigned w = warp_waiter->linear / 32;
    unsigned missing = warp_waiter->wmask & ~b.warp_arrived[w];
    msg = strf("warp operation at %s: lanes 0x%08x of warp %u wait with mask 0x%08x, but lanes 0x%08x "
               "never arrive (exited or waiting elsewhere)",
               site_name(warp_waiter->wsite).c_str(), b.warp_arrived[w], w, warp_waiter->wmask, missing);
  } else {
    msg = "no thread of the block can run";
  }
  return msg;
}

// Runs one block to completion (or to its first fault) on the calling OS thread.
inline void run_block(LaunchInfo& L, uint64_t block_linear) {
  FiberPool& pool = fiber_pool();
  pool.ensure(L.nthreads);
  Block& b = pool.block;
  const unsigned n = L.nthreads;
  b.fibers = &pool.fibers;
  b.n = n;
  b.done = 0;
  b.bar_arrived = 0;
  b.bar_site = nullptr;
  b.bar_gen = 0;
  b.use_ucontext = config().use_ucontext;
  b.fault = false;
  b.fault_msg.clear();
  b.launch = &L;
  b.bid = uint3{(unsigned)(block_linear % L.grid.x), (unsigned)((block_linear / L.grid.x) % L.grid.y),
                (unsigned)(block_linear / ((uint64_t)L.grid.x * L.grid.y))};
  const unsigned nwarps = (n + 31) / 32;
  b.warp_arrived.assign(nwarps, 0u);
  b.warp_exist.assign(nwarps, 0xffffffffu);
  if (n % 32) b.warp_exist[nwarps - 1] = (1u << (n % 32)) - 1;
  b.order.resize(n);
  for (unsigned i = 0; i < n; ++i) b.order[i] = (L.schedule == (int)Schedule::reverse) ? n - 1 - i : i;
  b.rng = L.seed ^ (block_linear * 0x9E3779B97F4A7C15ull) ^ (L.serial << 32);
  tls.bid = b.bid;
  tls.bdim = uint3{L.block.x, L.block.y, L.block.z};
  tls.gdim = uint3{L.grid.x, L.grid.y, L.grid.z};
  tls.block = &b;
  uint3 t{0, 0, 0};
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = pool.fibers[i];
    f.block = &b;
    f.linear = i;
    f.tid = t;  // x fastest, then y, then z (no divisions: this loop runs for every block)
    if (++t.x == L.block.x) {
      t.x = 0;
      if (++t.y == L.block.y) t.y = 0, ++t.z;
    }
    f.state = F_RUNNABLE;
    f.started = false;
    f.asan_fake = nullptr;
  }
  b.stacks = &pool.stacks;
  b.stack_size = config().stack_bytes;
  b.pending_release = -1;
  b.free_stacks.resize(pool.stacks.size());
  for (size_t i = 0; i < pool.stacks.size(); ++i) b.free_stacks[i] = (unsigned)(pool.stacks.size() - 1 - i);
  if (L.shared_bytes > 0) memset(emu_dynamic_shared + L.shared_bytes, kGuardByte, EMU_DYNAMIC_SHARED_GUARD);
  for (;;) {
    // one round: every runnable thread in order, each switching straight to the next
    if (L.schedule == (int)Schedule::shuffle) shuffle_order(b);
    b.pos = (unsigned)-1;
    Fiber* first = next_runnable(b);
    const bool progressed = first != nullptr;
    if (first != nullptr) resume(b, *first);
    if (b.fault || b.done == n) break;
    if (!progressed) {
      b.fault = true;
      b.fault_code = cudaErrorLaunchFailure;
      b.fault_msg = diagnose_deadlock(b);
      break;
    }
  }
  if (!b.fault && L.shared_bytes > 0) {
    const unsigned char* g = emu_dynamic_shared + L.shared_bytes;
    for (unsigned i = 0; i < EMU_DYNAMIC_SHARED_GUARD; ++i) {
      if (g[i] != kGuardByte) {
        b.fault = true;
        b.fault_code = cudaErrorIllegalAddress;
        b.fault_msg = strf("out-of-bounds write to dynamic shared memory: byte %zu of a %zu-byte extern "
                           "__shared__ array was written",
                           L.shared_bytes + i, L.shared_bytes);
        break;
      }
    }
  }
  if (b.fault) {
    for (unsigned i = 0; i < n; ++i) pool.fibers[i].started = false;  // abandoned: re-prepared on reuse
    std::lock_guard<std::mutex> lock(L.mu);
    if (!L.failed.load()) {
      L.code = b.fault_code;
      L.msg = strf("kernel %s, block %s: %s", L.name, block_name(b.bid).c_str(), b.fault_msg.c_str());
      L.failed.store(true);
    }
  }
  tls.block = nullptr;
  tls.fiber = nullptr;
}

// A cooperative launch: every block on an OS thread of its own, all at once (co-resident, as
// cudaLaunchCooperativeKernel guarantees), so that grid_sync() can wait for the others. A block that
// ends while others wait at the grid barrier (or before they reach it) breaks the barrier: the waiting
// blocks stop with cudaErrorLaunchFailure naming it (on a GPU they would hang).
inline void run_cooperative(LaunchInfo& L) {
  std::vector<std::thread> threads;
  threads.reserve(L.nblocks);
  for (uint64_t i = 0; i < L.nblocks; ++i) {
    threads.emplace_back([&L, i] {
      try {
        run_block(L, i);
      } catch (const std::bad_alloc&) {
        std::lock_guard<std::mutex> lock(L.mu);
        if (!L.failed.load()) {
          L.code = cudaErrorLaunchOutOfResources;
          L.msg = strf("cooperative launch of %s: could not allocate fiber stacks", L.name);
          L.failed.store(true);
        }
      }
      // an ended block never reaches another grid barrier: a breakage only if some block waits for one
      std::lock_guard<std::mutex> lock(L.grid_mu);
      if (L.grid_exited++ == 0) L.grid_first_exited = i;
      L.grid_cv.notify_all();
    });
  }
  for (auto& t : threads) t.join();
}

inline void run_blocks(LaunchInfo& L) {
  for (;;) {
    if (L.failed.load(std::memory_order_relaxed)) return;
    uint64_t i = L.next.fetch_add(1);
    if (i >= L.nblocks) return;
    run_block(L, i);
  }
}

// Worker threads that take blocks of the current launch; the launching thread works too. A worker
// that wakes after the launching thread has finished every block finds no job and goes back to sleep,
// so a busy machine's slow wake-ups never delay a launch; run() waits only for workers that joined
// (LaunchInfo lives on the caller's stack).
struct Pool {
  std::mutex mu;
  std::condition_variable wake, idle;
  LaunchInfo* job = nullptr;
  uint64_t generation = 0;
  int busy = 0;
  std::mutex launch_mu;  // one launch at a time
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) std::thread([this] { work(); }).detach();
  }
  void work() {
    uint64_t seen = 0;
    for (;;) {
      LaunchInfo* L;
      {
        std::unique_lock<std::mutex> lock(mu);
        wake.wait(lock, [&] { return generation != seen; });
        seen = generation;
        L = job;
        if (L == nullptr) continue;
        ++busy;
      }
      run_blocks(*L);
      std::lock_guard<std::mutex> lock(mu);
      if (--busy == 0) idle.notify_all();
    }
  }
  void run(LaunchInfo& L) {
    {
      std::lock_guard<std::mutex> lock(mu);
      job = &L;
      ++generation;
    }
    wake.notify_all();
    run_blocks(L);
    std::unique_lock<std::mutex> lock(mu);
    job = nullptr;
    idle.wait(lock, [&] { return busy == 0; });
  }
};
inline Pool& pool() {
  static Pool* p = new Pool(config().threads - 1);
  return *p;
}

// Per-kernel dynamic shared memory limits set by cudaFuncSetAttribute.
inline std::mutex& attr_mu() {
  static std::mutex* m = new std::mutex();
  return *m;
}
inline std::map<const void*, size_t>& attr_smem() {
  static auto* m = new std::map<const void*, size_t>();
  return *m;
}

// The kernel's name from launch()'s argument text: everything before the first top-level comma.
inline std::string kernel_name(const char* text) {
  int depth = 0;
  std::string s;
  for (const char* p = text; *p; ++p) {
    if (*p == '<' || *p == '(') ++depth;
    if (*p == '>' || *p == ')') --depth;
    if (*p == ',' && depth <= 0) break;
    s += *p;
  }
  size_t a = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  return a == std::string::npos ? std::string("?") : s.substr(a, e - a + 1);
}

inline std::atomic<uint64_t>& launch_serial() {
  static std::atomic<uint64_t> s{0};
  return s;
}

// Blocks of `threads` threads and `shared_bytes` of dynamic shared memory one emulated SM holds at once, by
// the limits of an sm_90 SM: 2048 threads, 32 blocks, EMU_DYNAMIC_SHARED_BYTES + 1 KiB of shared memory
// with 1 KiB reserved per block (registers are not modelled: ptxas's counts are bench/static.ts's).
// cudaOccupancyMaxActiveBlocksPerMultiprocessor answers it and a cooperative launch is held to it.
inline int blocks_per_sm(unsigned threads, size_t shared_bytes) {
  if (threads == 0 || threads > 1024 || shared_bytes > EMU_DYNAMIC_SHARED_BYTES) return 0;
  const size_t by_threads = std::min<size_t>(32, 2048 / threads);
  const size_t by_smem = (EMU_DYNAMIC_SHARED_BYTES + 1024) / (shared_bytes + 1024);
  return (int)std::min(by_threads, by_smem);
}

inline cudaError_t launch_erased(const char* text, const void* kernel,
                                 void (*invoke)(const void*, const void*), const void* args, dim3 grid,
                                 dim3 block, size_t shared_bytes, bool cooperative = false) {
  const std::string name = kernel_name(text);
  const uint64_t nthreads = (uint64_t)block.x * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 || block.y > 1024 || block.z > 64 ||
      nthreads > 1024)
    return set_error(cudaErrorInvalidConfiguration,
                     strf("launch of %s: block (%u,%u,%u) is invalid: each dimension ≥ 1, x,y ≤ 1024, z ≤ 64, "
                          "at most 1024 threads",
                          name.c_str(), block.x, block.y, block.z));
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
    return set_error(cudaErrorInvalidConfiguration,
                     strf("launch of %s: grid (%u,%u,%u) is invalid: each dimension ≥ 1, y,z ≤ 65535",
                          name.c_str(), grid.x, grid.y, grid.z));
  size_t limit = 48 * 1024;
  {
    std::lock_guard<std::mutex> lock(attr_mu());
    auto it = attr_smem().find(kernel);
    if (it != attr_smem().end()) limit = std::max(limit, it->second);
  }
  if (shared_bytes > limit)
    return set_error(cudaErrorInvalidValue,
                     strf("launch of %s: %zu bytes of dynamic shared memory exceed the limit of %zu "
                          "(raise it with cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize))",
                          name.c_str(), shared_bytes, limit));
  if (config().device_count <= 0) return set_error(cudaErrorNoDevice, "no CUDA device (LSTM_CUDA_EMU_DEVICES=0)");
  if (tls.fiber != nullptr)
    return set_error(cudaErrorNotSupported, strf("launch of %s from inside a kernel", name.c_str()));
  LaunchInfo L;
  L.name = name.c_str();
  L.invoke = invoke;
  L.kernel = kernel;
  L.args = args;
  L.grid = grid;
  L.block = block;
  L.shared_bytes = shared_bytes;
  L.nthreads = (unsigned)nthreads;
  L.nblocks = (uint64_t)grid.x * grid.y * grid.z;
  L.serial = launch_serial().fetch_add(1);
  L.schedule = config().schedule.load();
  L.seed = config().seed.load();
  // co-residency is checked before the trace and the dry run: a launch a GPU refuses is refused here too
  if (cooperative) {
    const uint64_t per_sm = (uint64_t)blocks_per_sm(L.nthreads, shared_bytes);
    if (L.nblocks > per_sm * (uint64_t)config().sm_count)
      return set_error(cudaErrorCooperativeLaunchTooLarge,
                       strf("cooperative launch of %s: %llu blocks of %u threads and %zu bytes of dynamic shared "
                            "memory cannot all be resident on %d SMs (at most %llu)", name.c_str(),
                            (unsigned long long)L.nblocks, L.nthreads, shared_bytes, config().sm_count,
                            (unsigned long long)(per_sm * config().sm_count)));
  }
  if (validate_only) return cudaSuccess;  // being captured into a graph (section 5b): checked, not run
  if (config().trace_fd >= 0)
    trace_event(strf("launch %s grid=%u,%u,%u block=%u,%u,%u smem=%zu", name.c_str(), grid.x, grid.y, grid.z,
                     block.x, block.y, block.z, shared_bytes));
  if (config().dry_run) return cudaSuccess;
  if (cooperative) {
    L.cooperative = true;
    run_cooperative(L);
  } else try {
    if (L.nblocks == 1 || config().threads <= 1) {
      run_blocks(L);
    } else {
      Pool& p = pool();
      std::lock_guard<std::mutex> lock(p.launch_mu);
      p.run(L);
    }
  } catch (const std::bad_alloc&) {
    return set_error(cudaErrorLaunchOutOfResources,
                     strf("launch of %s: could not allocate fiber stacks for %u threads", name.c_str(), L.nthreads));
  }
  if (L.failed.load()) return set_error(L.code, L.msg);
  std::string damage = check_all_guards();
  if (!damage.empty()) return set_error(cudaErrorIllegalAddress, strf("after kernel %s: %s", name.c_str(), damage.c_str()));
  return cudaSuccess;
}

template <typename... KArgs>
void invoke_kernel(const void* kernel, const void* args) {
  auto k = reinterpret_cast<void (*)(KArgs...)>(const_cast<void*>(kernel));
  std::apply(k, *static_cast<const std::tuple<std::decay_t<KArgs>...>*>(args));
}

// ============================================================================ 4. device functions
inline Block& cur_block() { return *tls.block; }

// A device function called from host code (nvcc would not compile that): warns, then acts as a no-op.
inline bool outside_kernel(const char* what) {
  if (tls.fiber != nullptr) return false;
  fprintf(stderr, "cuda_emu: %s called outside a kernel (ignored)\n", what);
  return true;
}

// A second barrier site while threads wait at the first: a fault (unless it is the same file:line).
__attribute__((noinline, cold)) inline void barrier_site_check(Block& b, Fiber& f, const Site* site) {
  if (b.bar_site->line == site->line && strcmp(b.bar_site->file, site->file) == 0) return;
  EMU_FAULT(cudaErrorLaunchFailure,
        strf("divergent __syncthreads(): threads wait at two different barriers, %s (%u threads) and %s "
             "(thread %s)",
             site_name(b.bar_site).c_str(), b.bar_arrived, site_name(site).c_str(), thread_name(f.tid).c_str()));
}

// __syncthreads (and _count/_or/_and: result gets how many threads passed a true pred). The last
// thread to arrive completes the round and carries on; the scheduler wakes the others.
inline void syncthreads(const Site* site, unsigned pred, unsigned* result) {
  Fiber* f = tls.fiber;
  if (__builtin_expect(f == nullptr, 0)) {
    outside_kernel("__syncthreads()");
    if (result) *result = pred != 0;
    return;
  }
  Block& b = *f->block;
  if (b.bar_arrived == 0) {
    b.bar_site = site;
    b.bar_count = 0;
  } else if (__builtin_expect(b.bar_site != site, 0)) {
    barrier_site_check(b, *f, site);
  }
  b.bar_count += pred != 0;
  if (++b.bar_arrived == b.n) {
    b.bar_arrived = 0;
    b.bar_result = b.bar_count;
    ++b.bar_gen;
  } else {
    f->state = F_BARRIER;
    f->bar_gen = b.bar_gen;
    yield_to_scheduler(*f, false);
  }
  if (result) *result = b.bar_result;
}

// grid.sync() of a cooperative launch: the whole block meets at a __syncthreads, then its thread 0 waits
// (blocking this block's OS thread) until every block of the grid has arrived, then the block meets again.
// Outside a cooperative launch, or when a block has ended without arriving, the launch stops with
// cudaErrorLaunchFailure and says which.
inline void grid_sync(const Site* site) {
  Fiber* f = tls.fiber;
  if (f == nullptr) {
    outside_kernel("grid.sync()");
    return;
  }
  LaunchInfo& L = *f->block->launch;
  if (!L.cooperative)
    EMU_FAULT(cudaErrorLaunchFailure, strf("grid.sync() at %s in a kernel not launched cooperatively "
                                           "(launch_cooperative / cudaLaunchCooperativeKernel)",
                                           site_name(site).c_str()));
  syncthreads(site, 0, nullptr);
  if (f->linear == 0) {
    std::unique_lock<std::mutex> lock(L.grid_mu);
    const uint64_t gen = L.grid_gen;
    if (++L.grid_arrived == L.nblocks) {
      L.grid_arrived = 0;
      ++L.grid_gen;
      L.grid_cv.notify_all();
    } else {
      L.grid_cv.wait(lock, [&] { return L.grid_gen != gen || (L.grid_exited > 0 && L.grid_arrived + L.grid_exited >= L.nblocks); });
      if (L.grid_gen == gen) {
        const uint64_t i = L.grid_first_exited;
        const uint3 b{(unsigned)(i % L.grid.x), (unsigned)((i / L.grid.x) % L.grid.y), (unsigned)(i / ((uint64_t)L.grid.x * L.grid.y))};
        std::string msg = strf("grid barrier #%llu at %s can never complete: block %s ended without reaching it "
                               "(%llu of %llu blocks arrived); every block of a cooperative launch must reach every "
                               "grid.sync()", (unsigned long long)gen + 1, site_name(site).c_str(),
                               block_name(b).c_str(), (unsigned long long)L.grid_arrived, (unsigned long long)L.nblocks);
        lock.unlock();
        record_fault(cudaErrorLaunchFailure, std::move(msg));  // (EMU_FAULT's two steps, msg moved out first)
        abandon_fiber();
      }
    }
  }
  syncthreads(site, 0, nullptr);
}

// Result of f's warp operation, computed when the last lane of the mask arrives.
inline void warp_compute(Block& b, unsigned warp, unsigned m) {
  Fiber* lanes = &(*b.fibers)[(size_t)warp * 32];
  unsigned votes = 0;
  uint64_t acc = 0;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(m >> l & 1)) continue;
    if (lanes[l].wval[0] != 0) votes |= 1u << l;
  }
  const uint8_t op = lanes[__builtin_ctz(m)].wop;
  if (op >= W_ADD_I && op <= W_XOR) {
    bool first = true;
    for (unsigned l = 0; l < 32; ++l) {
      if (!(m >> l & 1)) continue;
      uint64_t v = lanes[l].wval[0];
      int32_t vi = (int32_t)(uint32_t)v, ai = (int32_t)(uint32_t)acc;
      uint32_t vu = (uint32_t)v, au = (uint32_t)acc;
      if (first) { acc = (uint32_t)v; first = false; continue; }
      switch (op) {
        case W_ADD_I: case W_ADD_U: acc = (uint32_t)(au + vu); break;
        case W_MIN_I: acc = (uint32_t)std::min(ai, vi); break;
        case W_MAX_I: acc = (uint32_t)std::max(ai, vi); break;
        case W_MIN_U: acc = std::min(au, vu); break;
        case W_MAX_U: acc = std::max(au, vu); break;
        case W_AND: acc = au & vu; break;
        case W_OR: acc = au | vu; break;
        case W_XOR: acc = au ^ vu; break;
      }
    }
  }
  for (unsigned l = 0; l < 32; ++l) {
    if (!(m >> l & 1)) continue;
    Fiber& f = lanes[l];
    const unsigned w = (unsigned)f.wwidth, base = l & ~(w - 1);
    int src = -1;
    switch (f.wop) {
      case W_SHFL: src = (int)(base + ((unsigned)f.warg & (w - 1))); break;
      case W_SHFL_UP: src = (l - base) >= (unsigned)f.warg ? (int)(l - (unsigned)f.warg) : (int)l; break;
      case W_SHFL_DOWN: src = (l - base) + (unsigned)f.warg < w ? (int)(l + (unsigned)f.warg) : (int)l; break;
      case W_SHFL_XOR: {
        unsigned s = l ^ (unsigned)f.warg;
        src = s >= base + w || s > 31 ? (int)l : (int)s;  // later groups are out of reach
        break;
      }
      case W_BALLOT: case W_ANY: case W_ALL: f.wres[0] = votes; break;
      case W_MATCH: {
        unsigned same = 0;
        for (unsigned k = 0; k < 32; ++k)
          if ((m >> k & 1) && lanes[k].wval[0] == f.wval[0]) same |= 1u << k;
        f.wres[0] = same;
        break;
      }
      default: f.wres[0] = acc; break;
    }
    if (src >= 0) {
      // a source lane outside the mask (or the warp) is undefined in CUDA; here: the caller's own value
      const Fiber& s = (m >> src & 1) ? lanes[src] : f;
      f.wres[0] = s.wval[0];
      f.wres[1] = s.wval[1];
    }
  }
}

inline const char* warp_op_name(uint8_t op) {
  static const char* names[] = {"__syncwarp", "__shfl_sync", "__shfl_up_sync", "__shfl_down_sync",
                                "__shfl_xor_sync", "__ballot_sync", "__any_sync", "__all_sync",
                                "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync",
                                "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync",
                                "__reduce_and_sync", "__reduce_or_sync", "__reduce_xor_sync",
                                "__match_any_sync"};
  return names[op];
}
inline int warp_family(uint8_t op) { return op >= W_SHFL && op <= W_SHFL_XOR ? 1 : op; }

// The warp-level barrier every warp operation goes through. Returns when all lanes of mask arrived.
inline void warp_op(const Site* site, uint8_t op, unsigned mask, const void* val, int size, int arg, int width) {
  Fiber* f = tls.fiber;
  Block& b = *f->block;
  const unsigned warp = f->linear / 32, lane = f->linear % 32;
  if (!(mask >> lane & 1))
    EMU_FAULT(cudaErrorLaunchFailure, strf("%s at %s: thread %s (lane %u) is not in its mask 0x%08x", warp_op_name(op),
                                       site_name(site).c_str(), thread_name(f->tid).c_str(), lane, mask));
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0)
    EMU_FAULT(cudaErrorLaunchFailure, strf("%s at %s: width %d is not a power of 2 in [1, 32]", warp_op_name(op),
                                       site_name(site).c_str(), width));
  const unsigned m = mask & b.warp_exist[warp];  // lanes past the end of a partial last warp don't exist
  f->wop = op;
  f->wmask = m;
  f->warg = arg;
  f->wwidth = width;
  f->wsize = size;
  f->wsite = site;
  f->wval[0] = f->wval[1] = 0;
  memcpy(f->wval, val, (size_t)size);
  b.warp_arrived[warp] |= 1u << lane;
  if ((b.warp_arrived[warp] & m) != m) {
    f->state = F_WARP;
    yield_to_scheduler(*f, false);
    return;
  }
  Fiber* lanes = &(*b.fibers)[(size_t)warp * 32];
  for (unsigned l = 0; l < 32; ++l) {
    if (!(m >> l & 1)) continue;
    const Fiber& o = lanes[l];
    if (o.wmask != m || warp_family(o.wop) != warp_family(op) || o.wsize != size)
      EMU_FAULT(cudaErrorLaunchFailure,
            strf("warp %u: lanes meet in different warp operations: %s at %s with mask 0x%08x (lane %u) and "
                 "%s at %s with mask 0x%08x (lane %u)",
                 warp, warp_op_name(op), site_name(site).c_str(), m, lane,
                 warp_op_name(o.wop), site_name(o.wsite).c_str(), o.wmask, l));
  }
  warp_compute(b, warp, m);
  b.warp_arrived[warp] &= ~m;
  for (unsigned l = 0; l < 32; ++l)
    if ((m >> l & 1) && lanes[l].state == F_WARP) lanes[l].state = F_RUNNABLE;
}

template <typename T>
inline T shfl(const Site* site, uint8_t op, unsigned mask, T v, int arg, int width) {
  static_assert(sizeof(T) <= 16 && std::is_trivially_copyable<T>::value, "warp shuffle of an unsupported type");
  if (outside_kernel(warp_op_name(op))) return v;
  warp_op(site, op, mask, &v, (int)sizeof(T), arg, width);
  T r;
  memcpy(&r, tls.fiber->wres, sizeof(T));
  return r;
}
inline unsigned vote(const Site* site, uint8_t op, unsigned mask, uint64_t v) {
  if (outside_kernel(warp_op_name(op))) return v ? mask : 0u;
  warp_op(site, op, mask, &v, 8, 0, 32);
  return (unsigned)tls.fiber->wres[0];
}

// A failed device-side assert(): cudaErrorAssert for the launch. On the host: the C library's assert.
inline void assert_fail(const char* expr, const Site* site) {
  if (tls.fiber == nullptr) {  // what assert.h does
    fprintf(stderr, "%s:%d: %s: Assertion `%s' failed.\n", site->file, site->line, site->func, expr);
    abort();
  }
  EMU_FAULT(cudaErrorAssert, strf("assert(%s) failed at %s in thread %s", expr, site_name(site).c_str(),
                                  thread_name(tls.fiber->tid).c_str()));
}

inline void trap(const Site* site) {
  if (outside_kernel("__trap()")) return;
  EMU_FAULT(cudaErrorLaunchFailure, strf("__trap() at %s by thread %s", site_name(site).c_str(),
                                     thread_name(tls.fiber->tid).c_str()));
}

// ---- atomics (OS-thread-safe: blocks may run on different threads)
template <typename T, typename F>
inline T atomic_update(T* p, F f) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "atomic on an unsupported type");
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  U* q = reinterpret_cast<U*>(p);
  U old = __atomic_load_n(q, __ATOMIC_RELAXED), want;
  T o;
  do {
    memcpy(&o, &old, sizeof(T));
    T n = f(o);
    memcpy(&want, &n, sizeof(T));
  } while (!__atomic_compare_exchange_n(q, &old, want, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
  return o;
}

}  // namespace emu

// ---- built-in variables (per fiber)
#define threadIdx (::emu::tls.tid)
#define blockIdx (::emu::tls.bid)
#define blockDim (::emu::tls.bdim)
#define gridDim (::emu::tls.gdim)

// The call site of a barrier or warp operation: file, line and enclosing function, for error messages.
#define EMU_SITE                                                          \
  (__extension__({                                                        \
    static const ::emu::Site emu_site_{__FILE__, __LINE__, __func__};     \
    &emu_site_;                                                           \
  }))

// ---- barriers and warp operations (call sites recorded for the error messages)
#define __syncthreads() ::emu::syncthreads(EMU_SITE, 0, nullptr)
#define __syncthreads_count(p) (__extension__({ unsigned emu_r_; ::emu::syncthreads(EMU_SITE, (p) != 0, &emu_r_); (int)emu_r_; }))
#define __syncthreads_or(p) (__syncthreads_count(p) != 0)
#define __syncthreads_and(p) (__extension__({ unsigned emu_r_; ::emu::syncthreads(EMU_SITE, (p) != 0, &emu_r_); (int)(emu_r_ == ::emu::tls.block->n); }))
#define __syncwarp(...) ::emu::SyncwarpAt{EMU_SITE}(__VA_ARGS__)
#define __shfl_sync(m, v, s, ...) ::emu::shfl_at(EMU_SITE, ::emu::W_SHFL, m, v, s, ##__VA_ARGS__)
#define __shfl_up_sync(m, v, d, ...) ::emu::shfl_at(EMU_SITE, ::emu::W_SHFL_UP, m, v, d, ##__VA_ARGS__)
#define __shfl_down_sync(m, v, d, ...) ::emu::shfl_at(EMU_SITE, ::emu::W_SHFL_DOWN, m, v, d, ##__VA_ARGS__)
#define __shfl_xor_sync(m, v, x, ...) ::emu::shfl_at(EMU_SITE, ::emu::W_SHFL_XOR, m, v, x, ##__VA_ARGS__)
#define __ballot_sync(m, p) ::emu::vote(EMU_SITE, ::emu::W_BALLOT, m, (p) != 0)
#define __any_sync(m, p) ::emu::any_at(EMU_SITE, m, (p) != 0)
#define __all_sync(m, p) ::emu::all_at(EMU_SITE, m, (p) != 0)
#define __match_any_sync(m, v) ::emu::match_at(EMU_SITE, m, v)
#define __reduce_add_sync(m, v) ::emu::reduce_at(EMU_SITE, ::emu::W_ADD_I, m, v)
#define __reduce_min_sync(m, v) ::emu::reduce_at(EMU_SITE, ::emu::W_MIN_I, m, v)
#define __reduce_max_sync(m, v) ::emu::reduce_at(EMU_SITE, ::emu::W_MAX_I, m, v)
#define __reduce_and_sync(m, v) ::emu::reduce_at(EMU_SITE, ::emu::W_AND, m, v)
#define __reduce_or_sync(m, v) ::emu::reduce_at(EMU_SITE, ::emu::W_OR, m, v)
#define __reduce_xor_sync(m, v) ::emu::reduce_at(EMU_SITE, ::emu::W_XOR, m, v)
#define __trap() ::emu::trap(EMU_SITE)
// assert() inside a kernel stops the launch with cudaErrorAssert, as on a GPU (only if no later
// #include <assert.h> redefines it; NDEBUG is honoured).
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) (static_cast<bool>(e) ? (void)0 : ::emu::assert_fail(#e, EMU_SITE))
#endif
#define __brkpt() ::emu::trap(EMU_SITE)

namespace emu {
// __syncwarp(mask = all lanes): a call on a temporary, so the macro works with and without the mask.
struct SyncwarpAt {
  const Site* site;
  void operator()(unsigned mask = 0xffffffffu) const {
    if (outside_kernel("__syncwarp()")) return;
    unsigned z = 0;
    warp_op(site, W_SYNC, mask, &z, 4, 0, 32);
  }
};
template <typename T>
inline T shfl_at(const Site* s, uint8_t op, unsigned mask, T v, int arg, int width = 32) {
  return shfl(s, op, mask, v, arg, width);
}
inline int all_at(const Site* s, unsigned mask, bool p) {
  if (outside_kernel("__all_sync()")) return p;
  unsigned m = mask & cur_block().warp_exist[tls.fiber->linear / 32];
  return (vote(s, W_ALL, mask, p) & m) == m;
}
inline int any_at(const Site* s, unsigned mask, bool p) { return vote(s, W_ANY, mask, p) != 0; }
template <typename T>
inline unsigned match_at(const Site* s, unsigned mask, T v) {
  static_assert(sizeof(T) <= 8, "__match_any_sync of an unsupported type");
  if (outside_kernel("__match_any_sync()")) return mask;
  uint64_t bits = 0;
  memcpy(&bits, &v, sizeof(T));
  return vote(s, W_MATCH, mask, bits);
}
template <typename T>
inline T reduce_at(const Site* s, uint8_t op, unsigned mask, T v) {
  static_assert(std::is_integral<T>::value && sizeof(T) == 4, "__reduce_*_sync takes int or unsigned");
  if (outside_kernel(warp_op_name(op))) return v;
  if (std::is_unsigned<T>::value && op >= W_ADD_I && op <= W_MAX_I) op = (uint8_t)(op + (W_ADD_U - W_ADD_I));
  uint64_t bits = (uint32_t)v;
  warp_op(s, op, mask, &bits, 8, 0, 32);
  return (T)(uint32_t)tls.fiber->wres[0];
}
}  // namespace emu

// ---- cooperative_groups (cooperative_groups.h: include it only #ifndef LSTM_CUDA_EMU): this_grid() and
// grid_group::sync() of a launch_cooperative() launch; the call site comes from __builtin_FILE/LINE/FUNCTION.
namespace emu {
inline const Site* intern_site(const char* file, int line, const char* func) {
  static std::mutex mu;
  static std::map<std::pair<const char*, int>, Site>* sites = new std::map<std::pair<const char*, int>, Site>();
  std::lock_guard<std::mutex> lock(mu);
  return &sites->emplace(std::make_pair(file, line), Site{file, line, func}).first->second;
}
}  // namespace emu
namespace cooperative_groups {
struct grid_group {
  void sync(const char* file = __builtin_FILE(), int line = __builtin_LINE(),
            const char* func = __builtin_FUNCTION()) const {
    ::emu::grid_sync(::emu::intern_site(file, line, func));
  }
  bool is_valid() const { return ::emu::tls.fiber != nullptr && ::emu::tls.fiber->block->launch->cooperative; }
  unsigned long long size() const {
    return (unsigned long long)gridDim.x * gridDim.y * gridDim.z * blockDim.x * blockDim.y * blockDim.z;
  }
};
inline grid_group this_grid() { return grid_group{}; }
}  // namespace cooperative_groups

inline unsigned __activemask() {
  ::emu::Fiber* f = ::emu::tls.fiber;
  if (f == nullptr) return 0;
  ::emu::Block& b = *f->block;
  const unsigned w = f->linear / 32;
  unsigned live = 0;
  for (unsigned l = 0; l < 32; ++l)
    if ((b.warp_exist[w] >> l & 1) && (*b.fibers)[w * 32 + l].state != ::emu::F_DONE) live |= 1u << l;
  return live;
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __nanosleep(unsigned) {}
inline long long clock64() { return (long long)(::emu::now_ms() * 1e6); }

// ---- atomics
#define EMU_ATOMIC_INT(T)                                                                                   \
  inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }                      \
  inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_ACQ_REL); }                      \
  inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }                    \
  inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL); }                      \
  inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL); }                        \
  inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_ACQ_REL); }                      \
  inline T atomicMax(T* p, T v) { return ::emu::atomic_update(p, [v](T o) { return o > v ? o : v; }); }    \
  inline T atomicMin(T* p, T v) { return ::emu::atomic_update(p, [v](T o) { return o < v ? o : v; }); }    \
  inline T atomicCAS(T* p, T cmp, T v) {                                                                    \
    __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);                     \
    return cmp;                                                                                             \
  }
EMU_ATOMIC_INT(int)
EMU_ATOMIC_INT(unsigned int)
EMU_ATOMIC_INT(unsigned long long)
EMU_ATOMIC_INT(long long)
#undef EMU_ATOMIC_INT
inline float atomicAdd(float* p, float v) { return ::emu::atomic_update(p, [v](float o) { return o + v; }); }
inline double atomicAdd(double* p, double v) { return ::emu::atomic_update(p, [v](double o) { return o + v; }); }
inline float atomicExch(float* p, float v) { return ::emu::atomic_update(p, [v](float) { return v; }); }
inline float atomicMax(float* p, float v) { return ::emu::atomic_update(p, [v](float o) { return fmaxf(o, v); }); }
inline float atomicMin(float* p, float v) { return ::emu::atomic_update(p, [v](float o) { return fminf(o, v); }); }
inline unsigned atomicInc(unsigned* p, unsigned lim) {
  return ::emu::atomic_update(p, [lim](unsigned o) { return o >= lim ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned lim) {
  return ::emu::atomic_update(p, [lim](unsigned o) { return (o == 0 || o > lim) ? lim : o - 1; });
}
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicMax_block atomicMax
#define atomicMin_block atomicMin
#define atomicCAS_block atomicCAS
#define atomicExch_block atomicExch

// ---- math: the functions libm has already; CUDA's fast intrinsics map to the exact ones
#define __expf expf
#define __logf logf
#define __log2f log2f
#define __log10f log10f
#define __powf powf
#define __sinf sinf
#define __cosf cosf
#define __tanf tanf
#define __exp10f exp10f
// (macros: C23 libms may declare rsqrt/rsqrtf themselves)
inline float emu_rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double emu_rsqrt(double x) { return 1.0 / sqrt(x); }
inline float emu_rcbrtf(float x) { return 1.0f / cbrtf(x); }
#define rsqrtf emu_rsqrtf
#define rsqrt emu_rsqrt
#define rcbrtf emu_rcbrtf
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __tanhf(float x) { return tanhf(x); }
inline int __float_as_int(float x) { int r; memcpy(&r, &x, 4); return r; }
inline float __int_as_float(int x) { float r; memcpy(&r, &x, 4); return r; }
inline unsigned __float_as_uint(float x) { unsigned r; memcpy(&r, &x, 4); return r; }
inline float __uint_as_float(unsigned x) { float r; memcpy(&r, &x, 4); return r; }
inline long long __double_as_longlong(double x) { long long r; memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) { double r; memcpy(&r, &x, 8); return r; }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)x; }
inline int __float2int_rd(float x) { return (int)floorf(x); }
inline int __float2int_ru(float x) { return (int)ceilf(x); }
inline unsigned __float2uint_rn(float x) { return (unsigned)nearbyintf(x); }
inline float __int2float_rn(int x) { return (float)x; }
inline float __uint2float_rn(unsigned x) { return (float)x; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
inline int __mul24(int a, int b) { return a * b; }
inline unsigned __umul24(unsigned a, unsigned b) { return a * b; }
template <typename T> inline T __ldg(const T* p) { return *p; }
template <typename T> inline T __ldcg(const T* p) { return *p; }
template <typename T> inline T __ldca(const T* p) { return *p; }
template <typename T> inline T __ldcs(const T* p) { return *p; }
template <typename T> inline T __ldlu(const T* p) { return *p; }
template <typename T> inline T __ldcv(const T* p) { return *p; }
template <typename T> inline void __stcg(T* p, T v) { *p = v; }
template <typename T> inline void __stcs(T* p, T v) { *p = v; }
template <typename T> inline void __stwb(T* p, T v) { *p = v; }
template <typename T> inline void __stwt(T* p, T v) { *p = v; }

// min/max as CUDA has them: exact overloads for same-type calls (preferred over std:: templates),
// the usual arithmetic conversions for mixed ones.
#define EMU_MINMAX(T)                                      \
  inline T min(T a, T b) { return b < a ? b : a; }         \
  inline T max(T a, T b) { return a < b ? b : a; }
EMU_MINMAX(int)
EMU_MINMAX(unsigned int)
EMU_MINMAX(long)
EMU_MINMAX(unsigned long)
EMU_MINMAX(long long)
EMU_MINMAX(unsigned long long)
#undef EMU_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
template <typename A, typename B,
          typename = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value &&
                                      !std::is_same<A, B>::value>>
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return min((C)a, (C)b);
}
template <typename A, typename B,
          typename = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value &&
                                      !std::is_same<A, B>::value>>
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return max((C)a, (C)b);
}

// ============================================================================ 2b. runtime API
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define EMU_E(n) case n: return #n;
    EMU_E(cudaSuccess) EMU_E(cudaErrorInvalidValue) EMU_E(cudaErrorMemoryAllocation)
    EMU_E(cudaErrorInitializationError) EMU_E(cudaErrorCudartUnloading) EMU_E(cudaErrorInvalidConfiguration)
    EMU_E(cudaErrorInvalidPitchValue) EMU_E(cudaErrorInvalidSymbol) EMU_E(cudaErrorInvalidDevicePointer)
    EMU_E(cudaErrorInvalidMemcpyDirection) EMU_E(cudaErrorInvalidDeviceFunction) EMU_E(cudaErrorNoDevice)
    EMU_E(cudaErrorInvalidDevice) EMU_E(cudaErrorInvalidKernelImage) EMU_E(cudaErrorNoKernelImageForDevice)
    EMU_E(cudaErrorInvalidResourceHandle) EMU_E(cudaErrorNotReady) EMU_E(cudaErrorIllegalAddress)
    EMU_E(cudaErrorLaunchOutOfResources) EMU_E(cudaErrorLaunchTimeout) EMU_E(cudaErrorAssert)
    EMU_E(cudaErrorHardwareStackError) EMU_E(cudaErrorIllegalInstruction) EMU_E(cudaErrorMisalignedAddress)
    EMU_E(cudaErrorLaunchFailure) EMU_E(cudaErrorCooperativeLaunchTooLarge) EMU_E(cudaErrorIllegalState) EMU_E(cudaErrorNotSupported) EMU_E(cudaErrorStreamCaptureUnsupported) EMU_E(cudaErrorStreamCaptureInvalidated) EMU_E(cudaErrorStreamCaptureUnmatched) EMU_E(cudaErrorUnknown)
#undef EMU_E
  }
  return "cudaErrorUnknown";
}
inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchTimeout: return "the launch timed out and was terminated";
    case cudaErrorAssert: return "device-side assert triggered";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched: return "capture was not initiated in this stream";
    default: return "unknown error";
  }
}
inline cudaError_t cudaGetLastError() {
  ::emu::ErrorState& s = ::emu::err_state();
  cudaError_t e = s.last;
  s.last = cudaSuccess;
  return e;
}
inline cudaError_t cudaPeekAtLastError() { return ::emu::err_state().last; }

inline cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaGetDeviceCount: count is null");
  *count = std::max(0, ::emu::config().device_count);
  if (*count == 0) return ::emu::set_error(cudaErrorNoDevice, "no CUDA device (LSTM_CUDA_EMU_DEVICES=0)");
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= ::emu::config().device_count)
    return ::emu::set_error(cudaErrorInvalidDevice, ::emu::strf("cudaSetDevice(%d): the emulator has %d device(s)", d,
                                                                ::emu::config().device_count));
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* d) {
  if (d == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaGetDevice: null pointer");
  *d = 0;
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (p == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaGetDeviceProperties: null pointer");
  if (cudaSetDevice(d) != cudaSuccess) return cudaErrorInvalidDevice;
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "CUDA emulator (g++, %d threads%s)", ::emu::config().threads,
           EMU_ASAN ? ", ASan" : "");
  p->totalGlobalMem = ::emu::memory().total;
  p->sharedMemPerBlock = 48 * 1024;
  p->sharedMemPerBlockOptin = EMU_DYNAMIC_SHARED_BYTES;
  p->sharedMemPerMultiprocessor = EMU_DYNAMIC_SHARED_BYTES + 1024;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024, p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647, p->maxGridSize[1] = 65535, p->maxGridSize[2] = 65535;
  p->maxThreadsPerMultiProcessor = 2048;
  p->clockRate = 1000000;
  p->memoryClockRate = 1000000;
  p->memoryBusWidth = 64;
  p->l2CacheSize = 1 << 20;
  p->totalConstMem = 65536;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = ::emu::config().sm_count;  // what kernels size their grids by, not the OS threads
  p->concurrentKernels = 0;
  p->integrated = 1;
  p->unifiedAddressing = 1;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr attr, int d) {
  cudaDeviceProp p;
  if (v == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: null pointer");
  if (cudaGetDeviceProperties(&p, d) != cudaSuccess) return cudaErrorInvalidDevice;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *v = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *v = (int)p.sharedMemPerBlock; break;
    case cudaDevAttrWarpSize: *v = 32; break;
    case cudaDevAttrMultiProcessorCount: *v = p.multiProcessorCount; break;
    case cudaDevAttrComputeCapabilityMajor: *v = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *v = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = (int)p.sharedMemPerBlockOptin; break;
    case cudaDevAttrCooperativeLaunch: *v = 1; break;  // launch_cooperative: every block on its own OS thread
    default: return ::emu::set_error(cudaErrorInvalidValue, ::emu::strf("cudaDeviceGetAttribute: attribute %d not emulated", (int)attr));
  }
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() {
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaDeviceSynchronize (a host wait)");
  ::emu::trace_event("sync device");
  return cudaSuccess;
}
inline cudaError_t cudaDeviceReset() { return cudaSuccess; }
inline cudaError_t cudaRuntimeGetVersion(int* v) { if (v) *v = 13000; return cudaSuccess; }
inline cudaError_t cudaDriverGetVersion(int* v) { if (v) *v = 13000; return cudaSuccess; }

inline cudaError_t cudaMalloc(void** p, size_t size) {
  using namespace ::emu;
  if (p == nullptr) return set_error(cudaErrorInvalidValue, "cudaMalloc: the result pointer is null");
  if (capturing()) {
    *p = nullptr;
    return refuse_in_capture("cudaMalloc");
  }
  *p = nullptr;
  if (size == 0) return cudaSuccess;
  Memory& m = memory();
  const size_t front = EMU_ASAN ? 0 : kGuardFront;
  const size_t body = (size + 255) & ~(size_t)255;
  const size_t raw_size = EMU_ASAN ? size : front + body + kGuardBack;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (size > m.total || m.in_use + size > m.total)
      return set_error(cudaErrorMemoryAllocation,
                       strf("cudaMalloc(%zu): %zu of %zu bytes already in use", size, m.in_use, m.total));
  }
  unsigned char* raw = static_cast<unsigned char*>(EMU_ASAN ? malloc(raw_size) : aligned_alloc(256, raw_size));
  if (raw == nullptr) return set_error(cudaErrorMemoryAllocation, strf("cudaMalloc(%zu): out of host memory", size));
  if (!EMU_ASAN) {
    memset(raw, kGuardByte, front);
    memset(raw + front + size, kGuardByte, raw_size - front - size);
  }
  if (config().poison) memset(raw + front, 0xFF, size);  // NaN floats: reads of unwritten memory show
  std::lock_guard<std::mutex> lock(m.mu);
  m.live[(uintptr_t)(raw + front)] = Allocation{size, raw, raw_size};
  m.in_use += size;
  *p = raw + front;
  return cudaSuccess;
}
template <typename T>
inline cudaError_t cudaMalloc(T** p, size_t size) { return cudaMalloc(reinterpret_cast<void**>(p), size); }
inline cudaError_t cudaFree(void* p) {
  using namespace ::emu;
  if (p == nullptr) return cudaSuccess;
  if (capturing()) return refuse_in_capture("cudaFree");
  Memory& m = memory();
  std::string damage;
  unsigned char* raw;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    auto it = m.live.find((uintptr_t)p);
    if (it == m.live.end())
      return set_error(cudaErrorInvalidValue, strf("cudaFree(%p): not a live cudaMalloc pointer (double free?)", p));
    damage = check_guards(it->first, it->second);
    raw = it->second.raw;
    m.in_use -= it->second.size;
    m.live.erase(it);
  }
  free(raw);
  if (!damage.empty()) return set_error(cudaErrorIllegalAddress, "found by cudaFree: " + damage);
  return cudaSuccess;
}
inline cudaError_t cudaMallocHost(void** p, size_t size) {
  if (p == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaMallocHost: the result pointer is null");
  *p = size ? malloc(size) : nullptr;
  if (size && *p == nullptr) return ::emu::set_error(cudaErrorMemoryAllocation, "cudaMallocHost: out of memory");
  return cudaSuccess;
}
inline cudaError_t cudaFreeHost(void* p) { free(p); return cudaSuccess; }
inline cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total) {
  ::emu::Memory& m = ::emu::memory();
  std::lock_guard<std::mutex> lock(m.mu);
  if (free_bytes) *free_bytes = m.total - m.in_use;
  if (total) *total = m.total;
  return cudaSuccess;
}

namespace emu {
// The device side of a copy must lie inside one allocation.
inline cudaError_t check_device_range(const char* op, const char* which, const void* p, size_t n) {
  if (n == 0) return cudaSuccess;
  std::lock_guard<std::mutex> lock(memory().mu);
  uintptr_t base = 0;
  const Allocation* a = find_allocation(p, n, &base);
  if (a != nullptr) return cudaSuccess;
  const Allocation* near = find_allocation(p, 1, &base);
  if (near != nullptr)
    return set_error(cudaErrorInvalidValue,
                     strf("%s: %s range [%p, +%zu) runs past the end of its %zu-byte allocation at %p (by %zu bytes)",
                          op, which, p, n, near->size, (void*)base, (size_t)((uintptr_t)p + n - base - near->size)));
  return set_error(cudaErrorInvalidValue,
                   strf("%s: %s pointer %p is not inside any cudaMalloc allocation", op, which, p));
}
}  // namespace emu

inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  using namespace ::emu;
  if (capturing()) return refuse_in_capture("cudaMemcpy (synchronous)");
  if (n == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return set_error(cudaErrorInvalidValue, "cudaMemcpy: null pointer");
  if ((int)kind < 0 || (int)kind > 4)
    return set_error(cudaErrorInvalidMemcpyDirection, strf("cudaMemcpy: kind %d", (int)kind));
  cudaError_t e = cudaSuccess;
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) e = check_device_range("cudaMemcpy", "source", src, n);
  if (e == cudaSuccess && (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice))
    e = check_device_range("cudaMemcpy", "destination", dst, n);
  if (e != cudaSuccess) return e;
  if (config().trace_fd >= 0) {
    static const char* kinds[] = {"HtoH", "HtoD", "DtoH", "DtoD", "default"};
    trace_event(strf("memcpy %s %zu", kinds[(int)kind], n));
  }
  memmove(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t stream = nullptr) {
  using namespace ::emu;
  cudaError_t e;
  if (record_instead(stream, "cudaMemcpyAsync", &e)) {
    if (e != cudaSuccess) return e;
    if (kind != cudaMemcpyDeviceToDevice)
      return refuse_in_capture(kind == cudaMemcpyHostToDevice ? "cudaMemcpyAsync host to device (a host buffer)"
                               : kind == cudaMemcpyDeviceToHost ? "cudaMemcpyAsync device to host (a host read)"
                                                                : "cudaMemcpyAsync with a host or default kind");
    if (n == 0) return cudaSuccess;
    if ((e = check_device_range("cudaMemcpyAsync", "source", src, n)) != cudaSuccess ||
        (e = check_device_range("cudaMemcpyAsync", "destination", dst, n)) != cudaSuccess)
      return e;
    capture().nodes.push_back({strf("memcpy DtoD %zu", n), [=]() {
      if (config().trace_fd >= 0) trace_event(strf("memcpy DtoD %zu", n));
      memmove(dst, src, n);
      return cudaSuccess;
    }});
    return cudaSuccess;
  }
  return cudaMemcpy(dst, src, n, kind);
}
inline cudaError_t cudaMemset(void* p, int value, size_t n) {
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaMemset (synchronous)");
  if (n == 0) return cudaSuccess;
  cudaError_t e = ::emu::check_device_range("cudaMemset", "destination", p, n);
  if (e != cudaSuccess) return e;
  if (::emu::config().trace_fd >= 0) ::emu::trace_event(::emu::strf("memset %zu", n));
  memset(p, value, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t stream = nullptr) {
  using namespace ::emu;
  cudaError_t e;
  if (record_instead(stream, "cudaMemsetAsync", &e)) {
    if (e != cudaSuccess || n == 0) return e;
    if ((e = check_device_range("cudaMemsetAsync", "destination", p, n)) != cudaSuccess) return e;
    capture().nodes.push_back({strf("memset %zu", n), [=]() {
      if (config().trace_fd >= 0) trace_event(strf("memset %zu", n));
      memset(p, value, n);
      return cudaSuccess;
    }});
    return cudaSuccess;
  }
  return cudaMemset(p, value, n);
}
template <typename T>
inline cudaError_t cudaMemcpyToSymbol(T& symbol, const void* src, size_t n, size_t offset = 0,
                                      cudaMemcpyKind = cudaMemcpyHostToDevice) {
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaMemcpyToSymbol");
  if (offset + n > sizeof(T)) return ::emu::set_error(cudaErrorInvalidValue, "cudaMemcpyToSymbol: past the symbol's end");
  memcpy(reinterpret_cast<char*>(&symbol) + offset, src, n);
  return cudaSuccess;
}
template <typename T>
inline cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t n, size_t offset = 0,
                                        cudaMemcpyKind = cudaMemcpyDeviceToHost) {
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaMemcpyFromSymbol");
  if (offset + n > sizeof(T)) return ::emu::set_error(cudaErrorInvalidValue, "cudaMemcpyFromSymbol: past the symbol's end");
  memcpy(dst, reinterpret_cast<const char*>(&symbol) + offset, n);
  return cudaSuccess;
}

inline cudaError_t cudaStreamCreate(cudaStream_t* s) {
  if (s == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaStreamCreate: null pointer");
  *s = new CUstream_st{1};
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { return cudaStreamCreate(s); }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread)
    return ::emu::set_error(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: not a created stream");
  delete s;
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) {
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaStreamSynchronize (a host wait)");
  ::emu::trace_event("sync stream");
  return cudaSuccess;
}
inline cudaError_t cudaStreamQuery(cudaStream_t) {
  return ::emu::refuse_in_capture("cudaStreamQuery");
}
inline cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned = 0) {
  return ::emu::refuse_in_capture("cudaStreamWaitEvent");
}

inline cudaError_t cudaEventCreate(cudaEvent_t* e) {
  if (e == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaEventCreate: null pointer");
  *e = new CUevent_st{0.0, false};
  return cudaSuccess;
}
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) { return cudaEventCreate(e); }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (e == nullptr) return ::emu::set_error(cudaErrorInvalidResourceHandle, "cudaEventDestroy: null event");
  delete e;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = nullptr) {
  if (e == nullptr) return ::emu::set_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: null event");
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaEventRecord (timing inside a graph)");
  e->ms = ::emu::now_ms();  // execution is synchronous: the stream's work so far is done
  e->recorded = true;
  return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (e == nullptr) return ::emu::set_error(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: null event");
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaEventSynchronize (a host wait)");
  ::emu::trace_event("sync event");
  return cudaSuccess;
}
inline cudaError_t cudaEventQuery(cudaEvent_t e) { return cudaEventSynchronize(e); }
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaEventElapsedTime: null result pointer");
  if (start == nullptr || end == nullptr || !start->recorded || !end->recorded)
    return ::emu::set_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was never recorded");
  *ms = (float)(end->ms - start->ms);
  return cudaSuccess;
}

// cudaOccupancyMaxActiveBlocksPerMultiprocessor: ::emu::blocks_per_sm (threads and shared memory; the
// dynamic shared memory must also be within the kernel's cudaFuncSetAttribute limit, as on a GPU).
template <typename F>
inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, F* kernel, int block_size,
                                                                 size_t shared_bytes) {
  if (n == nullptr)
    return ::emu::set_error(cudaErrorInvalidValue, "cudaOccupancyMaxActiveBlocksPerMultiprocessor: null pointer");
  size_t limit = 48 * 1024;
  {
    std::lock_guard<std::mutex> lock(::emu::attr_mu());
    auto it = ::emu::attr_smem().find(reinterpret_cast<const void*>(kernel));
    if (it != ::emu::attr_smem().end()) limit = std::max(limit, it->second);
  }
  *n = block_size <= 0 || shared_bytes > limit ? 0 : ::emu::blocks_per_sm((unsigned)block_size, shared_bytes);
  return cudaSuccess;
}

template <typename F>
inline cudaError_t cudaFuncSetAttribute(F* kernel, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > EMU_DYNAMIC_SHARED_BYTES)
      return ::emu::set_error(cudaErrorInvalidValue,
                              ::emu::strf("cudaFuncSetAttribute: %d bytes of dynamic shared memory (max %d)", value,
                                          EMU_DYNAMIC_SHARED_BYTES));
    std::lock_guard<std::mutex> lock(::emu::attr_mu());
    ::emu::attr_smem()[reinterpret_cast<const void*>(kernel)] = (size_t)value;
  }
  return cudaSuccess;
}

// ---- WMMA (nvcuda::wmma, mma.h): the TF32 tensor-core subset the GEMM uses, m16n16k8 with
// precision::tf32 operands and float accumulators. A fragment's element e of lane l is element
// i = 32e + l of its tile in row-major order (CUDA leaves the layout unspecified; code that depends on
// one is wrong on a GPU too). load/store/fill are per lane; mma_sync is a warp-wide exchange (every lane
// of the warp must call it: the emulator checks, like any warp operation). The product is what the
// tensor cores compute: each operand's low 13 mantissa bits are ignored (the kernel rounds them away
// first with __float_to_tf32, cvt.rna.tf32.f32), the 11-bit × 11-bit products are exact in fp32 and
// are added to the accumulator in fp32 in k order (the hardware's internal order and rounding of that
// sum are not documented: a GPU may differ in the last bits).
namespace nvcuda {
namespace wmma {
struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K> struct frag_shape;
template <int M, int N, int K> struct frag_shape<matrix_a, M, N, K> { static constexpr int rows = M, cols = K; };
template <int M, int N, int K> struct frag_shape<matrix_b, M, N, K> { static constexpr int rows = K, cols = N; };
template <int M, int N, int K> struct frag_shape<accumulator, M, N, K> { static constexpr int rows = M, cols = N; };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
  static_assert(M == 16 && N == 16 && K == 8, "the emulator has WMMA m16n16k8 (tf32) only");
  static constexpr int rows = frag_shape<Use, M, N, K>::rows, cols = frag_shape<Use, M, N, K>::cols;
  static constexpr int num_elements = rows * cols / 32;
  typedef float element_type;
  float x[num_elements];
};

// cvt.rna.tf32.f32: round to the nearest value with a 10-bit mantissa, ties away from zero (NaN, inf kept).
inline float __float_to_tf32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
  memcpy(&f, &u, 4);
  return f;
}

namespace detail {
inline unsigned lane() { return ::emu::tls.fiber->linear % 32; }
inline float tf32_operand(float f) {  // what the tensor core reads of a register: the low 13 bits dropped
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u &= 0xffffe000u;
  memcpy(&f, &u, 4);
  return f;
}
inline void sync_warp(const ::emu::Site* site) {
  unsigned z = 0;
  ::emu::warp_op(site, ::emu::W_SYNC, 0xffffffffu, &z, 4, 0, 32);
}
// The fragments of every lane of the running block's warps during an mma_sync (a block's fibers share one
// OS thread, so one table per OS thread, indexed by warp and lane).
struct MmaLane { const float* a; const float* b; const float* c; };
inline MmaLane (&mma_table())[32][32] {
  thread_local MmaLane t[32][32];
  return t;
}
}  // namespace detail

template <class Use, int M, int N, int K, class T, class L>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, float v) {
  for (int e = 0; e < f.num_elements; ++e) f.x[e] = v;
}
// Operand tiles: element (r, c) at p[r·ldm + c] (row_major) or p[c·ldm + r] (col_major).
template <class Use, int M, int N, int K, class T, class L>
inline void load_matrix_sync(fragment<Use, M, N, K, T, L>& f, const float* p, unsigned ldm) {
  static_assert(std::is_same<L, row_major>::value || std::is_same<L, col_major>::value, "operand fragment layout");
  using F = fragment<Use, M, N, K, T, L>;
  const unsigned l = detail::lane();
  for (int e = 0; e < F::num_elements; ++e) {
    const int i = 32 * e + (int)l, r = i / F::cols, c = i % F::cols;
    f.x[e] = std::is_same<L, row_major>::value ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r];
  }
  static const ::emu::Site site{__FILE__, __LINE__, "wmma::load_matrix_sync"};
  detail::sync_warp(&site);
}
template <int M, int N, int K>
inline void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout) {
  using F = fragment<accumulator, M, N, K, float>;
  const unsigned l = detail::lane();
  for (int e = 0; e < F::num_elements; ++e) {
    const int i = 32 * e + (int)l, r = i / F::cols, c = i % F::cols;
    (layout == mem_row_major ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r]) = f.x[e];
  }
  static const ::emu::Site site{__FILE__, __LINE__, "wmma::store_matrix_sync"};
  detail::sync_warp(&site);
}
// d = a·b + c over the warp's fragments (d may be c).
template <int M, int N, int K, class LA, class LB>
inline void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, precision::tf32, LA>& a,
                     const fragment<matrix_b, M, N, K, precision::tf32, LB>& b,
                     const fragment<accumulator, M, N, K, float>& c) {
  using FA = fragment<matrix_a, M, N, K, precision::tf32, LA>;
  using FB = fragment<matrix_b, M, N, K, precision::tf32, LB>;
  using FC = fragment<accumulator, M, N, K, float>;
  static const ::emu::Site site{__FILE__, __LINE__, "wmma::mma_sync"};
  const unsigned w = ::emu::tls.fiber->linear / 32, l = detail::lane();
  detail::MmaLane(&t)[32] = detail::mma_table()[w];
  t[l] = detail::MmaLane{a.x, b.x, c.x};
  detail::sync_warp(&site);  // every lane's fragments are in the table
  float out[FC::num_elements];
  for (int e = 0; e < FC::num_elements; ++e) {
    const int i = 32 * e + (int)l, r = i / FC::cols, col = i % FC::cols;
    float acc = t[i % 32].c[i / 32];
    for (int k = 0; k < K; ++k) {
      const int ia = r * FA::cols + k, ib = k * FB::cols + col;  // row-major index in each tile
      acc += detail::tf32_operand(t[ia % 32].a[ia / 32]) * detail::tf32_operand(t[ib % 32].b[ib / 32]);
    }
    out[e] = acc;
  }
  detail::sync_warp(&site);  // every lane has read what it needs before any lane writes d (d may be c)
  for (int e = 0; e < FC::num_elements; ++e) d.x[e] = out[e];
}
}  // namespace wmma
}  // namespace nvcuda

// ============================================================================ 5b. CUDA graphs
// cudaStreamBeginCapture .. cudaStreamEndCapture records what the capturing stream is given (section 2's
// Capture: launches, async device-to-device copies and memsets) as nodes holding their arguments by
// value; cudaGraphInstantiate copies the nodes; cudaGraphLaunch runs them in order (execution is
// synchronous, so a graph is a sequence). A launch is checked (configuration, shared memory) when it is
// captured, as CUDA reports a bad launch at capture time, and runs as a normal launch when replayed. The
// trace shows a replay as one "graph launch nodes=N" line followed by its nodes' lines prefixed "node ".
struct CUgraph_st { std::vector<::emu::GraphNode> nodes; };
struct CUgraphExec_st { std::vector<::emu::GraphNode> nodes; };

namespace emu {

template <typename... KArgs, typename... Args>
inline cudaError_t record_launch(const char* text, void (*kernel)(KArgs...), dim3 grid, dim3 block,
                                 size_t shared_bytes, bool cooperative, Args... args) {
  auto held = std::make_shared<const std::tuple<std::decay_t<KArgs>...>>(static_cast<std::decay_t<KArgs>>(args)...);
  const void* k = reinterpret_cast<const void*>(kernel);
  validate_only = true;
  launch_erased(text, k, &invoke_kernel<KArgs...>, held.get(), grid, block, shared_bytes, cooperative);
  validate_only = false;
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    if (capture().invalid.empty()) capture().invalid = std::string("a launch failed its checks: ") + err_state().msg;
    return set_error(e, err_state().msg);
  }
  capture().nodes.push_back({std::string("launch ") + kernel_name(text), [=]() {
    launch_erased(text, k, &invoke_kernel<KArgs...>, held.get(), grid, block, shared_bytes, cooperative);
    return cudaGetLastError();
  }});
  return cudaSuccess;
}
}  // namespace emu

inline cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode = cudaStreamCaptureModeGlobal) {
  ::emu::Capture& c = ::emu::capture();
  if (c.stream != nullptr)
    return ::emu::set_error(cudaErrorIllegalState, "cudaStreamBeginCapture: a capture is already active (one at a time)");
  if (stream == nullptr || stream == cudaStreamLegacy)
    return ::emu::set_error(cudaErrorStreamCaptureUnsupported, "cudaStreamBeginCapture: the legacy default stream cannot capture");
  c.stream = stream;
  c.nodes.clear();
  c.invalid.clear();
  return cudaSuccess;
}
inline cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  ::emu::Capture& c = ::emu::capture();
  if (graph == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaStreamEndCapture: null graph pointer");
  *graph = nullptr;
  if (c.stream == nullptr || c.stream != stream)
    return ::emu::set_error(cudaErrorStreamCaptureUnmatched, "cudaStreamEndCapture: this stream is not capturing");
  c.stream = nullptr;
  std::vector<::emu::GraphNode> nodes = std::move(c.nodes);
  c.nodes.clear();
  if (!c.invalid.empty()) {
    std::string why = std::move(c.invalid);
    c.invalid.clear();
    return ::emu::set_error(cudaErrorStreamCaptureInvalidated, "cudaStreamEndCapture: the capture was invalidated by " + why);
  }
  *graph = new CUgraph_st{std::move(nodes)};
  return cudaSuccess;
}
inline cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  if (status == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaStreamIsCapturing: null status pointer");
  const ::emu::Capture& c = ::emu::capture();
  *status = c.stream != stream ? cudaStreamCaptureStatusNone
            : c.invalid.empty() ? cudaStreamCaptureStatusActive : cudaStreamCaptureStatusInvalidated;
  return cudaSuccess;
}
inline cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count) {
  if (graph == nullptr || count == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaGraphGetNodes: null graph or count");
  if (nodes != nullptr) return ::emu::set_error(cudaErrorNotSupported, "cudaGraphGetNodes: the emulator only counts nodes");
  *count = graph->nodes.size();
  return cudaSuccess;
}
inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long = 0) {
  if (exec == nullptr || graph == nullptr) return ::emu::set_error(cudaErrorInvalidValue, "cudaGraphInstantiate: null pointer");
  if (::emu::capturing()) return ::emu::refuse_in_capture("cudaGraphInstantiate");
  *exec = new CUgraphExec_st{graph->nodes};
  return cudaSuccess;
}
inline cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return ::emu::set_error(cudaErrorInvalidResourceHandle, "cudaGraphLaunch: null graph");
  cudaError_t e;
  if (::emu::record_instead(stream, "cudaGraphLaunch", &e))
    return e != cudaSuccess ? e : ::emu::refuse_in_capture("cudaGraphLaunch (a graph inside a capture)");
  if (::emu::config().trace_fd >= 0) ::emu::trace_event(::emu::strf("graph launch nodes=%zu", exec->nodes.size()));
  ::emu::in_replay() = true;
  e = cudaSuccess;
  for (const ::emu::GraphNode& n : exec->nodes) {
    e = n.run();
    if (e != cudaSuccess) break;
  }
  ::emu::in_replay() = false;
  return e;
}
inline cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

// ============================================================================ 5. launch + emu API
// Runs kernel over grid x block threads and returns like the nvcc launch() in lstm_cuda.h
// (kernel<<<>>> then cudaGetLastError()): the launch's status, with the last error cleared.
// The message behind any error stays in emu_last_error_message().
template <typename... KArgs, typename... Args>
inline cudaError_t emu_launch(const char* text, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t shared_bytes,
                              cudaStream_t stream, Args... args) {
  static_assert(sizeof...(KArgs) == sizeof...(Args), "launch: the argument count differs from the kernel's");
  cudaError_t e;
  if (::emu::record_instead(stream, "a kernel launch", &e)) {
    if (e != cudaSuccess) return cudaGetLastError();
    return ::emu::record_launch<KArgs...>(text, kernel, grid, block, shared_bytes, false, args...);
  }
  const std::tuple<std::decay_t<KArgs>...> targs(static_cast<std::decay_t<KArgs>>(args)...);
  ::emu::launch_erased(text, reinterpret_cast<const void*>(kernel), &::emu::invoke_kernel<KArgs...>, &targs, grid,
                       block, shared_bytes);
  return cudaGetLastError();
}
template <typename... KArgs, typename... Args>
inline cudaError_t launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
                          Args... args) {
  return emu_launch("kernel", kernel, grid, block, shared_bytes, stream, args...);
}
// launch() as a cooperative launch (cudaLaunchCooperativeKernel): all blocks co-resident, grid.sync()
// allowed; more blocks than LSTM_CUDA_EMU_SMS SMs could hold is cudaErrorCooperativeLaunchTooLarge.
template <typename... KArgs, typename... Args>
inline cudaError_t emu_launch_cooperative(const char* text, void (*kernel)(KArgs...), dim3 grid, dim3 block,
                                          size_t shared_bytes, cudaStream_t stream, Args... args) {
  static_assert(sizeof...(KArgs) == sizeof...(Args), "launch_cooperative: the argument count differs from the kernel's");
  cudaError_t e;
  if (::emu::record_instead(stream, "a cooperative launch", &e)) {
    if (e != cudaSuccess) return cudaGetLastError();
    return ::emu::record_launch<KArgs...>(text, kernel, grid, block, shared_bytes, true, args...);
  }
  const std::tuple<std::decay_t<KArgs>...> targs(static_cast<std::decay_t<KArgs>>(args)...);
  ::emu::launch_erased(text, reinterpret_cast<const void*>(kernel), &::emu::invoke_kernel<KArgs...>, &targs, grid,
                       block, shared_bytes, true);
  return cudaGetLastError();
}
// The macros record the kernel's name (the text before the first top-level comma) for error messages.
#define launch(...) emu_launch(#__VA_ARGS__, __VA_ARGS__)
#define launch_cooperative(...) emu_launch_cooperative(#__VA_ARGS__, __VA_ARGS__)

// The details of the most recent error on this host thread ("" if none yet).
inline const char* emu_last_error_message() { return ::emu::err_state().msg.c_str(); }

enum emu_schedule { EMU_SCHEDULE_FORWARD = 0, EMU_SCHEDULE_REVERSE = 1, EMU_SCHEDULE_SHUFFLE = 2 };
// The order in which a block's threads run between barriers (all later launches). seed: for SHUFFLE.
inline void emu_set_schedule(emu_schedule s, uint64_t seed = 0) {
  ::emu::config().schedule = (int)s;
  ::emu::config().seed = seed;
}
inline emu_schedule emu_get_schedule() { return (emu_schedule)::emu::config().schedule.load(); }
// OS threads that run blocks (LSTM_CUDA_EMU_THREADS).
inline int emu_thread_count() { return ::emu::config().threads; }
// Bytes currently allocated by cudaMalloc, and the number of live allocations.
inline size_t emu_bytes_in_use(size_t* count = nullptr) {
  ::emu::Memory& m = ::emu::memory();
  std::lock_guard<std::mutex> lock(m.mu);
  if (count) *count = m.live.size();
  return m.in_use;
}
