// Loads the native addons (cpu: the launchers implemented as native SIMD C++, native/cpu/; emu: kernels/*.cu
// compiled by g++ against the CUDA emulator; cuda: nvcc) and wraps each as a Backend. Every argument is checked here (storage of this backend, not freed, dtype,
// length against the shape, sizes) before it crosses into C++; the C++ glue (native/*.cc) only unwraps,
// launches and turns CUDA errors into JS Errors, which are re-thrown here prefixed with the backend name.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBuffer } from './device_memory.js';
import type {
  AdamStepArgs, Backend, DropoutMaskArgs, DType, EmbeddingBackwardArgs, EmbeddingForwardArgs, GemmArgs,
  LstmBackwardArgs, LstmForwardArgs, LstmGatesBackwardArgs, LstmGatesForwardArgs, MemoryStats, SampleArgs,
  SgdStepArgs, SoftmaxXentBackwardArgs, SoftmaxXentForwardArgs, Storage, TypedArray,
} from './backend.js';

export type NativeKind = 'cpu' | 'emu' | 'cuda';

/** The addon's device buffer (native/storage.cc); opaque here apart from dispose(). */
interface DeviceBuffer {
  dispose(): void;
}
type Buf = DeviceBuffer | null;

/** What native/addon.cc exports: one function per launcher, arguments in the launcher's order. */
interface Addon {
  build: NativeKind;
  alloc(dtype: 'float32' | 'int32', length: number): DeviceBuffer;
  upload(data: Float32Array | Int32Array): DeviceBuffer;
  download(b: DeviceBuffer): Float32Array | Int32Array;
  copy(src: DeviceBuffer, dst: DeviceBuffer): void;
  memory(): NativeMemoryStats;
  emptyCache(): void;
  synchronize(): void;
  deviceInfo(): NativeDeviceInfo;
  gemm(ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number, A: Buf, B: Buf, beta: number, C: Buf): void;
  lstmGatesForward(B: number, H: number, gates: Buf, bih: Buf, bhh: Buf, cPrev: Buf, c: Buf, h: Buf, tanhC: Buf): void;
  lstmGatesBackward(B: number, H: number, gates: Buf, cPrev: Buf, tanhC: Buf, dh: Buf, dc: Buf, dgates: Buf): void;
  lstmForward(T: number, B: number, I: number, H: number, x: Buf, wih: Buf, whh: Buf, bih: Buf, bhh: Buf,
    h0: Buf, c0: Buf, h: Buf, c: Buf, gates: Buf, tanhC: Buf): void;
  lstmBackward(T: number, B: number, I: number, H: number, x: Buf, wih: Buf, whh: Buf, h0: Buf, c0: Buf,
    h: Buf, c: Buf, gates: Buf, tanhC: Buf, dh: Buf, dhT: Buf, dcT: Buf, dx: Buf, dh0: Buf, dc0: Buf,
    dwih: Buf, dwhh: Buf, dbih: Buf, dbhh: Buf): void;
  softmaxXentForward(N: number, V: number, logits: Buf, targets: Buf, ignoreIndex: number, loss: Buf, lse: Buf): void;
  softmaxXentBackward(N: number, V: number, logits: Buf, targets: Buf, ignoreIndex: number, lse: Buf, dloss: Buf,
    dlogits: Buf): void;
  embeddingForward(N: number, V: number, D: number, weight: Buf, idx: Buf, out: Buf): void;
  embeddingBackward(N: number, V: number, D: number, idx: Buf, dout: Buf, dweight: Buf): void;
  dropoutMask(n: number, seed: number, offset: number, threshold: number, scale: number, mask: Buf): void;
  adamStep(n: number, param: Buf, grad: Buf, m: Buf, v: Buf, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, decoupled: boolean, bc1: number, bc2: number): void;
  sgdStep(n: number, param: Buf, grad: Buf, buf: Buf, lr: number, momentum: number, weightDecay: number, first: boolean): void;
  sumSquares(n: number, x: Buf, out: Buf, outIndex: number): void;
  fill(n: number, x: Buf, value: number): void;
  axpby(n: number, alpha: number, x: Buf, beta: number, y: Buf, out: Buf): void;
  affine(n: number, alpha: number, x: Buf, beta: number, out: Buf): void;
  mul(n: number, x: Buf, y: Buf, out: Buf): void;
  sum(n: number, x: Buf, out: Buf): void;
  addRowVector(M: number, N: number, x: Buf, b: Buf): void;
  sumRows(M: number, N: number, x: Buf, out: Buf, accumulate: boolean): void;
  sample(B: number, V: number, logits: Buf, temperature: number, topK: number, topP: number, seed: number,
    offset: number, tokens: Buf, logp: Buf, entropy: Buf): void;
  _testInvalidLaunch(): void;
}

/** The caching allocator's counters (native/allocator.h). */
export interface NativeMemoryStats extends MemoryStats {
  cachedCount: number;
  /** cudaMalloc calls so far: flat across a training loop when the cache works */
  mallocCalls: number;
  peakLiveBytes: number;
}

export interface NativeDeviceInfo {
  build: NativeKind;
  count: number;
  error?: string;
  name?: string;
  totalMemory?: number;
  computeCapability?: string;
  multiProcessors?: number;
  hostThreads: number;
}

// ------------------------------------------------------------------------------------- locating

/** The package root: the nearest directory above this module holding binding.gyp (dist/ or build/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..');
}

const ADDONS: Record<NativeKind, { file: string; env: string; log: string }> = {
  cpu: { file: 'build/Release/lstm_cuda_cpu.node', env: 'LSTM_CUDA_CPU_ADDON', log: 'build/native-emu.log' },
  emu: { file: 'build/Release/lstm_cuda_emu.node', env: 'LSTM_CUDA_EMU_ADDON', log: 'build/native-emu.log' },
  cuda: { file: 'build/cuda/Release/lstm_cuda.node', env: 'LSTM_CUDA_CUDA_ADDON', log: 'build/native-cuda.log' },
};

/** Where the addon of `kind` is loaded from: $LSTM_CUDA_EMU_ADDON / $LSTM_CUDA_CUDA_ADDON, else build/. */
export function addonPath(kind: NativeKind): string {
  const override = process.env[ADDONS[kind].env];
  return override !== undefined && override !== '' ? resolve(override) : join(packageRoot(), ADDONS[kind].file);
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
}

const loadedBackends = new Map<NativeKind, { backend?: Backend; reason?: string }>();

/**
 * The cpu, emu or cuda backend, or the one-line reason it is unavailable (addon not built, failed to load,
 * no CUDA device). Never throws; loads each kind once.
 */
export function loadNativeBackend(kind: NativeKind): { backend?: Backend; reason?: string } {
  let r = loadedBackends.get(kind);
  if (!r) {
    r = loadUncached(kind);
    loadedBackends.set(kind, r);
  }
  return r;
}

function loadUncached(kind: NativeKind): { backend?: Backend; reason?: string } {
  const file = addonPath(kind);
  if (!existsSync(file)) {
    const log = join(packageRoot(), ADDONS[kind].log);
    const hint = kind === 'cuda' ? 'needs nvcc at install time; ' : '';
    return { reason: `addon not built: ${file} is missing (${hint}run npm install; see ${log})` };
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(file) as Addon;
  } catch (e) {
    return { reason: `addon failed to load: ${oneLine(e)}` };
  }
  let info: NativeDeviceInfo;
  try {
    info = addon.deviceInfo();
  } catch (e) {
    return { reason: `addon failed to query devices: ${oneLine(e)}` };
  }
  if (info.count < 1 || info.error !== undefined) {
    return { reason: `no CUDA device: ${info.error ?? 'cudaGetDeviceCount returned 0'}` };
  }
  return { backend: new NativeBackend(kind, addon, info) };
}

// ------------------------------------------------------------------------------------- storages

/** A native storage: a device buffer of this backend (handle is null once freed). */
export class NativeStorage implements Storage {
  constructor(
    readonly dtype: DType,
    readonly length: number,
    public handle: DeviceBuffer | null,
    readonly owner: NativeBackend,
  ) {}
}

const MAX_INT32 = 0x7fffffff;
const MAX_ALLOC = 2 ** 50;

function dims(shape: Record<string, number>): string {
  return `[${Object.entries(shape).map(([k, v]) => `${k}=${v}`).join(', ')}]`;
}

function product(shape: Record<string, number>): number {
  let p = 1;
  for (const k in shape) p *= shape[k];
  return p;
}

// ---------------------------------------------------------------------------------------- backend

/** The cpu, emu or cuda backend over its addon. Extra beyond Backend: emptyCache(), memory() details. */
export class NativeBackend implements Backend {
  readonly name: NativeKind;
  readonly deviceName: string;
  readonly dtypes: readonly DType[] = ['float32', 'int32'];

  constructor(kind: NativeKind, private readonly addon: Addon, readonly info: NativeDeviceInfo) {
    this.name = kind;
    // emu: "CUDA emulator (g++, N threads)" from its cudaGetDeviceProperties; cuda: the GPU's name
    this.deviceName = info.name ?? `${kind} device`;
  }

  // ------------------------------------------------------------------------------------ checking

  private fail(op: string, msg: string, Ctor: ErrorConstructor = Error): never {
    throw new Ctor(`${this.name}.${op}: ${msg}`);
  }

  private unsupportedDtype(op: string, dtype: string): never {
    if (dtype === 'float64') this.fail(op, `dtype float64 is not supported on ${this.name}; use ref for float64`, TypeError);
    this.fail(op, `unsupported dtype ${JSON.stringify(dtype)}; expected float32 or int32`, TypeError);
  }

  /** The live buffer behind s, checked: a storage of this backend, not freed. */
  private buf(op: string, name: string, s: Storage): DeviceBuffer {
    if (!(s instanceof NativeStorage) || s.owner !== this) {
      const from = s instanceof NativeStorage ? s.owner.name : (s as { constructor?: { name?: string } } | null)?.constructor?.name;
      this.fail(op, `'${name}' is not a storage of the ${this.name} backend (got ${String(from)})`, TypeError);
    }
    if (s.handle === null) this.fail(op, `'${name}' was freed (use after dispose/free)`);
    return s.handle;
  }

  /** A storage of `dtype` holding at least the elements of `shape` (named sizes, for the message). */
  private need(op: string, name: string, s: Storage, dtype: 'float32' | 'int32', shape: Record<string, number>): DeviceBuffer {
    const b = this.buf(op, name, s);
    if (s.dtype !== dtype) {
      if (s.dtype === 'float64') this.unsupportedDtype(op, s.dtype);
      this.fail(op, `'${name}' must be ${dtype}, got ${s.dtype}`, TypeError);
    }
    const n = product(shape);
    if (n > MAX_INT32) this.fail(op, `'${name}' shape ${dims(shape)} exceeds 2^31 elements`, RangeError);
    if (s.length < n) this.fail(op, `'${name}' has ${s.length} elements but its shape ${dims(shape)} needs ${n}`, RangeError);
    return b;
  }

  private f32(op: string, name: string, s: Storage, shape: Record<string, number>): DeviceBuffer {
    return this.need(op, name, s, 'float32', shape);
  }

  private f32OrNull(op: string, name: string, s: Storage | null, shape: Record<string, number>): Buf {
    return s === null ? null : this.need(op, name, s, 'float32', shape);
  }

  /** Sizes: integers in [min, 2^31). */
  private sizes(op: string, shape: Record<string, number>, min = 0): void {
    for (const k in shape) {
      const v = shape[k];
      if (!Number.isInteger(v) || v < min || v > MAX_INT32) {
        this.fail(op, `${k} must be an integer in [${min}, 2^31), got ${v}`, RangeError);
      }
    }
  }

  private uint32(op: string, name: string, v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) this.fail(op, `${name} must be a uint32, got ${v}`, RangeError);
  }

  private numbers(op: string, values: Record<string, number>): void {
    for (const k in values) {
      if (typeof values[k] !== 'number' || Number.isNaN(values[k])) this.fail(op, `${k} must be a number, got ${values[k]}`, TypeError);
    }
  }

  /** Re-throws a native error with the backend's name in front (the JS stack is the caller's). */
  private native(e: unknown): never {
    if (e instanceof Error) {
      throw new Error(`${this.name}: ${e.message}`, { cause: e });
    }
    throw new Error(`${this.name}: ${String(e)}`);
  }

  // -------------------------------------------------------------------------------------- memory

  alloc(dtype: DType, length: number): Storage {
    if (dtype !== 'float32' && dtype !== 'int32') this.unsupportedDtype('alloc', dtype);
    // any size the device might hold (kernels index [0, 2^31) of it); an absurd one fails in cudaMalloc
    if (!Number.isInteger(length) || length < 0 || length > MAX_ALLOC) {
      this.fail('alloc', `length must be an integer in [0, 2^50], got ${length}`, RangeError);
    }
    checkBuffer(this.name, length, 4, dtype);
    try {
      return new NativeStorage(dtype, length, this.addon.alloc(dtype, length), this);
    } catch (e) { this.native(e); }
  }

  upload(data: TypedArray): Storage {
    let dtype: 'float32' | 'int32';
    if (data instanceof Float32Array) dtype = 'float32';
    else if (data instanceof Int32Array) dtype = 'int32';
    else if (data instanceof Float64Array) this.unsupportedDtype('upload', 'float64');
    else this.fail('upload', 'expected a Float32Array or Int32Array', TypeError);
    this.sizes('upload', { length: data.length });
    checkBuffer(this.name, data.length, 4, dtype);
    try {
      return new NativeStorage(dtype, data.length, this.addon.upload(data), this);
    } catch (e) { this.native(e); }
  }

  download(s: Storage): TypedArray {
    const b = this.buf('download', 's', s);
    try { return this.addon.download(b); } catch (e) { this.native(e); }
  }

  copy(src: Storage, dst: Storage): void {
    const a = this.buf('copy', 'src', src), b = this.buf('copy', 'dst', dst);
    if (src.dtype !== dst.dtype || src.length !== dst.length) {
      this.fail('copy', `src is ${src.dtype}[${src.length}] but dst is ${dst.dtype}[${dst.length}]; they must match`, TypeError);
    }
    try { this.addon.copy(a, b); } catch (e) { this.native(e); }
  }

  free(s: Storage): void {
    if (!(s instanceof NativeStorage) || s.owner !== this) {
      this.fail('free', `'s' is not a storage of the ${this.name} backend`, TypeError);
    }
    if (s.handle === null) return;
    s.handle.dispose();
    s.handle = null;
  }

  memory(): NativeMemoryStats {
    return this.addon.memory();
  }

  /** Returns every cached (free) buffer to the device (cudaFree). */
  emptyCache(): void {
    try { this.addon.emptyCache(); } catch (e) { this.native(e); }
  }

  synchronize(): void {
    try { this.addon.synchronize(); } catch (e) { this.native(e); }
  }

  /** Test-only: a launch with an invalid configuration, to check CUDA errors reach JS. */
  _testInvalidLaunch(): void {
    try { this.addon._testInvalidLaunch(); } catch (e) { this.native(e); }
  }

  // --------------------------------------------------------------------- elementwise, reductions

  fill(x: Storage, value: number): void {
    // shapes: x [n], n = x.length
    const n = x.length;
    const b = this.f32('fill', 'x', x, { n });
    this.numbers('fill', { value });
    try { this.addon.fill(n, b, value); } catch (e) { this.native(e); }
  }

  axpby(n: number, alpha: number, x: Storage, beta: number, y: Storage, out: Storage): void {
    // shapes: x, y, out [n]
    this.sizes('axpby', { n });
    const bx = this.f32('axpby', 'x', x, { n }), by = this.f32('axpby', 'y', y, { n });
    const bo = this.f32('axpby', 'out', out, { n });
    try { this.addon.axpby(n, alpha, bx, beta, by, bo); } catch (e) { this.native(e); }
  }

  affine(n: number, alpha: number, x: Storage, beta: number, out: Storage): void {
    // shapes: x, out [n]
    this.sizes('affine', { n });
    const bx = this.f32('affine', 'x', x, { n }), bo = this.f32('affine', 'out', out, { n });
    try { this.addon.affine(n, alpha, bx, beta, bo); } catch (e) { this.native(e); }
  }

  mul(n: number, x: Storage, y: Storage, out: Storage): void {
    // shapes: x, y, out [n]
    this.sizes('mul', { n });
    const bx = this.f32('mul', 'x', x, { n }), by = this.f32('mul', 'y', y, { n });
    const bo = this.f32('mul', 'out', out, { n });
    try { this.addon.mul(n, bx, by, bo); } catch (e) { this.native(e); }
  }

  sum(n: number, x: Storage, out: Storage): void {
    // shapes: x [n], out [1]
    this.sizes('sum', { n });
    const bx = this.f32('sum', 'x', x, { n }), bo = this.f32('sum', 'out', out, { one: 1 });
    try { this.addon.sum(n, bx, bo); } catch (e) { this.native(e); }
  }

  addRowVector(M: number, N: number, x: Storage, b: Storage): void {
    // shapes: x [M,N], b [N]
    this.sizes('addRowVector', { M, N });
    const bx = this.f32('addRowVector', 'x', x, { M, N }), bb = this.f32('addRowVector', 'b', b, { N });
    try { this.addon.addRowVector(M, N, bx, bb); } catch (e) { this.native(e); }
  }

  sumRows(M: number, N: number, x: Storage, out: Storage, accumulate: boolean): void {
    // shapes: x [M,N], out [N]
    this.sizes('sumRows', { M, N });
    const bx = this.f32('sumRows', 'x', x, { M, N }), bo = this.f32('sumRows', 'out', out, { N });
    try { this.addon.sumRows(M, N, bx, bo, accumulate); } catch (e) { this.native(e); }
  }

  sumSquares(n: number, x: Storage, out: Storage, outIndex: number): void {
    // shapes: x [n], out [outIndex+1]
    this.sizes('sumSquares', { n, outIndex });
    const bx = this.f32('sumSquares', 'x', x, { n });
    const bo = this.f32('sumSquares', 'out', out, { 'outIndex+1': outIndex + 1 });
    try { this.addon.sumSquares(n, bx, bo, outIndex); } catch (e) { this.native(e); }
  }

  // ---------------------------------------------------------------------------------- the kernels

  gemm(a: GemmArgs): void {
    // shapes: op(A) [M,K], op(B) [K,N], C [M,N]
    const { M, N, K } = a, op = 'gemm';
    this.sizes(op, { M, N, K });
    const A = this.f32(op, 'A', a.A, a.transA ? { K, M } : { M, K });
    const B = this.f32(op, 'B', a.B, a.transB ? { N, K } : { K, N });
    const C = this.f32(op, 'C', a.C, { M, N });
    this.numbers(op, { alpha: a.alpha, beta: a.beta });
    try { this.addon.gemm(!!a.transA, !!a.transB, M, N, K, a.alpha, A, B, a.beta, C); } catch (e) { this.native(e); }
  }

  lstmGatesForward(a: LstmGatesForwardArgs): void {
    // shapes: gates [B,4H], bih/bhh [4H] or null, cPrev/c/h/tanhC [B,H]
    const { B, H } = a, op = 'lstmGatesForward';
    this.sizes(op, { B, H, '4H': 4 * H });
    const gates = this.f32(op, 'gates', a.gates, { B, '4H': 4 * H });
    const bih = this.f32OrNull(op, 'bih', a.bih, { '4H': 4 * H });
    const bhh = this.f32OrNull(op, 'bhh', a.bhh, { '4H': 4 * H });
    const cPrev = this.f32(op, 'cPrev', a.cPrev, { B, H });
    const c = this.f32(op, 'c', a.c, { B, H }), h = this.f32(op, 'h', a.h, { B, H });
    const tanhC = this.f32(op, 'tanhC', a.tanhC, { B, H });
    try { this.addon.lstmGatesForward(B, H, gates, bih, bhh, cPrev, c, h, tanhC); } catch (e) { this.native(e); }
  }

  lstmGatesBackward(a: LstmGatesBackwardArgs): void {
    // shapes: gates/dgates [B,4H], cPrev/tanhC/dh/dc [B,H]
    const { B, H } = a, op = 'lstmGatesBackward';
    this.sizes(op, { B, H, '4H': 4 * H });
    const gates = this.f32(op, 'gates', a.gates, { B, '4H': 4 * H });
    const cPrev = this.f32(op, 'cPrev', a.cPrev, { B, H });
    const tanhC = this.f32(op, 'tanhC', a.tanhC, { B, H });
    const dh = this.f32(op, 'dh', a.dh, { B, H }), dc = this.f32(op, 'dc', a.dc, { B, H });
    const dgates = this.f32(op, 'dgates', a.dgates, { B, '4H': 4 * H });
    try { this.addon.lstmGatesBackward(B, H, gates, cPrev, tanhC, dh, dc, dgates); } catch (e) { this.native(e); }
  }

  lstmForward(a: LstmForwardArgs): void {
    // shapes: x [T,B,I], wih [4H,I], whh [4H,H], bih/bhh [4H] or null, h0/c0 [B,H],
    //         h/c/tanhC [T,B,H], gates [T,B,4H]
    const { T, B, I, H } = a, op = 'lstmForward';
    this.sizes(op, { T }, 1);
    this.sizes(op, { B, I, H, '4H': 4 * H });
    const x = this.f32(op, 'x', a.x, { T, B, I });
    const wih = this.f32(op, 'wih', a.wih, { '4H': 4 * H, I }), whh = this.f32(op, 'whh', a.whh, { '4H': 4 * H, H });
    const bih = this.f32OrNull(op, 'bih', a.bih, { '4H': 4 * H }), bhh = this.f32OrNull(op, 'bhh', a.bhh, { '4H': 4 * H });
    const h0 = this.f32(op, 'h0', a.h0, { B, H }), c0 = this.f32(op, 'c0', a.c0, { B, H });
    const h = this.f32(op, 'h', a.h, { T, B, H }), c = this.f32(op, 'c', a.c, { T, B, H });
    const gates = this.f32(op, 'gates', a.gates, { T, B, '4H': 4 * H });
    const tanhC = this.f32(op, 'tanhC', a.tanhC, { T, B, H });
    try { this.addon.lstmForward(T, B, I, H, x, wih, whh, bih, bhh, h0, c0, h, c, gates, tanhC); } catch (e) { this.native(e); }
  }

  lstmBackward(a: LstmBackwardArgs): void {
    // shapes: as lstmForward; dh [T,B,H] or null, dhT/dcT/dh0/dc0 [B,H] or null, dx [T,B,I] or null,
    //         dwih [4H,I], dwhh [4H,H], dbih/dbhh [4H] (each or null)
    const { T, B, I, H } = a, op = 'lstmBackward';
    this.sizes(op, { T }, 1);
    this.sizes(op, { B, I, H, '4H': 4 * H });
    const x = this.f32(op, 'x', a.x, { T, B, I });
    const wih = this.f32(op, 'wih', a.wih, { '4H': 4 * H, I }), whh = this.f32(op, 'whh', a.whh, { '4H': 4 * H, H });
    const h0 = this.f32(op, 'h0', a.h0, { B, H }), c0 = this.f32(op, 'c0', a.c0, { B, H });
    const h = this.f32(op, 'h', a.h, { T, B, H }), c = this.f32(op, 'c', a.c, { T, B, H });
    const gates = this.f32(op, 'gates', a.gates, { T, B, '4H': 4 * H });
    const tanhC = this.f32(op, 'tanhC', a.tanhC, { T, B, H });
    const dh = this.f32OrNull(op, 'dh', a.dh, { T, B, H });
    const dhT = this.f32OrNull(op, 'dhT', a.dhT, { B, H }), dcT = this.f32OrNull(op, 'dcT', a.dcT, { B, H });
    const dx = this.f32OrNull(op, 'dx', a.dx, { T, B, I });
    const dh0 = this.f32OrNull(op, 'dh0', a.dh0, { B, H }), dc0 = this.f32OrNull(op, 'dc0', a.dc0, { B, H });
    const dwih = this.f32OrNull(op, 'dwih', a.dwih, { '4H': 4 * H, I });
    const dwhh = this.f32OrNull(op, 'dwhh', a.dwhh, { '4H': 4 * H, H });
    const dbih = this.f32OrNull(op, 'dbih', a.dbih, { '4H': 4 * H }), dbhh = this.f32OrNull(op, 'dbhh', a.dbhh, { '4H': 4 * H });
    try {
      this.addon.lstmBackward(T, B, I, H, x, wih, whh, h0, c0, h, c, gates, tanhC, dh, dhT, dcT, dx, dh0, dc0,
        dwih, dwhh, dbih, dbhh);
    } catch (e) { this.native(e); }
  }

  softmaxXentForward(a: SoftmaxXentForwardArgs): void {
    // shapes: logits [N,V], targets int32 [N], loss/lse [N]
    const { N, V } = a, op = 'softmaxXentForward';
    this.sizes(op, { N, V });
    const logits = this.f32(op, 'logits', a.logits, { N, V });
    const targets = this.need(op, 'targets', a.targets, 'int32', { N });
    const loss = this.f32(op, 'loss', a.loss, { N }), lse = this.f32(op, 'lse', a.lse, { N });
    if (!Number.isInteger(a.ignoreIndex)) this.fail(op, `ignoreIndex must be an integer, got ${a.ignoreIndex}`, RangeError);
    try { this.addon.softmaxXentForward(N, V, logits, targets, a.ignoreIndex, loss, lse); } catch (e) { this.native(e); }
  }

  softmaxXentBackward(a: SoftmaxXentBackwardArgs): void {
    // shapes: logits/dlogits [N,V], targets int32 [N], lse/dloss [N]
    const { N, V } = a, op = 'softmaxXentBackward';
    this.sizes(op, { N, V });
    const logits = this.f32(op, 'logits', a.logits, { N, V });
    const targets = this.need(op, 'targets', a.targets, 'int32', { N });
    const lse = this.f32(op, 'lse', a.lse, { N }), dloss = this.f32(op, 'dloss', a.dloss, { N });
    const dlogits = this.f32(op, 'dlogits', a.dlogits, { N, V });
    if (!Number.isInteger(a.ignoreIndex)) this.fail(op, `ignoreIndex must be an integer, got ${a.ignoreIndex}`, RangeError);
    try { this.addon.softmaxXentBackward(N, V, logits, targets, a.ignoreIndex, lse, dloss, dlogits); } catch (e) { this.native(e); }
  }

  embeddingForward(a: EmbeddingForwardArgs): void {
    // shapes: weight [V,D], idx int32 [N], out [N,D]
    const { N, V, D } = a, op = 'embeddingForward';
    this.sizes(op, { N, V, D });
    const weight = this.f32(op, 'weight', a.weight, { V, D });
    const idx = this.need(op, 'idx', a.idx, 'int32', { N });
    const out = this.f32(op, 'out', a.out, { N, D });
    try { this.addon.embeddingForward(N, V, D, weight, idx, out); } catch (e) { this.native(e); }
  }

  embeddingBackward(a: EmbeddingBackwardArgs): void {
    // shapes: idx int32 [N], dout [N,D], dweight [V,D]
    const { N, V, D } = a, op = 'embeddingBackward';
    this.sizes(op, { N, V, D });
    const idx = this.need(op, 'idx', a.idx, 'int32', { N });
    const dout = this.f32(op, 'dout', a.dout, { N, D });
    const dweight = this.f32(op, 'dweight', a.dweight, { V, D });
    try { this.addon.embeddingBackward(N, V, D, idx, dout, dweight); } catch (e) { this.native(e); }
  }

  dropoutMask(a: DropoutMaskArgs): void {
    // shapes: mask [n]
    const op = 'dropoutMask';
    this.sizes(op, { n: a.n });
    this.uint32(op, 'seed', a.seed);
    this.uint32(op, 'offset', a.offset);
    if (!Number.isInteger(a.threshold) || a.threshold < 0 || a.threshold > 1 << 24) {
      this.fail(op, `threshold must be an integer in [0, 2^24], got ${a.threshold}`, RangeError);
    }
    const mask = this.f32(op, 'mask', a.mask, { n: a.n });
    try { this.addon.dropoutMask(a.n, a.seed, a.offset, a.threshold, a.scale, mask); } catch (e) { this.native(e); }
  }

  adamStep(a: AdamStepArgs): void {
    // shapes: param, grad, m, v [n]
    const { n } = a, op = 'adamStep';
    this.sizes(op, { n });
    const param = this.f32(op, 'param', a.param, { n }), grad = this.f32(op, 'grad', a.grad, { n });
    const m = this.f32(op, 'm', a.m, { n }), v = this.f32(op, 'v', a.v, { n });
    this.numbers(op, { lr: a.lr, beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weightDecay, bc1: a.bc1, bc2: a.bc2 });
    try {
      this.addon.adamStep(n, param, grad, m, v, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, !!a.decoupled, a.bc1, a.bc2);
    } catch (e) { this.native(e); }
  }

  sgdStep(a: SgdStepArgs): void {
    // shapes: param, grad, buf [n] (buf null when momentum = 0)
    const { n } = a, op = 'sgdStep';
    this.sizes(op, { n });
    const param = this.f32(op, 'param', a.param, { n }), grad = this.f32(op, 'grad', a.grad, { n });
    const buf = this.f32OrNull(op, 'buf', a.buf, { n });
    if (buf === null && a.momentum !== 0) this.fail(op, `buf is null but momentum is ${a.momentum}`, TypeError);
    this.numbers(op, { lr: a.lr, momentum: a.momentum, weightDecay: a.weightDecay });
    try { this.addon.sgdStep(n, param, grad, buf, a.lr, a.momentum, a.weightDecay, !!a.first); } catch (e) { this.native(e); }
  }

  sample(a: SampleArgs): void {
    // shapes: logits [B,V], tokens int32 [B], logp/entropy [B]
    const { B, V } = a, op = 'sample';
    this.sizes(op, { B, V });
    this.sizes(op, { V }, 1);
    this.uint32(op, 'seed', a.seed);
    this.uint32(op, 'offset', a.offset);
    if (!Number.isInteger(a.topK) || a.topK < 0) this.fail(op, `topK must be a non-negative integer, got ${a.topK}`, RangeError);
    if (!(a.topP > 0 && a.topP <= 1)) this.fail(op, `topP must be in (0, 1], got ${a.topP}`, RangeError);
    this.numbers(op, { temperature: a.temperature });
    const logits = this.f32(op, 'logits', a.logits, { B, V });
    const tokens = this.need(op, 'tokens', a.tokens, 'int32', { B });
    const logp = this.f32(op, 'logp', a.logp, { B }), entropy = this.f32(op, 'entropy', a.entropy, { B });
    try {
      this.addon.sample(B, V, logits, a.temperature, Math.min(a.topK, MAX_INT32), a.topP, a.seed, a.offset, tokens, logp, entropy);
    } catch (e) { this.native(e); }
  }
}
