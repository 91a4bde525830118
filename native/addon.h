// Shared pieces of the native glue: the device buffer every storage owns (a JS object wrapping it, with
// dispose() and a finalizer that hand the buffer back to the caching allocator), the addon's one stream, the
// conversion of a cudaError_t into a JS Error naming the op and the CUDA error, the argument readers and
// workspace the generated kernel wrappers (native/gen/kernel_glue.cc) use, and the export tables.
#pragma once

// Node-API version: NAPI_VERSION_EXPERIMENTAL (INT_MAX), for one reason. Node 20 runs the finalizer of a
// wrapped object on the event loop (SetImmediate) unless the module reports that version, so a loop that
// never yields kept every storage dropped without dispose(), device memory included, until it yielded;
// with it, Node (>= 20.10) calls the finalizer during the garbage collection itself. Such a finalizer may
// only call Node-API functions that leave the JS heap alone: DeviceBuffer's frees the buffer and calls
// napi_adjust_external_memory, nothing else. No experimental function is used (NAPI_EXPERIMENTAL stays
// undefined; the headers give the stable API), and on a Node without GC-time finalizers they are deferred
// as before. Every TU that includes <napi.h> includes it through this header.
#ifdef NAPI_VERSION
#error "NAPI_VERSION is set in native/addon.h; include addon.h before <napi.h> and do not define it"
#endif
#define NAPI_VERSION 2147483647
#include <napi.h>

#include <cstdint>
#include <string>

#include "allocator.h"
#include "lstm_cuda.h"

enum class NativeDType : int { kFloat32 = 0, kInt32 = 1 };

// A device buffer of `length` elements of `dtype`, owned by one JS object (napi_wrap). Freed by that
// object's dispose() (at once) or by its finalizer when the object is collected without dispose();
// either hands the memory back to the caching allocator. Never an ObjectWrap: node-addon-api's wrapper
// deletes its reference through the event loop, which is what kept sync loops growing.
struct DeviceBuffer {
  // Defines the JS class (its prototype's dispose()); called once by Init.
  static void Define(Napi::Env env);
  // A new JS object owning a fresh (not zeroed) buffer; throws a JS Error naming `op` if allocation fails.
  // `*created` (if given) is the buffer.
  static Napi::Object Create(Napi::Env env, const char* op, NativeDType dtype, size_t length,
                             DeviceBuffer** created = nullptr);
  // The live buffer behind a JS value; throws a JS Error naming `op` and `what` if it is not a buffer of
  // this addon or was disposed. Optional: null / undefined give nullptr.
  static DeviceBuffer* From(const Napi::Value& v, const char* op, const char* what);

  void* ptr = nullptr;
  size_t bytes = 0;    // length · element size
  size_t rounded = 0;  // what the allocator handed out
  NativeDType dtype = NativeDType::kFloat32;
  size_t length = 0;
};

// The stream every launcher and copy of this addon is queued on (created on first use).
cudaStream_t AddonStream(Napi::Env env);

// "op: cudaErrorName (description)[; emulator detail]".
std::string CudaErrorMessage(const char* op, cudaError_t err);
// Throws a JS Error with CudaErrorMessage when err is not cudaSuccess.
void CheckCuda(Napi::Env env, const char* op, cudaError_t err);

// Test-only: launches a trivial kernel with an invalid configuration (test_launch.cc).
cudaError_t test_invalid_launch(cudaStream_t stream);

// ------------------------------------------------------------------ for the generated kernel wrappers

// Arguments arrive checked by src/spec/check.ts; the readers only convert.
inline int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
inline uint32_t U32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
inline float Float(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().FloatValue(); }
inline bool Bool(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

// Throws unless exactly n arguments were passed (a JS caller that bypassed src/native.ts).
inline void ArgCount(const Napi::CallbackInfo& info, size_t n, const char* op) {
  if (info.Length() != n) {
    throw Napi::TypeError::New(info.Env(), std::string(op) + ": expected " + std::to_string(n) + " arguments, got " +
                                               std::to_string(info.Length()));
  }
}

// The live buffer at argument i (required), as T*.
template <typename T>
T* Ptr(const Napi::CallbackInfo& info, size_t i, const char* op, const char* what) {
  DeviceBuffer* b = DeviceBuffer::From(info[i], op, what);
  if (b == nullptr) throw Napi::Error::New(info.Env(), std::string(op) + ": " + what + " is required");
  return static_cast<T*>(b->ptr);
}
// The live buffer at argument i, or nullptr for null / undefined.
template <typename T>
T* OptPtr(const Napi::CallbackInfo& info, size_t i, const char* op, const char* what) {
  DeviceBuffer* b = DeviceBuffer::From(info[i], op, what);
  return b ? static_cast<T*>(b->ptr) : nullptr;
}

// A workspace borrowed from the caching allocator for the duration of one call; given back on every
// path (the stream orders its reuse after the call's kernels).
class Workspace {
 public:
  Workspace(Napi::Env env, const char* op, size_t bytes) {
    if (bytes == 0) return;
#if !defined(LSTM_CUDA_CPU)
    // a graph would keep using the buffer after the call has given it back to the allocator
    cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(AddonStream(env), &capturing) == cudaSuccess && capturing != cudaStreamCaptureStatusNone) {
      throw Napi::Error::New(env, std::string(op) + ": borrows a workspace for the call, which a CUDA graph cannot hold (run it outside a capture)");
    }
#endif
    cudaError_t err = DeviceAllocator().Allocate(bytes, &ptr_, &rounded_);
    if (err != cudaSuccess) {
      throw Napi::Error::New(env, std::string(op) + ": allocating a workspace of " + std::to_string(bytes) +
                                      " bytes failed: " + CudaErrorMessage("cudaMalloc", err));
    }
  }
  ~Workspace() {
    if (ptr_) DeviceAllocator().Release(ptr_, rounded_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  float* floats() const { return static_cast<float*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  size_t rounded_ = 0;
};

// One exported JS function.
struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

// The kernels' table, generated from the spec (native/gen/kernel_glue.cc).
extern const Export kKernelExports[];
extern const size_t kKernelExportCount;
