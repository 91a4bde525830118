// Elementwise ops of two same-shape tensors or a tensor and a JS number: add, sub, mul.
// Forward and backward go through backend.axpby / affine / mul; no broadcasting beyond scalars.
import type { Backend, Storage } from '../backend.js';
import { Tensor, recordOp, type BackwardContext } from '../tensor.js';
import { checkFloat, checkSameDevice, checkShape } from '../args.js';

/** Gives alpha_i · gradOutput(0) to every input i in `targets` that needs it (n elements each);
 *  the last one takes the upstream storage itself instead of a copy. */
function giveScaled(ctx: BackwardContext, be: Backend, x: Tensor, targets: readonly [number, number][]): void {
  const want = targets.filter(([i]) => ctx.needsGrad(i));
  want.forEach(([i, alpha], k) => {
    if (k === want.length - 1) {
      const g = ctx.takeGradOutput(0)!;
      if (alpha !== 1) be.affine({ n: x.size, alpha, x: g, beta: 0, out: g });
      ctx.give(i, g);
    } else {
      const s = be.alloc(x.dtype, x.size);
      be.affine({ n: x.size, alpha, x: ctx.gradOutput(0)!, beta: 0, out: s });
      ctx.give(i, s);
    }
  });
}

function operands(op: string, a: Tensor, b: Tensor | number): Backend {
  checkFloat(op, 'a', a);
  a._live(op);
  if (typeof b === 'number') return a.backend;
  if (!(b instanceof Tensor)) throw new TypeError(`${op}: the operand must be a Tensor or a number, got ${typeof b}`);
  b._live(op);
  const be = checkSameDevice(op, { a, b });
  checkShape(op, 'b', b, a.shape);
  return be;
}

/** a + b (b: same shape or a number) */
export function add(a: Tensor, b: Tensor | number): Tensor {
  // shapes: a [...], b [...] or scalar -> out [...]
  return linearCombination('add', a, b, 1);
}

/** a - b (b: same shape or a number) */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  // shapes: a [...], b [...] or scalar -> out [...]
  return linearCombination('sub', a, b, -1);
}

function linearCombination(op: string, a: Tensor, b: Tensor | number, sign: number): Tensor {
  const be = operands(op, a, b);
  const out = be.alloc(a.dtype, a.size);
  if (typeof b === 'number') {
    be.affine({ n: a.size, alpha: 1, x: a._storage, beta: sign * b, out });
    const y = Tensor._fromStorage(be, out, a.shape);
    recordOp(op, [a], [y], (ctx) => giveScaled(ctx, be, a, [[0, 1]]));
    return y;
  }
  be.axpby({ n: a.size, alpha: 1, x: a._storage, beta: sign, y: b._storage, out });
  const y = Tensor._fromStorage(be, out, a.shape);
  recordOp(op, [a, b], [y], (ctx) => giveScaled(ctx, be, a, [[0, 1], [1, sign]]));
  return y;
}

/** a ⊙ b (b: same shape or a number) */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  // shapes: a [...], b [...] or scalar -> out [...]
  const be = operands('mul', a, b);
  const out = be.alloc(a.dtype, a.size);
  if (typeof b === 'number') {
    be.affine({ n: a.size, alpha: b, x: a._storage, beta: 0, out });
    const y = Tensor._fromStorage(be, out, a.shape);
    recordOp('mul', [a], [y], (ctx) => giveScaled(ctx, be, a, [[0, b]]));
    return y;
  }
  const as = a._storage;
  const bs = b._storage;
  be.mul({ n: a.size, x: as, y: bs, out });
  const y = Tensor._fromStorage(be, out, a.shape);
  recordOp('mul', [a, b], [y], (ctx) => {
    const g = ctx.gradOutput(0)!;
    const other: Storage[] = [bs, as];
    for (const i of [0, 1]) {
      if (!ctx.needsGrad(i)) continue;
      const d = be.alloc(a.dtype, a.size);
      be.mul({ n: a.size, x: g, y: other[i], out: d });
      ctx.give(i, d);
    }
  }, [a._live('mul').retain(), b._live('mul').retain()]);
  return y;
}
