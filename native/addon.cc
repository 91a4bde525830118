// The native addon's hand-written exports: memory (alloc, upload, download, copy, memory, emptyCache),
// synchronize and deviceInfo; and Init, which registers them with the kernels' table generated from the
// kernel spec (native/gen/kernel_glue.cc: one wrapper per launcher). Every export runs guarded: any C++
// exception becomes a JS Error naming the export. Compiled by g++ with -DLSTM_CUDA_EMU for the emu addon,
// with -DLSTM_CUDA_CPU for the cpu addon (its launchers in native/cpu/) and by nvcc for the cuda addon.
#include <napi.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "addon.h"

// The build's name, as deviceInfo() and `build` report it.
#if defined(LSTM_CUDA_CPU)
#define LSTM_CUDA_BUILD "cpu"
#elif defined(LSTM_CUDA_EMU)
#define LSTM_CUDA_BUILD "emu"
#else
#define LSTM_CUDA_BUILD "cuda"
#endif

namespace {

NativeDType DTypeFromName(Napi::Env env, const std::string& name, const char* op) {
  if (name == "float32") return NativeDType::kFloat32;
  if (name == "int32") return NativeDType::kInt32;
  throw Napi::TypeError::New(env, std::string(op) + ": unsupported dtype '" + name +
                                      "' (the native backends hold float32 and int32)");
}

// -------------------------------------------------------------------------------------- memory

// alloc(dtype: 'float32'|'int32', length) -> zero-filled buffer
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NativeDType dtype = DTypeFromName(env, info[0].As<Napi::String>().Utf8Value(), "alloc");
  double length = info[1].As<Napi::Number>().DoubleValue();
  if (!(length >= 0) || length > 9007199254740991.0) {
    throw Napi::RangeError::New(env, "alloc: length must be a non-negative integer");
  }
  Napi::Object obj = DeviceBuffer::Create(env, "alloc", dtype, static_cast<size_t>(length));
  DeviceBuffer* b = DeviceBuffer::Unwrap(obj);
  CheckCuda(env, "alloc (zero fill)", cudaMemsetAsync(b->ptr, 0, b->bytes, AddonStream(env)));
  return obj;
}

// upload(Float32Array | Int32Array) -> buffer holding a copy
Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "upload: expected a Float32Array or Int32Array");
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  NativeDType dtype;
  switch (arr.TypedArrayType()) {
    case napi_float32_array: dtype = NativeDType::kFloat32; break;
    case napi_int32_array: dtype = NativeDType::kInt32; break;
    default: throw Napi::TypeError::New(env, "upload: expected a Float32Array or Int32Array");
  }
  Napi::Object obj = DeviceBuffer::Create(env, "upload", dtype, arr.ElementLength());
  DeviceBuffer* b = DeviceBuffer::Unwrap(obj);
  if (b->bytes > 0) {
    const uint8_t* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    // Pageable source: the call returns once the data is staged, so the JS array may change afterwards.
    CheckCuda(env, "upload", cudaMemcpyAsync(b->ptr, src, b->bytes, cudaMemcpyHostToDevice, AddonStream(env)));
  }
  return obj;
}

// download(buffer) -> new Float32Array | Int32Array (synchronises the stream)
Napi::Value Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = DeviceBuffer::From(info[0], "download", "storage");
  if (b == nullptr) throw Napi::Error::New(env, "download: storage is required");
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, b->bytes);
  cudaStream_t stream = AddonStream(env);
  if (b->bytes > 0) {
    CheckCuda(env, "download", cudaMemcpyAsync(ab.Data(), b->ptr, b->bytes, cudaMemcpyDeviceToHost, stream));
  }
  CheckCuda(env, "download (synchronize)", cudaStreamSynchronize(stream));
  if (b->dtype == NativeDType::kInt32) return Napi::Int32Array::New(env, b->length, ab, 0);
  return Napi::Float32Array::New(env, b->length, ab, 0);
}

// copy(src, dst): all of src into dst (same dtype and length, checked in TS)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* src = DeviceBuffer::From(info[0], "copy", "src");
  DeviceBuffer* dst = DeviceBuffer::From(info[1], "copy", "dst");
  if (!src || !dst) throw Napi::Error::New(env, "copy: src and dst are required");
  if (src->bytes != dst->bytes) throw Napi::RangeError::New(env, "copy: src and dst differ in size");
  if (src->bytes > 0 && src->ptr != dst->ptr) {
    CheckCuda(env, "copy",
              cudaMemcpyAsync(dst->ptr, src->ptr, src->bytes, cudaMemcpyDeviceToDevice, AddonStream(env)));
  }
  return env.Undefined();
}

// memory() -> { liveCount, liveBytes, cachedBytes, cachedCount, mallocCalls, peakLiveBytes }
Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AllocatorStats s = DeviceAllocator().Stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveCount", static_cast<double>(s.live_count));
  o.Set("liveBytes", static_cast<double>(s.live_bytes));
  o.Set("cachedBytes", static_cast<double>(s.cached_bytes));
  o.Set("cachedCount", static_cast<double>(s.cached_count));
  o.Set("mallocCalls", static_cast<double>(s.malloc_calls));
  o.Set("peakLiveBytes", static_cast<double>(s.peak_live_bytes));
  return o;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "emptyCache", DeviceAllocator().EmptyCache());
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "synchronize", cudaStreamSynchronize(AddonStream(info.Env())));
  return info.Env().Undefined();
}

// deviceInfo() -> { build, count, error?, name?, totalMemory?, computeCapability?, multiProcessors?,
//                   hostThreads }. Never throws for "no device": the loader turns `error` into its reason.
Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("build", LSTM_CUDA_BUILD);
  o.Set("hostThreads", static_cast<double>(std::thread::hardware_concurrency()));
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    o.Set("count", 0);
    o.Set("error", CudaErrorMessage("cudaGetDeviceCount", err));
    return o;
  }
  o.Set("count", count);
  if (count == 0) {
    o.Set("error", CudaErrorMessage("cudaGetDeviceCount", cudaErrorNoDevice));
    return o;
  }
  cudaDeviceProp prop;
  err = cudaGetDeviceProperties(&prop, 0);
  if (err != cudaSuccess) {
    cudaGetLastError();
    o.Set("error", CudaErrorMessage("cudaGetDeviceProperties", err));
    return o;
  }
  o.Set("name", std::string(prop.name));
  o.Set("totalMemory", static_cast<double>(prop.totalGlobalMem));
  o.Set("computeCapability", std::to_string(prop.major) + "." + std::to_string(prop.minor));
  o.Set("multiProcessors", prop.multiProcessorCount);
  return o;
}

// _testInvalidLaunch(): test-only, launches a trivial kernel with 4096 threads per block.
Napi::Value TestInvalidLaunch(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "_testInvalidLaunch", test_invalid_launch(AddonStream(info.Env())));
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------------------- the table

const Export kExports[] = {
    {"alloc", Alloc},
    {"upload", Upload},
    {"download", Download},
    {"copy", Copy},
    {"memory", Memory},
    {"emptyCache", EmptyCache},
    {"synchronize", Synchronize},
    {"deviceInfo", DeviceInfo},
    {"_testInvalidLaunch", TestInvalidLaunch},
};

// Every export runs through here: Napi errors pass through; any other C++ exception becomes a JS Error
// naming the export instead of terminating the process.
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  const Export* e = static_cast<const Export*>(info.Data());
  try {
    return e->fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& ex) {
    throw Napi::Error::New(info.Env(), std::string(e->name) + ": " + ex.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), std::string(e->name) + ": unknown C++ exception");
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const Export& e : kExports) {
    exports.Set(e.name, Napi::Function::New(env, Guarded, e.name, const_cast<Export*>(&e)));
  }
  for (size_t i = 0; i < kKernelExportCount; i++) {
    const Export& e = kKernelExports[i];
    exports.Set(e.name, Napi::Function::New(env, Guarded, e.name, const_cast<Export*>(&e)));
  }
  exports.Set("DeviceBuffer", DeviceBuffer::Define(env));
  exports.Set("build", LSTM_CUDA_BUILD);
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
