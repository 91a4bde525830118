// Squared-norm partial for global gradient-norm clipping: Σ x² accumulated in double.
import type { FloatArray } from './storage.js';

/** Shapes: x [n] in. Returns Σ x[0..n)². */
export function sumSquares(n: number, x: FloatArray): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}
