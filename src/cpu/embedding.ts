// Embedding gather (forward) and scatter-add (backward) on host typed arrays. The scatter-add walks rows
// in order, so repeated indices accumulate deterministically.
import type { FloatArray } from './storage.js';

/** Shapes: weight [V,D] in; idx int32 [N] in (each in [0,V)); out [N,D] out: out[n] = weight[idx[n]]. */
export function embeddingForward(N: number, D: number, weight: FloatArray, idx: Int32Array, out: FloatArray): void {
  for (let n = 0; n < N; n++) {
    const src = idx[n] * D, dst = n * D;
    for (let d = 0; d < D; d++) out[dst + d] = weight[src + d];
  }
}

/** Shapes: idx int32 [N] in; dout [N,D] in; dweight [V,D] acc: dweight[idx[n]] += dout[n]. */
export function embeddingBackward(N: number, D: number, idx: Int32Array, dout: FloatArray, dweight: FloatArray): void {
  for (let n = 0; n < N; n++) {
    const dst = idx[n] * D, src = n * D;
    for (let d = 0; d < D; d++) dweight[dst + d] += dout[src + d];
  }
}
