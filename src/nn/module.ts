// Module: the base class of every layer, PyTorch-style. Holds named parameters and submodules in
// registration order; namedParameters() yields own parameters first, then each submodule's with a dotted
// prefix (embedding.weight, lstm.weight_ih_l0, decoder.bias, ...). stateDict()/loadStateDict() use those
// names; loadStateDict checks every key and shape before copying anything.
import type { DType, DeviceName, TypedArray } from '../backend.js';
import { RngStream } from '../rng.js';
import { Tensor, hostArray, keep, nextDefaultSeed, randomValues, noGrad } from '../tensor.js';
import { checkString, checkTensor, formatShape, given, sameShape, shapeSize } from '../args.js';
import { defaultDevice } from '../device.js';
import { checkAllocation } from '../device_memory.js';

/** Options every module takes for where its parameters live and how they are initialised. */
export interface ModuleOptions {
  /** default: defaultDevice() */
  device?: DeviceName;
  /** default float32 (float64 on ref for gradient checks) */
  dtype?: DType;
  /** uint32 seed of the host stream that initialises the weights; default: a process-wide stream */
  seed?: number;
}

export type StateDictValue = Tensor | ArrayLike<number>;

export abstract class Module {
  /** dropout and similar behave differently in training; see train() / eval() */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly modules = new Map<string, Module>();

  /** Adds a parameter under `name` (it becomes a leaf requiring grad that tidy() never disposes). */
  registerParameter(name: string, t: Tensor): Tensor {
    checkString('registerParameter: name', name);
    checkTensor('registerParameter', `'${name}'`, t);
    if (this.params.has(name) || this.modules.has(name)) throw new Error(`registerParameter: '${name}' is already registered`);
    if (t.dtype === 'int32') throw new TypeError(`registerParameter: '${name}' must be a float tensor`);
    keep(t);
    t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  /** Adds a submodule under `name`; its parameters appear as `name.<param>`. */
  registerModule<M extends Module>(name: string, m: M): M {
    checkString('registerModule: name', name);
    if (this.params.has(name) || this.modules.has(name)) throw new Error(`registerModule: '${name}' is already registered`);
    if (!(m instanceof Module)) throw new TypeError(`registerModule: '${name}' is not a Module`);
    this.modules.set(name, m);
    return m;
  }

  /** the parameter registered under `name` on this module */
  protected param(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`${this.constructor.name}: no parameter '${name}'`);
    return t;
  }

  /** Creates and registers a parameter initialised from host values (drawn from rng by the caller). */
  protected createParameter(name: string, shape: readonly number[], values: ArrayLike<number>, opts: ModuleOptions): Tensor {
    return this.registerParameter(name, Tensor.from(values, shape, { device: opts.device, dtype: opts.dtype ?? 'float32' }));
  }

  /**
   * Refuses, before any parameter exists, parameters of `elements` values in all (the largest `largest`)
   * that cannot fit on the device: the resident values plus the host copies made while initialising the largest.
   */
  protected static checkParameterMemory(what: string, elements: number, largest: number, opts: ModuleOptions): void {
    const bytes = elements * (opts.dtype === 'float64' ? 8 : 4) + largest * 12;
    checkAllocation(opts.device ?? defaultDevice(), bytes, `${what} with ${elements} parameters`);
  }

  /** Creates a parameter U(low, high) from the stream (PyTorch's init for LSTM and Linear). */
  protected createUniform(name: string, shape: readonly number[], bound: number, rng: RngStream, opts: ModuleOptions): Tensor {
    return this.createParameter(name, shape, randomValues(rng, shapeSize(shape), { low: -bound, high: bound }), opts);
  }

  /** Creates a parameter N(0, 1) from the stream (PyTorch's init for Embedding). */
  protected createNormal(name: string, shape: readonly number[], rng: RngStream, opts: ModuleOptions): Tensor {
    return this.createParameter(name, shape, randomValues(rng, shapeSize(shape), 'normal'), opts);
  }

  /** the host stream a module initialises its weights from */
  protected static initStream(opts: ModuleOptions): RngStream {
    const seed = opts.seed ?? nextDefaultSeed();
    if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${given(seed)}`);
    return new RngStream(seed);
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.params) out.push([prefix + name, t]);
    for (const [name, m] of this.modules) out.push(...m.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** direct submodules by name */
  children(): [string, Module][] {
    return [...this.modules];
  }

  /** every parameter under its dotted name, as views sharing the parameters' storage */
  stateDict(): Record<string, Tensor> {
    const d: Record<string, Tensor> = {};
    for (const [name, t] of this.namedParameters()) d[name] = t.detach();
    return d;
  }

  /**
   * Copies values into the parameters. Every key must be present, none may be unknown, and each value
   * (a Tensor, a number array or a typed array, row-major) must have the parameter's shape (arrays: its
   * element count). Nothing is copied unless everything matches.
   */
  loadStateDict(d: Record<string, StateDictValue>): void {
    if (d === null || typeof d !== 'object') throw new TypeError('loadStateDict: expected an object of name -> Tensor or array');
    const named = this.namedParameters();
    const expected = new Map(named);
    const unknown = Object.keys(d).filter((k) => !expected.has(k));
    if (unknown.length > 0) {
      throw new Error(`loadStateDict: unexpected key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (expected ${named.map(([k]) => `'${k}'`).join(', ')})`);
    }
    const missing = named.filter(([k]) => !(k in d)).map(([k]) => k);
    if (missing.length > 0) {
      throw new Error(`loadStateDict: missing key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')}`);
    }
    for (const [k, p] of named) {
      const v = d[k];
      if (v instanceof Tensor) {
        v._live(`loadStateDict: '${k}'`);
        if (!sameShape(v.shape, p.shape)) {
          throw new RangeError(`loadStateDict: '${k}' has the wrong shape: expected ${formatShape(p.shape)}, got ${formatShape(v.shape)}`);
        }
        if (v.dtype === 'int32') throw new TypeError(`loadStateDict: '${k}' must be a float tensor, got int32`);
      } else if (v !== null && typeof v === 'object' && typeof (v as ArrayLike<number>).length === 'number') {
        if (v.length !== p.size) {
          throw new RangeError(`loadStateDict: '${k}' has the wrong size: expected ${p.size} elements (shape ${formatShape(p.shape)}), got ${v.length}`);
        }
      } else {
        throw new TypeError(`loadStateDict: '${k}' must be a Tensor, a number array or a typed array`);
      }
    }
    for (const [k, p] of named) {
      const v = d[k];
      const be = p.backend;
      if (v instanceof Tensor && v.backend === be && v.dtype === p.dtype) {
        if (v._storage !== p._storage) be.copy(v._storage, p._storage);
        continue;
      }
      const host: TypedArray = hostArray(`loadStateDict: '${k}'`, v instanceof Tensor ? v.toArray() : v, p.dtype);
      const tmp = be.upload(host);
      be.copy(tmp, p._storage);
      be.free(tmp);
    }
  }

  /** training mode on (default) or off, recursively */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.modules.values()) m.train(mode);
    return this;
  }

  /** evaluation mode: dropout off */
  eval(): this {
    return this.train(false);
  }

  /** Moves every parameter to a device in place (create optimizers after moving). */
  to(device: DeviceName): this {
    noGrad(() => {
      for (const t of this.parameters()) t._moveTo(device);
    });
    return this;
  }

  /** the device of the parameters (default device when the module has none) */
  get device(): DeviceName | undefined {
    return this.parameters()[0]?.device;
  }

  get dtype(): DType | undefined {
    return this.parameters()[0]?.dtype;
  }

  /** Frees every parameter (and its grad); the module cannot be used afterwards. */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
  }
}
