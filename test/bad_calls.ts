// Bad kernel calls straight through a backend object (no op in front), each with the error every backend
// must throw: its type and its message after "<backend>.<kernel>: ". Used in-process by
// kernel_spec.test.ts (every backend, same error) and by bad_call_child.ts (each in a child process, so
// that a crash would show as a signal instead of killing the test run).
import type { Backend, KernelName, Storage } from '../src/backend.js';

export interface BadCall {
  name: string;
  kernel: KernelName;
  /** the call's arguments, storages allocated on `be` */
  args(be: Backend): Record<string, unknown>;
  type: 'Error' | 'TypeError' | 'RangeError';
  /** the message after "<backend>.<kernel>: " */
  message: string;
}

const f32 = (be: Backend, n: number, v = 0.5): Storage => be.upload(new Float32Array(n).fill(v));
const i32 = (be: Backend, ...v: number[]): Storage => be.upload(Int32Array.from(v));

const emb = (be: Backend, idx: Storage) => ({ N: 1, V: 5, D: 2, weight: f32(be, 10), idx, out: f32(be, 2) });
const embBack = (be: Backend, idx: Storage) => ({ N: 1, V: 5, D: 2, idx, dout: f32(be, 2), dweight: f32(be, 10) });
const xent = (be: Backend, targets: Storage, ignoreIndex = -1) => ({
  N: 2, V: 3, logits: f32(be, 6), targets, ignoreIndex, loss: f32(be, 2), lse: f32(be, 2),
});
const gemm = (be: Backend) => ({
  transA: false, transB: false, M: 2, N: 2, K: 3, alpha: 1, beta: 0, A: f32(be, 6), B: f32(be, 6), C: f32(be, 4),
});
const sample = (be: Backend) => ({
  B: 1, V: 4, logits: f32(be, 4), temperature: 1, topK: 0, topP: 1, seed: 1, offset: 0,
  tokens: i32(be, 0), logp: f32(be, 1), entropy: f32(be, 1),
});
const dropout = (be: Backend) => ({ n: 4, seed: 1, offset: 0, threshold: 100, scale: 2, mask: f32(be, 4) });
const sgd = (be: Backend) => ({
  n: 2, param: f32(be, 2), grad: f32(be, 2), buf: f32(be, 2), lr: 0.1, momentum: 0.9, weightDecay: 0, first: true,
});

export const BAD_CALLS: readonly BadCall[] = [
  // ---- indices out of range (each a native crash or an out-of-bounds write before the checker)
  { name: 'embedding index 1e6', kernel: 'embeddingForward', args: (be) => emb(be, i32(be, 1000000)),
    type: 'RangeError', message: 'idx[0] = 1000000 is outside [0, 5)' },
  { name: 'negative embedding index', kernel: 'embeddingForward', args: (be) => emb(be, i32(be, -3)),
    type: 'RangeError', message: 'idx[0] = -3 is outside [0, 5)' },
  { name: 'embedding backward index 1e6', kernel: 'embeddingBackward', args: (be) => embBack(be, i32(be, 1000000)),
    type: 'RangeError', message: 'idx[0] = 1000000 is outside [0, 5)' },
  { name: 'embedding backward index -1', kernel: 'embeddingBackward', args: (be) => embBack(be, i32(be, -1)),
    type: 'RangeError', message: 'idx[0] = -1 is outside [0, 5)' },
  { name: 'softmax-xent target 1e6', kernel: 'softmaxXentForward', args: (be) => xent(be, i32(be, 0, 1000000)),
    type: 'RangeError', message: 'targets[1] = 1000000 is outside [0, 3) and is not ignoreIndex (-1)' },
  { name: 'softmax-xent negative target that is not ignoreIndex', kernel: 'softmaxXentForward', args: (be) => xent(be, i32(be, -1, -7)),
    type: 'RangeError', message: 'targets[1] = -7 is outside [0, 3) and is not ignoreIndex (-1)' },
  { name: 'softmax-xent backward target 3', kernel: 'softmaxXentBackward',
    args: (be) => ({ ...xent(be, i32(be, 3, 0)), dloss: f32(be, 2), dlogits: f32(be, 6) }),
    type: 'RangeError', message: 'targets[0] = 3 is outside [0, 3) and is not ignoreIndex (-1)' },
  // ---- integers that do not fit what the kernel narrows them to
  { name: 'ignoreIndex outside int32', kernel: 'softmaxXentForward', args: (be) => xent(be, i32(be, 0, 1), 2 ** 32 + 1),
    type: 'RangeError', message: 'ignoreIndex must be an integer in [-2^31, 2^31), got 4294967297' },
  { name: 'a size of 2^31', kernel: 'gemm', args: (be) => ({ ...gemm(be), M: 2 ** 31 }),
    type: 'RangeError', message: 'M must be an integer in [0, 2^31), got 2147483648' },
  { name: 'a size of 1e300', kernel: 'embeddingForward', args: (be) => ({ ...emb(be, i32(be, 0)), D: 1e300 }),
    type: 'RangeError', message: 'D must be an integer in [0, 2^31), got 1e+300' },
  { name: 'a fractional size', kernel: 'gemm', args: (be) => ({ ...gemm(be), K: 2.5 }),
    type: 'RangeError', message: 'K must be an integer in [0, 2^31), got 2.5' },
  { name: 'shape product over 2^31', kernel: 'embeddingForward', args: (be) => ({ ...emb(be, i32(be, 0)), V: 65536, D: 65536 }),
    type: 'RangeError', message: "'weight' shape [V=65536, D=65536] has 4294967296 elements, over 2^31-1" },
  { name: 'seed 2^32', kernel: 'dropoutMask', args: (be) => ({ ...dropout(be), seed: 2 ** 32 }),
    type: 'RangeError', message: 'seed must be an integer in [0, 2^32), got 4294967296' },
  { name: 'negative offset', kernel: 'sample', args: (be) => ({ ...sample(be), offset: -1 }),
    type: 'RangeError', message: 'offset must be an integer in [0, 2^32), got -1' },
  { name: 'topK 2^31', kernel: 'sample', args: (be) => ({ ...sample(be), topK: 2 ** 31 }),
    type: 'RangeError', message: 'topK must be an integer in [0, 2^31), got 2147483648' },
  // ---- the disagreements of issue 10, now one answer
  { name: 'topP = 0', kernel: 'sample', args: (be) => ({ ...sample(be), topP: 0 }),
    type: 'RangeError', message: 'topP must be in (0, 1], got 0' },
  { name: 'topP NaN', kernel: 'sample', args: (be) => ({ ...sample(be), topP: NaN }),
    type: 'RangeError', message: 'topP must be in (0, 1], got NaN' },
  { name: 'dropout threshold above 2^24', kernel: 'dropoutMask', args: (be) => ({ ...dropout(be), threshold: 2 ** 24 + 1 }),
    type: 'RangeError', message: 'threshold must be an integer in [0, 2^24], got 16777217' },
  { name: 'negative dropout threshold', kernel: 'dropoutMask', args: (be) => ({ ...dropout(be), threshold: -1 }),
    type: 'RangeError', message: 'threshold must be an integer in [0, 2^24], got -1' },
  { name: 'SGD momentum without a buffer', kernel: 'sgdStep', args: (be) => ({ ...sgd(be), buf: null }),
    type: 'TypeError', message: "'buf' is null but momentum is 0.9; a non-zero momentum needs it" },
  // ---- wrong types and dtypes
  { name: 'a size given as a string', kernel: 'gemm', args: (be) => ({ ...gemm(be), N: '2' }),
    type: 'TypeError', message: 'N must be a number, got "2"' },
  { name: 'a boolean given as a number', kernel: 'gemm', args: (be) => ({ ...gemm(be), transA: 1 }),
    type: 'TypeError', message: 'transA must be a boolean, got 1' },
  { name: 'NaN learning rate', kernel: 'sgdStep', args: (be) => ({ ...sgd(be), lr: NaN }),
    type: 'RangeError', message: 'lr must be a number, got NaN' },
  { name: 'float32 indices', kernel: 'embeddingForward', args: (be) => emb(be, f32(be, 1, 0)),
    type: 'TypeError', message: "'idx' must be int32, got float32" },
  { name: 'int32 logits', kernel: 'softmaxXentForward', args: (be) => ({ ...xent(be, i32(be, 0, 1)), logits: i32(be, 0, 0, 0, 0, 0, 0) }),
    type: 'TypeError', message: "'logits' must be a float storage, got int32" },
  { name: 'a required storage missing', kernel: 'gemm', args: (be) => ({ ...gemm(be), B: null }),
    type: 'TypeError', message: "'B' is required, got null" },
  { name: 'a plain object as a storage', kernel: 'gemm', args: (be) => ({ ...gemm(be), C: { dtype: 'float32', length: 4 } }),
    type: 'TypeError', message: "'C' is not a storage of the <backend> backend (got Object)" },
  { name: 'a short storage', kernel: 'gemm', args: (be) => ({ ...gemm(be), C: f32(be, 3) }),
    type: 'RangeError', message: "'C' has 3 elements but its shape [M=2, N=2] needs 4" },
  { name: 'C aliasing A', kernel: 'gemm', args: (be) => { const a = gemm(be); return { ...a, C: a.A }; },
    type: 'Error', message: "'C' must not alias 'A'" },
  { name: 'no argument object', kernel: 'gemm', args: () => null as unknown as Record<string, unknown>,
    type: 'TypeError', message: 'expected an argument object, got null' },
];

/** The full message `be` must give for `c`. */
export function expectedMessage(be: Backend, c: BadCall): string {
  return `${be.name}.${c.kernel}: ${c.message.replace('<backend>', be.name)}`;
}
