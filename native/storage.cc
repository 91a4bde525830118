// DeviceBuffer (the ObjectWrap behind every native storage: dispose() plus a finalizer, both handing the
// buffer back to the caching allocator), the addon's stream, and CUDA error → JS Error conversion.
#include <mutex>
#include <string>

#include "addon.h"

namespace {
// Type tag: lets From() reject any object that is not a DeviceBuffer of this addon before unwrapping.
#if defined(LSTM_CUDA_CPU)
const napi_type_tag kBufferTag = {0x6c73746d63756461ULL, 0x6370750000000001ULL};
#elif defined(LSTM_CUDA_EMU)
const napi_type_tag kBufferTag = {0x6c73746d63756461ULL, 0x656d750000000001ULL};
#else
const napi_type_tag kBufferTag = {0x6c73746d63756461ULL, 0x6375646100000001ULL};
#endif

struct AddonData {
  Napi::FunctionReference buffer_ctor;
};

std::mutex stream_mutex;
cudaStream_t stream = nullptr;
bool stream_created = false;
}  // namespace

// ------------------------------------------------------------------------------------------- errors

std::string CudaErrorMessage(const char* op, cudaError_t err) {
  std::string msg = std::string(op) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
#ifdef LSTM_CUDA_EMU
  const char* detail = emu_last_error_message();
  if (detail != nullptr && detail[0] != '\0') msg += "; " + std::string(detail);
#endif
  return msg;
}

void CheckCuda(Napi::Env env, const char* op, cudaError_t err) {
  if (err == cudaSuccess) return;
  std::string msg = CudaErrorMessage(op, err);
  // A failed runtime call also sets the thread's last error; clear it so that the next launcher's
  // cudaGetLastError() does not report this one again under another op's name.
  cudaGetLastError();
  throw Napi::Error::New(env, msg);
}

cudaStream_t AddonStream(Napi::Env env) {
  std::lock_guard<std::mutex> lock(stream_mutex);
  if (!stream_created) {
    cudaStream_t s = nullptr;
    CheckCuda(env, "cudaStreamCreate", cudaStreamCreate(&s));
    stream = s;
    stream_created = true;
  }
  return stream;
}

// ------------------------------------------------------------------------------------- DeviceBuffer

Napi::Function DeviceBuffer::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "DeviceBuffer", {InstanceMethod<&DeviceBuffer::Dispose>("dispose")});
  AddonData* data = new AddonData();
  data->buffer_ctor = Napi::Persistent(ctor);
  env.SetInstanceData<AddonData>(data);
  return ctor;
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  info.This().As<Napi::Object>().TypeTag(&kBufferTag);
}

DeviceBuffer::~DeviceBuffer() { Release(); }

void DeviceBuffer::Release() {
  if (ptr != nullptr) {
    DeviceAllocator().Release(ptr, rounded);
    ptr = nullptr;
    // The plain C call (no C++ throw): this also runs from the finalizer.
    int64_t ignored = 0;
    napi_adjust_external_memory(Env(), -static_cast<int64_t>(rounded), &ignored);
  }
}

Napi::Value DeviceBuffer::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Release();
  // Detach and free the C++ side now. Node defers ObjectWrap finalizers to the event loop, so a training
  // loop that never yields kept every disposed buffer's wrapper bookkeeping (~200 B each, ~10 KB per
  // step) until it did. The JS object stays; From() reports it as disposed.
  napi_remove_wrap(env, info.This(), nullptr);
  delete this;
  return env.Undefined();
}

Napi::Object DeviceBuffer::Create(Napi::Env env, const char* op, NativeDType dtype, size_t length) {
  const size_t bytes = length * 4;
  void* p = nullptr;
  size_t rounded = 0;
  cudaError_t err = DeviceAllocator().Allocate(bytes, &p, &rounded);
  if (err != cudaSuccess) {
    throw Napi::Error::New(env, std::string(op) + ": allocating " + std::to_string(bytes) + " bytes (" +
                                    std::to_string(length) + " elements) failed: " +
                                    CudaErrorMessage("cudaMalloc", err));
  }
  Napi::Object obj;
  try {
    obj = env.GetInstanceData<AddonData>()->buffer_ctor.New({});
  } catch (...) {
    DeviceAllocator().Release(p, rounded);
    throw;
  }
  DeviceBuffer* b = Unwrap(obj);
  b->ptr = p;
  b->bytes = bytes;
  b->rounded = rounded;
  b->dtype = dtype;
  b->length = length;
  // Tells V8 the buffer exists, so storages dropped without free() are collected under memory pressure.
  int64_t ignored = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(rounded), &ignored);
  return obj;
}

DeviceBuffer* DeviceBuffer::From(const Napi::Value& v, const char* op, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kBufferTag)) {
    throw Napi::TypeError::New(v.Env(), std::string(op) + ": " + what + " is not a storage of this addon");
  }
  void* raw = nullptr;
  if (napi_unwrap(v.Env(), v, &raw) != napi_ok || raw == nullptr) {  // detached by Dispose()
    throw Napi::Error::New(v.Env(), std::string(op) + ": " + what + " was disposed (use after free)");
  }
  DeviceBuffer* b = static_cast<DeviceBuffer*>(raw);
  if (b->ptr == nullptr) {
    throw Napi::Error::New(v.Env(), std::string(op) + ": " + what + " was disposed (use after free)");
  }
  return b;
}
