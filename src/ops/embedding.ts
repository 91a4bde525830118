// embedding: rows of a [V,D] table gathered by int32 indices of any shape (backend.embeddingForward);
// backward scatter-adds into the table's gradient (backend.embeddingBackward, deterministic).
// Index range is the backend's check (src/spec/check.ts: every index in [0, V) before any kernel runs; on
// the native backends without a device read for uploaded indices and sampled tokens, whose range is known).
import { Tensor, recordOp } from '../tensor.js';
import { checkSameDevice, checkTensor, formatShape } from '../args.js';

export function embedding(weight: Tensor, idx: Tensor): Tensor {
  // shapes: weight [V, D], idx int32 [...] each in [0,V) -> out [..., D]; N = prod(...)
  checkTensor('embedding', 'weight', weight);
  checkTensor('embedding', 'idx', idx);
  const be = checkSameDevice('embedding', { weight, idx }, ['idx']);
  if (weight.shape.length !== 2) throw new RangeError(`embedding: weight must be [numEmbeddings, embeddingDim], got shape ${formatShape(weight.shape)}`);
  if (weight.dtype === 'int32') throw new TypeError('embedding: weight must be a float tensor, got dtype int32');
  const [V, D] = weight.shape;
  const N = idx.size;
  const is = idx._storage;
  const out = be.alloc(weight.dtype, N * D);
  try {
    be.embeddingForward({ N, V, D, weight: weight._storage, idx: is, out });
  } catch (e) {
    be.free(out); // an index outside [0, V): the backend refused, nothing leaks
    throw e;
  }
  const y = Tensor._fromStorage(be, out, [...idx.shape, D]);
  recordOp('embedding', [weight, idx], [y], (ctx) => {
    if (ctx.needsGrad(0)) be.embeddingBackward({ N, V, D, idx: is, dout: ctx.gradOutput(0)!, dweight: ctx.accumulate(0) });
  }, [idx._live('embedding').retain()]);
  return y;
}
