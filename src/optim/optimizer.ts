// Optimizer: what Adam and SGD share — the checked parameter list, a settable learning rate (for
// schedules), zeroGrad(), and the per-parameter state storages they keep on the parameters' device,
// saved as plain number arrays so that --resume restores them exactly.
import type { Backend, Storage } from '../backend.js';
import { Tensor, hostArray } from '../tensor.js';
import { checkNumber, formatShape, given } from '../args.js';

/** One state buffer per parameter (a moment or momentum), on the parameter's backend. */
export class ParamBuffers {
  private readonly storages: (Storage | null)[];
  private readonly backends: (Backend | null)[];

  constructor(private readonly what: string, private readonly params: readonly Tensor[]) {
    this.storages = params.map(() => null);
    this.backends = params.map(() => null);
  }

  /** the buffer of parameter i, zero-filled when new; an Error when the parameter moved device */
  get(i: number): Storage {
    const p = this.params[i];
    const s = this.storages[i];
    if (s) {
      if (this.backends[i] !== p.backend) {
        throw new Error(`${this.what}: parameter ${i} moved from '${this.backends[i]!.name}' to '${p.device}' after the optimizer was created; create the optimizer after module.to()`);
      }
      return s;
    }
    this.backends[i] = p.backend;
    return (this.storages[i] = p.backend.alloc(p.dtype, p.size));
  }

  has(i: number): boolean {
    return this.storages[i] !== null;
  }

  /** every buffer as a number array (zeros where none was created yet) */
  toArrays(): number[][] {
    return this.params.map((p, i) => {
      const s = this.storages[i];
      return s ? Array.from(this.backends[i]!.download(s)) : new Array<number>(p.size).fill(0);
    });
  }

  /** Replaces every buffer with the given arrays (checked: one per parameter, each of its size). */
  load(key: string, arrays: unknown): void {
    checkArrays(this.what, key, arrays, this.params);
    this.dispose();
    (arrays as ArrayLike<number>[]).forEach((a, i) => {
      const p = this.params[i];
      this.backends[i] = p.backend;
      this.storages[i] = p.backend.upload(hostArray(`${this.what}.loadStateDict: ${key}[${i}]`, a, p.dtype));
    });
  }

  /** frees parameter i's buffer (it is recreated, zeroed, when next needed) */
  drop(i: number): void {
    const s = this.storages[i];
    if (s) this.backends[i]!.free(s);
    this.storages[i] = null;
    this.backends[i] = null;
  }

  dispose(): void {
    this.storages.forEach((_, i) => this.drop(i));
  }
}

function checkArrays(what: string, key: string, arrays: unknown, params: readonly Tensor[]): void {
  if (!Array.isArray(arrays) || arrays.length !== params.length) {
    throw new RangeError(`${what}.loadStateDict: '${key}' must be an array of ${params.length} arrays (one per parameter), got ${Array.isArray(arrays) ? arrays.length : typeof arrays}`);
  }
  arrays.forEach((a: unknown, i) => {
    const n = a !== null && typeof a === 'object' ? (a as ArrayLike<number>).length : undefined;
    if (n !== params[i].size) {
      throw new RangeError(`${what}.loadStateDict: '${key}'[${i}] has ${n ?? 'no'} elements but parameter ${i} has shape ${formatShape(params[i].shape)} (${params[i].size})`);
    }
  });
}

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  private _lr: number;

  constructor(protected readonly what: string, params: Iterable<Tensor>, lr: number) {
    if (typeof what !== 'string') throw new TypeError(`Optimizer: the base class takes a name first (create an Adam or SGD), got ${given(what)}`);
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`${what}: params must be an array of Tensors (e.g. model.parameters()), got ${given(params)}`);
    }
    const list = [...params];
    if (list.length === 0) throw new RangeError(`${what}: got an empty parameter list`);
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${what}: params[${i}] must be a Tensor, got ${given(p)}`);
      if (!p.isLeaf || !p.requiresGrad) throw new TypeError(`${what}: params[${i}] must be a leaf tensor with requiresGrad`);
      if (list.indexOf(p) !== i) throw new Error(`${what}: params[${i}] appears more than once`);
    });
    this.params = list;
    this._lr = checkNumber(`${what}: lr`, lr, 0);
  }

  get lr(): number {
    return this._lr;
  }

  set lr(v: number) {
    this._lr = checkNumber(`${this.what}: lr`, v, 0);
  }

  /** Zeroes every parameter's gradient in place (storages are kept for the next backward). */
  zeroGrad(): void {
    for (const p of this.params) {
      const g = p.grad;
      if (g) p.backend.fill({ n: g._storage.length, x: g._storage, value: 0 });
    }
  }

  abstract step(): void;
  abstract dispose(): void;
}
