// Elementwise ops and small reductions on host typed arrays: fill, axpby, affine, mul, sum,
// addRowVector, sumRows. Reductions accumulate in double. Outputs may alias inputs where backend.ts
// says so: every loop reads element i before writing element i.
import type { FloatArray } from './storage.js';

/** out = alpha·x + beta·y. Shapes: x, y, out [n]. out may alias x or y. */
export function axpby(n: number, alpha: number, x: FloatArray, beta: number, y: FloatArray, out: FloatArray): void {
  for (let i = 0; i < n; i++) out[i] = alpha * x[i] + beta * y[i];
}

/** out = alpha·x + beta. Shapes: x, out [n]. out may alias x. */
export function affine(n: number, alpha: number, x: FloatArray, beta: number, out: FloatArray): void {
  for (let i = 0; i < n; i++) out[i] = alpha * x[i] + beta;
}

/** out = x⊙y. Shapes: x, y, out [n]. out may alias x or y. */
export function mul(n: number, x: FloatArray, y: FloatArray, out: FloatArray): void {
  for (let i = 0; i < n; i++) out[i] = x[i] * y[i];
}

/** Σ x[0..n) in double. Shapes: x [n]. */
export function sum(n: number, x: FloatArray): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  return s;
}

/** x[m,j] += b[j]. Shapes: x [M,N], b [N]. */
export function addRowVector(M: number, N: number, x: FloatArray, b: FloatArray): void {
  for (let m = 0, o = 0; m < M; m++, o += N) {
    for (let j = 0; j < N; j++) x[o + j] += b[j];
  }
}

let rowSums = new Float64Array(0);

/** out[j] = Σ_m x[m,j] (or += when accumulate), summed in double. Shapes: x [M,N], out [N]. */
export function sumRows(M: number, N: number, x: FloatArray, out: FloatArray, accumulate: boolean): void {
  if (rowSums.length < N) rowSums = new Float64Array(N);
  const acc = rowSums;
  acc.fill(0, 0, N);
  for (let m = 0, o = 0; m < M; m++, o += N) {
    for (let j = 0; j < N; j++) acc[j] += x[o + j];
  }
  if (accumulate) for (let j = 0; j < N; j++) out[j] += acc[j];
  else for (let j = 0; j < N; j++) out[j] = acc[j];
}
