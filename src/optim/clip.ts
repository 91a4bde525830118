// clipGradNorm: the global L2 norm of every parameter's gradient (one backend.sumSquares per parameter
// into one storage per backend and dtype, one download), and, when it exceeds maxNorm, every gradient
// scaled by maxNorm / (norm + 1e-6) in place — PyTorch's clip_grad_norm_. The total is summed in double; a
// gradient whose float32 sum of squares overflows (values near 3e38 are finite, their squares are not) is
// summed again on the host in double, so a huge finite gradient is scaled down, not zeroed.
import type { Backend, DType, Storage } from '../backend.js';
import { Tensor } from '../tensor.js';
import { checkNumber } from '../args.js';

/** Σ x² of finite values in double, without overflow (scaled by the largest |x|); NaN/inf give NaN/inf */
function hostSumSquares(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (!(a <= m)) m = a; // NaN propagates
  }
  if (!Number.isFinite(m) || m === 0) return m === 0 ? 0 : m * m;
  let s = 0;
  for (let i = 0; i < x.length; i++) { const r = x[i]! / m; s += r * r; }
  return s * m * m;
}

/** Returns the total gradient norm before clipping (parameters without a gradient are skipped). */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  // shapes: every p.grad the shape of p; the norm is over all of them together
  if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`clipGradNorm: params must be an array of Tensors (e.g. model.parameters()), got ${params === null ? 'null' : typeof params}`);
  }
  checkNumber('clipGradNorm: maxNorm', maxNorm, 0);
  const tensors = [...params];
  tensors.forEach((p, i) => { if (!(p instanceof Tensor)) throw new TypeError(`clipGradNorm: params[${i}] is not a Tensor`); });
  const grads = tensors.map((p) => p.grad).filter((g): g is Tensor => g !== null);
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
      list.forEach((g, i) => be.sumSquares({ n: g.size, x: g._storage, out, outIndex: i }));
      const partial = be.download(out);
      be.free(out);
      partial.forEach((v, i) => { total2 += v === Infinity ? hostSumSquares(list[i]!.toArray()) : v; });
    }
  }
  const total = Math.sqrt(total2);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const g of grads) g.backend.affine({ n: g.size, alpha: coef, x: g._storage, beta: 0, out: g._storage });
  }
  return total;
}
