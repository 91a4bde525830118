// Fused Adam / AdamW step on host typed arrays, PyTorch's formula (torch.optim.Adam / AdamW, not amsgrad).
import type { FloatArray } from './storage.js';

/**
 * Shapes: param, m, v [n] in/out; grad [n] in. bc1 = 1 - β1^step, bc2 = 1 - β2^step.
 *   decoupled (AdamW): p *= 1 - lr·wd;   else (Adam, L2): g += wd·p
 *   m = β1·m + (1-β1)·g;   v = β2·v + (1-β2)·g²;   p -= (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps)
 */
export function adamStep(
  n: number, param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean,
  bc1: number, bc2: number,
): void {
  const stepSize = lr / bc1;
  const sqrtBc2 = Math.sqrt(bc2);
  const decay = decoupled ? 1 - lr * weightDecay : 1;
  const l2 = decoupled ? 0 : weightDecay;
  for (let i = 0; i < n; i++) {
    let p = param[i];
    const g = grad[i] + l2 * p;
    p *= decay;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - stepSize * (mi / (Math.sqrt(vi) / sqrtBc2 + eps));
  }
}
