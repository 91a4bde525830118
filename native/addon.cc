// The native addon's hand-written exports: memory (alloc, upload, download, copy, memory, emptyCache),
// synchronize, deviceInfo, timing events (eventRecord, eventElapsedMs), the TF32 math mode (getMathMode,
// setMathMode), element-range copies (copyElements) and CUDA graphs (beginCapture, endCapture,
// replayGraph); and Init, which registers them with the kernels' table generated from the
// kernel spec (native/gen/kernel_glue.cc: one wrapper per launcher). Every export runs guarded: any C++
// exception becomes a JS Error naming the export. Compiled by g++ with -DLSTM_CUDA_EMU for the emu addon,
// with -DLSTM_CUDA_CPU for the cpu addon (its launchers in native/cpu/) and by nvcc for the cuda addon.
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "addon.h"
#if !defined(LSTM_CUDA_CPU)
#include "gemm.cuh"  // the math mode (gemm.cu)
#endif

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
  DeviceBuffer* b = nullptr;
  Napi::Object obj = DeviceBuffer::Create(env, "alloc", dtype, static_cast<size_t>(length), &b);
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
  DeviceBuffer* b = nullptr;
  Napi::Object obj = DeviceBuffer::Create(env, "upload", dtype, arr.ElementLength(), &b);
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

Napi::Value GetMathMode(const Napi::CallbackInfo& info);  // below, with setMathMode

// deviceInfo() -> { build, count, error?, name?, totalMemory?, computeCapability?, multiProcessors?,
//                   hostThreads, mathMode }. Never throws for "no device": the loader turns `error` into its reason.
Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("build", LSTM_CUDA_BUILD);
  o.Set("hostThreads", static_cast<double>(std::thread::hardware_concurrency()));
  o.Set("mathMode", GetMathMode(info));
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

// copyElements(src, srcStart, dst, dstStart, n): elements [srcStart, +n) of src to [dstStart, +n) of dst
// (4-byte elements of either dtype; the ranges are checked in TS and again here, so no call writes past
// a buffer). A device-to-device copy on the stream: a graph captures it as a copy node.
Napi::Value CopyElements(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* src = DeviceBuffer::From(info[0], "copyElements", "src");
  DeviceBuffer* dst = DeviceBuffer::From(info[2], "copyElements", "dst");
  if (!src || !dst) throw Napi::Error::New(env, "copyElements: src and dst are required");
  const double s0 = info[1].As<Napi::Number>().DoubleValue(), d0 = info[3].As<Napi::Number>().DoubleValue();
  const double n = info[4].As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && s0 >= 0 && d0 >= 0) || s0 + n > static_cast<double>(src->length) ||
      d0 + n > static_cast<double>(dst->length)) {
    throw Napi::RangeError::New(env, "copyElements: a range runs past the end of its storage");
  }
  if (n > 0) {
    CheckCuda(env, "copyElements",
              cudaMemcpyAsync(static_cast<uint8_t*>(dst->ptr) + static_cast<size_t>(d0) * 4,
                              static_cast<const uint8_t*>(src->ptr) + static_cast<size_t>(s0) * 4,
                              static_cast<size_t>(n) * 4, cudaMemcpyDeviceToDevice, AddonStream(env)));
  }
  return env.Undefined();
}

// --------------------------------------------------------------------------------------- graphs

// beginCapture() .. endCapture() -> { graph, nodes }: what the addon's stream is given in between (kernel
// launches, device-to-device copies) recorded as a CUDA graph (cudaStreamBeginCapture in global mode:
// a synchronisation, host copy or cudaMalloc in between is refused and fails endCapture with the first
// refused call), instantiated once; replayGraph(graph) launches it (cudaGraphLaunch). The emulator
// records and replays the same way (kernels/emu/cuda_emu.h, section 5b); the cpu build has no graphs
// (it does not export these).
#if !defined(LSTM_CUDA_CPU)
struct CapturedGraph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  ~CapturedGraph() {
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
  }
};

Napi::Value BeginCapture(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckCuda(env, "beginCapture", cudaStreamBeginCapture(AddonStream(env), cudaStreamCaptureModeGlobal));
  return env.Undefined();
}

Napi::Value EndCapture(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* g = new CapturedGraph();
  auto ext = Napi::External<CapturedGraph>::New(env, g, [](Napi::Env, CapturedGraph* p) { delete p; });
  CheckCuda(env, "endCapture", cudaStreamEndCapture(AddonStream(env), &g->graph));
  CheckCuda(env, "endCapture (instantiate)", cudaGraphInstantiate(&g->exec, g->graph, 0));
  size_t nodes = 0;
  CheckCuda(env, "endCapture (count nodes)", cudaGraphGetNodes(g->graph, nullptr, &nodes));
  Napi::Object o = Napi::Object::New(env);
  o.Set("graph", ext);
  o.Set("nodes", static_cast<double>(nodes));
  return o;
}

Napi::Value ReplayGraph(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) throw Napi::TypeError::New(env, "replayGraph: not a graph of endCapture()");
  CapturedGraph* g = info[0].As<Napi::External<CapturedGraph>>().Data();
  CheckCuda(env, "replayGraph", cudaGraphLaunch(g->exec, AddonStream(env)));
  return env.Undefined();
}
#endif

// -------------------------------------------------------------------------------------- timing

// A point in the stream's work. cuda: a cudaEvent_t recorded on the stream (the GPU's clock); emu: the
// emulator's cudaEvent (its clock when the work queued before it had run: execution is synchronous); cpu:
// a steady-clock reading (every launcher of the cpu build has finished when it returns).
struct TimingEvent {
#if defined(LSTM_CUDA_CPU)
  double ms = 0;
#else
  cudaEvent_t ev = nullptr;
  ~TimingEvent() {
    if (ev) cudaEventDestroy(ev);
  }
#endif
};

// eventRecord() -> an event recorded after the work queued so far
Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* e = new TimingEvent();
  auto ext = Napi::External<TimingEvent>::New(env, e, [](Napi::Env, TimingEvent* p) { delete p; });
#if defined(LSTM_CUDA_CPU)
  e->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
#else
  CheckCuda(env, "eventRecord (create)", cudaEventCreate(&e->ev));
  CheckCuda(env, "eventRecord", cudaEventRecord(e->ev, AddonStream(env)));
#endif
  return ext;
}

TimingEvent* EventArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), std::string("eventElapsedMs: ") + what + " is not an event of eventRecord()");
  }
  return info[i].As<Napi::External<TimingEvent>>().Data();
}

// eventElapsedMs(start, end) -> milliseconds from start to end; waits until end has happened
Napi::Value EventElapsedMs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TimingEvent* a = EventArg(info, 0, "start");
  TimingEvent* b = EventArg(info, 1, "end");
#if defined(LSTM_CUDA_CPU)
  return Napi::Number::New(env, b->ms - a->ms);
#else
  CheckCuda(env, "eventElapsedMs (synchronize)", cudaEventSynchronize(b->ev));
  float ms = 0;
  CheckCuda(env, "eventElapsedMs", cudaEventElapsedTime(&ms, a->ev, b->ev));
  return Napi::Number::New(env, ms);
#endif
}

// ---------------------------------------------------------------------------------- math mode

// getMathMode() -> 'fp32' | 'lstm' | 'all': which GEMMs run on TF32 tensor cores (gemm.cuh); the cpu
// build computes fp32 only.
Napi::Value GetMathMode(const Napi::CallbackInfo& info) {
#if defined(LSTM_CUDA_CPU)
  return Napi::String::New(info.Env(), "fp32");
#else
  static const char* names[] = {"fp32", "lstm", "all"};
  return Napi::String::New(info.Env(), names[(int)gemm_tf32_mode()]);
#endif
}

// setMathMode('fp32' | 'lstm' | 'all') (checked in TS; the cpu build accepts only 'fp32')
Napi::Value SetMathMode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string m = info[0].As<Napi::String>().Utf8Value();
#if defined(LSTM_CUDA_CPU)
  if (m != "fp32") throw Napi::Error::New(env, "setMathMode: the cpu build has no TF32 mode (fp32 only), got '" + m + "'");
#else
  if (m == "fp32") gemm_set_tf32_mode(Tf32Mode::off);
  else if (m == "lstm") gemm_set_tf32_mode(Tf32Mode::lstm);
  else if (m == "all") gemm_set_tf32_mode(Tf32Mode::all);
  else throw Napi::TypeError::New(env, "setMathMode: expected 'fp32', 'lstm' or 'all', got '" + m + "'");
#endif
  return env.Undefined();
}

// ------------------------------------------------------------------------------ LSTM time-loop path

// lstmPath() -> the path the last lstmForward and lstmBackward took (kernels/lstm.cu: persistent recurrent
// kernel or per-step recipe, and why); lstmPathPlan(B, H) -> what a layer of batch B, hidden size H would
// take now. The cpu build's LSTM is its own fused loop (native/cpu/): "cpu: fused per-step loop".
Napi::Value LstmPath(const Napi::CallbackInfo& info) {
#if defined(LSTM_CUDA_CPU)
  return Napi::String::New(info.Env(), "cpu: fused per-step loop");
#else
  return Napi::String::New(info.Env(), lstm_path_report());
#endif
}

Napi::Value LstmPathPlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "lstmPathPlan: expected (B, H), two sizes");
  const double B = info[0].As<Napi::Number>().DoubleValue(), H = info[1].As<Napi::Number>().DoubleValue();
  if (!(B >= 1 && B < 2147483648.0 && H >= 1 && H < 2147483648.0) || B != (int)B || H != (int)H)
    throw Napi::RangeError::New(env, "lstmPathPlan: B and H must be integers in [1, 2^31)");
#if defined(LSTM_CUDA_CPU)
  return Napi::String::New(env, "cpu: fused per-step loop");
#else
  return Napi::String::New(env, lstm_path_plan_report((int)B, (int)H));
#endif
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
    {"eventRecord", EventRecord},
    {"eventElapsedMs", EventElapsedMs},
    {"getMathMode", GetMathMode},
    {"setMathMode", SetMathMode},
    {"copyElements", CopyElements},
#if !defined(LSTM_CUDA_CPU)
    {"beginCapture", BeginCapture},
    {"endCapture", EndCapture},
    {"replayGraph", ReplayGraph},
#endif
    {"lstmPath", LstmPath},
    {"lstmPathPlan", LstmPathPlan},
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
  DeviceBuffer::Define(env);
  exports.Set("build", LSTM_CUDA_BUILD);
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
