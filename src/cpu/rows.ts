// Row block copies on host typed arrays: dst[dstRow + r] (+)= src[srcRow + r] for r < R, rows of D.
import type { FloatArray } from './storage.js';

/** Shapes: src [srcRows,D] in; dst [dstRows,D] in/out; rows srcRow.. and dstRow.. of the R-row block. */
export function copyRows(
  R: number, D: number, src: FloatArray, srcRow: number, dst: FloatArray, dstRow: number, accumulate: boolean,
): void {
  const n = R * D, s = srcRow * D, d = dstRow * D;
  if (accumulate) for (let i = 0; i < n; i++) dst[d + i] += src[s + i];
  else for (let i = 0; i < n; i++) dst[d + i] = src[s + i];
}
