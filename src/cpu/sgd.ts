// SGD step (with optional momentum and L2 weight decay) on host typed arrays, PyTorch's formula
// (torch.optim.SGD, dampening 0, no Nesterov).
import type { FloatArray } from './storage.js';

/**
 * Shapes: param [n] in/out; grad [n] in; buf [n] in/out or null (momentum = 0).
 *   g = grad + wd·p;   with momentum: buf = first ? g : momentum·buf + g, g = buf;   p -= lr·g
 */
export function sgdStep(
  n: number, param: FloatArray, grad: FloatArray, buf: FloatArray | null,
  lr: number, momentum: number, weightDecay: number, first: boolean,
): void {
  for (let i = 0; i < n; i++) {
    const p = param[i];
    let g = grad[i] + weightDecay * p;
    if (buf !== null) {
      g = first ? g : momentum * buf[i] + g;
      buf[i] = g;
      g = buf[i]; // the stored (rounded) buffer value, as a device keeping buf in float32 would use
    }
    param[i] = p - lr * g;
  }
}
