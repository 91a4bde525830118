// embedding: rows of a [V,D] table gathered by int32 indices of any shape (backend.embeddingForward);
// backward scatter-adds into the table's gradient (backend.embeddingBackward, deterministic).
// Indices are validated on the host (the upload's copy, else downloaded: they are small) before any
// kernel runs, except indices a kernel guarantees in range (sampled tokens): generation then feeds the
// sampled token straight back without a device-to-host sync.
import { Tensor, recordOp } from '../tensor.js';
import { checkSameDevice, formatShape } from './check.js';

export function embedding(weight: Tensor, idx: Tensor): Tensor {
  // shapes: weight [V, D], idx int32 [...] each in [0,V) -> out [..., D]; N = prod(...)
  const be = checkSameDevice('embedding', { weight, idx }, ['idx']);
  if (weight.shape.length !== 2) throw new RangeError(`embedding: weight must be [numEmbeddings, embeddingDim], got shape ${formatShape(weight.shape)}`);
  if (weight.dtype === 'int32') throw new TypeError('embedding: weight must be a float tensor, got dtype int32');
  const [V, D] = weight.shape;
  const N = idx.size;
  if (!idx._indicesKnownBelow(V)) {
    const host = idx._hostIndices();
    for (let n = 0; n < N; n++) {
      if (host[n] < 0 || host[n] >= V) {
        throw new RangeError(`embedding: index ${host[n]} at position ${n} is outside [0, ${V})`);
      }
    }
  }
  const is = idx._storage;
  const out = be.alloc(weight.dtype, N * D);
  be.embeddingForward({ N, V, D, weight: weight._storage, idx: is, out });
  const y = Tensor._fromStorage(be, out, [...idx.shape, D]);
  recordOp('embedding', [weight, idx], [y], (ctx) => {
    if (ctx.needsGrad(0)) be.embeddingBackward({ N, V, D, idx: is, dout: ctx.gradOutput(0)!, dweight: ctx.accumulate(0) });
  }, [idx._live('embedding').retain()]);
  return y;
}
