// clipGradNorm: the global L2 norm of every parameter's gradient (one backend.sumSquares per parameter
// into one storage per backend and dtype, one download), and, when it exceeds maxNorm, every gradient
// scaled by maxNorm / (norm + 1e-6) in place — PyTorch's clip_grad_norm_.
import type { Backend, DType, Storage } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { checkNumber } from '../ops/check.js';

/** Returns the total gradient norm before clipping (parameters without a gradient are skipped). */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  // shapes: every p.grad the shape of p; the norm is over all of them together
  checkNumber('clipGradNorm: maxNorm', maxNorm, 0);
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  const groups = new Map<Backend, Map<DType, Tensor[]>>();
  for (const g of grads) {
    let byType = groups.get(g.backend);
    if (!byType) groups.set(g.backend, (byType = new Map()));
    const list = byType.get(g.dtype) ?? [];
    list.push(g);
    byType.set(g.dtype, list);
  }
  let total2 = 0;
  for (const [be, byType] of groups) {
    for (const [dtype, list] of byType) {
      const out: Storage = be.alloc(dtype, list.length);
      list.forEach((g, i) => be.sumSquares(g.size, g._storage, out, i));
      const partial = be.download(out);
      be.free(out);
      for (const v of partial) total2 += v;
    }
  }
  const total = Math.sqrt(total2);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const g of grads) g.backend.affine(g.size, coef, g._storage, 0, g._storage);
  }
  return total;
}
