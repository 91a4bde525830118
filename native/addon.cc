// The native addon's table of exports: one JS function per launcher of kernels/lstm_cuda.h plus memory
// (alloc, upload, download, copy, memory, emptyCache), synchronize and deviceInfo. Arguments arrive
// already validated by src/native.ts, in the launcher's order without the stream; storages arrive as
// DeviceBuffer objects (or null where the launcher takes nullptr). The glue only unwraps, calls the
// launcher on the addon's stream and turns every CUDA or C++ error into a JS Error naming the op.
// Compiled by g++ with -DLSTM_CUDA_EMU for the emu addon, with -DLSTM_CUDA_CPU for the cpu addon (native/cpu/)
// and by the host compiler for the cuda addon.
#include <napi.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "addon.h"

namespace {

// ------------------------------------------------------------------------------- argument readers

int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
uint32_t U32(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Uint32Value();
}
float Float(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().FloatValue(); }
bool Bool(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

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
#if defined(LSTM_CUDA_CPU)
  o.Set("build", "cpu");
#elif defined(LSTM_CUDA_EMU)
  o.Set("build", "emu");
#else
  o.Set("build", "cuda");
#endif
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

// ---------------------------------------------------------------------------------- the kernels
// Each reads the launcher's arguments in order (the stream excluded) and checks its status.

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const char* op = "gemm";
  CheckCuda(info.Env(), op,
            gemm(Bool(info, 0), Bool(info, 1), Int(info, 2), Int(info, 3), Int(info, 4), Float(info, 5),
                 Ptr<const float>(info, 6, op, "A"), Ptr<const float>(info, 7, op, "B"), Float(info, 8),
                 Ptr<float>(info, 9, op, "C"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// lstmGatesForward(B, H, gates, bih|null, bhh|null, cPrev, c, h, tanhC)
Napi::Value LstmGatesForward(const Napi::CallbackInfo& info) {
  const char* op = "lstm_gates_forward";
  CheckCuda(info.Env(), op,
            lstm_gates_forward(Int(info, 0), Int(info, 1), Ptr<float>(info, 2, op, "gates"),
                               OptPtr<const float>(info, 3, op, "bih"), OptPtr<const float>(info, 4, op, "bhh"),
                               Ptr<const float>(info, 5, op, "cPrev"), Ptr<float>(info, 6, op, "c"),
                               Ptr<float>(info, 7, op, "h"), Ptr<float>(info, 8, op, "tanhC"),
                               AddonStream(info.Env())));
  return info.Env().Undefined();
}

// lstmGatesBackward(B, H, gates, cPrev, tanhC, dh, dc, dgates)
Napi::Value LstmGatesBackward(const Napi::CallbackInfo& info) {
  const char* op = "lstm_gates_backward";
  CheckCuda(info.Env(), op,
            lstm_gates_backward(Int(info, 0), Int(info, 1), Ptr<const float>(info, 2, op, "gates"),
                                Ptr<const float>(info, 3, op, "cPrev"), Ptr<const float>(info, 4, op, "tanhC"),
                                Ptr<const float>(info, 5, op, "dh"), Ptr<float>(info, 6, op, "dc"),
                                Ptr<float>(info, 7, op, "dgates"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// lstmForward(T, B, I, H, x, wih, whh, bih|null, bhh|null, h0, c0, h, c, gates, tanhC)
Napi::Value LstmForward(const Napi::CallbackInfo& info) {
  const char* op = "lstm_forward";
  CheckCuda(info.Env(), op,
            lstm_forward(Int(info, 0), Int(info, 1), Int(info, 2), Int(info, 3), Ptr<const float>(info, 4, op, "x"),
                         Ptr<const float>(info, 5, op, "wih"), Ptr<const float>(info, 6, op, "whh"),
                         OptPtr<const float>(info, 7, op, "bih"), OptPtr<const float>(info, 8, op, "bhh"),
                         Ptr<const float>(info, 9, op, "h0"), Ptr<const float>(info, 10, op, "c0"),
                         Ptr<float>(info, 11, op, "h"), Ptr<float>(info, 12, op, "c"),
                         Ptr<float>(info, 13, op, "gates"), Ptr<float>(info, 14, op, "tanhC"),
                         AddonStream(info.Env())));
  return info.Env().Undefined();
}

// A workspace borrowed from the caching allocator for the duration of one call; given back on every
// path (the stream orders its reuse after the call's kernels).
class Workspace {
 public:
  Workspace(Napi::Env env, const char* op, size_t bytes) {
    if (bytes == 0) return;
    cudaError_t err = DeviceAllocator().Allocate(bytes, &ptr_, &rounded_);
    if (err != cudaSuccess) {
      throw Napi::Error::New(env, std::string(op) + ": allocating a workspace of " + std::to_string(bytes) +
                                      " bytes failed: " + CudaErrorMessage("cudaMalloc", err));
    }
  }
  ~Workspace() {
    if (ptr_) DeviceAllocator().Release(ptr_, rounded_);
  }
  float* floats() const { return static_cast<float*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  size_t rounded_ = 0;
};

// lstmBackward(T, B, I, H, x, wih, whh, h0, c0, h, c, gates, tanhC, dh|null, dhT|null, dcT|null,
//              dx|null, dh0|null, dc0|null, dwih|null, dwhh|null, dbih|null, dbhh|null)
Napi::Value LstmBackward(const Napi::CallbackInfo& info) {
  const char* op = "lstm_backward";
  Napi::Env env = info.Env();
  const int T = Int(info, 0), B = Int(info, 1), I = Int(info, 2), H = Int(info, 3);
  const float* x = Ptr<const float>(info, 4, op, "x");
  const float* wih = Ptr<const float>(info, 5, op, "wih");
  const float* whh = Ptr<const float>(info, 6, op, "whh");
  const float* h0 = Ptr<const float>(info, 7, op, "h0");
  const float* c0 = Ptr<const float>(info, 8, op, "c0");
  const float* h = Ptr<const float>(info, 9, op, "h");
  const float* c = Ptr<const float>(info, 10, op, "c");
  const float* gates = Ptr<const float>(info, 11, op, "gates");
  const float* tanh_c = Ptr<const float>(info, 12, op, "tanhC");
  const float* dh = OptPtr<const float>(info, 13, op, "dh");
  const float* dh_T = OptPtr<const float>(info, 14, op, "dhT");
  const float* dc_T = OptPtr<const float>(info, 15, op, "dcT");
  float* dx = OptPtr<float>(info, 16, op, "dx");
  float* dh0 = OptPtr<float>(info, 17, op, "dh0");
  float* dc0 = OptPtr<float>(info, 18, op, "dc0");
  float* dwih = OptPtr<float>(info, 19, op, "dwih");
  float* dwhh = OptPtr<float>(info, 20, op, "dwhh");
  float* dbih = OptPtr<float>(info, 21, op, "dbih");
  float* dbhh = OptPtr<float>(info, 22, op, "dbhh");
  Workspace ws(env, op, lstm_backward_workspace_floats(T, B, H) * sizeof(float));
  CheckCuda(env, op,
            lstm_backward(T, B, I, H, x, wih, whh, h0, c0, h, c, gates, tanh_c, dh, dh_T, dc_T, dx, dh0, dc0, dwih,
                          dwhh, dbih, dbhh, ws.floats(), AddonStream(env)));
  return env.Undefined();
}

// softmaxXentForward(N, V, logits, targets, ignoreIndex, loss, lse)
Napi::Value SoftmaxXentForward(const Napi::CallbackInfo& info) {
  const char* op = "softmax_xent_forward";
  CheckCuda(info.Env(), op,
            softmax_xent_forward(Int(info, 0), Int(info, 1), Ptr<const float>(info, 2, op, "logits"),
                                 Ptr<const int32_t>(info, 3, op, "targets"), Int(info, 4),
                                 Ptr<float>(info, 5, op, "loss"), Ptr<float>(info, 6, op, "lse"),
                                 AddonStream(info.Env())));
  return info.Env().Undefined();
}

// softmaxXentBackward(N, V, logits, targets, ignoreIndex, lse, dloss, dlogits)
Napi::Value SoftmaxXentBackward(const Napi::CallbackInfo& info) {
  const char* op = "softmax_xent_backward";
  CheckCuda(info.Env(), op,
            softmax_xent_backward(Int(info, 0), Int(info, 1), Ptr<const float>(info, 2, op, "logits"),
                                  Ptr<const int32_t>(info, 3, op, "targets"), Int(info, 4),
                                  Ptr<const float>(info, 5, op, "lse"), Ptr<const float>(info, 6, op, "dloss"),
                                  Ptr<float>(info, 7, op, "dlogits"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// embeddingForward(N, V, D, weight, idx, out)
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  const char* op = "embedding_forward";
  CheckCuda(info.Env(), op,
            embedding_forward(Int(info, 0), Int(info, 1), Int(info, 2), Ptr<const float>(info, 3, op, "weight"),
                              Ptr<const int32_t>(info, 4, op, "idx"), Ptr<float>(info, 5, op, "out"),
                              AddonStream(info.Env())));
  return info.Env().Undefined();
}

// embeddingBackward(N, V, D, idx, dout, dweight)
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  const char* op = "embedding_backward";
  CheckCuda(info.Env(), op,
            embedding_backward(Int(info, 0), Int(info, 1), Int(info, 2), Ptr<const int32_t>(info, 3, op, "idx"),
                               Ptr<const float>(info, 4, op, "dout"), Ptr<float>(info, 5, op, "dweight"),
                               AddonStream(info.Env())));
  return info.Env().Undefined();
}

// dropoutMask(n, seed, offset, threshold, scale, mask)
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  const char* op = "dropout_mask";
  CheckCuda(info.Env(), op,
            dropout_mask(Int(info, 0), U32(info, 1), U32(info, 2), U32(info, 3), Float(info, 4),
                         Ptr<float>(info, 5, op, "mask"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// adamStep(n, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, bc1, bc2)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const char* op = "adam_step";
  CheckCuda(info.Env(), op,
            adam_step(Int(info, 0), Ptr<float>(info, 1, op, "param"), Ptr<const float>(info, 2, op, "grad"),
                      Ptr<float>(info, 3, op, "m"), Ptr<float>(info, 4, op, "v"), Float(info, 5), Float(info, 6),
                      Float(info, 7), Float(info, 8), Float(info, 9), Bool(info, 10), Float(info, 11),
                      Float(info, 12), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// sgdStep(n, param, grad, buf|null, lr, momentum, weightDecay, first)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const char* op = "sgd_step";
  CheckCuda(info.Env(), op,
            sgd_step(Int(info, 0), Ptr<float>(info, 1, op, "param"), Ptr<const float>(info, 2, op, "grad"),
                     OptPtr<float>(info, 3, op, "buf"), Float(info, 4), Float(info, 5), Float(info, 6),
                     Bool(info, 7), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// sumSquares(n, x, out, outIndex)
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  const char* op = "sum_squares";
  CheckCuda(info.Env(), op,
            sum_squares(Int(info, 0), Ptr<const float>(info, 1, op, "x"), Ptr<float>(info, 2, op, "out"),
                        Int(info, 3), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// fill(n, x, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  const char* op = "fill";
  CheckCuda(info.Env(), op,
            fill(Int(info, 0), Ptr<float>(info, 1, op, "x"), Float(info, 2), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// axpby(n, alpha, x, beta, y, out)
Napi::Value Axpby(const Napi::CallbackInfo& info) {
  const char* op = "axpby";
  CheckCuda(info.Env(), op,
            axpby(Int(info, 0), Float(info, 1), Ptr<const float>(info, 2, op, "x"), Float(info, 3),
                  Ptr<const float>(info, 4, op, "y"), Ptr<float>(info, 5, op, "out"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// affine(n, alpha, x, beta, out)
Napi::Value Affine(const Napi::CallbackInfo& info) {
  const char* op = "affine";
  CheckCuda(info.Env(), op,
            affine(Int(info, 0), Float(info, 1), Ptr<const float>(info, 2, op, "x"), Float(info, 3),
                   Ptr<float>(info, 4, op, "out"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// mul(n, x, y, out)
Napi::Value Mul(const Napi::CallbackInfo& info) {
  const char* op = "mul";
  CheckCuda(info.Env(), op,
            mul(Int(info, 0), Ptr<const float>(info, 1, op, "x"), Ptr<const float>(info, 2, op, "y"),
                Ptr<float>(info, 3, op, "out"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// sum(n, x, out)
Napi::Value Sum(const Napi::CallbackInfo& info) {
  const char* op = "sum";
  CheckCuda(info.Env(), op,
            sum(Int(info, 0), Ptr<const float>(info, 1, op, "x"), Ptr<float>(info, 2, op, "out"),
                AddonStream(info.Env())));
  return info.Env().Undefined();
}

// addRowVector(M, N, x, b)
Napi::Value AddRowVector(const Napi::CallbackInfo& info) {
  const char* op = "add_row_vector";
  CheckCuda(info.Env(), op,
            add_row_vector(Int(info, 0), Int(info, 1), Ptr<float>(info, 2, op, "x"),
                           Ptr<const float>(info, 3, op, "b"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// sumRows(M, N, x, out, accumulate)
Napi::Value SumRows(const Napi::CallbackInfo& info) {
  const char* op = "sum_rows";
  CheckCuda(info.Env(), op,
            sum_rows(Int(info, 0), Int(info, 1), Ptr<const float>(info, 2, op, "x"), Ptr<float>(info, 3, op, "out"),
                     Bool(info, 4), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// sample(B, V, logits, temperature, topK, topP, seed, offset, tokens, logp, entropy)
Napi::Value Sample(const Napi::CallbackInfo& info) {
  const char* op = "sample";
  CheckCuda(info.Env(), op,
            sample(Int(info, 0), Int(info, 1), Ptr<const float>(info, 2, op, "logits"), Float(info, 3), Int(info, 4),
                   Float(info, 5), U32(info, 6), U32(info, 7), Ptr<int32_t>(info, 8, op, "tokens"),
                   Ptr<float>(info, 9, op, "logp"), Ptr<float>(info, 10, op, "entropy"), AddonStream(info.Env())));
  return info.Env().Undefined();
}

// _testInvalidLaunch(): test-only, launches a trivial kernel with 4096 threads per block.
Napi::Value TestInvalidLaunch(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "_testInvalidLaunch", test_invalid_launch(AddonStream(info.Env())));
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------------------- the table

struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

const Export kExports[] = {
    {"alloc", Alloc},
    {"upload", Upload},
    {"download", Download},
    {"copy", Copy},
    {"memory", Memory},
    {"emptyCache", EmptyCache},
    {"synchronize", Synchronize},
    {"deviceInfo", DeviceInfo},
    {"gemm", Gemm},
    {"lstmGatesForward", LstmGatesForward},
    {"lstmGatesBackward", LstmGatesBackward},
    {"lstmForward", LstmForward},
    {"lstmBackward", LstmBackward},
    {"softmaxXentForward", SoftmaxXentForward},
    {"softmaxXentBackward", SoftmaxXentBackward},
    {"embeddingForward", EmbeddingForward},
    {"embeddingBackward", EmbeddingBackward},
    {"dropoutMask", DropoutMask},
    {"adamStep", AdamStep},
    {"sgdStep", SgdStep},
    {"sumSquares", SumSquares},
    {"fill", Fill},
    {"axpby", Axpby},
    {"affine", Affine},
    {"mul", Mul},
    {"sum", Sum},
    {"addRowVector", AddRowVector},
    {"sumRows", SumRows},
    {"sample", Sample},
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
  exports.Set("DeviceBuffer", DeviceBuffer::Define(env));
#if defined(LSTM_CUDA_CPU)
  exports.Set("build", "cpu");
#elif defined(LSTM_CUDA_EMU)
  exports.Set("build", "emu");
#else
  exports.Set("build", "cuda");
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
