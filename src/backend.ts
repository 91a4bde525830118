// The backend interface: the closed list of kernels every backend implements (ref in TypeScript,
// emu and cuda through the native addon from the same kernels/*.cu sources).
//
// Glossary (used in every shape block of the project):
//   B = batch, T = time steps, I = input size, H = hidden size, V = vocabulary,
//   N = rows (usually T·B), D = embedding size, M/N/K = GEMM sizes, n = element count.
// All matrices are row-major and contiguous. Gate order everywhere is PyTorch's: i, f, g, o.
//
// Contract for every kernel:
//   - Arguments were validated in TypeScript (ops/ and the backend wrappers) before the call; a kernel
//     may assume sizes match its shape block. Backends still reject a storage of the wrong dtype or
//     length with a clear Error, never a crash.
//   - Parameter gradients ACCUMULATE (+=); activation gradients OVERWRITE (=). Each field says which.
//   - Results are deterministic: no float atomics in sums; the same inputs give the same bits on the
//     same backend.
//   - Storages never alias unless a field says "may alias".
//   - Float kernels run on float32 and (ref only) float64 storages; every float storage of one call has
//     the same dtype. Index storages (targets, tokens, idx) are int32.

export type DType = 'float32' | 'float64' | 'int32';
export type DeviceName = 'ref' | 'cpu' | 'emu' | 'cuda';
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** A backend's buffer of `length` elements of `dtype`. Opaque above the backend. */
export interface Storage {
  readonly dtype: DType;
  readonly length: number;
}

/** Live-allocation counters (the native caching allocator exposes its own; ref counts storages). */
export interface MemoryStats {
  /** storages allocated and not yet freed */
  liveCount: number;
  liveBytes: number;
  /** bytes held by a caching allocator for reuse (0 on ref) */
  cachedBytes: number;
}

// ---------------------------------------------------------------- counter-based RNG (shared contract)
// Dropout masks and sampling draws come from a stateless hash of (seed, counter), so that every backend
// (TypeScript and C++) produces the same bits:
//   fmix32(x): x ^= x >>> 16; x = x * 0x85EBCA6B; x ^= x >>> 13; x = x * 0xC2B2AE35; x ^= x >>> 16   (uint32 wrap)
//   rngU32(seed, counter) = fmix32(fmix32(seed ^ 0x6A09E667) ^ counter)
//   rngUniform(seed, counter) = (rngU32(seed, counter) >>> 8) * 2^-24          in [0, 1), exact in float32
// seed and counter are uint32; counters wrap modulo 2^32. Implemented in src/rng.ts and kernels/rng.cuh.

export interface GemmArgs {
  transA: boolean; transB: boolean;
  M: number; N: number; K: number;
  alpha: number; beta: number;
  /** in: [M,K], or [K,M] when transA */
  A: Storage;
  /** in: [K,N], or [N,K] when transB */
  B: Storage;
  /** in/out: [M,N]. C = alpha·op(A)·op(B) + beta·C; with beta = 0, C's old contents are ignored (NaN too). */
  C: Storage;
}

export interface LstmGatesForwardArgs {
  B: number; H: number;
  /** in/out [B,4H]: in = pre-activations x·W_ihᵀ + h_{t-1}·W_hhᵀ (no bias); out = activations
   *  (σ(i), σ(f), tanh(g), σ(o)), saved for backward. */
  gates: Storage;
  /** in [4H] or null (no bias) */
  bih: Storage | null;
  bhh: Storage | null;
  /** in [B,H]: c_{t-1} */
  cPrev: Storage;
  /** out [B,H]: c_t = f⊙c_{t-1} + i⊙g */
  c: Storage;
  /** out [B,H]: h_t = o⊙tanh(c_t) */
  h: Storage;
  /** out [B,H]: tanh(c_t), saved for backward */
  tanhC: Storage;
}

export interface LstmGatesBackwardArgs {
  B: number; H: number;
  /** in [B,4H]: activations saved by the forward step */
  gates: Storage;
  /** in [B,H]: c_{t-1} */
  cPrev: Storage;
  /** in [B,H]: tanh(c_t) saved by the forward step */
  tanhC: Storage;
  /** in [B,H]: total gradient w.r.t. h_t (from the layer above and from step t+1) */
  dh: Storage;
  /** in/out [B,H]: in = gradient w.r.t. c_t carried from step t+1; out = gradient w.r.t. c_{t-1} */
  dc: Storage;
  /** out [B,4H]: gradient w.r.t. the gate pre-activations (overwritten) */
  dgates: Storage;
}

/** One LSTM layer over T steps (T ≥ 1). The time loop runs inside the backend (C++ for native). */
export interface LstmForwardArgs {
  T: number; B: number; I: number; H: number;
  /** in [T,B,I] */
  x: Storage;
  /** in [4H,I] */
  wih: Storage;
  /** in [4H,H] */
  whh: Storage;
  /** in [4H] or null */
  bih: Storage | null;
  bhh: Storage | null;
  /** in [B,H]: initial state */
  h0: Storage;
  c0: Storage;
  /** out [T,B,H]: h_t of every step (the layer's output; the final state is h[T-1]) */
  h: Storage;
  /** out [T,B,H]: c_t of every step (saved for backward; the final cell state is c[T-1]) */
  c: Storage;
  /** out [T,B,4H]: gate activations of every step (saved for backward) */
  gates: Storage;
  /** out [T,B,H]: tanh(c_t) of every step (saved for backward) */
  tanhC: Storage;
}

export interface LstmBackwardArgs {
  T: number; B: number; I: number; H: number;
  /** in: exactly what lstmForward received and saved */
  x: Storage; wih: Storage; whh: Storage; h0: Storage; c0: Storage;
  h: Storage; c: Storage; gates: Storage; tanhC: Storage;
  /** in [T,B,H]: gradient w.r.t. the output h of every step, or null for zeros */
  dh: Storage | null;
  /** in [B,H]: gradient w.r.t. the final state (h[T-1], c[T-1]), or null for zeros */
  dhT: Storage | null;
  dcT: Storage | null;
  /** out [T,B,I] (overwritten), or null when not needed */
  dx: Storage | null;
  /** out [B,H] (overwritten), or null when not needed */
  dh0: Storage | null;
  dc0: Storage | null;
  /** in/out [4H,I], [4H,H] (accumulated +=), or null when not needed */
  dwih: Storage | null;
  dwhh: Storage | null;
  /** in/out [4H] (accumulated +=), or null */
  dbih: Storage | null;
  dbhh: Storage | null;
}

export interface SoftmaxXentForwardArgs {
  N: number; V: number;
  /** in [N,V] */
  logits: Storage;
  /** in int32 [N]: each in [0,V) or equal to ignoreIndex (validated in TS) */
  targets: Storage;
  ignoreIndex: number;
  /** out [N]: -log softmax(logits[n])[targets[n]]; 0 for ignored rows */
  loss: Storage;
  /** out [N]: logsumexp(logits[n]) (saved for backward) */
  lse: Storage;
}

export interface SoftmaxXentBackwardArgs {
  N: number; V: number;
  logits: Storage; targets: Storage; ignoreIndex: number;
  /** in [N]: saved by forward */
  lse: Storage;
  /** in [N]: upstream gradient per row */
  dloss: Storage;
  /** out [N,V] (overwritten): (softmax(logits[n]) - onehot(targets[n]))·dloss[n]; 0 rows for ignored */
  dlogits: Storage;
}

export interface EmbeddingForwardArgs {
  N: number; V: number; D: number;
  /** in [V,D] */
  weight: Storage;
  /** in int32 [N], each in [0,V) (validated in TS) */
  idx: Storage;
  /** out [N,D]: out[n] = weight[idx[n]] */
  out: Storage;
}

export interface EmbeddingBackwardArgs {
  N: number; V: number; D: number;
  idx: Storage;
  /** in [N,D] */
  dout: Storage;
  /** in/out [V,D] (accumulated +=), deterministic (no float atomics) */
  dweight: Storage;
}

export interface DropoutMaskArgs {
  n: number;
  seed: number;      // uint32
  offset: number;    // uint32: element i uses counter offset + i (mod 2^32)
  /** keep element i iff (rngU32(seed, offset + i) >>> 8) >= threshold; threshold = round(p·2^24) */
  threshold: number;
  /** value of kept elements: fround(1/(1-p)) */
  scale: number;
  /** out [n]: 0 or scale */
  mask: Storage;
}

export interface AdamStepArgs {
  n: number;
  /** in/out [n] */
  param: Storage;
  /** in [n] */
  grad: Storage;
  /** in/out [n]: first and second moments */
  m: Storage;
  v: Storage;
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** AdamW (param *= 1 - lr·wd) when true; L2 added to the gradient when false (PyTorch Adam) */
  decoupled: boolean;
  /** bias corrections computed on the host in double: 1 - beta1^step, 1 - beta2^step */
  bc1: number; bc2: number;
}

export interface SgdStepArgs {
  n: number;
  param: Storage;   // in/out [n]
  grad: Storage;    // in [n]
  /** in/out [n] momentum buffer, or null when momentum = 0 */
  buf: Storage | null;
  lr: number; momentum: number; weightDecay: number;
  /** true on the first step: buf = g (PyTorch), else buf = momentum·buf + g */
  first: boolean;
}

export interface SampleArgs {
  B: number; V: number;
  /** in [B,V] */
  logits: Storage;
  /** ≤ 0: greedy (argmax, lowest index on ties) */
  temperature: number;
  /** keep the topK most probable (0 = all) */
  topK: number;
  /** keep the shortest most-probable prefix whose probability sum ≥ topP (1 = all) */
  topP: number;
  seed: number;     // uint32
  offset: number;   // uint32: row b draws u = rngUniform(seed, offset + b)
  /** out int32 [B] */
  tokens: Storage;
  /** out [B]: log softmax(logits[b])[token] under the model (temperature 1, no filtering) */
  logp: Storage;
  /** out [B]: entropy of softmax(logits[b]) (temperature 1), in nats */
  entropy: Storage;
}
// Sampling algorithm (identical on every backend): p = softmax(logits/temperature); order candidates by
// p descending, ties by index ascending; keep the first topK; then keep the shortest prefix whose running
// sum ≥ topP (at least one); mass = sum of kept p; walk the kept list accumulating p and pick the first
// whose running sum > u·mass (the last kept if rounding leaves none).

export interface Backend {
  readonly name: DeviceName;
  /** human-readable device line, e.g. "NVIDIA H100 80GB HBM3" or "CUDA emulator on 2 CPU threads" */
  readonly deviceName: string;
  readonly dtypes: readonly DType[];

  // ---- memory
  /** zero-filled */
  alloc(dtype: DType, length: number): Storage;
  /** copies host data into a new storage of the array's dtype */
  upload(data: TypedArray): Storage;
  /** copies a storage to a new host array */
  download(s: Storage): TypedArray;
  /** copies all of src into dst (same dtype and length) */
  copy(src: Storage, dst: Storage): void;
  /** releases the storage; idempotent; later use of it throws */
  free(s: Storage): void;
  memory(): MemoryStats;
  /** waits for queued work (no-op on ref) */
  synchronize(): void;

  // ---- elementwise and reductions (float storages)
  /** x[i] = value for i < n */
  fill(x: Storage, value: number): void;
  /** out = alpha·x + beta·y; out may alias x or y */
  axpby(n: number, alpha: number, x: Storage, beta: number, y: Storage, out: Storage): void;
  /** out = alpha·x + beta; out may alias x */
  affine(n: number, alpha: number, x: Storage, beta: number, out: Storage): void;
  /** out = x⊙y; out may alias x or y */
  mul(n: number, x: Storage, y: Storage, out: Storage): void;
  /** out[0] = Σ x[0..n) */
  sum(n: number, x: Storage, out: Storage): void;
  /** x[m,j] += b[j] for x [M,N], b [N] */
  addRowVector(M: number, N: number, x: Storage, b: Storage): void;
  /** out[j] (+)= Σ_m x[m,j] for x [M,N], out [N]; accumulate selects += or = */
  sumRows(M: number, N: number, x: Storage, out: Storage, accumulate: boolean): void;
  /** out[outIndex] = Σ x[0..n)² (grad-norm partial; one out storage gathers every parameter's) */
  sumSquares(n: number, x: Storage, out: Storage, outIndex: number): void;

  // ---- the kernels
  gemm(a: GemmArgs): void;
  lstmGatesForward(a: LstmGatesForwardArgs): void;
  lstmGatesBackward(a: LstmGatesBackwardArgs): void;
  lstmForward(a: LstmForwardArgs): void;
  lstmBackward(a: LstmBackwardArgs): void;
  softmaxXentForward(a: SoftmaxXentForwardArgs): void;
  softmaxXentBackward(a: SoftmaxXentBackwardArgs): void;
  embeddingForward(a: EmbeddingForwardArgs): void;
  embeddingBackward(a: EmbeddingBackwardArgs): void;
  dropoutMask(a: DropoutMaskArgs): void;
  adamStep(a: AdamStepArgs): void;
  sgdStep(a: SgdStepArgs): void;
  sample(a: SampleArgs): void;
}
