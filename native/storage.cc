// DeviceBuffer (the wrapped object behind every native storage: dispose() plus a finalizer, both handing
// the buffer back to the caching allocator), the addon's stream, and CUDA error → JS Error conversion.
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

namespace {

// Hands the buffer back to the allocator and tells V8 the external memory is gone. Runs from dispose() and
// from the finalizer, which Node may call during a garbage collection: plain C calls only, no JS.
void ReleaseBuffer(napi_env env, DeviceBuffer* b) {
  if (b->ptr == nullptr) return;
  DeviceAllocator().Release(b->ptr, b->rounded);
  b->ptr = nullptr;
  int64_t ignored = 0;
  napi_adjust_external_memory(env, -static_cast<int64_t>(b->rounded), &ignored);
}

// The wrap's finalizer: the object was collected without dispose().
void FinalizeBuffer(napi_env env, void* data, void* /*hint*/) {
  DeviceBuffer* b = static_cast<DeviceBuffer*>(data);
  ReleaseBuffer(env, b);
  delete b;
}

// The class's constructor: an empty object; Create() tags and wraps it. (An object made by `new` from JS
// is neither, so From() and dispose() refuse it.)
napi_value ConstructBuffer(napi_env env, napi_callback_info info) {
  napi_value self = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, &self, nullptr);
  return self;
}

// buffer.dispose(): frees the buffer now and detaches it (later use is reported as 'was disposed').
// Idempotent; a no-op on any object that is not a live buffer of this addon. Throws nothing.
napi_value DisposeBuffer(napi_env env, napi_callback_info info) {
  napi_value self = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, &self, nullptr);
  bool ours = false;
  void* raw = nullptr;
  if (self != nullptr && napi_check_object_type_tag(env, self, &kBufferTag, &ours) == napi_ok && ours &&
      napi_remove_wrap(env, self, &raw) == napi_ok && raw != nullptr) {
    FinalizeBuffer(env, raw, nullptr);
  }
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  return undefined;
}

}  // namespace

void DeviceBuffer::Define(Napi::Env env) {
  napi_property_descriptor dispose = {"dispose", nullptr, DisposeBuffer, nullptr, nullptr, nullptr, napi_default, nullptr};
  napi_value ctor = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_define_class(env, "DeviceBuffer", NAPI_AUTO_LENGTH, ConstructBuffer, nullptr,
                                                   1, &dispose, &ctor));
  AddonData* data = new AddonData();
  data->buffer_ctor = Napi::Persistent(Napi::Function(env, ctor));
  env.SetInstanceData<AddonData>(data);
}

Napi::Object DeviceBuffer::Create(Napi::Env env, const char* op, NativeDType dtype, size_t length,
                                  DeviceBuffer** created) {
  const size_t bytes = length * 4;
  DeviceBuffer* b = new DeviceBuffer();
  b->bytes = bytes;
  b->dtype = dtype;
  b->length = length;
  cudaError_t err = DeviceAllocator().Allocate(bytes, &b->ptr, &b->rounded);
  if (err != cudaSuccess) {
    delete b;
    throw Napi::Error::New(env, std::string(op) + ": allocating " + std::to_string(bytes) + " bytes (" +
                                    std::to_string(length) + " elements) failed: " +
                                    CudaErrorMessage("cudaMalloc", err));
  }
  // Tells V8 the buffer exists, so storages dropped without dispose() are collected under memory pressure.
  int64_t ignored = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(b->rounded), &ignored);
  Napi::Object obj;
  try {
    obj = env.GetInstanceData<AddonData>()->buffer_ctor.New({});
    obj.TypeTag(&kBufferTag);
  } catch (...) {
    FinalizeBuffer(env, b, nullptr);
    throw;
  }
  // No napi_ref kept (result nullptr): the runtime owns the wrap and deletes it with the object.
  if (napi_wrap(env, obj, b, FinalizeBuffer, nullptr, nullptr) != napi_ok) {
    FinalizeBuffer(env, b, nullptr);
    throw Napi::Error::New(env, std::string(op) + ": wrapping the new buffer failed");
  }
  if (created != nullptr) *created = b;
  return obj;
}

DeviceBuffer* DeviceBuffer::From(const Napi::Value& v, const char* op, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kBufferTag)) {
    throw Napi::TypeError::New(v.Env(), std::string(op) + ": " + what + " is not a storage of this addon");
  }
  void* raw = nullptr;
  if (napi_unwrap(v.Env(), v, &raw) != napi_ok || raw == nullptr) {  // detached by dispose()
    throw Napi::Error::New(v.Env(), std::string(op) + ": " + what + " was disposed (use after free)");
  }
  return static_cast<DeviceBuffer*>(raw);
}
