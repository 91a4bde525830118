// Argument checks shared by Tensor, the ops, modules and optimizers: shapes, dtypes and devices, with error
// messages that name the op, the argument, what was expected and what was given. Below tensor.ts: it
// imports only types (what it needs of a tensor is the structural Checked).
import type { Backend, DType } from './backend.js';

export type Shape = readonly number[];

/** "[2,3]" */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * What a caller passed, in a few words for an error message: `null`, `1.5`, `"abc"`, `a function`,
 * `an array of 3`, `a Float32Array of 4`, `an object {p, seed}`, `Tensor(shape=[2], ...)`.
 */
export function given(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}… (${v.length} chars)` : JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return v.toString();
  if (isTensor(v)) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as unknown as ArrayLike<number>).length ?? v.byteLength}`;
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  if (name && name !== 'Object') return `a ${name}`;
  const keys = Object.keys(v as object);
  return keys.length === 0 ? 'an empty object' : `an object {${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', …' : ''}}`;
}

/** The mark Tensor.prototype carries (set in tensor.ts), so that these checks know a tensor without importing it. */
export const TENSOR_BRAND: unique symbol = Symbol('lstm-cuda.Tensor');

export function isTensor(v: unknown): v is Checked {
  return typeof v === 'object' && v !== null && (v as { [TENSOR_BRAND]?: boolean })[TENSOR_BRAND] === true;
}

/** A Tensor argument: a TypeError naming op and argument for anything else. */
export function checkTensor(op: string, name: string, t: unknown): asserts t is Checked {
  if (!isTensor(t)) throw new TypeError(`${op}: ${name} must be a Tensor, got ${given(t)}`);
}

/** An options argument: undefined/null read as {}; anything but a plain object is a TypeError. */
export function checkOptions<T extends object>(what: string, opts: T | null | undefined): Partial<T> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts) || isTensor(opts)) throw new TypeError(`${what}: options must be an object, got ${given(opts)}`);
  return opts;
}

/** A required object argument (a model, a vocabulary, a record): a TypeError for a non-object. */
export function checkObject<T extends object>(what: string, v: T): T {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${what} must be an object, got ${given(v)}`);
  return v;
}

export function checkFunction(what: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new TypeError(`${what} must be a function, got ${given(fn)}`);
}

export function checkArray(what: string, v: unknown): asserts v is readonly unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array, got ${given(v)}`);
}

export function checkString(what: string, v: unknown): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string, got ${given(v)}`);
}

export function checkBytes(what: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array (or Buffer) of bytes, got ${given(v)}`);
}

/** An instance of a class of ours (a CharRNN, a Vocab): a TypeError naming what was given otherwise. */
export function checkInstance<T>(what: string, v: unknown, Ctor: { readonly prototype: T; readonly name: string }): asserts v is T {
  if (!(v instanceof (Ctor as unknown as abstract new () => T))) throw new TypeError(`${what} must be a ${Ctor.name}, got ${given(v)}`);
}

/** Validates a user-given shape: an array of non-negative integers. Returns a frozen copy. */
export function checkShapeArg(what: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: shape must be an array of integers, got ${given(shape)}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new TypeError(`${what}: shape must contain non-negative integers, got ${formatShape(shape as number[])}`);
    }
  }
  return [...(shape as number[])];
}

/** A positive integer option (sizes such as hiddenSize). */
export function checkPositiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    if (typeof v !== 'number') throw new TypeError(`${what} must be a positive integer, got ${given(v)}`);
    throw new RangeError(`${what} must be a positive integer, got ${v}`);
  }
  return v;
}

/** A non-negative integer (a count, an id): TypeError for a non-number, RangeError for a bad number. */
export function checkCount(what: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${what} must be a non-negative integer, got ${given(v)}`);
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative integer, got ${v}`);
  return v;
}

/** A typed array of one kind (ids as an Int32Array, a mask as a Uint8Array). */
export function checkTypedArray<T extends ArrayBufferView>(what: string, v: unknown, Ctor: new (n: number) => T): asserts v is T {
  if (!(v instanceof Ctor)) throw new TypeError(`${what} must be an ${Ctor.name}, got ${given(v)}`);
}

/** A finite number option (learning rates, probabilities). */
export function checkNumber(what: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    if (typeof v !== 'number') throw new TypeError(`${what} must be a number in [${min}, ${max}], got ${given(v)}`);
    throw new RangeError(`${what} must be a number in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/** What the checks need of a tensor (Tensor implements it; kept structural to avoid an import cycle). */
export interface Checked {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly device: string;
  readonly backend: Backend;
}

export function checkShape(op: string, name: string, t: Checked, expected: Shape): void {
  checkTensor(op, name, t);
  if (!sameShape(t.shape, expected)) {
    throw new RangeError(`${op}: ${name} has the wrong shape: expected ${formatShape(expected)}, got ${formatShape(t.shape)}`);
  }
}

export function checkRank(op: string, name: string, t: Checked, rank: number, what: string): void {
  checkTensor(op, name, t);
  if (t.shape.length !== rank) {
    throw new RangeError(`${op}: ${name} must be ${what} (rank ${rank}), got shape ${formatShape(t.shape)}`);
  }
}

export function checkFloat(op: string, name: string, t: Checked): void {
  checkTensor(op, name, t);
  if (t.dtype === 'int32') throw new TypeError(`${op}: ${name} must be a float tensor, got dtype int32`);
}

/**
 * All named tensors (nulls skipped) on one device with one dtype; `indexNames` are int32 index
 * tensors that must share the device but not the dtype. Returns the common backend.
 */
export function checkSameDevice(op: string, tensors: Record<string, Checked | null | undefined>, indexNames: readonly string[] = []): Backend {
  let first: [string, Checked] | undefined;
  let firstFloat: [string, Checked] | undefined;
  for (const [name, t] of Object.entries(tensors)) {
    if (t === null || t === undefined) continue;
    checkTensor(op, name, t);
    if (!first) first = [name, t];
    else if (t.device !== first[1].device) {
      throw new Error(`${op}: device mismatch: ${first[0]} is on '${first[1].device}' but ${name} is on '${t.device}'`);
    }
    if (indexNames.includes(name)) {
      if (t.dtype !== 'int32') throw new TypeError(`${op}: ${name} must be int32, got dtype ${t.dtype}`);
      continue;
    }
    if (!firstFloat) firstFloat = [name, t];
    else if (t.dtype !== firstFloat[1].dtype) {
      throw new TypeError(`${op}: dtype mismatch: ${firstFloat[0]} is ${firstFloat[1].dtype} but ${name} is ${t.dtype}`);
    }
  }
  if (!first) throw new TypeError(`${op}: no tensor given (${Object.keys(tensors).join(', ')} are all missing)`);
  return first[1].backend;
}
