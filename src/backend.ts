// The backend interface: the memory methods every backend has, and one method per kernel of the kernel
// spec (src/spec/kernels.mjs), typed from it: `be.gemm(a: KernelArgs<'gemm'>)`. The spec holds each
// kernel's arguments, roles, dtypes, shapes and contract; src/spec/check.ts is the one checker every
// backend runs before a kernel, so each refuses the same calls with the same error.
// Backends: ref (pure TypeScript, src/cpu/), emu and cuda (the native addon over kernels/*.cu).
import type { KERNELS } from './spec/kernels.mjs';

export type DType = 'float32' | 'float64' | 'int32';
export type DeviceName = 'ref' | 'cpu' | 'emu' | 'cuda';
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** A backend's buffer of `length` elements of `dtype`. Opaque above the backend. */
export interface Storage {
  readonly dtype: DType;
  readonly length: number;
}

/** A point in a backend's stream of work (Backend.recordEvent): opaque, compared only by elapsedMs. */
export interface DeviceEvent {
  readonly backend: DeviceName;
}

/**
 * Which GEMMs run on TF32 tensor cores (10-bit mantissa operands, fp32 accumulation): 'fp32' none (exact);
 * 'lstm' the LSTM layer's (PyTorch's default on the same GPU: cuDNN RNNs in TF32, matmuls exact); 'all'
 * every GEMM. One setting per backend (process-wide); its initial value comes from LSTM_CUDA_TF32 (0|lstm|all;
 * unset: lstm on cuda, fp32 on emu). ref and cpu compute fp32 only.
 */
export type MathMode = 'fp32' | 'lstm' | 'all';
export const MATH_MODES: readonly MathMode[] = ['fp32', 'lstm', 'all'];

/** A captured CUDA graph (Backend.captureGraph): replayed with replayGraph, freed with dispose(). */
export interface DeviceGraph {
  /** the graph's nodes (kernel launches and copies) */
  readonly nodes: number;
  /** frees the graph (idempotent); replaying it afterwards throws */
  dispose(): void;
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

// ---------------------------------------------------------------- kernel argument types (from the spec)

type Spec = typeof KERNELS;
export type KernelName = keyof Spec;
/** One argument's declaration in the spec. */
export type ArgSpec = Spec[KernelName]['args'][number];

/** Storage for storages (or null when optional), boolean for bools, number for every other scalar. */
type ArgValue<A> = A extends { role: string }
  ? (A extends { optional: true } ? Storage | null : Storage)
  : A extends { type: 'bool' } ? boolean : number;

/** The argument object of kernel K: one field per spec argument. */
export type KernelArgs<K extends KernelName> = { [A in Spec[K]['args'][number] as A['name']]: ArgValue<A> };

/** One method per kernel of the spec. */
export type Kernels = { [K in KernelName]: (a: KernelArgs<K>) => void };

export type GemmArgs = KernelArgs<'gemm'>;
export type LstmForwardArgs = KernelArgs<'lstmForward'>;
export type LstmBackwardArgs = KernelArgs<'lstmBackward'>;

export interface Backend extends Kernels {
  readonly name: DeviceName;
  /** human-readable device line, e.g. "NVIDIA H100 80GB HBM3" or "CUDA emulator on 2 CPU threads" */
  readonly deviceName: string;
  readonly dtypes: readonly DType[];

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

  /**
   * Records an event after the work queued so far, for timing the device rather than the host: cuda a
   * cudaEvent on the backend's stream; emu the emulator's clock; cpu and ref a steady clock (their work
   * has finished when a call returns).
   */
  recordEvent(): DeviceEvent;
  /** Milliseconds of device time from start to end (events of this backend); waits until end has happened. */
  elapsedMs(start: DeviceEvent, end: DeviceEvent): number;

  /**
   * Copies elements [srcStart, srcStart + n) of src to [dstStart, dstStart + n) of dst (same dtype, any; the
   * ranges must lie inside the storages; src and dst may be the same storage if the ranges do not overlap).
   * Queued on the device like a kernel, so a graph captures it.
   */
  copyElements(src: Storage, srcStart: number, dst: Storage, dstStart: number, n: number): void;

  /** true where captureGraph works (cuda, emu); ref and cpu have no graphs: run the work again instead */
  readonly hasGraphs: boolean;
  /**
   * Runs fn with the backend's stream capturing (cudaStreamBeginCapture .. EndCapture, instantiated): the
   * kernels and copies fn queues are recorded, NOT run, and replayGraph runs them again with the same
   * arguments and storages. Inside fn nothing may reach the host: alloc, upload, download, free and
   * synchronize throw, and so does any CUDA call the capture refuses (the graph is then not made). The
   * caller keeps every storage the graph uses alive (and unchanged in size) while it may be replayed.
   */
  captureGraph(fn: () => void): DeviceGraph;
  /** Queues one replay of a graph of this backend (cudaGraphLaunch). */
  replayGraph(g: DeviceGraph): void;

  /** the TF32 math mode now in force (see MathMode) */
  getMathMode(): MathMode;
  /** sets the math mode for every later GEMM of this backend; ref and cpu accept only 'fp32' */
  setMathMode(mode: MathMode): void;
}

/** The argument check of Backend.copyElements (every backend runs it): same dtype, integer ranges inside both. */
export function checkElementRange(backend: DeviceName, src: Storage, srcStart: number, dst: Storage, dstStart: number, n: number): void {
  const where = `${backend}.copyElements`;
  if (src.dtype !== dst.dtype) throw new TypeError(`${where}: src is ${src.dtype} but dst is ${dst.dtype}; they must match`);
  for (const [name, v] of [['srcStart', srcStart], ['dstStart', dstStart], ['n', n]] as const) {
    if (typeof v !== 'number') throw new TypeError(`${where}: ${name} must be a non-negative integer, got ${v === null ? 'null' : typeof v}`);
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${where}: ${name} must be a non-negative integer, got ${v}`);
  }
  if (srcStart + n > src.length) throw new RangeError(`${where}: src range [${srcStart}, ${srcStart + n}) runs past its ${src.length} elements`);
  if (dstStart + n > dst.length) throw new RangeError(`${where}: dst range [${dstStart}, ${dstStart + n}) runs past its ${dst.length} elements`);
  if (src === dst && srcStart < dstStart + n && dstStart < srcStart + n && n > 0) {
    throw new RangeError(`${where}: the ranges [${srcStart}, ${srcStart + n}) and [${dstStart}, ${dstStart + n}) of one storage overlap`);
  }
}
