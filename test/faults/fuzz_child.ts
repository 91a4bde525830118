// A child of faults.test.ts: calls public ops, constructors and backend entry points with random (often
// nearly valid, sometimes absurd) arguments and counts how each call ended. It writes the case it is about
// to run into CASEFILE first, so the parent names the case when the process dies.
//   node fuzz_child.js DEVICE SEED FIRST TOTAL CASEFILE  → stdout: FUZZ {"cases","errors","ok","unclear"}
// An Error whose message names the problem is a clear refusal; V8's own messages about our internals
// ("Cannot read properties of undefined", "is not a function", "Invalid typed array length") are unclear.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lib from '../../src/index.js';
import { getBackend } from '../../src/device.js';
import { RngStream } from '../../src/rng.js';
import type { DeviceName, KernelName } from '../../src/backend.js';
import { KERNEL_NAMES, SPEC, dimValue, parseDim, type ArgDecl } from '../../src/spec/check.js';

const [device, seedArg, firstArg, totalArg, caseFile] = process.argv.slice(2) as [DeviceName, string, string, string, string];
const UNCLEAR = new RegExp([
  'Cannot read propert', 'Cannot set propert', 'Cannot create property', 'Cannot destructure', 'Cannot convert', 'Cannot mix BigInt',
  'is not a function', 'is not iterable', 'is not a constructor', 'is not defined', 'undefined is not', 'null is not',
  'Invalid typed array length', 'Invalid array length', 'Invalid string length', 'Array buffer allocation failed', 'Maximum call stack',
  'Reduce of empty array', 'DataView', 'Expecting function', 'object is not extensible', 'read-only property',
  // our own messages gone wrong: an object or a missing value interpolated into the text
  '\\[object Object\\]', "'undefined'", 'has undefined', 'for undefined', '0xundefined', 'offset undefined', 'NaN elements',
].join('|'));

let rng = new RngStream(0);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
const chance = (p: number) => rng.next() < p;
const SMALL_DIMS = [0, 1, 1, 2, 3, 4, 5, 7];
// no odd size that fits in memory (2^31 floats would really be allocated and zeroed: slow, not wrong)
const ODD_NUMBERS = [-1, 0, 1.5, NaN, Infinity, -Infinity, 1e12, 2 ** 53, -(2 ** 31) - 1, 65];
const VALUES = [0, 1, -1, 0.5, 1e30, -1e30, 3e38, NaN, Infinity, -Infinity, 1e-40];

function randomShape(): number[] {
  const rank = pick([0, 1, 1, 2, 2, 2, 3, 3]);
  return Array.from({ length: rank }, () => (chance(0.04) ? pick(ODD_NUMBERS) : pick(SMALL_DIMS)));
}

function randomTensor(shape = randomShape(), dtype = pick(['float32', 'float32', 'int32', 'float64'] as const)): unknown {
  const dev = chance(0.9) ? device : pick(['ref', 'emu'] as const);
  const n = shape.reduce((a, b) => a * b, 1);
  if (!(Number.isInteger(n) && n >= 0 && n <= 4096)) return n > 2 ** 32 || !Number.isInteger(n) || n < 0 ? lib.Tensor.zeros(shape, { device: dev, dtype }) : randomTensor(shape.map((d) => Math.min(d, 3))); // refused, or kept small
  const data = Array.from({ length: n }, () => (dtype === 'int32' ? (chance(0.1) ? pick([-1, 1000000, -2147483648, 2147483647]) : Math.floor(rng.next() * 8)) : chance(0.05) ? pick(VALUES) : rng.next() * 4 - 2));
  return lib.Tensor.from(data, shape, { device: dev, dtype, requiresGrad: dtype !== 'int32' && chance(0.5) });
}

function randomValue(depth = 0): unknown {
  const r = rng.next();
  if (r < 0.45) return randomTensor();
  if (r < 0.6) return pick(ODD_NUMBERS.concat(SMALL_DIMS));
  if (r < 0.65) return pick([null, undefined, 'x', true, {}, [], () => 1]);
  if (r < 0.75 && depth < 2) return Array.from({ length: pick([0, 1, 2, 3]) }, () => randomValue(depth + 1));
  if (depth < 2) {
    const o: Record<string, unknown> = {};
    for (const k of ['p', 'seed', 'training', 'ignoreIndex', 'reduction', 'temperature', 'topK', 'topP', 'lr', 'betas', 'eps', 'momentum', 'weightDecay', 'inputSize', 'hiddenSize', 'numLayers', 'vocabSize', 'embedDim', 'inFeatures', 'outFeatures', 'numEmbeddings', 'embeddingDim', 'dropout', 'device', 'dtype', 'weightIh', 'weightHh', 'biasIh', 'biasHh', 'label_smoothing']) {
      if (chance(0.15)) o[k] = k === 'device' ? pick(['ref', 'emu', 'nope']) : k === 'reduction' ? pick(['mean', 'sum', 'none', 'x']) : k === 'betas' ? [pick([0, 0.9, 1, 2, -1]), pick([0.999, 1, NaN])] : k.startsWith('weight') || k.startsWith('bias') ? randomTensor() : randomValue(depth + 1);
    }
    return o;
  }
  return pick(VALUES);
}

/** Nearly valid calls of the ops whose bad indices and shapes reach kernels. */
const SHAPED: Record<string, () => unknown> = {
  embedding: () => lib.embedding(randomTensor([pick([1, 3])], 'int32') as lib.Tensor, randomTensor([pick([2, 5]), pick([1, 3])], 'float32') as lib.Tensor),
  crossEntropy: () => lib.crossEntropy(randomTensor([3, pick([2, 5])], 'float32') as lib.Tensor, randomTensor([pick([3, 2])], 'int32') as lib.Tensor, randomValue(2) as never),
  sampleTokens: () => lib.sampleTokens(randomTensor([pick([1, 2]), pick([1, 5, 65])], 'float32') as lib.Tensor, randomValue(2) as never),
  lstm: () => {
    const H = pick([1, 2, 3]), I = pick([1, 2, 4]), T = pick([1, 2]), B = pick([1, 2]);
    const w = (r: number, c?: number) => randomTensor(c === undefined ? [chance(0.9) ? r : r + 1] : [r, chance(0.9) ? c : c + 1], 'float32') as lib.Tensor;
    return lib.lstm(randomTensor([T, B, chance(0.85) ? I : I + 1], 'float32') as lib.Tensor, chance(0.5) ? null : randomTensor([B, H], 'float32') as lib.Tensor, null,
      { weightIh: w(4 * H, I), weightHh: w(4 * H, H), biasIh: chance(0.8) ? w(4 * H) : null, biasHh: null });
  },
  clipGradNorm: () => lib.clipGradNorm(randomValue() as never, randomValue() as never),
  selectRow: () => lib.selectRow(randomTensor([pick([1, 3]), 2], 'float32') as lib.Tensor, pick([-1, 0, 1, 2, 3, 1e6, 1.5])),
};

// file and process-wide functions are left out: they would write random paths or change the default device
const NOT_FUZZED = /^(trainCharRNN|readCorpusFile|saveCheckpoint|loadCheckpoint|readSafetensors|writeSafetensors|setDefaultDevice|evaluate)$/;
const publicFns = Object.entries(lib).filter(([k, v]) => typeof v === 'function' && !NOT_FUZZED.test(k)) as [string, (...a: unknown[]) => unknown][];
const be = getBackend(device) as unknown as Record<string, unknown>;
// the backend's own methods (a plain object's prototype is Object.prototype: its methods are not ours)
const proto = Object.getPrototypeOf(be);
const methodNames = [...new Set([...Object.keys(be), ...(proto === Object.prototype ? [] : Object.getOwnPropertyNames(proto))])]
  .filter((k) => k !== 'constructor' && typeof be[k] === 'function' && !/^(dispose|emptyCache|synchronize|memory)$/.test(k));

/**
 * argument names of a function from its source: positional names, the keys of one destructured object, or
 * for one args object `a`, the keys the body reads (`a.weight`, `const { N, V } = a`)
 */
function paramNames(fn: (...a: unknown[]) => unknown): { names: string[]; object: boolean } {
  const src = fn.toString();
  const m = /^[^(]*\(([^)]*)\)/.exec(src);
  const inner = m?.[1] ?? '';
  const obj = /^\s*\{([^}]*)\}/.exec(inner);
  if (obj) return { names: obj[1]!.split(',').map((x) => x.trim().split(/[\s:=]/)[0]!).filter(Boolean), object: true };
  const names = inner.split(',').map((x) => x.trim().split(/[\s:=]/)[0]!).filter(Boolean);
  if (names.length === 1) {
    const p = names[0]!;
    const keys = new Set<string>();
    for (const k of src.matchAll(new RegExp(`\\b${p}\\.(\\w+)`, 'g'))) keys.add(k[1]!);
    for (const d of src.matchAll(new RegExp(`\\{([^{}]*)\\}\\s*=\\s*${p}\\b`, 'g'))) for (const k of d[1]!.split(',')) keys.add(k.trim().split(/[\s:=]/)[0]!);
    keys.delete('');
    if (keys.size) return { names: [...keys], object: true };
  }
  return { names, object: false };
}

function storageFor(name: string): unknown {
  const ints = /idx|index|indices|target|token|ids/i.test(name);
  const len = chance(0.1) ? 0 : pick([1, 2, 3, 8, 17, 64]);
  if (ints) return be.upload instanceof Function ? (be.upload as (a: Int32Array) => unknown)(Int32Array.from({ length: len }, () => (chance(0.2) ? pick([-1, 1000000, 2 ** 31 - 1]) : Math.floor(rng.next() * 4)))) : null;
  return (be.upload as (a: Float32Array) => unknown)(Float32Array.from({ length: len }, () => (chance(0.05) ? pick(VALUES) : rng.next())));
}

function argFor(name: string): unknown {
  // odd sizes are never huge integers: a kernel with M = 2^32 and N = 0 legitimately loops 2^32 times
  if (/^(n|N|B|T|I|H|V|D|M|K|L|rows|cols|length|count|size|offset|seed)$/.test(name)) return chance(0.8) ? pick([0, 1, 2, 3, 4, 8]) : pick([-1, 1.5, NaN, Infinity, -Infinity, 65, 1000]);
  if (/alpha|beta|scale|lr|eps|p|temperature|top|momentum|decay|value|clip|threshold|ignore/i.test(name)) return chance(0.8) ? rng.next() * 2 - 0.5 : pick(ODD_NUMBERS.concat(VALUES));
  if (/dtype/.test(name)) return pick(['float32', 'int32', 'float64', 'x']);
  if (/trans/i.test(name)) return pick([true, false, 0, 1]);
  return chance(0.9) ? storageFor(name) : pick([null, undefined, 3, {}]);
}

/** A scalar for a kernel argument, from its declaration: mostly in range, sometimes not. */
function scalarFor(d: ArgDecl): unknown {
  const odd = chance(0.06);
  switch (d.type) {
    case 'bool': return odd ? pick([0, 1, 'true', null]) : chance(0.5);
    case 'size': return odd ? pick([-1, 1.5, NaN, Infinity, 1000, '2', null]) : pick([0, 1, 1, 2, 3, 5]);
    case 'i32': return odd ? pick([2 ** 31, -(2 ** 31) - 1, 0.5, NaN]) : pick([-100, -1, 0, 1, 3]);
    case 'u32': return odd ? pick([-1, 2 ** 32, 1.5, NaN]) : Math.floor(rng.next() * (d.max ?? 1000));
    default: return odd ? pick(VALUES.concat([Number.MAX_VALUE, -0])) : rng.next() * 2 - 0.5;
  }
}

/** A storage for a kernel argument: its declared dtype and length mostly, sometimes short, foreign, freed, aliased or missing. */
function kernelStorageFor(d: ArgDecl, a: Record<string, unknown>, made: unknown[]): unknown {
  if (d.optional && chance(0.25)) return null;
  const r = rng.next();
  if (r < 0.02) return pick([undefined, null, 3, {}, new Float32Array(2)]);
  if (r < 0.04 && made.length > 0) return pick(made); // an alias
  let n = (d.shape ?? []).map(parseDim).reduce((p, dim) => p * dimValue(dim, a), 1);
  if (!(Number.isInteger(n) && n >= 0 && n <= 1 << 16)) n = 4;
  if (r < 0.07) n = Math.max(0, n - 1);
  const int = d.dtype === 'int32' ? r > 0.02 : r < 0.09;
  const limit = d.index !== undefined && typeof a[d.index] === 'number' ? (a[d.index] as number) : 4;
  const data = int
    ? Int32Array.from({ length: n }, () => (chance(0.03) ? pick([-1, limit, 2 ** 31 - 1]) : Math.floor(rng.next() * Math.max(limit, 1))))
    : Float32Array.from({ length: n }, () => (chance(0.03) ? pick(VALUES) : rng.next() * 2 - 1));
  const s = (be.upload as (x: unknown) => unknown).call(be, data);
  if (chance(0.02)) (be.free as (x: unknown) => void).call(be, s); // use after free
  return s;
}

/** A kernel call with arguments built from its spec declaration (most of them valid, so the kernel runs). */
function kernelCall(k: KernelName): void {
  const a: Record<string, unknown> = {};
  const made: unknown[] = [];
  for (const d of SPEC[k].args) if (d.role === undefined && chance(0.98)) a[d.name] = scalarFor(d);
  for (const d of SPEC[k].args) if (d.role !== undefined && chance(0.98)) made.push(a[d.name] = kernelStorageFor(d, a, made));
  (be[k] as (x: unknown) => void).call(be, a);
}

function backendCall(): string {
  if (chance(0.6)) {
    const k = pick(KERNEL_NAMES);
    last = `backend.${k} (spec)`;
    kernelCall(k);
    return last;
  }
  const name = pick(methodNames);
  const fn = be[name] as (...a: unknown[]) => unknown;
  const { names, object } = paramNames(fn);
  last = `backend.${name}`;
  if (object) {
    const o: Record<string, unknown> = {};
    for (const n of names) if (chance(0.95)) o[n] = argFor(n);
    fn.call(be, o);
  } else {
    fn.apply(be, names.map((n) => argFor(n)));
  }
  return `backend.${name}(${names.join(', ')})`;
}

/** Fresh, valid instances of the exported classes whose methods and setters are fuzzed (small: built per case). */
const INSTANCES: Record<string, () => object> = {
  Tensor: () => lib.Tensor.randn([2, 3], { device, requiresGrad: chance(0.5) }),
  Vocab: () => (chance(0.5) ? lib.Vocab.fromText('ab c\n') : lib.Vocab.bytes()),
  CharRNN: () => tinyModel(),
  LSTMCell: () => new lib.LSTMCell({ inputSize: 2, hiddenSize: 3, device }),
  Stack: () => new lib.Stack({ inputSize: 2, hiddenSize: 3, numLayers: 2, device }),
  Linear: () => new lib.Linear({ inFeatures: 2, outFeatures: 3, device }),
  Embedding: () => new lib.Embedding({ numEmbeddings: 5, embeddingDim: 2, device }),
  Dropout: () => new lib.Dropout({ p: 0.5 }),
  Adam: () => new lib.Adam(new lib.Linear({ inFeatures: 2, outFeatures: 2, device }).parameters(), { lr: 0.1 }),
  SGD: () => new lib.SGD(new lib.Linear({ inFeatures: 2, outFeatures: 2, device }).parameters(), { lr: 0.1, momentum: 0.9 }),
  RngStream: () => new lib.RngStream(7),
  Generator: () => { const v = lib.Vocab.fromText('ab c\n'); return new lib.Generator(tinyModel(v.size), v); },
  ChatSession: () => { const v = lib.Vocab.fromText('me: them:\nab'); return new lib.ChatSession(tinyModel(v.size), v, { seed: 1 }); },
  TextBatches: () => new lib.TextBatches(Int32Array.from({ length: 20 }, (_, i) => i % 5), 2, 3),
  LineBatches: () => new lib.LineBatches([Int32Array.of(1, 2), Int32Array.of(3)], 2, 4, 5, chance(0.5) ? 1 : null),
};

function tinyModel(vocabSize = 6): lib.CharRNN {
  return new lib.CharRNN({ vocabSize, embedDim: 2, hiddenSize: 3, numLayers: 1, device, seed: 1 });
}

/** Members declared private or protected (read from the package's declarations in dist/): not public API, not fuzzed. */
const NOT_PUBLIC = (() => {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(dir, f.name));
      else if (f.name.endsWith('.d.ts')) for (const m of readFileSync(join(dir, f.name), 'utf8').matchAll(/^\s+(?:private|protected)\s+(?:static\s+)?(?:readonly\s+)?(\w+)/gm)) names.add(m[1]!);
    }
  };
  walk(fileURLToPath(new URL('../../../dist', import.meta.url)));
  return names;
})();

/** the public methods and setters of an instance, up its prototype chain to Object.prototype */
function members(obj: object): { methods: string[]; setters: string[] } {
  const methods = new Set<string>(), setters = new Set<string>();
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (k === 'constructor' || k.startsWith('_') || NOT_PUBLIC.has(k)) continue;
      if (typeof d.value === 'function') methods.add(k);
      if (d.set) setters.add(k);
    }
  }
  return { methods: [...methods], setters: [...setters] };
}

/** A method, setter or static method of an exported class, on a valid instance, with random arguments. */
function methodCall(): string {
  const [cls, make] = pick(Object.entries(INSTANCES));
  last = `${cls} (instance)`;
  const obj = make() as Record<string, unknown>;
  const args = () => Array.from({ length: pick([0, 1, 1, 2, 3]) }, () => randomValue());
  const { methods, setters } = members(obj);
  const Cls = (lib as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[cls]!;
  const statics = Object.getOwnPropertyNames(Cls).filter((k) => typeof Cls[k] === 'function' && !k.startsWith('_') && !NOT_PUBLIC.has(k));
  const r = rng.next();
  let out: unknown;
  if (r < 0.15 && setters.length) {
    const k = pick(setters);
    last = `${cls}.${k} = (setter)`;
    obj[k] = randomValue();
  } else if (r < 0.3 && statics.length) {
    const k = pick(statics);
    last = `${cls}.${k} (static)`;
    out = Cls[k]!(...args());
  } else {
    const k = pick(methods);
    last = `${cls}.${k}`;
    out = (obj[k] as (...a: unknown[]) => unknown).apply(obj, args());
  }
  if (out instanceof Promise) out.catch(() => {});
  return last;
}

function opCall(): string {
  if (chance(0.3)) return methodCall();
  if (chance(0.35)) {
    const [name, f] = pick(Object.entries(SHAPED));
    last = `${name} (shaped)`;
    if (process.env.FUZZ_SLOW) console.error(`case: ${name} (shaped)`);
    f();
    return `${name} (shaped)`;
  }
  const [name, fn] = pick(publicFns);
  last = name;
  if (process.env.FUZZ_SLOW) console.error(`case: ${name}`);
  const args = Array.from({ length: Math.max(fn.length, pick([0, 1, 2, 3])) }, () => randomValue());
  if (process.env.FUZZ_SLOW) console.error(`args: ${args.map((a) => a instanceof lib.Tensor ? `Tensor(${a.dtype} [${a.shape}] ${a.device})` : JSON.stringify(a)).join(', ')}`);
  const isClass = /^class\b/.test(Function.prototype.toString.call(fn));
  const r = isClass ? new (fn as unknown as new (...a: unknown[]) => unknown)(...args) : fn(...args);
  if (r instanceof Promise) r.catch(() => {});
  if (r instanceof lib.Tensor && chance(0.5)) { r.toArray(); if (r.requiresGrad && r.size === 1) r.backward(); }
  return name;
}

const seed = Number(seedArg), first = Number(firstArg), total = Number(totalArg);
let errors = 0, ok = 0, last = '';
const unclear: string[] = [];
lib.setDefaultDevice(device);
for (let i = first; i < total; i++) {
  rng = new RngStream(seed ^ 0x5bd1e995, i * 1000);
  const kind = i % 2 === 0 ? 'backend' : 'op';
  writeFileSync(caseFile, `${i} ${kind}`);
  const t0 = Date.now();
  try {
    lib.tidy(() => { last = ''; last = (kind === 'backend' ? backendCall : opCall)(); });
    ok++;
  } catch (e) {
    errors++;
    const msg = e instanceof Error ? e.message : String(e);
    if (process.env.FUZZ_ERRORS) console.error(`error ${i} ${last || kind}: ${e instanceof Error ? e.name : typeof e}: ${msg.slice(0, 200)}`);
    if (!(e instanceof Error) || !msg || UNCLEAR.test(msg)) unclear.push(`case ${i} ${last || kind}: ${msg.slice(0, 160)}`);
  }
  if (process.env.FUZZ_SLOW && Date.now() - t0 > 100) console.error(`slow case ${i}: ${Date.now() - t0} ms ${last}`);
}
console.log(`FUZZ ${JSON.stringify({ cases: total - first, errors, ok, unclear })}`);
