// The `cpu` backend: every kernel of src/backend.ts in pure TypeScript, float32 and float64. Each method
// unwraps and checks its storages (freed? other backend? one float dtype per call? int32 indices? long
// enough?) and calls the typed-array kernel of the same name in src/cpu/<op>.ts.
import type {
  AdamStepArgs, Backend, DropoutMaskArgs, DType, EmbeddingBackwardArgs, EmbeddingForwardArgs, GemmArgs,
  LstmBackwardArgs, LstmForwardArgs, LstmGatesBackwardArgs, LstmGatesForwardArgs, MemoryStats, SampleArgs,
  SgdStepArgs, SoftmaxXentBackwardArgs, SoftmaxXentForwardArgs, Storage, TypedArray,
} from '../backend.js';
import { adamStep } from './adam.js';
import { dropoutMask } from './dropout.js';
import * as ew from './elementwise.js';
import { embeddingBackward, embeddingForward } from './embedding.js';
import { gemmArrays } from './gemm.js';
import { sumSquares } from './grad_norm.js';
import { gatesBackward, gatesForward, lstmBackward, lstmForward } from './lstm.js';
import { sample } from './sample.js';
import { sgdStep } from './sgd.js';
import { softmaxXentBackward, softmaxXentForward } from './softmax_xent.js';
import {
  adoptArray, checkSize, dtypeOf, floats, floatsOrNull, ints, liveStats, newArray, releaseStorage, unwrap,
} from './storage.js';

export { RefStorage } from './storage.js';

/** The dtype every float storage of a call must share: the first float storage's. */
function floatDtype(op: string, name: string, s: Storage): DType {
  const d = s.dtype;
  if (d !== 'float32' && d !== 'float64') throw new TypeError(`ref.${op}: '${name}' must be float32 or float64, got ${d}`);
  return d;
}

function sizes(op: string, dims: Record<string, number>): void {
  for (const k in dims) checkSize(op, k, dims[k]);
}

function checkUint32(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`ref.${op}: ${name} must be a uint32, got ${v}`);
}

export const refBackend: Backend = {
  name: 'ref',
  deviceName: 'CPU (TypeScript, float32/float64)',
  dtypes: ['float32', 'float64', 'int32'],

  // ---------------------------------------------------------------------------------------- memory
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
      throw new TypeError(`cpu.copy: src is ${src.dtype}[${a.length}] but dst is ${dst.dtype}[${b.length}]; they must match`);
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

  // ------------------------------------------------------------------------ elementwise, reductions
  fill(x: Storage, value: number): void {
    unwrap(x, 'fill', 'x').fill(value);
  },
  axpby(n, alpha, x, beta, y, out): void {
    sizes('axpby', { n });
    const d = floatDtype('axpby', 'x', x);
    ew.axpby(n, alpha, floats(x, 'axpby', 'x', n, d), beta, floats(y, 'axpby', 'y', n, d), floats(out, 'axpby', 'out', n, d));
  },
  affine(n, alpha, x, beta, out): void {
    sizes('affine', { n });
    const d = floatDtype('affine', 'x', x);
    ew.affine(n, alpha, floats(x, 'affine', 'x', n, d), beta, floats(out, 'affine', 'out', n, d));
  },
  mul(n, x, y, out): void {
    sizes('mul', { n });
    const d = floatDtype('mul', 'x', x);
    ew.mul(n, floats(x, 'mul', 'x', n, d), floats(y, 'mul', 'y', n, d), floats(out, 'mul', 'out', n, d));
  },
  sum(n, x, out): void {
    sizes('sum', { n });
    const d = floatDtype('sum', 'x', x);
    const xs = floats(x, 'sum', 'x', n, d);
    floats(out, 'sum', 'out', 1, d)[0] = ew.sum(n, xs);
  },
  addRowVector(M, N, x, b): void {
    sizes('addRowVector', { M, N });
    const d = floatDtype('addRowVector', 'x', x);
    ew.addRowVector(M, N, floats(x, 'addRowVector', 'x', M * N, d), floats(b, 'addRowVector', 'b', N, d));
  },
  sumRows(M, N, x, out, accumulate): void {
    sizes('sumRows', { M, N });
    const d = floatDtype('sumRows', 'x', x);
    ew.sumRows(M, N, floats(x, 'sumRows', 'x', M * N, d), floats(out, 'sumRows', 'out', N, d), accumulate);
  },
  sumSquares(n, x, out, outIndex): void {
    sizes('sumSquares', { n, outIndex });
    const d = floatDtype('sumSquares', 'x', x);
    const xs = floats(x, 'sumSquares', 'x', n, d);
    floats(out, 'sumSquares', 'out', outIndex + 1, d)[outIndex] = sumSquares(n, xs);
  },

  // ------------------------------------------------------------------------------------ the kernels
  gemm(a: GemmArgs): void {
    const op = 'gemm';
    const { M, N, K } = a;
    sizes(op, { M, N, K });
    const d = floatDtype(op, 'A', a.A);
    const A = floats(a.A, op, 'A', M * K, d), B = floats(a.B, op, 'B', K * N, d), C = floats(a.C, op, 'C', M * N, d);
    if (M * N > 0 && (C.buffer === A.buffer || C.buffer === B.buffer)) {
      throw new Error(`ref.${op}: C must not alias A or B`);
    }
    gemmArrays(a.transA, a.transB, M, N, K, a.alpha, A, B, a.beta, C);
  },
  lstmGatesForward(a: LstmGatesForwardArgs): void {
    const op = 'lstmGatesForward';
    const { B, H } = a;
    sizes(op, { B, H });
    const d = floatDtype(op, 'gates', a.gates), BH = B * H;
    gatesForward(B, H, floats(a.gates, op, 'gates', 4 * BH, d),
      floatsOrNull(a.bih, op, 'bih', 4 * H, d), floatsOrNull(a.bhh, op, 'bhh', 4 * H, d),
      floats(a.cPrev, op, 'cPrev', BH, d), floats(a.c, op, 'c', BH, d), floats(a.h, op, 'h', BH, d),
      floats(a.tanhC, op, 'tanhC', BH, d));
  },
  lstmGatesBackward(a: LstmGatesBackwardArgs): void {
    const op = 'lstmGatesBackward';
    const { B, H } = a;
    sizes(op, { B, H });
    const d = floatDtype(op, 'gates', a.gates), BH = B * H;
    gatesBackward(B, H, floats(a.gates, op, 'gates', 4 * BH, d), floats(a.cPrev, op, 'cPrev', BH, d),
      floats(a.tanhC, op, 'tanhC', BH, d), floats(a.dh, op, 'dh', BH, d), null, floats(a.dc, op, 'dc', BH, d),
      floats(a.dgates, op, 'dgates', 4 * BH, d));
  },
  lstmForward(a: LstmForwardArgs): void {
    const op = 'lstmForward';
    const { T, B, I, H } = a;
    sizes(op, { T, B, I, H });
    if (T < 1) throw new RangeError(`ref.${op}: T must be ≥ 1, got ${T}`);
    const d = floatDtype(op, 'x', a.x), BH = B * H, TBH = T * BH;
    lstmForward(T, B, I, H, floats(a.x, op, 'x', T * B * I, d), floats(a.wih, op, 'wih', 4 * H * I, d),
      floats(a.whh, op, 'whh', 4 * H * H, d), floatsOrNull(a.bih, op, 'bih', 4 * H, d),
      floatsOrNull(a.bhh, op, 'bhh', 4 * H, d), floats(a.h0, op, 'h0', BH, d), floats(a.c0, op, 'c0', BH, d),
      floats(a.h, op, 'h', TBH, d), floats(a.c, op, 'c', TBH, d), floats(a.gates, op, 'gates', 4 * TBH, d),
      floats(a.tanhC, op, 'tanhC', TBH, d));
  },
  lstmBackward(a: LstmBackwardArgs): void {
    const op = 'lstmBackward';
    const { T, B, I, H } = a;
    sizes(op, { T, B, I, H });
    if (T < 1) throw new RangeError(`ref.${op}: T must be ≥ 1, got ${T}`);
    const d = floatDtype(op, 'x', a.x), BH = B * H, TBH = T * BH;
    lstmBackward(T, B, I, H, floats(a.x, op, 'x', T * B * I, d), floats(a.wih, op, 'wih', 4 * H * I, d),
      floats(a.whh, op, 'whh', 4 * H * H, d), floats(a.h0, op, 'h0', BH, d), floats(a.c0, op, 'c0', BH, d),
      floats(a.h, op, 'h', TBH, d), floats(a.c, op, 'c', TBH, d), floats(a.gates, op, 'gates', 4 * TBH, d),
      floats(a.tanhC, op, 'tanhC', TBH, d),
      floatsOrNull(a.dh, op, 'dh', TBH, d), floatsOrNull(a.dhT, op, 'dhT', BH, d), floatsOrNull(a.dcT, op, 'dcT', BH, d),
      floatsOrNull(a.dx, op, 'dx', T * B * I, d), floatsOrNull(a.dh0, op, 'dh0', BH, d),
      floatsOrNull(a.dc0, op, 'dc0', BH, d), floatsOrNull(a.dwih, op, 'dwih', 4 * H * I, d),
      floatsOrNull(a.dwhh, op, 'dwhh', 4 * H * H, d), floatsOrNull(a.dbih, op, 'dbih', 4 * H, d),
      floatsOrNull(a.dbhh, op, 'dbhh', 4 * H, d));
  },
  softmaxXentForward(a: SoftmaxXentForwardArgs): void {
    const op = 'softmaxXentForward';
    const { N, V } = a;
    sizes(op, { N, V });
    const d = floatDtype(op, 'logits', a.logits);
    softmaxXentForward(N, V, floats(a.logits, op, 'logits', N * V, d), ints(a.targets, op, 'targets', N),
      a.ignoreIndex, floats(a.loss, op, 'loss', N, d), floats(a.lse, op, 'lse', N, d));
  },
  softmaxXentBackward(a: SoftmaxXentBackwardArgs): void {
    const op = 'softmaxXentBackward';
    const { N, V } = a;
    sizes(op, { N, V });
    const d = floatDtype(op, 'logits', a.logits);
    softmaxXentBackward(N, V, floats(a.logits, op, 'logits', N * V, d), ints(a.targets, op, 'targets', N),
      a.ignoreIndex, floats(a.lse, op, 'lse', N, d), floats(a.dloss, op, 'dloss', N, d),
      floats(a.dlogits, op, 'dlogits', N * V, d));
  },
  embeddingForward(a: EmbeddingForwardArgs): void {
    const op = 'embeddingForward';
    const { N, V, D } = a;
    sizes(op, { N, V, D });
    const d = floatDtype(op, 'weight', a.weight);
    embeddingForward(N, D, floats(a.weight, op, 'weight', V * D, d), ints(a.idx, op, 'idx', N),
      floats(a.out, op, 'out', N * D, d));
  },
  embeddingBackward(a: EmbeddingBackwardArgs): void {
    const op = 'embeddingBackward';
    const { N, V, D } = a;
    sizes(op, { N, V, D });
    const d = floatDtype(op, 'dout', a.dout);
    embeddingBackward(N, D, ints(a.idx, op, 'idx', N), floats(a.dout, op, 'dout', N * D, d),
      floats(a.dweight, op, 'dweight', V * D, d));
  },
  dropoutMask(a: DropoutMaskArgs): void {
    const op = 'dropoutMask';
    sizes(op, { n: a.n });
    checkUint32(op, 'seed', a.seed);
    checkUint32(op, 'offset', a.offset);
    dropoutMask(a.n, a.seed, a.offset, a.threshold, a.scale, floats(a.mask, op, 'mask', a.n));
  },
  adamStep(a: AdamStepArgs): void {
    const op = 'adamStep';
    sizes(op, { n: a.n });
    const d = floatDtype(op, 'param', a.param), n = a.n;
    adamStep(n, floats(a.param, op, 'param', n, d), floats(a.grad, op, 'grad', n, d), floats(a.m, op, 'm', n, d),
      floats(a.v, op, 'v', n, d), a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.decoupled, a.bc1, a.bc2);
  },
  sgdStep(a: SgdStepArgs): void {
    const op = 'sgdStep';
    sizes(op, { n: a.n });
    const d = floatDtype(op, 'param', a.param), n = a.n;
    if (a.momentum !== 0 && a.buf === null) throw new Error(`ref.${op}: momentum ${a.momentum} needs a buf storage`);
    sgdStep(n, floats(a.param, op, 'param', n, d), floats(a.grad, op, 'grad', n, d),
      a.momentum !== 0 ? floatsOrNull(a.buf, op, 'buf', n, d) : null, a.lr, a.momentum, a.weightDecay, a.first);
  },
  sample(a: SampleArgs): void {
    const op = 'sample';
    const { B, V } = a;
    sizes(op, { B, V, topK: a.topK });
    if (V < 1) throw new RangeError(`ref.${op}: V must be ≥ 1, got ${V}`);
    checkUint32(op, 'seed', a.seed);
    checkUint32(op, 'offset', a.offset);
    const d = floatDtype(op, 'logits', a.logits);
    sample(B, V, floats(a.logits, op, 'logits', B * V, d), a.temperature, a.topK, a.topP, a.seed, a.offset,
      ints(a.tokens, op, 'tokens', B), floats(a.logp, op, 'logp', B, d), floats(a.entropy, op, 'entropy', B, d));
  },
};
