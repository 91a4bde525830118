// reshape: a view sharing the input's storage (row-major order is unchanged); the gradient passes through.
import { Tensor, recordOp } from '../tensor.js';
import { checkShapeArg, checkTensor, formatShape, given, shapeSize } from '../args.js';

/** x viewed with another shape of the same size; one dimension may be -1 (inferred) */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  // shapes: x [...] -> out [shape], prod(shape) = x.size
  checkTensor('reshape', 'x', x);
  const buf = x._live('reshape');
  const sh = inferShape(x.size, shape);
  const y = Tensor._wrap(buf.retain(), sh);
  recordOp('reshape', [x], [y], (ctx) => ctx.give(0, ctx.takeGradOutput(0)!));
  return y;
}

function inferShape(size: number, shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`reshape: shape must be an array of integers, got ${given(shape)}`);
  const free = shape.indexOf(-1);
  if (free >= 0 && shape.lastIndexOf(-1) === free) {
    const rest = checkShapeArg('reshape', shape.filter((_, i) => i !== free));
    const known = shapeSize(rest);
    if (known > 0 && size % known === 0) {
      const sh = [...shape];
      sh[free] = size / known;
      return sh;
    }
    throw new RangeError(`reshape: cannot infer -1 in ${formatShape(shape)} for a tensor of ${size} elements`);
  }
  const sh = checkShapeArg('reshape', shape);
  if (shapeSize(sh) !== size) {
    throw new RangeError(`reshape: shape ${formatShape(sh)} has ${shapeSize(sh)} elements but the tensor has ${size}`);
  }
  return sh;
}
