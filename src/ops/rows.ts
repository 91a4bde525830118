// Row moves without an offset-copy kernel: a tensor [R, ...] is an embedding table of R rows of
// D = prod(...) elements, so row r is gathered with backend.embeddingForward (idx = [r]) and written
// into a zeroed [R, ...] with backend.embeddingBackward (scatter-add). Nothing is downloaded; the
// one-element int32 index storages are uploaded once per backend and row and cached.
// Used for the final state of an LSTM layer (the last [B,H] row of h[T,B,H]) and for the per-layer
// states h[L,B,H] of a Stack.
import type { Backend, Storage } from '../backend.js';
import { Tensor, recordOp } from '../tensor.js';
import { checkFloat, checkSameDevice, checkShape, formatShape } from './check.js';

const indexCache = new Map<Backend, Storage[]>();

/** a cached int32 storage [1] holding r (lives as long as the process) */
export function indexStorage(be: Backend, r: number): Storage {
  let list = indexCache.get(be);
  if (!list) indexCache.set(be, (list = []));
  return (list[r] ??= be.upload(Int32Array.of(r)));
}

/** dst[D] = src[r] for src [R,D] */
export function gatherRow(be: Backend, src: Storage, R: number, D: number, r: number, dst: Storage): void {
  be.embeddingForward({ N: 1, V: R, D, weight: src, idx: indexStorage(be, r), out: dst });
}

/** dst[r] += src[D] for dst [R,D] */
export function scatterAddRow(be: Backend, src: Storage, R: number, D: number, r: number, dst: Storage): void {
  be.embeddingBackward({ N: 1, V: R, D, idx: indexStorage(be, r), dout: src, dweight: dst });
}

/** row r of x (a copy), differentiable */
export function selectRow(x: Tensor, r: number): Tensor {
  // shapes: x [R, ...rest] -> out [...rest]
  checkFloat('selectRow', 'x', x);
  if (x.shape.length < 1 || !Number.isInteger(r) || r < 0 || r >= x.shape[0]) {
    throw new RangeError(`selectRow: row ${r} is out of range for shape ${formatShape(x.shape)}`);
  }
  const be = x.backend;
  const R = x.shape[0];
  const D = x.size / Math.max(R, 1);
  const out = be.alloc(x.dtype, D);
  gatherRow(be, x._storage, R, D, r, out);
  const y = Tensor._fromStorage(be, out, x.shape.slice(1));
  recordOp('selectRow', [x], [y], (ctx) => scatterAddRow(be, ctx.gradOutput(0)!, R, D, r, ctx.accumulate(0)));
  return y;
}

/** the tensors (same shape) stacked along a new first dimension, differentiable */
export function stackRows(xs: readonly Tensor[]): Tensor {
  // shapes: xs L × [...rest] -> out [L, ...rest]
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
  xs.forEach((x, l) => scatterAddRow(be, x._storage, L, D, l, out));
  const y = Tensor._fromStorage(be, out, [L, ...xs[0].shape]);
  recordOp('stackRows', xs, [y], (ctx) => {
    const g = ctx.gradOutput(0)!;
    xs.forEach((x, l) => {
      if (!ctx.needsGrad(l)) return;
      const d = be.alloc(x.dtype, D);
      gatherRow(be, g, L, D, l, d);
      ctx.give(l, d);
    });
  });
  return y;
}
