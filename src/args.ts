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

/** Validates a user-given shape: an array of non-negative integers. Returns a frozen copy. */
export function checkShapeArg(what: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: shape must be an array of integers, got ${String(shape)}`);
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
    throw new RangeError(`${what} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** A finite number option (learning rates, probabilities). */
export function checkNumber(what: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new RangeError(`${what} must be a number in [${min}, ${max}], got ${String(v)}`);
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
  if (!sameShape(t.shape, expected)) {
    throw new RangeError(`${op}: ${name} has the wrong shape: expected ${formatShape(expected)}, got ${formatShape(t.shape)}`);
  }
}

export function checkRank(op: string, name: string, t: Checked, rank: number, what: string): void {
  if (t.shape.length !== rank) {
    throw new RangeError(`${op}: ${name} must be ${what} (rank ${rank}), got shape ${formatShape(t.shape)}`);
  }
}

export function checkFloat(op: string, name: string, t: Checked): void {
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
    if (!t) continue;
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
  if (!first) throw new Error(`${op}: no tensor given`);
  return first[1].backend;
}
