// Tensor handle and the autograd tape.
//
// A Tensor is a shape, a dtype, a device and a reference to a backend Storage (a `Buf`, reference counted
// so that views such as reshape/detach and the tape's saved buffers share one storage). Ops (src/ops/)
// compute on storages through the Backend and record one Node per call with `recordOp`: its inputs,
// outputs, the buffers it saved and a backward closure. `backward()` walks the nodes reachable from the
// root in reverse topological order; leaf gradients accumulate (+=) into `t.grad` until zeroed.
//
// Lifetimes: a Node lives while one of its outputs or a Node consuming them is alive (counted in `users`);
// it keeps what it saved alive even when the user disposes the tensors (so `tidy(() => loss)` followed by
// `loss.backward()` works). `backward()` frees every saved buffer of the graph it walked unless
// `retainGraph` is set; walking a freed graph again is an Error. `tidy(fn)` disposes every tensor created
// inside except those reachable from what fn returns; `noGrad(fn)` records nothing.
// The method sugar (t.add, t.mul, t.sum, t.reshape, t.to, ...) is attached by src/ops/methods.ts, so
// that this file imports no op (nothing here imports upward).
import { checkBuffer } from './device_memory.js';
import type { Backend, DType, DeviceName, Storage, TypedArray } from './backend.js';
import { defaultDevice, getBackend } from './device.js';
import { RngStream } from './rng.js';
import { checkFunction, checkShapeArg, checkTensor, formatShape, given, sameShape, shapeSize, checkSameDevice, TENSOR_BRAND, type Shape } from './args.js';

// ---------------------------------------------------------------- buffers

/** A reference-counted backend storage: tensors and tape nodes sharing it each hold one reference. */
export class Buf {
  private refs = 1;
  private s: Storage | null;
  /** For int32 buffers uploaded from the host (nothing writes them afterwards): the uploaded values,
   *  so that reading them on the host (crossEntropy's count of non-ignored rows) needs no download. */
  hostCopy: Int32Array | null = null;
  constructor(readonly backend: Backend, storage: Storage) {
    this.s = storage;
  }
  get storage(): Storage {
    if (!this.s) throw new Error('internal error: a freed buffer was used');
    return this.s;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0 && this.s) {
      this.backend.free(this.s);
      this.s = null;
    }
  }
}

// ---------------------------------------------------------------- grad mode and tidy scopes

let gradEnabled = true;
const scopes: Set<Tensor>[] = [];

/** Runs fn without recording anything on the tape; outputs do not require grad. */
export function noGrad<T>(fn: () => T): T {
  checkFunction('noGrad(fn): fn', fn);
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn and disposes every tensor created inside it, except the Tensors reachable from its result
 * (a Tensor, or arrays / plain objects / Maps holding Tensors), which move to the enclosing tidy.
 * On an exception every tensor created inside is disposed. fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  checkFunction('tidy(fn): fn', fn);
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of [...scope]) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of [...scope]) t.dispose();
    throw new TypeError('tidy(fn): fn must be synchronous (it returned a Promise)');
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept, new Set());
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of [...scope]) {
    if (kept.has(t)) {
      t._scope = parent;
      parent?.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

/** Removes a tensor from the enclosing tidy so that it survives it (like tf.keep). */
export function keep<T extends Tensor>(t: T): T {
  checkTensor('keep', 't', t);
  t._scope?.delete(t);
  t._scope = null;
  return t;
}

function collectTensors(x: unknown, out: Set<Tensor>, seen: Set<object>): void {
  if (x === null || typeof x !== 'object') return;
  if (x instanceof Tensor) {
    out.add(x);
    return;
  }
  if (seen.has(x) || ArrayBuffer.isView(x)) return;
  seen.add(x);
  if (x instanceof Map) {
    for (const v of x.values()) collectTensors(v, out, seen);
  } else if (Array.isArray(x)) {
    for (const v of x) collectTensors(v, out, seen);
  } else {
    for (const v of Object.values(x)) collectTensors(v, out, seen);
  }
}

// ---------------------------------------------------------------- tape

/** What an op's backward closure sees. Gradients are storages of the same dtype and device. */
export interface BackwardContext {
  /** gradient w.r.t. output i, or null when none reached it (read it as zeros) */
  gradOutput(i: number): Storage | null;
  /** like gradOutput, but hands its ownership to the caller (pass-through ops give it on unchanged) */
  takeGradOutput(i: number): Storage | null;
  /** whether input i is a tensor that wants a gradient */
  needsGrad(i: number): boolean;
  /** a storage to ACCUMULATE (+=) input i's gradient into (zero-filled when it is new) */
  accumulate(i: number): Storage;
  /** hands a freshly written gradient for input i to the tape, which takes ownership of it */
  give(i: number, g: Storage): void;
}

export type BackwardFn = (ctx: BackwardContext) => void;

/** @internal One recorded op call. */
export class TapeNode {
  users = 0;
  freed = false;
  constructor(
    readonly name: string,
    public inputs: (Tensor | null)[],
    public outputs: Tensor[],
    readonly backward: BackwardFn,
    private saved: Buf[],
  ) {}

  freeSaved(): void {
    if (this.freed) return;
    this.freed = true;
    for (const b of this.saved) b.release();
    this.saved = [];
  }

  /** One user (an output tensor or a consuming node) is gone; at zero the node and its now unused
   *  ancestors are released. Iterative: a long sampling loop makes deep graphs. */
  dropUser(): void {
    const stack: TapeNode[] = [this];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (--n.users > 0) continue;
      n.freeSaved();
      for (const t of n.inputs) if (t?._node) stack.push(t._node);
      n.inputs = [];
      n.outputs = [];
    }
  }
}

/**
 * Records one op call on the tape when grad mode is on and an input requires grad: the outputs then
 * require grad and point at the node. `saved` are buffer references the backward needs (retained
 * input buffers or buffers the op owns); they are released here when nothing is recorded.
 */
export function recordOp(
  name: string,
  inputs: readonly (Tensor | null)[],
  outputs: readonly Tensor[],
  backward: BackwardFn,
  saved: Buf[] = [],
): void {
  if (!gradEnabled || !inputs.some((t) => t !== null && t.requiresGrad)) {
    for (const b of saved) b.release();
    return;
  }
  const node = new TapeNode(name, [...inputs], [...outputs], backward, saved);
  for (const t of inputs) if (t?._node) t._node.users++;
  outputs.forEach((o, i) => {
    o._node = node;
    o._outIndex = i;
    o._requiresGrad = true;
    node.users++;
  });
}

function runBackward(root: Tensor, grad: Tensor | undefined, retainGraph: boolean): void {
  root._live('backward');
  if (!root.requiresGrad) {
    throw new Error('backward(): this tensor does not require grad (it was computed from tensors without requiresGrad, inside noGrad, or detached)');
  }
  const be = root.backend;
  let g0: Storage;
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new Error(`backward(): a gradient can be created implicitly only for a single-element tensor; this one has shape ${formatShape(root.shape)}, so pass backward(grad) with a grad of that shape`);
    }
    g0 = be.alloc(root.dtype, 1);
    be.fill({ n: g0.length, x: g0, value: 1 });
  } else {
    if (!(grad instanceof Tensor)) throw new TypeError(`backward(grad): grad must be a Tensor, got ${given(grad)}`);
    grad._live('backward(grad)');
    checkSameDevice('backward', { tensor: root, grad });
    if (!sameShape(grad.shape, root.shape)) {
      throw new RangeError(`backward(grad): grad has the wrong shape: expected ${formatShape(root.shape)}, got ${formatShape(grad.shape)}`);
    }
    g0 = be.alloc(root.dtype, root.size);
    be.copy(grad._storage, g0);
  }

  if (!root._node) {
    giveToLeaf(root, g0);
    return;
  }

  // reverse post-order of a depth-first walk = inputs after every node that consumes them
  const order: TapeNode[] = [];
  const visited = new Set<TapeNode>([root._node]);
  const stack: [TapeNode, number][] = [[root._node, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const n = top[0];
    if (top[1] < n.inputs.length) {
      const t = n.inputs[top[1]++];
      const m = t?._node;
      if (t && t.requiresGrad && m && !visited.has(m)) {
        visited.add(m);
        stack.push([m, 0]);
      }
    } else {
      stack.pop();
      order.push(n);
    }
  }
  for (const n of order) {
    if (n.freed) {
      be.free(g0);
      throw new Error(`backward(): the graph through op '${n.name}' was already freed by an earlier backward() (or its tensors were disposed); call backward(grad, { retainGraph: true }) the first time to run backward twice`);
    }
  }

  const grads = new Map<Tensor, Storage>([[root, g0]]);
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k];
      const outs = node.outputs;
      if (outs.some((o) => grads.has(o))) {
        node.backward({
          gradOutput: (i) => grads.get(outs[i]) ?? null,
          takeGradOutput: (i) => {
            const g = grads.get(outs[i]) ?? null;
            grads.delete(outs[i]);
            return g;
          },
          needsGrad: (i) => {
            const t = node.inputs[i];
            return !!t && t.requiresGrad;
          },
          accumulate: (i) => accumulateInto(grads, inputOf(node, i)),
          give: (i, g) => give(grads, inputOf(node, i), g),
        });
      }
      for (const o of outs) {
        const g = grads.get(o);
        if (g) {
          o.backend.free(g);
          grads.delete(o);
        }
      }
      if (!retainGraph) node.freeSaved();
    }
  } finally {
    for (const [t, g] of grads) t.backend.free(g);
  }
}

function inputOf(node: TapeNode, i: number): Tensor {
  const t = node.inputs[i];
  if (!t || !t.requiresGrad) throw new Error(`internal error: op '${node.name}' gave a gradient to input ${i}, which does not require grad`);
  return t;
}

function leafGrad(t: Tensor): Tensor {
  if (!t._grad) {
    const be = t.backend;
    t._grad = Tensor._wrap(new Buf(be, be.alloc(t.dtype, t.size)), t.shape, false, false);
  }
  return t._grad;
}

function accumulateInto(grads: Map<Tensor, Storage>, t: Tensor): Storage {
  if (!t._node) return leafGrad(t)._storage;
  let g = grads.get(t);
  if (!g) {
    g = t.backend.alloc(t.dtype, t.size);
    grads.set(t, g);
  }
  return g;
}

function giveToLeaf(t: Tensor, g: Storage): void {
  if (!t._grad) {
    t._grad = Tensor._wrap(new Buf(t.backend, g), t.shape, false, false);
    return;
  }
  const acc = t._grad._storage;
  t.backend.axpby({ n: t.size, alpha: 1, x: acc, beta: 1, y: g, out: acc });
  t.backend.free(g);
}

function give(grads: Map<Tensor, Storage>, t: Tensor, g: Storage): void {
  if (!t._node) {
    giveToLeaf(t, g);
    return;
  }
  const acc = grads.get(t);
  if (!acc) {
    grads.set(t, g);
    return;
  }
  t.backend.axpby({ n: t.size, alpha: 1, x: acc, beta: 1, y: g, out: acc });
  t.backend.free(g);
}

// ---------------------------------------------------------------- Tensor

export interface TensorOptions {
  /** default float32 (int32 for an Int32Array given to Tensor.from) */
  dtype?: DType;
  /** default: defaultDevice() */
  device?: DeviceName;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  /** uint32 seed of the host RngStream; default: drawn from a process-wide stream */
  seed?: number;
}

const defaultSeeds = new RngStream(0x5eed);

/** A seed for a module or random tensor created without one: drawn from a fixed process-wide stream,
 *  so a program that creates the same things in the same order gets the same numbers. */
export function nextDefaultSeed(): number {
  return defaultSeeds.nextU32();
}

/** n host values from a stream: uniform in [low, high) or standard normal (weight init, random tensors) */
export function randomValues(rng: RngStream, n: number, dist: { low: number; high: number } | 'normal'): Float64Array {
  const data = new Float64Array(n);
  if (dist === 'normal') {
    for (let i = 0; i < n; i++) data[i] = rng.normal();
  } else {
    for (let i = 0; i < n; i++) data[i] = dist.low + (dist.high - dist.low) * rng.next();
  }
  return data;
}

function resolve(what: string, opts: TensorOptions | undefined, fallbackDtype: DType = 'float32'): { backend: Backend; dtype: DType } {
  const device = opts?.device ?? defaultDevice();
  const backend = getBackend(device);
  const dtype = opts?.dtype ?? fallbackDtype;
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') {
    throw new TypeError(`${what}: unknown dtype ${JSON.stringify(dtype)}; expected float32, float64 or int32`);
  }
  if (!backend.dtypes.includes(dtype)) {
    throw new TypeError(`${what}: dtype ${dtype} is not supported on device '${backend.name}' (it supports ${backend.dtypes.join(', ')})`);
  }
  if (opts?.requiresGrad && dtype === 'int32') throw new TypeError(`${what}: an int32 tensor cannot require grad`);
  return { backend, dtype };
}

/** Host data converted to a typed array of dtype; int32 data must hold integers. */
export function hostArray(what: string, data: ArrayLike<number>, dtype: DType): TypedArray {
  if (dtype === 'int32') {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new TypeError(`${what}: int32 data must hold integers, got ${v} at index ${i}`);
      }
    }
    return data instanceof Int32Array ? data : Int32Array.from(data);
  }
  if (dtype === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** @internal the backend; changes only when a module moves its parameters (_moveTo) */
  private _be: Backend;
  /** number of elements */
  readonly size: number;
  /** @internal */ _buf: Buf | null;
  /** @internal */ _requiresGrad: boolean;
  /** @internal */ _grad: Tensor | null = null;
  /** @internal the node that produced this tensor (null for leaves) */ _node: TapeNode | null = null;
  /** @internal */ _outIndex = 0;
  /** @internal the tidy scope tracking this tensor */ _scope: Set<Tensor> | null = null;

  private constructor(buf: Buf, shape: Shape, requiresGrad: boolean, track: boolean) {
    if (!(buf instanceof Buf)) throw new TypeError('new Tensor(): the constructor is internal; create tensors with Tensor.from, zeros, ones, full, randn or uniform');
    this._buf = buf;
    this._be = buf.backend;
    this.dtype = buf.storage.dtype;
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    if (this.size !== buf.storage.length) {
      throw new Error(`internal error: shape ${formatShape(shape)} does not match a storage of ${buf.storage.length} elements`);
    }
    this._requiresGrad = requiresGrad;
    if (track && scopes.length > 0) {
      this._scope = scopes[scopes.length - 1];
      this._scope.add(this);
    }
  }

  /** @internal Wraps a buffer reference (the tensor takes over the caller's reference). Untracked by
   *  tidy when track is false (gradients, parameters). */
  static _wrap(buf: Buf, shape: Shape, requiresGrad = false, track = true): Tensor {
    return new Tensor(buf, shape, requiresGrad, track);
  }

  /** @internal Wraps a storage just allocated by an op. */
  static _fromStorage(backend: Backend, s: Storage, shape: Shape): Tensor {
    return new Tensor(new Buf(backend, s), shape, false, true);
  }

  // ---- creation

  /** data: number[] or a typed array, row-major, of prod(shape) elements */
  static from(data: ArrayLike<number>, shape: readonly number[], opts?: TensorOptions): Tensor {
    const sh = checkShapeArg('Tensor.from', shape);
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`Tensor.from: data must be an array of numbers or a typed array, got ${given(data)}`);
    }
    if (data.length !== shapeSize(sh)) {
      throw new RangeError(`Tensor.from: data has ${data.length} elements but shape ${formatShape(sh)} needs ${shapeSize(sh)}`);
    }
    const { backend, dtype } = resolve('Tensor.from', opts, data instanceof Int32Array ? 'int32' : 'float32');
    const host = hostArray('Tensor.from', data, dtype);
    const buf = new Buf(backend, backend.upload(host));
    if (host instanceof Int32Array) buf.hostCopy = host === data ? host.slice() : host;
    return new Tensor(buf, sh, !!opts?.requiresGrad, true);
  }

  static zeros(shape: readonly number[], opts?: TensorOptions): Tensor {
    const sh = checkShapeArg('Tensor.zeros', shape);
    const { backend, dtype } = resolve('Tensor.zeros', opts);
    return new Tensor(new Buf(backend, backend.alloc(dtype, shapeSize(sh))), sh, !!opts?.requiresGrad, true);
  }

  static ones(shape: readonly number[], opts?: TensorOptions): Tensor {
    return Tensor.full(shape, 1, opts);
  }

  static full(shape: readonly number[], value: number, opts?: TensorOptions): Tensor {
    const sh = checkShapeArg('Tensor.full', shape);
    const { backend, dtype } = resolve('Tensor.full', opts);
    if (dtype === 'int32') {
      hostArray('Tensor.full', [value], 'int32'); // the value is checked once, the size before the host array exists
      checkBuffer(backend.name, shapeSize(sh), 4, 'int32');
      return Tensor.from(new Int32Array(shapeSize(sh)).fill(value), sh, opts);
    }
    const s = backend.alloc(dtype, shapeSize(sh));
    backend.fill({ n: s.length, x: s, value });
    return new Tensor(new Buf(backend, s), sh, !!opts?.requiresGrad, true);
  }

  /** standard normal, from a seeded host stream */
  static randn(shape: readonly number[], opts?: RandomOptions): Tensor {
    const sh = checkShapeArg('Tensor.randn', shape);
    const data = randomValues(new RngStream(opts?.seed ?? nextDefaultSeed()), shapeSize(sh), 'normal');
    return Tensor.from(data, sh, { ...opts, dtype: opts?.dtype ?? 'float32' });
  }

  /** uniform in [low, high) (default [0, 1)), from a seeded host stream */
  static uniform(shape: readonly number[], opts?: RandomOptions & { low?: number; high?: number }): Tensor {
    const sh = checkShapeArg('Tensor.uniform', shape);
    const dist = { low: opts?.low ?? 0, high: opts?.high ?? 1 };
    const data = randomValues(new RngStream(opts?.seed ?? nextDefaultSeed()), shapeSize(sh), dist);
    return Tensor.from(data, sh, { ...opts, dtype: opts?.dtype ?? 'float32' });
  }

  // ---- state

  get backend(): Backend {
    return this._be;
  }

  get device(): DeviceName {
    return this._be.name;
  }

  /** @internal Moves a leaf (a module parameter) to another backend in place, keeping its identity;
   *  its grad is dropped. */
  _moveTo(device: DeviceName): void {
    const buf = this._live('to');
    if (this._node) throw new Error('internal error: only leaf tensors can be moved in place');
    if (device === this.device) return;
    const dst = getBackend(device);
    if (!dst.dtypes.includes(this.dtype)) {
      throw new TypeError(`to('${device}'): dtype ${this.dtype} is not supported there (it supports ${dst.dtypes.join(', ')})`);
    }
    const moved = new Buf(dst, dst.upload(this.backend.download(buf.storage)));
    buf.release();
    this._buf = moved;
    this._be = dst;
    this.grad = null;
  }

  /** @internal the storage; throws after dispose() */
  get _storage(): Storage {
    return this._live('use').storage;
  }

  /** @internal throws a clear Error when the tensor was disposed */
  _live(what: string): Buf {
    if (!this._buf) throw new Error(`${what}: this tensor (shape ${formatShape(this.shape)}) was disposed`);
    return this._buf;
  }

  get disposed(): boolean {
    return this._buf === null;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(v: boolean) {
    if (this._node) throw new Error('requiresGrad can only be changed on leaf tensors (use detach())');
    if (v && this.dtype === 'int32') throw new TypeError('an int32 tensor cannot require grad');
    this._requiresGrad = !!v;
  }

  /** the accumulated gradient of a leaf tensor (null before any backward or after zeroGrad(setToNone)) */
  get grad(): Tensor | null {
    return this._grad;
  }

  set grad(g: Tensor | null) {
    if (g !== null && !(g instanceof Tensor)) throw new TypeError(`grad must be a Tensor or null, got ${given(g)}`);
    if (g !== null) {
      checkSameDevice('grad', { tensor: this, grad: g });
      if (!sameShape(g.shape, this.shape)) {
        throw new RangeError(`grad has the wrong shape: expected ${formatShape(this.shape)}, got ${formatShape(g.shape)}`);
      }
    }
    if (this._grad && this._grad !== g) this._grad.dispose();
    this._grad = g;
  }

  /** true for tensors not produced by a recorded op */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** @internal int32 values for validation on the host: the upload's copy when there is one, else a download */
  _hostIndices(): ArrayLike<number> {
    const buf = this._live('indices');
    return buf.hostCopy ?? this.backend.download(buf.storage);
  }

  /** a flat row-major copy on the host */
  toArray(): TypedArray {
    return this.backend.download(this._live('toArray').storage);
  }

  /** the value of a one-element tensor */
  item(): number {
    this._live('item');
    if (this.size !== 1) throw new RangeError(`item(): the tensor must have exactly one element, it has shape ${formatShape(this.shape)}`);
    return this.toArray()[0];
  }

  /** Back-propagates from this tensor (a single element, or pass grad of this tensor's shape). */
  backward(grad?: Tensor, opts?: { retainGraph?: boolean }): void {
    runBackward(this, grad, !!opts?.retainGraph);
  }

  /** a view of the same storage that is not on the tape */
  detach(): Tensor {
    return new Tensor(this._live('detach').retain(), this.shape, false, true);
  }


  /** Frees this tensor's reference to its storage (and its grad). Idempotent. */
  dispose(): void {
    if (!this._buf) return;
    this._buf.release();
    this._buf = null;
    this._scope?.delete(this);
    this._scope = null;
    if (this._grad) {
      this._grad.dispose();
      this._grad = null;
    }
    const n = this._node;
    if (n) n.dropUser();
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''}${this._buf ? '' : ', disposed'})`;
  }
}

// the mark src/args.ts's checks know a tensor by (args.ts cannot import this class: it is below it)
Object.defineProperty(Tensor.prototype, TENSOR_BRAND, { value: true });
