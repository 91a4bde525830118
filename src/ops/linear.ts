// linear: y = x·Wᵀ + b over any leading dimensions (one GEMM with transB, then addRowVector).
// Backward: dx = dy·W (GEMM), dW += dyᵀ·x (GEMM, accumulated), db += Σ_rows dy (sumRows).
import { Tensor, recordOp } from '../tensor.js';
import { checkFloat, checkSameDevice, checkShape, checkTensor, formatShape } from '../args.js';

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  // shapes: x [..., K], weight [M, K], bias [M] or null -> out [..., M]; N = prod(...)
  checkFloat('linear', 'x', x);
  checkTensor('linear', 'weight', weight);
  const be = checkSameDevice('linear', { x, weight, bias });
  if (weight.shape.length !== 2) throw new RangeError(`linear: weight must be [outFeatures, inFeatures], got shape ${formatShape(weight.shape)}`);
  const [M, K] = weight.shape;
  if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== K) {
    throw new RangeError(`linear: x has the wrong shape: expected [..., ${K}], got ${formatShape(x.shape)}`);
  }
  if (bias) checkShape('linear', 'bias', bias, [M]);
  const N = x.size / K;
  const xs = x._storage;
  const ws = weight._storage;
  const out = be.alloc(x.dtype, N * M);
  be.gemm({ transA: false, transB: true, M: N, N: M, K, alpha: 1, beta: 0, A: xs, B: ws, C: out });
  if (bias) be.addRowVector({ M: N, N: M, x: out, b: bias._storage });
  const y = Tensor._fromStorage(be, out, [...x.shape.slice(0, -1), M]);
  recordOp('linear', [x, weight, bias], [y], (ctx) => {
    const dy = ctx.gradOutput(0)!;
    if (ctx.needsGrad(0)) {
      const dx = be.alloc(x.dtype, N * K);
      be.gemm({ transA: false, transB: false, M: N, N: K, K: M, alpha: 1, beta: 0, A: dy, B: ws, C: dx });
      ctx.give(0, dx);
    }
    if (ctx.needsGrad(1)) {
      be.gemm({ transA: true, transB: false, M, N: K, K: N, alpha: 1, beta: 1, A: dy, B: xs, C: ctx.accumulate(1) });
    }
    if (ctx.needsGrad(2)) be.sumRows({ M: N, N: M, x: dy, out: ctx.accumulate(2), accumulate: true });
  }, [x._live('linear').retain(), weight._live('linear').retain()]);
  return y;
}
