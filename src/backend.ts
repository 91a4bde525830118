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
}
