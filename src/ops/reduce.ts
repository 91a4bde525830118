// Full reductions to a scalar (shape []): sum and mean. Backward broadcasts the scalar gradient with
// backend.addRowVector (x[m,0] += g[0] over an [n,1] view), so nothing is downloaded.
import { Tensor, recordOp } from '../tensor.js';
import { checkFloat } from '../args.js';

/** Σ x over every element */
export function sum(x: Tensor): Tensor {
  // shapes: x [...] -> out []
  return reduce('sum', x, 1);
}

/** Σ x / n over every element */
export function mean(x: Tensor): Tensor {
  // shapes: x [...] -> out []
  checkFloat('mean', 'x', x);
  return reduce('mean', x, 1 / x.size);
}

function reduce(op: string, x: Tensor, scale: number): Tensor {
  checkFloat(op, 'x', x);
  const be = x.backend;
  const out = be.alloc(x.dtype, 1);
  be.sum({ n: x.size, x: x._storage, out });
  if (scale !== 1) be.affine({ n: 1, alpha: scale, x: out, beta: 0, out });
  const y = Tensor._fromStorage(be, out, []);
  recordOp(op, [x], [y], (ctx) => {
    const g = ctx.takeGradOutput(0)!;
    if (scale !== 1) be.affine({ n: 1, alpha: scale, x: g, beta: 0, out: g });
    be.addRowVector({ M: x.size, N: 1, x: ctx.accumulate(0), b: g });
    be.free(g);
  });
  return y;
}
