// Shared pieces of the native glue: the device buffer every storage owns (an ObjectWrap with dispose()
// and a finalizer that hands the buffer back to the caching allocator), the addon's one stream, and the
// conversion of a cudaError_t into a JS Error naming the op and the CUDA error.
#pragma once
#include <napi.h>

#include <string>

#include "allocator.h"
#include "lstm_cuda.h"

enum class NativeDType : int { kFloat32 = 0, kInt32 = 1 };

// A device buffer of `length` elements of `dtype`. `ptr == nullptr` once disposed.
class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new JS object owning a fresh (not zeroed) buffer; throws a JS Error naming `op` if allocation fails.
  static Napi::Object Create(Napi::Env env, const char* op, NativeDType dtype, size_t length);
  // The live buffer behind a JS value; throws a JS Error naming `op` and `what` if it is not a buffer of
  // this addon or was disposed. Optional: null / undefined give nullptr.
  static DeviceBuffer* From(const Napi::Value& v, const char* op, const char* what);

  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  ~DeviceBuffer() override;

  void* ptr = nullptr;
  size_t bytes = 0;    // length · element size
  size_t rounded = 0;  // what the allocator handed out
  NativeDType dtype = NativeDType::kFloat32;
  size_t length = 0;

 private:
  void Release();
  Napi::Value Dispose(const Napi::CallbackInfo& info);
};

// The stream every launcher and copy of this addon is queued on (created on first use).
cudaStream_t AddonStream(Napi::Env env);

// "op: cudaErrorName (description)[; emulator detail]".
std::string CudaErrorMessage(const char* op, cudaError_t err);
// Throws a JS Error with CudaErrorMessage when err is not cudaSuccess.
void CheckCuda(Napi::Env env, const char* op, cudaError_t err);

// Test-only: launches a trivial kernel with an invalid configuration (test_launch.cc).
cudaError_t test_invalid_launch(cudaStream_t stream);
