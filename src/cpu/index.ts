// The `ref` backend: every kernel of the kernel spec in pure TypeScript, float32 and float64. The one
// checker (src/spec/check.ts) has validated each call before it reaches these lines, so each method only
// takes the typed arrays out of its storages and calls the kernel of the same name in src/cpu/<op>.ts.
import { MATH_MODES, checkElementRange, type Backend, type DType, type DeviceEvent, type DeviceGraph, type MathMode, type MemoryStats, type Storage, type TypedArray } from '../backend.js';
import { checkedKernels, scanIndices, type KernelHost, type KernelImpls } from '../spec/check.js';
import { adamStep } from './adam.js';
import { dropoutMask } from './dropout.js';
import * as ew from './elementwise.js';
import { embeddingBackward, embeddingForward } from './embedding.js';
import { gemmArrays } from './gemm.js';
import { sumSquares } from './grad_norm.js';
import { gatesBackward, gatesForward, lstmBackward, lstmForward } from './lstm.js';
import { copyRows } from './rows.js';
import { sample } from './sample.js';
import { sgdStep } from './sgd.js';
import { softmaxXentBackward, softmaxXentForward } from './softmax_xent.js';
import {
  RefStorage, adoptArray, checkSize, dtypeOf, liveStats, newArray, releaseStorage, unwrap, type FloatArray,
} from './storage.js';

export { RefStorage } from './storage.js';

/** The float array of a checked storage. */
const f = (s: Storage): FloatArray => (s as RefStorage).data as FloatArray;
/** Likewise for an optional storage. */
const fo = (s: Storage | null): FloatArray | null => (s === null || s === undefined ? null : f(s));
/** The Int32Array of a checked int32 storage. */
const i = (s: Storage): Int32Array => (s as RefStorage).data as Int32Array;

const host: KernelHost = {
  name: 'ref',
  dtypes: ['float32', 'float64', 'int32'],
  storageState: (s) => (!(s instanceof RefStorage) ? 'foreign' : s.data === null ? 'freed' : 'live'),
  firstBadIndex: (s, n, bound, ignore) => scanIndices(i(s), n, bound, ignore),
};

const kernels: KernelImpls = {
  gemm: (a) => gemmArrays(a.transA, a.transB, a.M, a.N, a.K, a.alpha, f(a.A), f(a.B), a.beta, f(a.C)),
  lstmGatesForward: (a) => gatesForward(a.B, a.H, f(a.gates), fo(a.bih), fo(a.bhh), f(a.cPrev), f(a.c), f(a.h), f(a.tanhC)),
  lstmGatesBackward: (a) => gatesBackward(a.B, a.H, f(a.gates), f(a.cPrev), f(a.tanhC), f(a.dh), null, f(a.dc), f(a.dgates)),
  lstmForward: (a) => lstmForward(a.T, a.B, a.I, a.H, f(a.x), f(a.wih), f(a.whh), fo(a.bih), fo(a.bhh), f(a.h0), f(a.c0),
    f(a.h), f(a.c), f(a.gates), f(a.tanhC)),
  lstmBackward: (a) => lstmBackward(a.T, a.B, a.I, a.H, f(a.x), f(a.wih), f(a.whh), f(a.h0), f(a.c0), f(a.h), f(a.c),
    f(a.gates), f(a.tanhC), fo(a.dh), fo(a.dhT), fo(a.dcT), fo(a.dx), fo(a.dh0), fo(a.dc0), fo(a.dwih), fo(a.dwhh),
    fo(a.dbih), fo(a.dbhh)),
  softmaxXentForward: (a) => softmaxXentForward(a.N, a.V, f(a.logits), i(a.targets), a.ignoreIndex, f(a.loss), f(a.lse)),
  softmaxXentBackward: (a) => softmaxXentBackward(a.N, a.V, f(a.logits), i(a.targets), a.ignoreIndex, f(a.lse), f(a.dloss),
    f(a.dlogits)),
  embeddingForward: (a) => embeddingForward(a.N, a.D, f(a.weight), i(a.idx), f(a.out)),
  embeddingBackward: (a) => embeddingBackward(a.N, a.D, i(a.idx), f(a.dout), f(a.dweight)),
  copyRows: (a) => copyRows(a.R, a.D, f(a.src), a.srcRow, f(a.dst), a.dstRow, a.accumulate),
  dropoutMask: (a) => dropoutMask(a.n, a.seed, a.offset, a.threshold, a.scale, f(a.mask)),
  adamStep: (a) => adamStep(a.n, f(a.param), f(a.grad), f(a.m), f(a.v), a.lr, a.beta1, a.beta2, a.eps, a.weightDecay,
    a.decoupled, a.bc1, a.bc2),
  sgdStep: (a) => sgdStep(a.n, f(a.param), f(a.grad), a.momentum !== 0 ? fo(a.buf) : null, a.lr, a.momentum,
    a.weightDecay, a.first),
  sumSquares: (a) => { f(a.out)[a.outIndex] = sumSquares(a.n, f(a.x)); },
  fill: (a) => { f(a.x).fill(a.value, 0, a.n); },
  axpby: (a) => ew.axpby(a.n, a.alpha, f(a.x), a.beta, f(a.y), f(a.out)),
  affine: (a) => ew.affine(a.n, a.alpha, f(a.x), a.beta, f(a.out)),
  mul: (a) => ew.mul(a.n, f(a.x), f(a.y), f(a.out)),
  sum: (a) => { f(a.out)[0] = ew.sum(a.n, f(a.x)); },
  addRowVector: (a) => ew.addRowVector(a.M, a.N, f(a.x), f(a.b)),
  sumRows: (a) => ew.sumRows(a.M, a.N, f(a.x), f(a.out), a.accumulate),
  sample: (a) => sample(a.B, a.V, f(a.logits), a.temperature, a.topK, a.topP, a.seed,
    (a.offset + (a.offsetAdd ? i(a.offsetAdd)[0] : 0)) >>> 0, i(a.tokens), f(a.logp), f(a.entropy)),
};

/** ref's event: a steady-clock reading (every ref kernel has finished when it returns). */
class RefEvent implements DeviceEvent {
  readonly backend = 'ref' as const;
  constructor(readonly ms: number) {}
}

export const refBackend: Backend = {
  name: 'ref',
  deviceName: 'CPU (TypeScript, float32/float64)',
  dtypes: host.dtypes,

  alloc(dtype: DType, length: number): Storage {
    checkSize('alloc', 'length', length);
    return adoptArray(newArray(dtype, length));
  },
  upload(data: TypedArray): Storage {
    const copy = newArray(dtypeOf(data), data.length);
    copy.set(data);
    return adoptArray(copy);
  },
  download(s: Storage): TypedArray {
    return unwrap(s, 'download', 's').slice();
  },
  copy(src: Storage, dst: Storage): void {
    const a = unwrap(src, 'copy', 'src'), b = unwrap(dst, 'copy', 'dst');
    if (src.dtype !== dst.dtype || a.length !== b.length) {
      throw new TypeError(`ref.copy: src is ${src.dtype}[${a.length}] but dst is ${dst.dtype}[${b.length}]; they must match`);
    }
    b.set(a as never);
  },
  free(s: Storage): void {
    releaseStorage(s);
  },
  memory(): MemoryStats {
    return { ...liveStats(), cachedBytes: 0 };
  },
  synchronize(): void {},

  copyElements(src: Storage, srcStart: number, dst: Storage, dstStart: number, n: number): void {
    const a = unwrap(src, 'copyElements', 'src'), b = unwrap(dst, 'copyElements', 'dst');
    checkElementRange('ref', src, srcStart, dst, dstStart, n);
    b.set(a.subarray(srcStart, srcStart + n) as never, dstStart);
  },

  hasGraphs: false,
  captureGraph(): DeviceGraph {
    throw new Error('ref.captureGraph: the TypeScript reference has no CUDA graphs (hasGraphs is false): run the work directly');
  },
  replayGraph(): void {
    throw new Error('ref.replayGraph: the TypeScript reference has no CUDA graphs');
  },

  recordEvent(): DeviceEvent {
    return new RefEvent(performance.now());
  },
  elapsedMs(start: DeviceEvent, end: DeviceEvent): number {
    if (!(start instanceof RefEvent) || !(end instanceof RefEvent)) {
      throw new TypeError('ref.elapsedMs: start and end must be events of ref.recordEvent()');
    }
    return end.ms - start.ms;
  },

  getMathMode(): MathMode {
    return 'fp32';
  },
  setMathMode(mode: MathMode): void {
    if (!MATH_MODES.includes(mode)) throw new TypeError(`ref.setMathMode: expected one of ${MATH_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
    if (mode !== 'fp32') throw new Error(`ref.setMathMode: the TypeScript reference computes fp32 only (no TF32), got '${mode}'`);
  },

  ...checkedKernels(host, kernels),
};
