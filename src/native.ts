// Loads the native addons (cpu: the launchers implemented as native SIMD C++, native/cpu/; emu: kernels/*.cu
// compiled by g++ against the CUDA emulator; cuda: nvcc) and wraps each as a Backend. Every kernel call is checked by the one checker (src/spec/check.ts) before it
// crosses into C++; then it is passed on in the spec's argument order (storages as their device buffers).
// The C++ glue, generated from the same spec (native/gen_glue.mjs), only unwraps, launches and turns CUDA
// errors into JS Errors, which are re-thrown here prefixed with the backend name.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBuffer } from './device_memory.js';
import { MATH_MODES, checkElementRange, type Backend, type DeviceGraph, type DType, type DeviceEvent, type DeviceName, type KernelName, type Kernels, type MathMode, type MemoryStats, type Storage, type TypedArray } from './backend.js';
import { KERNEL_NAMES, SPEC, checkedKernels, scanIndices, type KernelHost, type KernelImpls } from './spec/check.js';

/** The backends behind a native addon (every DeviceName but the TypeScript reference). */
export type NativeKind = Exclude<DeviceName, 'ref'>;

/** The addon's device buffer (native/storage.cc); opaque here apart from dispose(). */
interface DeviceBuffer {
  dispose(): void;
}

/** What the addon exports: memory functions (native/addon.cc) and one function per kernel of the spec,
 *  arguments in the spec's order (native/gen/kernel_glue.cc). */
type Addon = { [K in KernelName]: (...args: unknown[]) => void } & {
  build: NativeKind;
  alloc(dtype: 'float32' | 'int32', length: number): DeviceBuffer;
  upload(data: Float32Array | Int32Array): DeviceBuffer;
  download(b: DeviceBuffer): Float32Array | Int32Array;
  copy(src: DeviceBuffer, dst: DeviceBuffer): void;
  memory(): NativeMemoryStats;
  emptyCache(): void;
  synchronize(): void;
  deviceInfo(): NativeDeviceInfo;
  eventRecord(): unknown;
  eventElapsedMs(start: unknown, end: unknown): number;
  getMathMode(): MathMode;
  setMathMode(mode: MathMode): void;
  copyElements(src: DeviceBuffer, srcStart: number, dst: DeviceBuffer, dstStart: number, n: number): void;
  beginCapture(): void;
  endCapture(): { graph: unknown; nodes: number };
  replayGraph(graph: unknown): void;
  lstmPath(): string;
  lstmPathPlan(B: number, H: number): string;
  _testInvalidLaunch(): void;
};

/** The caching allocator's counters (native/allocator.h). */
export interface NativeMemoryStats extends MemoryStats {
  cachedCount: number;
  /** cudaMalloc calls so far: flat across a training loop when the cache works */
  mallocCalls: number;
  peakLiveBytes: number;
}

export interface NativeDeviceInfo {
  build: NativeKind;
  count: number;
  error?: string;
  name?: string;
  totalMemory?: number;
  computeCapability?: string;
  multiProcessors?: number;
  hostThreads: number;
  /** the TF32 math mode when the addon loaded */
  mathMode: MathMode;
}

// ------------------------------------------------------------------------------------- locating

/** The package root: the nearest directory above this module holding binding.gyp (dist/ or build/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..');
}

const ADDONS: Record<NativeKind, { file: string; env: string; log: string }> = {
  cpu: { file: 'build/Release/lstm_cuda_cpu.node', env: 'LSTM_CUDA_CPU_ADDON', log: 'build/native-emu.log' },
  emu: { file: 'build/Release/lstm_cuda_emu.node', env: 'LSTM_CUDA_EMU_ADDON', log: 'build/native-emu.log' },
  cuda: { file: 'build/cuda/Release/lstm_cuda.node', env: 'LSTM_CUDA_CUDA_ADDON', log: 'build/native-cuda.log' },
};

/** Where the addon of `kind` is loaded from: $LSTM_CUDA_EMU_ADDON / $LSTM_CUDA_CUDA_ADDON, else build/. */
export function addonPath(kind: NativeKind): string {
  const override = process.env[ADDONS[kind].env];
  return override !== undefined && override !== '' ? resolve(override) : join(packageRoot(), ADDONS[kind].file);
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
}

const loadedBackends = new Map<NativeKind, { backend?: Backend; reason?: string }>();

/**
 * The cpu, emu or cuda backend, or the one-line reason it is unavailable (addon not built, failed to load,
 * no CUDA device). Never throws; loads each kind once.
 */
export function loadNativeBackend(kind: NativeKind): { backend?: Backend; reason?: string } {
  let r = loadedBackends.get(kind);
  if (!r) {
    r = loadUncached(kind);
    loadedBackends.set(kind, r);
  }
  return r;
}

/** The first error a native build log reports: a compiler's `error:` line (g++, nvcc) if there is one,
 *  else the first line naming an error or a missing tool (cmake, node-gyp); undefined when none. */
export function firstBuildError(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trim());
  return lines.find((l) => /\berror:/i.test(l)) ?? lines.find((l) => /\berror\b|not found|no such file/i.test(l));
}

function loadUncached(kind: NativeKind): { backend?: Backend; reason?: string } {
  const file = addonPath(kind);
  if (!existsSync(file)) {
    const log = join(packageRoot(), ADDONS[kind].log);
    // npm hides the install script's output: the failed build's first error is said here (`lstm-cuda info`)
    const error = existsSync(log) ? firstBuildError(readFileSync(log, 'utf8')) : undefined;
    if (error !== undefined) {
      return { reason: `addon failed to build: ${error.slice(0, 300)} (log: ${log}; rebuild: node native/build.mjs in ${packageRoot()})` };
    }
    const hint = kind === 'cuda' ? 'needs nvcc at install time; ' : '';
    return { reason: `addon not built: ${file} is missing (${hint}run npm install; see ${log})` };
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(file) as Addon;
  } catch (e) {
    return { reason: `addon failed to load: ${oneLine(e)}` };
  }
  let info: NativeDeviceInfo;
  try {
    info = addon.deviceInfo();
  } catch (e) {
    return { reason: `addon failed to query devices: ${oneLine(e)}` };
  }
  if (info.count < 1 || info.error !== undefined) {
    return { reason: `no CUDA device: ${info.error ?? 'cudaGetDeviceCount returned 0'}` };
  }
  return { backend: new NativeBackend(kind, addon, info) };
}

// ------------------------------------------------------------------------------------- storages

/**
 * What is known of an int32 storage's values without reading the device: the largest value and the
 * distinct negative ones (null: more than a few, or unknown). Set on alloc (zeros), upload (a scan of the
 * host array), copy (the source's), and by kernels that declare the range they write (`values` in the
 * spec, e.g. sampled tokens in [0, V)); any other write makes it unknown. The index check trusts it and
 * reads the device (download and scan) only when it cannot vouch for every value.
 */
interface IntSummary { max: number; negatives: number[] | null }

const MAX_NEGATIVES = 4;

function summarise(a: Int32Array): IntSummary {
  let max = -Infinity;
  let negatives: number[] | null = [];
  for (let p = 0; p < a.length; p++) {
    const v = a[p];
    if (v > max) max = v;
    if (v < 0 && negatives !== null && !negatives.includes(v)) negatives = negatives.length < MAX_NEGATIVES ? [...negatives, v] : null;
  }
  return { max, negatives };
}

/** A native storage: a device buffer of this backend (handle is null once freed). */
export class NativeStorage implements Storage {
  /** int32 storages: what is known of the values (see IntSummary); null = unknown */
  ints: IntSummary | null = null;
  constructor(
    readonly dtype: DType,
    readonly length: number,
    public handle: DeviceBuffer | null,
    readonly owner: NativeBackend,
  ) {}
}

/** A native graph (the addon's External; destroyed by its finalizer or dispose()). */
class NativeGraph implements DeviceGraph {
  constructor(readonly owner: NativeBackend, public handle: unknown, readonly nodes: number) {}
  dispose(): void {
    this.handle = null; // the External's finalizer destroys the CUDA graph once nothing refers to it
  }
}

/** A native event (the addon's External; destroyed by its finalizer). */
class NativeEvent implements DeviceEvent {
  readonly backend: DeviceName;
  constructor(readonly owner: NativeBackend, readonly handle: unknown) {
    this.backend = owner.name;
  }
}

const MAX_ALLOC = 2 ** 50;

/** Per kernel: its arguments in the spec's (= the launcher's) order, and its int32 outputs. */
const ORDER = new Map<KernelName, { names: string[]; storage: boolean[]; intOuts: { name: string; values?: string }[] }>(
  KERNEL_NAMES.map((k) => {
    const args = SPEC[k].args;
    return [k, {
      names: args.map((x) => x.name),
      storage: args.map((x) => x.role !== undefined),
      intOuts: args.filter((x) => x.dtype === 'int32' && x.role !== 'in').map((x) => ({ name: x.name, values: x.values })),
    }];
  }),
);

// ---------------------------------------------------------------------------------------- backend

export interface NativeBackend extends Kernels {}

/** The cpu, emu or cuda backend over its addon. Extra beyond Backend: emptyCache(), memory() details. */
export class NativeBackend implements Backend {
  readonly name: NativeKind;
  readonly deviceName: string;
  readonly dtypes: readonly DType[] = ['float32', 'int32'];

  constructor(kind: NativeKind, private readonly addon: Addon, readonly info: NativeDeviceInfo) {
    this.name = kind;
    // emu: "CUDA emulator (g++, N threads)" from its cudaGetDeviceProperties; cuda: the GPU's name
    this.deviceName = info.name ?? `${kind} device`;
    const host: KernelHost = {
      name: kind,
      dtypes: this.dtypes,
      storageState: (s) => (!(s instanceof NativeStorage) || s.owner !== this ? 'foreign' : s.handle === null ? 'freed' : 'live'),
      firstBadIndex: (s, n, limit, ignore) => {
        const known = (s as NativeStorage).ints;
        if (known !== null && known.max < limit && known.negatives !== null && known.negatives.every((v) => v === ignore)) return null;
        return scanIndices(this.download(s) as Int32Array, n, limit, ignore);
      },
    };
    const impls: Record<string, (a: Record<string, unknown>) => void> = {};
    for (const k of KERNEL_NAMES) impls[k] = (a) => this.#launch(k, a);
    Object.assign(this, checkedKernels(host, impls as unknown as KernelImpls));
  }

  /**
   * The LSTM time loop's implementation (kernels/lstm.cu): the path the last lstmForward and lstmBackward
   * took ("forward: B=.. H=.. persistent: N blocks x U units, ...; backward: ..." or "steps (why)").
   */
  lstmPath(): string {
    return this.addon.lstmPath();
  }

  /** The path a layer of batch B and hidden size H would take now (LSTM_CUDA_LSTM_PATH, shared memory, SMs). */
  lstmPathPlan(B: number, H: number): string {
    return this.addon.lstmPathPlan(B, H);
  }

  /** Calls the addon's kernel k with the checked arguments in launcher order. */
  #launch(k: KernelName, a: Record<string, unknown>): void {
    const { names, storage, intOuts } = ORDER.get(k)!;
    const argv = names.map((name, p) => (storage[p] ? ((a[name] as NativeStorage | null)?.handle ?? null) : a[name]));
    for (const o of intOuts) {
      const s = a[o.name] as NativeStorage | null;
      if (s) s.ints = null; // unknown until the launch returns
    }
    try { this.addon[k](...argv); } catch (e) { this.#native(e); }
    for (const o of intOuts) {
      const s = a[o.name] as NativeStorage | null;
      if (s && o.values !== undefined) s.ints = { max: (a[o.values] as number) - 1, negatives: [] };
    }
  }

  #fail(op: string, msg: string, Ctor: ErrorConstructor = Error): never {
    throw new Ctor(`${this.name}.${op}: ${msg}`);
  }

  #unsupportedDtype(op: string, dtype: string): never {
    if (dtype === 'float64') this.#fail(op, `dtype float64 is not supported on ${this.name}; use ref for float64`, TypeError);
    this.#fail(op, `unsupported dtype ${JSON.stringify(dtype)}; expected float32 or int32`, TypeError);
  }

  /** The live buffer behind s, checked: a storage of this backend, not freed. */
  #buf(op: string, name: string, s: Storage): DeviceBuffer {
    if (!(s instanceof NativeStorage) || s.owner !== this) {
      const from = s instanceof NativeStorage ? s.owner.name : (s as { constructor?: { name?: string } } | null)?.constructor?.name;
      this.#fail(op, `'${name}' is not a storage of the ${this.name} backend (got ${String(from)})`, TypeError);
    }
    if (s.handle === null) this.#fail(op, `'${name}' was freed (use after dispose/free)`);
    return s.handle;
  }

  /** Re-throws a native error with the backend's name in front (the JS stack is the caller's). */
  #native(e: unknown): never {
    if (e instanceof Error) {
      throw new Error(`${this.name}: ${e.message}`, { cause: e });
    }
    throw new Error(`${this.name}: ${String(e)}`);
  }

  // -------------------------------------------------------------------------------------- memory

  alloc(dtype: DType, length: number): Storage {
    this.#notInCapture('alloc');
    if (dtype !== 'float32' && dtype !== 'int32') this.#unsupportedDtype('alloc', dtype);
    // any size the device might hold (kernels index [0, 2^31) of it); an absurd one fails in cudaMalloc
    if (!Number.isInteger(length) || length < 0 || length > MAX_ALLOC) {
      this.#fail('alloc', `length must be an integer in [0, 2^50], got ${length}`, RangeError);
    }
    checkBuffer(this.name, length, 4, dtype);
    let s: NativeStorage;
    try {
      s = new NativeStorage(dtype, length, this.addon.alloc(dtype, length), this);
    } catch (e) { this.#native(e); }
    if (dtype === 'int32') s.ints = { max: length > 0 ? 0 : -Infinity, negatives: [] };
    return s;
  }

  upload(data: TypedArray): Storage {
    this.#notInCapture('upload');
    let dtype: 'float32' | 'int32';
    if (data instanceof Float32Array) dtype = 'float32';
    else if (data instanceof Int32Array) dtype = 'int32';
    else if (data instanceof Float64Array) this.#unsupportedDtype('upload', 'float64');
    else this.#fail('upload', `expected a Float32Array or Int32Array, got ${data === null || typeof data !== 'object' ? String(data) : (data as object).constructor?.name ?? 'an object'}`, TypeError);
    if (data.length > 0x7fffffff) this.#fail('upload', `length must be under 2^31, got ${data.length}`, RangeError);
    checkBuffer(this.name, data.length, 4, dtype);
    let s: NativeStorage;
    try {
      s = new NativeStorage(dtype, data.length, this.addon.upload(data), this);
    } catch (e) { this.#native(e); }
    if (data instanceof Int32Array) s.ints = summarise(data);
    return s;
  }

  download(s: Storage): TypedArray {
    const b = this.#buf('download', 's', s);
    this.#notInCapture('download');
    try { return this.addon.download(b); } catch (e) { this.#native(e); }
  }

  copy(src: Storage, dst: Storage): void {
    const a = this.#buf('copy', 'src', src), b = this.#buf('copy', 'dst', dst);
    if (src.dtype !== dst.dtype || src.length !== dst.length) {
      this.#fail('copy', `src is ${src.dtype}[${src.length}] but dst is ${dst.dtype}[${dst.length}]; they must match`, TypeError);
    }
    try { this.addon.copy(a, b); } catch (e) { this.#native(e); }
    (dst as NativeStorage).ints = (src as NativeStorage).ints;
  }

  free(s: Storage): void {
    if (!(s instanceof NativeStorage) || s.owner !== this) {
      this.#fail('free', `'s' is not a storage of the ${this.name} backend`, TypeError);
    }
    if (s.handle === null) return;
    this.#notInCapture('free');
    s.handle.dispose();
    s.handle = null;
  }

  memory(): NativeMemoryStats {
    return this.addon.memory();
  }

  /** Returns every cached (free) buffer to the device (cudaFree). */
  emptyCache(): void {
    try { this.addon.emptyCache(); } catch (e) { this.#native(e); }
  }

  synchronize(): void {
    this.#notInCapture('synchronize');
    try { this.addon.synchronize(); } catch (e) { this.#native(e); }
  }

  copyElements(src: Storage, srcStart: number, dst: Storage, dstStart: number, n: number): void {
    const a = this.#buf('copyElements', 'src', src), b = this.#buf('copyElements', 'dst', dst);
    checkElementRange(this.name, src, srcStart, dst, dstStart, n);
    try { this.addon.copyElements(a, srcStart, b, dstStart, n); } catch (e) { this.#native(e); }
    // what is known of dst's values: both summaries merged (unknown if either is)
    if (dst.dtype === 'int32') {
      const to = (dst as NativeStorage).ints, from = (src as NativeStorage).ints;
      const negatives = to?.negatives && from?.negatives ? [...new Set([...to.negatives, ...from.negatives])] : null;
      (dst as NativeStorage).ints = to && from ? { max: Math.max(to.max, from.max), negatives: negatives && negatives.length <= MAX_NEGATIVES ? negatives : null } : null;
    }
  }

  get hasGraphs(): boolean {
    return this.name !== 'cpu';
  }

  /** true between beginCapture and endCapture: storage calls that reach the host throw */
  private capturing = false;

  #notInCapture(op: string): void {
    if (this.capturing) this.#fail(op, 'not allowed while a graph is being captured (captureGraph): allocate, upload and read before the capture, free after it');
  }

  captureGraph(fn: () => void): DeviceGraph {
    if (!this.hasGraphs) this.#fail('captureGraph', 'the native CPU backend has no CUDA graphs (hasGraphs is false): run the work directly');
    if (this.capturing) this.#fail('captureGraph', 'a capture is already in progress (captures do not nest)');
    if (typeof fn !== 'function') this.#fail('captureGraph', `fn must be a function, got ${fn === null ? 'null' : typeof fn}`, TypeError);
    try { this.addon.beginCapture(); } catch (e) { this.#native(e); }
    this.capturing = true;
    try {
      fn();
    } catch (e) {
      this.capturing = false;
      try { this.addon.endCapture(); } catch { /* the capture is abandoned: fn's error is the one to report */ }
      throw e;
    }
    this.capturing = false;
    let r: { graph: unknown; nodes: number };
    try { r = this.addon.endCapture(); } catch (e) { this.#native(e); }
    return new NativeGraph(this, r.graph, r.nodes);
  }

  replayGraph(g: DeviceGraph): void {
    if (!(g instanceof NativeGraph) || g.owner !== this) this.#fail('replayGraph', `not a graph of ${this.name}.captureGraph()`, TypeError);
    if (g.handle === null) this.#fail('replayGraph', 'the graph was disposed');
    this.#notInCapture('replayGraph');
    try { this.addon.replayGraph(g.handle); } catch (e) { this.#native(e); }
  }

  recordEvent(): DeviceEvent {
    this.#notInCapture('recordEvent');
    try { return new NativeEvent(this, this.addon.eventRecord()); } catch (e) { this.#native(e); }
  }

  elapsedMs(start: DeviceEvent, end: DeviceEvent): number {
    for (const [name, ev] of [['start', start], ['end', end]] as const) {
      if (!(ev instanceof NativeEvent) || ev.owner !== this) this.#fail('elapsedMs', `'${name}' is not an event of ${this.name}.recordEvent()`, TypeError);
    }
    try { return this.addon.eventElapsedMs((start as NativeEvent).handle, (end as NativeEvent).handle); } catch (e) { this.#native(e); }
  }

  getMathMode(): MathMode {
    return this.addon.getMathMode();
  }

  setMathMode(mode: MathMode): void {
    if (!MATH_MODES.includes(mode)) this.#fail('setMathMode', `expected one of ${MATH_MODES.join(', ')}, got ${JSON.stringify(mode)}`, TypeError);
    if (this.name === 'cpu' && mode !== 'fp32') this.#fail('setMathMode', `the native CPU backend computes fp32 only (no TF32), got '${mode}'`);
    try { this.addon.setMathMode(mode); } catch (e) { this.#native(e); }
  }

  /** Test-only: a launch with an invalid configuration, to check CUDA errors reach JS. */
  _testInvalidLaunch(): void {
    try { this.addon._testInvalidLaunch(); } catch (e) { this.#native(e); }
  }
}
