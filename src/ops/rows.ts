// Row copies: selectRow (row r of [R, ...]) and stackRows (L tensors into [L, ...]), differentiable, on
// the copyRows kernel (backend.copyRows: dst[dstRow..] (+)= src[srcRow..], rows of D elements). Used for
// the final state of an LSTM layer (the last [B,H] row of h[T,B,H]) and the per-layer states h[L,B,H] of
// a Stack.
import type { Backend, Storage } from '../backend.js';
import { Tensor, recordOp } from '../tensor.js';
import { checkArray, checkFloat, checkSameDevice, checkShape, formatShape, given } from '../args.js';

/** dst[dstRow] (+)= src[srcRow]: one row of D elements from src [srcRows, D] into dst [dstRows, D] */
export function copyRow(be: Backend, D: number, src: Storage, srcRows: number, srcRow: number, dst: Storage,
  dstRows: number, dstRow: number, accumulate = false): void {
  be.copyRows({ R: 1, D, src, srcRows, srcRow, dst, dstRows, dstRow, accumulate });
}

/** row r of x (a copy), differentiable */
export function selectRow(x: Tensor, r: number): Tensor {
  // shapes: x [R, ...rest] -> out [...rest]
  checkFloat('selectRow', 'x', x);
  if (x.shape.length < 1 || !Number.isInteger(r) || r < 0 || r >= x.shape[0]) {
    if (typeof r !== 'number') throw new TypeError(`selectRow: row must be an integer, got ${given(r)}`);
    throw new RangeError(`selectRow: row ${r} is out of range for shape ${formatShape(x.shape)}`);
  }
  const be = x.backend;
  const R = x.shape[0];
  const D = x.size / Math.max(R, 1);
  const out = be.alloc(x.dtype, D);
  copyRow(be, D, x._storage, R, r, out, 1, 0);
  const y = Tensor._fromStorage(be, out, x.shape.slice(1));
  recordOp('selectRow', [x], [y], (ctx) => copyRow(be, D, ctx.gradOutput(0)!, 1, 0, ctx.accumulate(0), R, r, true));
  return y;
}

/** the tensors (same shape) stacked along a new first dimension, differentiable */
export function stackRows(xs: readonly Tensor[]): Tensor {
  // shapes: xs L × [...rest] -> out [L, ...rest]
  checkArray('stackRows: xs', xs);
  if (xs.length === 0) throw new RangeError('stackRows: no tensors given');
  const named: Record<string, Tensor> = {};
  xs.forEach((x, l) => {
    checkFloat('stackRows', `xs[${l}]`, x);
    checkShape('stackRows', `xs[${l}]`, x, xs[0].shape);
    named[`xs[${l}]`] = x;
  });
  const be = checkSameDevice('stackRows', named);
  const L = xs.length;
  const D = xs[0].size;
  const out = be.alloc(xs[0].dtype, L * D);
  xs.forEach((x, l) => copyRow(be, D, x._storage, 1, 0, out, L, l));
  const y = Tensor._fromStorage(be, out, [L, ...xs[0].shape]);
  recordOp('stackRows', xs, [y], (ctx) => {
    const g = ctx.gradOutput(0)!;
    xs.forEach((x, l) => {
      if (!ctx.needsGrad(l)) return;
      const d = be.alloc(x.dtype, D);
      copyRow(be, D, g, L, l, d, 1, 0);
      ctx.give(l, d);
    });
  });
  return y;
}
