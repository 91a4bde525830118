// The one argument checker: runs a kernel call against its declaration in the kernel spec
// (src/spec/kernels.mjs) before any backend touches it. ref, emu, cuda (and any later backend) build their
// kernel methods with checkedKernels(), so every backend refuses the same calls with the same error type
// and the same message after its name ("emu.gemm: ..." / "ref.gemm: ..."). Checks, in this order:
//   1. scalars in spec order: numbers / booleans, integers range-checked before they are narrowed to
//      int32 / uint32, float bounds;
//   2. storages in spec order: present unless optional, a live storage of this backend, dtype (one float
//      dtype per call, supported by the backend), at least the elements of the shape, under 2^31 elements;
//   3. aliasing the spec forbids;
//   4. index storages: every value in [0, bound) (or the ignore value), through the backend's
//      firstBadIndex (a host scan on ref; on the native backends a value summary kept per storage, with a
//      download and scan only when the summary cannot vouch for the values).
import type { DType, KernelArgs, KernelName, Kernels, Storage } from '../backend.js';
import { KERNELS, MAX_ELEMENTS } from './kernels.mjs';

/** One argument's declaration, as the checker and the glue generator read it. */
export interface ArgDecl {
  readonly name: string;
  readonly type?: 'size' | 'i32' | 'u32' | 'f32' | 'bool';
  readonly role?: 'in' | 'out' | 'inout' | 'acc';
  readonly dtype?: 'float' | 'int32';
  readonly shape?: readonly string[];
  readonly optional?: boolean;
  readonly requiredWhen?: string;
  readonly index?: string;
  readonly ignore?: string;
  readonly values?: string;
  readonly noAlias?: readonly string[];
  readonly transposedBy?: string;
  readonly min?: number;
  readonly max?: number;
  readonly nan?: boolean;
  readonly gt?: number;
  readonly le?: number;
  readonly upTo?: string;
  readonly doc?: string;
}

export interface KernelDecl {
  readonly file: string;
  readonly doc: readonly string[];
  readonly args: readonly ArgDecl[];
  readonly workspace?: { readonly floats: string; readonly of: readonly string[]; readonly doc: string };
}

/** The spec, read generically (the literal types live in backend.ts's KernelArgs). */
export const SPEC = KERNELS as unknown as Readonly<Record<KernelName, KernelDecl>>;
export const KERNEL_NAMES = Object.keys(SPEC) as KernelName[];

/** What the checker needs of a backend. */
export interface KernelHost {
  readonly name: string;
  readonly dtypes: readonly DType[];
  /** 'live' for a storage of this backend that was not freed */
  storageState(s: unknown): 'live' | 'freed' | 'foreign';
  /** the first position p < n with s[p] outside [0, bound) and not equal to ignore, with its value, or null */
  firstBadIndex(s: Storage, n: number, bound: number, ignore: number | null): { at: number; value: number } | null;
}

/** The kernel's implementation on one backend, called with arguments the checker has accepted. */
export type KernelImpls = { [K in KernelName]: (a: KernelArgs<K>) => void };

// ------------------------------------------------------------------------------------------ dims

/** A shape dimension: `k·name + add` (name may be absent: a constant). */
export interface Dim { text: string; k: number; name: string | null; add: number }

export function parseDim(text: string): Dim {
  const m = /^(\d*)([A-Za-z]\w*)?(?:\+(\d+))?$/.exec(text);
  if (!m || (m[1] === '' && m[2] === undefined)) throw new Error(`kernel spec: bad dimension ${JSON.stringify(text)}`);
  if (m[2] === undefined) return { text, k: 0, name: null, add: Number(m[1]) };
  return { text, k: m[1] === '' ? 1 : Number(m[1]), name: m[2], add: m[3] === undefined ? 0 : Number(m[3]) };
}

export function dimValue(d: Dim, a: Record<string, unknown>): number {
  return d.name === null ? d.add : d.k * (a[d.name] as number) + d.add;
}

/** "2^31" for powers of two from 2^10 up, else the number. */
function bound(v: number): string {
  const e = Math.log2(v);
  return Number.isInteger(e) && e >= 10 ? `2^${e}` : String(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

// ------------------------------------------------------------------------------------------ plans

interface StoragePlan { decl: ArgDecl; dims: Dim[] }
interface Plan { scalars: ArgDecl[]; storages: StoragePlan[] }

const PLANS = new Map<string, Plan>();
for (const k of KERNEL_NAMES) {
  const args = SPEC[k].args;
  PLANS.set(k, {
    scalars: args.filter((x) => x.role === undefined),
    storages: args.filter((x) => x.role !== undefined).map((decl) => ({ decl, dims: (decl.shape ?? []).map(parseDim) })),
  });
}

// ---------------------------------------------------------------------------------------- checker

type ErrorCtor = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

/**
 * Throws the first problem of a call of `kernel` on `host`, as `<backend>.<kernel>: <what>`. Returns true
 * when the call writes nothing (every storage it writes has 0 elements): the backends then skip it, so
 * that a legal call such as sumRows({M: 2^31-1, N: 0}) is not a loop of 2^31 empty iterations.
 */
export function checkKernelCall(host: KernelHost, kernel: KernelName, args: unknown): boolean {
  const fail = (msg: string, Ctor: ErrorCtor): never => { throw new Ctor(`${host.name}.${kernel}: ${msg}`); };
  if (typeof args !== 'object' || args === null) fail(`expected an argument object, got ${describe(args)}`, TypeError);
  const a = args as Record<string, unknown>;
  const plan = PLANS.get(kernel)!;

  for (const d of plan.scalars) checkScalar(d, a, fail);

  let floatName: string | null = null, floatDtype: DType | null = null;
  let writes = false;
  for (const { decl, dims } of plan.storages) {
    const s = a[decl.name];
    if (s === null || s === undefined) {
      if (!decl.optional) fail(`'${decl.name}' is required, got ${describe(s)}`, TypeError);
      if (decl.requiredWhen !== undefined && a[decl.requiredWhen] !== 0) {
        fail(`'${decl.name}' is null but ${decl.requiredWhen} is ${String(a[decl.requiredWhen])}; a non-zero ${decl.requiredWhen} needs it`, TypeError);
      }
      continue;
    }
    const state = host.storageState(s);
    if (state === 'foreign') fail(`'${decl.name}' is not a storage of the ${host.name} backend (got ${describe(s)})`, TypeError);
    if (state === 'freed') fail(`'${decl.name}' was freed (use after dispose/free)`, Error);
    const st = s as Storage;
    if (decl.dtype === 'int32') {
      if (st.dtype !== 'int32') fail(`'${decl.name}' must be int32, got ${st.dtype}`, TypeError);
    } else {
      if (st.dtype === 'int32') fail(`'${decl.name}' must be a float storage, got int32`, TypeError);
      if (!host.dtypes.includes(st.dtype)) fail(`'${decl.name}' is ${st.dtype}, which ${host.name} does not support (ref does)`, TypeError);
      if (floatDtype === null) { floatName = decl.name; floatDtype = st.dtype; } else if (st.dtype !== floatDtype) {
        fail(`'${decl.name}' is ${st.dtype} but '${floatName}' is ${floatDtype}; the float storages of one call share one dtype`, TypeError);
      }
    }
    const held = decl.transposedBy !== undefined && a[decl.transposedBy] === true ? [...dims].reverse() : dims;
    let n = 1;
    for (const d of held) n *= dimValue(d, a);
    const shape = () => `[${held.map((d) => (d.name === null ? d.text : `${d.text}=${dimValue(d, a)}`)).join(', ')}]`;
    if (n > MAX_ELEMENTS) fail(`'${decl.name}' shape ${shape()} has ${n} elements, over 2^31-1`, RangeError);
    if (st.length < n) fail(`'${decl.name}' has ${st.length} elements but its shape ${shape()} needs ${n}`, RangeError);
    if (decl.role !== 'in' && n > 0) writes = true;
  }

  for (const { decl } of plan.storages) {
    for (const other of decl.noAlias ?? []) {
      if (a[decl.name] !== null && a[decl.name] !== undefined && a[decl.name] === a[other]) fail(`'${decl.name}' must not alias '${other}'`, Error);
    }
  }

  for (const { decl, dims } of plan.storages) {
    if (decl.index === undefined) continue;
    let n = 1;
    for (const d of dims) n *= dimValue(d, a);
    const limit = a[decl.index] as number;
    const ignore = decl.ignore === undefined ? null : (a[decl.ignore] as number);
    const bad = host.firstBadIndex(a[decl.name] as Storage, n, limit, ignore);
    if (bad !== null) {
      const also = ignore === null ? '' : ` and is not ${decl.ignore} (${ignore})`;
      fail(`${decl.name}[${bad.at}] = ${bad.value} is outside [0, ${limit})${also}`, RangeError);
    }
  }
  return !writes;
}

function checkScalar(d: ArgDecl, a: Record<string, unknown>, fail: (msg: string, Ctor: ErrorCtor) => never): void {
  const v = a[d.name];
  if (d.type === 'bool') {
    if (typeof v !== 'boolean') fail(`${d.name} must be a boolean, got ${describe(v)}`, TypeError);
    return;
  }
  if (typeof v !== 'number') fail(`${d.name} must be a number, got ${describe(v)}`, TypeError);
  const x = v as number;
  switch (d.type) {
    case 'size': {
      const lo = d.min ?? 0;
      if (!Number.isInteger(x) || x < lo || x > MAX_ELEMENTS) fail(`${d.name} must be an integer in [${lo}, 2^31), got ${x}`, RangeError);
      if (d.upTo !== undefined) {
        const [of, minus] = d.upTo.split('-');
        const hi = (a[of] as number) - (a[minus] as number);
        if (x > hi) fail(`${d.name} must be at most ${d.upTo} = ${hi}, got ${x}`, RangeError);
      }
      return;
    }
    case 'i32':
      if (!Number.isInteger(x) || x < -0x80000000 || x > 0x7fffffff) fail(`${d.name} must be an integer in [-2^31, 2^31), got ${x}`, RangeError);
      return;
    case 'u32':
      if (d.max !== undefined) {
        if (!Number.isInteger(x) || x < 0 || x > d.max) fail(`${d.name} must be an integer in [0, ${bound(d.max)}], got ${x}`, RangeError);
      } else if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) {
        fail(`${d.name} must be an integer in [0, 2^32), got ${x}`, RangeError);
      }
      return;
    case 'f32':
      if (d.nan === false && Number.isNaN(x)) fail(`${d.name} must be a number, got NaN`, RangeError);
      if ((d.gt !== undefined || d.le !== undefined) && !((d.gt === undefined || x > d.gt) && (d.le === undefined || x <= d.le))) {
        fail(`${d.name} must be in (${d.gt ?? '-inf'}, ${d.le ?? 'inf'}], got ${x}`, RangeError);
      }
      return;
    default:
      throw new Error(`kernel spec: ${d.name} has no type`);
  }
}

/** The kernel methods of a backend: each checks its call, then runs the backend's implementation. */
export function checkedKernels(host: KernelHost, impls: KernelImpls): Kernels {
  const out: Record<string, (a: unknown) => void> = {};
  for (const k of KERNEL_NAMES) {
    const impl = impls[k] as (a: unknown) => void;
    out[k] = (a: unknown) => {
      if (!checkKernelCall(host, k, a)) impl(a);
    };
  }
  return out as unknown as Kernels;
}

/** First position p < n of a host int32 array outside [0, bound) and not `ignore`, or null. */
export function scanIndices(values: Int32Array, n: number, limit: number, ignore: number | null): { at: number; value: number } | null {
  for (let p = 0; p < n; p++) {
    const v = values[p];
    if ((v < 0 || v >= limit) && v !== ignore) return { at: p, value: v };
  }
  return null;
}
