// Cross-backend comparison helpers for the op tests (test/<op>.test.ts): the same host inputs on ref and on
// a native backend, outputs compared with |got - ref| ≤ atol + rtol·|ref| (rtol = 1e-4, atol = 1e-5 · the
// largest |ref| of that output, at least 1) or bitwise, mismatches of a sweep counted and the first few
// reported. Sizes in the op tests stay small: the emulator runs ~0.5 GFLOP/s.
import type test from 'tape';
import type { Backend, Storage, TypedArray } from '../src/backend.js';
import { refBackend as refBe } from '../src/cpu/index.js';
import { RngStream } from '../src/rng.js';


const RTOL = 1e-4;
const ATOL_SCALE = 1e-5;

export type Host = Float32Array | Int32Array;
export type Stores = Record<string, Storage>;

export function uniform(n: number, rng: RngStream, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.next();
  return a;
}

export function nans(n: number): Float32Array {
  return new Float32Array(n).fill(NaN);
}

/**
 * Uploads `inputs` to `be`, runs `fn` on the storages, downloads `outs`, frees everything. The same
 * host inputs go to both backends, so any difference is the kernel's.
 */
export function runOn(be: Backend, inputs: Record<string, Host>, fn: (s: Stores) => void, outs: string[]): Record<string, TypedArray> {
  const s: Stores = {};
  for (const k in inputs) s[k] = be.upload(inputs[k]);
  try {
    fn(s);
    const r: Record<string, TypedArray> = {};
    for (const k of outs) r[k] = be.download(s[k]);
    return r;
  } finally {
    for (const k in s) be.free(s[k]);
  }
}

/** Worst |got - ref| / (atol + rtol·|ref|) over the elements (≤ 1 passes; NaN in got or ref fails). */
export function worstRatio(got: ArrayLike<number>, ref: ArrayLike<number>): { ratio: number; at: number } {
  let scale = 1;
  for (let i = 0; i < ref.length; i++) if (Math.abs(ref[i]) > scale) scale = Math.abs(ref[i]);
  const atol = ATOL_SCALE * scale;
  let ratio = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]) / (atol + RTOL * Math.abs(ref[i]));
    if (!(e <= ratio)) { ratio = Number.isNaN(e) ? Infinity : e; at = i; }
  }
  return { ratio, at };
}

/**
 * Counts mismatches over a sweep and reports the first few in detail, so that a sweep of hundreds of
 * cases is a handful of assertions.
 */
export class Sweep {
  cases = 0;
  bad = 0;
  constructor(private t: test.Test, private what: string) {}
  close(label: string, name: string, got: TypedArray, ref: TypedArray): void {
    this.cases++;
    if (got.length !== ref.length) { this.report(`${label} ${name}: length ${got.length} vs ${ref.length}`); return; }
    const { ratio, at } = worstRatio(got, ref);
    if (!(ratio <= 1)) this.report(`${label} ${name}[${at}]: got ${got[at]}, ref ${ref[at]} (error ratio ${ratio.toPrecision(3)})`);
  }
  exact(label: string, name: string, got: TypedArray, ref: TypedArray): void {
    this.cases++;
    const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
    const b = new Uint32Array(ref.buffer, ref.byteOffset, ref.length);
    if (a.length !== b.length) { this.report(`${label} ${name}: length ${a.length} vs ${b.length}`); return; }
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) { this.report(`${label} ${name}[${i}]: got ${got[i]}, ref ${ref[i]} (not bitwise equal)`); return; }
    }
  }
  private report(msg: string): void {
    this.bad++;
    if (this.bad <= 4) this.t.fail(msg);
  }
  done(): void {
    this.t.equal(this.bad, 0, `${this.what}: ${this.cases - this.bad}/${this.cases} comparisons within tolerance`);
  }
}

/** Runs fn on ref and on `be` with the same inputs and compares the outputs (close or exact). */
export function twin(
  sw: Sweep, be: Backend, label: string, inputs: Record<string, Host>, fn: (b: Backend, s: Stores) => void,
  outs: string[], exact: string[] = [],
): void {
  const ref = runOn(refBe, inputs, (s) => fn(refBe, s), [...outs, ...exact]);
  const got = runOn(be, inputs, (s) => fn(be, s), [...outs, ...exact]);
  for (const k of outs) sw.close(label, k, got[k], ref[k]);
  for (const k of exact) sw.exact(label, k, got[k], ref[k]);
}
