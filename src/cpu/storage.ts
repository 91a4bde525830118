// The ref backend's Storage (a host typed array), the live-allocation counters behind memory(), and the
// checked unwrapping of the memory methods (the kernels' arguments are checked by src/spec/check.ts).
import type { DType, Storage, TypedArray } from '../backend.js';
import { checkBuffer } from '../device_memory.js';

export type FloatArray = Float32Array | Float64Array;

/** A ref buffer: `data` is the typed array, null once freed. */
export class RefStorage implements Storage {
  constructor(
    readonly dtype: DType,
    readonly length: number,
    public data: TypedArray | null,
  ) {}
}

let liveCount = 0;
let liveBytes = 0;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/** A zero-filled typed array of `dtype` (Float32Array, Float64Array or Int32Array). */
export function newArray(dtype: DType, length: number): TypedArray {
  if (dtype in BYTES) checkBuffer('ref', length, BYTES[dtype], dtype); // refused before V8 or the OOM killer
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int32': return new Int32Array(length);
    default: throw new TypeError(`ref.alloc: unsupported dtype ${JSON.stringify(dtype)}; expected float32, float64 or int32`);
  }
}

export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  const got = a === null || typeof a !== 'object' ? String(a) : (a as { constructor?: { name?: string } }).constructor?.name ?? 'an object';
  throw new TypeError(`ref.upload: expected a Float32Array, Float64Array or Int32Array, got ${got}`);
}

/** Wraps an owned typed array as a live storage (counted by memory()). */
export function adoptArray(data: TypedArray): RefStorage {
  const s = new RefStorage(dtypeOf(data), data.length, data);
  liveCount++;
  liveBytes += data.length * BYTES[s.dtype];
  return s;
}

/** Releases a storage; idempotent. */
export function releaseStorage(s: Storage): void {
  if (!(s instanceof RefStorage)) throw new Error('ref.free: storage belongs to another backend');
  if (s.data === null) return;
  liveCount--;
  liveBytes -= s.length * BYTES[s.dtype];
  s.data = null;
}

export function liveStats(): { liveCount: number; liveBytes: number } {
  return { liveCount, liveBytes };
}

/** The typed array behind a storage; throws if it was freed or belongs to another backend. */
export function unwrap(s: Storage, op: string, name: string): TypedArray {
  if (!(s instanceof RefStorage)) {
    throw new Error(`ref.${op}: '${name}' storage belongs to another backend (${String((s as { constructor?: { name?: string } })?.constructor?.name)})`);
  }
  if (s.data === null) throw new Error(`ref.${op}: '${name}' use after dispose/free`);
  return s.data;
}

/** Checks a size argument is a non-negative integer (sizes drive every loop bound). */
export function checkSize(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`ref.${op}: ${name} must be a non-negative integer, got ${v}`);
}

const scratchPool = new Map<string, FloatArray>();

/**
 * Reusable scratch of at least n elements of a float dtype, named by its user (`tag`): grown on demand,
 * never shrunk, so steady-state calls allocate nothing. Contents are garbage; callers overwrite them.
 */
export function scratch(tag: string, dtype: 'float32' | 'float64', n: number): FloatArray {
  const key = `${tag}:${dtype}`;
  let a = scratchPool.get(key);
  if (!a || a.length < n) {
    const size = Math.max(n, a ? Math.min(2 * a.length, n * 2) : n);
    a = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
    scratchPool.set(key, a);
  }
  return a;
}
