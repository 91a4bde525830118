// Fused softmax + cross-entropy on host typed arrays: forward (loss and logsumexp per row, ignore index)
// and backward (dlogits = (softmax - onehot)·dloss). Row sums in double; the max is subtracted first, so
// extreme logits (±1e4) stay finite.
import type { FloatArray } from './storage.js';

/**
 * Shapes: logits [N,V] in; targets int32 [N] in; loss [N] out (0 on rows whose target is ignoreIndex);
 * lse [N] out (logsumexp of every row, ignored ones too; saved for backward).
 */
export function softmaxXentForward(
  N: number, V: number, logits: FloatArray, targets: Int32Array, ignoreIndex: number,
  loss: FloatArray, lse: FloatArray,
): void {
  for (let n = 0, o = 0; n < N; n++, o += V) {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v] > mx) mx = logits[o + v];
    // a row of -inf: shift by 0 so exp gives 0, not NaN, and lse = -inf (as the kernel does)
    const shift = mx === -Infinity ? 0 : mx;
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - shift);
    const l = shift + Math.log(s);
    lse[n] = l;
    const tg = targets[n];
    loss[n] = tg === ignoreIndex ? 0 : l - logits[o + tg];
  }
}

/** Shapes: logits [N,V], targets int32 [N], lse [N], dloss [N] in; dlogits [N,V] out (zero rows if ignored). */
export function softmaxXentBackward(
  N: number, V: number, logits: FloatArray, targets: Int32Array, ignoreIndex: number,
  lse: FloatArray, dloss: FloatArray, dlogits: FloatArray,
): void {
  for (let n = 0, o = 0; n < N; n++, o += V) {
    const tg = targets[n];
    if (tg === ignoreIndex) { dlogits.fill(0, o, o + V); continue; }
    const l = lse[n], d = dloss[n];
    for (let v = 0; v < V; v++) dlogits[o + v] = Math.exp(logits[o + v] - l) * d;
    dlogits[o + tg] = (Math.exp(logits[o + tg] - l) - 1) * d;
  }
}
