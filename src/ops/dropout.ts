// dropout: out = mask ⊙ x with mask[i] ∈ {0, 1/(1-p)} from backend.dropoutMask (counter-based RNG:
// element i uses counter offset + i, so every backend draws the same mask). Backward: dx = mask ⊙ dy.
import { Buf, Tensor, recordOp } from '../tensor.js';
import { checkFloat, checkNumber, checkOptions } from '../args.js';

export interface DropoutOptions {
  /** drop probability in [0, 1) */
  p: number;
  /** uint32 */
  seed: number;
  /** uint32 counter of element 0 */
  offset: number;
}

export function dropout(x: Tensor, options: DropoutOptions): Tensor {
  // shapes: x [...] -> out [...]; the mask uses counters offset .. offset + x.size - 1
  const opts = checkOptions('dropout', options);
  checkFloat('dropout', 'x', x);
  const p = checkNumber('dropout: p', opts.p, 0, 1);
  if (p >= 1) throw new RangeError(`dropout: p must be < 1, got ${p}`);
  const be = x.backend;
  const n = x.size;
  const mask = be.alloc(x.dtype, n);
  be.dropoutMask({
    n, seed: (opts.seed ?? 0) >>> 0, offset: (opts.offset ?? 0) >>> 0,
    threshold: Math.round(p * 16777216), scale: Math.fround(1 / (1 - p)), mask,
  });
  const out = be.alloc(x.dtype, n);
  be.mul({ n, x: x._storage, y: mask, out });
  const y = Tensor._fromStorage(be, out, x.shape);
  const maskBuf = new Buf(be, mask);
  recordOp('dropout', [x], [y], (ctx) => {
    const g = ctx.takeGradOutput(0)!;
    be.mul({ n, x: g, y: mask, out: g });
    ctx.give(0, g);
  }, [maskBuf]);
  return y;
}
