// GEMM on host typed arrays: C[M,N] = alpha·op(A)·op(B) + beta·C, float32 or float64, all four
// transpose combinations. The cpu training hot path.
//
// Method (BLAS-style, scalar JS): K is cut into blocks of KC and N into blocks of NC. Per block, op(A)
// is packed into 4-row panels and op(B) into 3-column panels of float64 scratch, each panel k-major and
// interleaved (panel[k*4 + r], panel[k*3 + c]), so the 4×3 micro-kernel reads both operands
// sequentially and keeps its 12 accumulators plus 4 a-values in registers (4×3 measured ~7% faster
// than 4×4, which spills, and well ahead of 2×4 or 1×8). A 4-row A panel (8 KB) stays in L1 while the
// packed B block (≤ KC·NC doubles, 768 KB) streams from L2. Packing converts float32 to double once,
// keeps the micro-kernel monomorphic (it only ever sees Float64Array), bounds scratch memory, and costs
// O(MK + KN) against O(MNK) work. Rows beyond the last full panel use a 1×3 kernel; columns are padded
// to a multiple of 3 (padding lanes are computed but never stored, so their contents do not matter).
// Fewer than 4 rows (batch-1 generation) skip packing and read B in place. Sums accumulate in double
// and are rounded into C once per K block (once in total for K ≤ KC).
import type { FloatArray } from './storage.js';

const KC = 256;
const NC = 384; // a multiple of 3: column blocks start on a panel boundary

let packAScratch: Float64Array = new Float64Array(0);
let packBScratch: Float64Array = new Float64Array(0);
let rowScratch: Float64Array = new Float64Array(0);
const tile = new Float64Array(12);

function grow(buf: Float64Array, n: number): Float64Array {
  return buf.length >= n ? buf : new Float64Array(Math.max(n, buf.length * 2));
}

/** Floats needed to pack op(B) [K,N] into 3-column panels. */
export function packedBLength(K: number, N: number): number {
  return Math.ceil(N / 3) * 3 * K;
}

/**
 * Packs op(B) [K,N] whole into 3-column panels (for gemmPackedB): dst[⌊j/3⌋·3K + k·3 + j mod 3] =
 * op(B)[k,j]. B is stored [K,N], or [N,K] when transB. dst: at least packedBLength(K,N).
 */
export function packB(transB: boolean, K: number, N: number, B: FloatArray, dst: Float64Array): void {
  packBBlock(transB, K, N, 0, K, 0, N, B, dst);
}

/** Packs the block op(B)[k0:k0+kc, n0:n0+nc] into 3-column panels of kc rows (dst[⌊j/3⌋·3kc + k·3 + j mod 3]). */
function packBBlock(
  transB: boolean, K: number, N: number, k0: number, kc: number, n0: number, nc: number, B: FloatArray, dst: Float64Array,
): void {
  const P = kc * 3; // one panel
  if (!transB) {
    for (let k = 0; k < kc; k++) {
      const row = (k0 + k) * N + n0;
      // d walks panel by panel: lane c of panel q is at q·3kc + k·3 + c
      for (let j = 0, d = k * 3; j < nc; j += 3, d += P) {
        dst[d] = B[row + j];
        if (j + 1 < nc) dst[d + 1] = B[row + j + 1];
        if (j + 2 < nc) dst[d + 2] = B[row + j + 2];
      }
    }
  } else {
    for (let j = 0; j < nc; j++) {
      const row = (n0 + j) * K + k0;
      let d = ((j / 3) | 0) * P + (j % 3);
      for (let k = 0; k < kc; k++, d += 3) dst[d] = B[row + k];
    }
  }
}

/** Packs the block op(A)[:, k0:k0+kc] [M,kc] into 4-row panels: dst[(i>>2)·4kc + k·4 + (i&3)]. */
function packABlock(transA: boolean, M: number, K: number, k0: number, kc: number, A: FloatArray, dst: Float64Array): void {
  const P = kc * 4;
  if (!transA) {
    for (let i = 0; i < M; i++) {
      const row = i * K + k0;
      let d = (i >> 2) * P + (i & 3);
      for (let k = 0; k < kc; k++, d += 4) dst[d] = A[row + k];
    }
  } else {
    // A stored [K,M]: read rows of A contiguously
    for (let k = 0; k < kc; k++) {
      const row = (k0 + k) * M;
      for (let i = 0; i < M; i++) dst[(i >> 2) * P + k * 4 + (i & 3)] = A[row + i];
    }
  }
}

/** C = beta·C (beta = 0 writes zeros, ignoring NaN in C). Shapes: C [M,N]. */
function scaleC(M: number, N: number, beta: number, C: FloatArray): void {
  const n = M * N;
  if (beta === 0) C.fill(0, 0, n);
  else if (beta !== 1) for (let i = 0; i < n; i++) C[i] *= beta;
}

/**
 * C = alpha·op(A)·op(B) + beta·C on typed arrays. Shapes: op(A) [M,K] (A stored [M,K] or [K,M] when
 * transA), op(B) [K,N] (B stored [K,N] or [N,K] when transB), C [M,N]. Lengths are trusted (the backend
 * wrapper checks them). C must not alias A or B.
 */
export function gemmArrays(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0 || alpha === 0) { scaleC(M, N, beta, C); return; }
  if (M < 4 && !transA) { gemmFewRows(transB, M, N, K, alpha, A, B, beta, C); return; }
  const kcMax = Math.min(K, KC);
  packAScratch = grow(packAScratch, ((M + 3) >> 2) * 4 * kcMax);
  packBScratch = grow(packBScratch, packedBLength(kcMax, Math.min(N, NC)));
  const Ap = packAScratch, Bp = packBScratch;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const b = k0 === 0 ? beta : 1; // later K blocks add to what the first wrote
    packABlock(transA, M, K, k0, kc, A, Ap);
    for (let n0 = 0; n0 < N; n0 += NC) {
      const nc = Math.min(NC, N - n0);
      packBBlock(transB, K, N, k0, kc, n0, nc, B, Bp);
      panels(M, nc, kc, alpha, Ap, Bp, b, C, n0, N);
    }
  }
}

/**
 * C = alpha·op(A)·op(B) + beta·C with op(B) already packed whole by packB (lets a caller pack a weight
 * once and reuse it over many steps; meant for small M·K). Shapes: op(A) [M,K], Bp = packB(op(B) [K,N]),
 * C [M,N].
 */
export function gemmPackedB(
  transA: boolean, M: number, N: number, K: number,
  alpha: number, A: FloatArray, Bp: Float64Array, beta: number, C: FloatArray,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0 || alpha === 0) { scaleC(M, N, beta, C); return; }
  packAScratch = grow(packAScratch, ((M + 3) >> 2) * 4 * K);
  packABlock(transA, M, K, 0, K, A, packAScratch);
  panels(M, N, K, alpha, packAScratch, Bp, beta, C, 0, N);
}

/** Every row panel of packed A against every column panel of packed B, into C[:, n0:n0+nc] (row stride ldc). */
function panels(
  M: number, nc: number, kc: number, alpha: number, Ap: Float64Array, Bp: Float64Array, beta: number,
  C: FloatArray, n0: number, ldc: number,
): void {
  const Mfull = M & ~3;
  for (let i = 0; i < Mfull; i += 4) kernel4x3Row(i, nc, kc, alpha, Ap, Bp, beta, C, i * ldc + n0, ldc);
  for (let i = Mfull; i < M; i++) kernel1x3Row(i, nc, kc, alpha, Ap, Bp, beta, C, i * ldc + n0, ldc);
}

/** Rows i..i+3 (one A panel) against every 3-column B panel; C block starts at c0, row stride ldc. */
function kernel4x3Row(
  i: number, nc: number, kc: number, alpha: number, Ap: Float64Array, Bp: Float64Array, beta: number,
  C: FloatArray, c0: number, ldc: number,
): void {
  const ao = (i >> 2) * kc * 4;
  const end = ao + kc * 4;
  const P = kc * 3;
  for (let j = 0, bp = 0; j < nc; j += 3, bp += P) {
    let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c30 = 0, c31 = 0, c32 = 0;
    for (let p = ao, bo = bp; p < end; p += 4, bo += 3) {
      const a0 = Ap[p], a1 = Ap[p + 1], a2 = Ap[p + 2], a3 = Ap[p + 3];
      let b = Bp[bo];
      c00 += a0 * b; c10 += a1 * b; c20 += a2 * b; c30 += a3 * b;
      b = Bp[bo + 1];
      c01 += a0 * b; c11 += a1 * b; c21 += a2 * b; c31 += a3 * b;
      b = Bp[bo + 2];
      c02 += a0 * b; c12 += a1 * b; c22 += a2 * b; c32 += a3 * b;
    }
    const o = c0 + j;
    if (j + 3 <= nc) {
      const o1 = o + ldc, o2 = o1 + ldc, o3 = o2 + ldc;
      if (beta === 0) {
        C[o] = alpha * c00; C[o + 1] = alpha * c01; C[o + 2] = alpha * c02;
        C[o1] = alpha * c10; C[o1 + 1] = alpha * c11; C[o1 + 2] = alpha * c12;
        C[o2] = alpha * c20; C[o2 + 1] = alpha * c21; C[o2 + 2] = alpha * c22;
        C[o3] = alpha * c30; C[o3 + 1] = alpha * c31; C[o3 + 2] = alpha * c32;
      } else {
        C[o] = alpha * c00 + beta * C[o]; C[o + 1] = alpha * c01 + beta * C[o + 1]; C[o + 2] = alpha * c02 + beta * C[o + 2];
        C[o1] = alpha * c10 + beta * C[o1]; C[o1 + 1] = alpha * c11 + beta * C[o1 + 1]; C[o1 + 2] = alpha * c12 + beta * C[o1 + 2];
        C[o2] = alpha * c20 + beta * C[o2]; C[o2 + 1] = alpha * c21 + beta * C[o2 + 1]; C[o2 + 2] = alpha * c22 + beta * C[o2 + 2];
        C[o3] = alpha * c30 + beta * C[o3]; C[o3 + 1] = alpha * c31 + beta * C[o3 + 1]; C[o3 + 2] = alpha * c32 + beta * C[o3 + 2];
      }
    } else {
      tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c10; tile[4] = c11; tile[5] = c12;
      tile[6] = c20; tile[7] = c21; tile[8] = c22; tile[9] = c30; tile[10] = c31; tile[11] = c32;
      storeTile(C, o, ldc, 4, nc - j, alpha, beta);
    }
  }
}

/** One leftover row i (lane i&3 of its A panel) against every 3-column B panel; C row starts at c0. */
function kernel1x3Row(
  i: number, nc: number, kc: number, alpha: number, Ap: Float64Array, Bp: Float64Array, beta: number,
  C: FloatArray, c0: number, ldc: number,
): void {
  const ao = (i >> 2) * kc * 4 + (i & 3);
  const end = ao + kc * 4;
  const P = kc * 3;
  for (let j = 0, bp = 0; j < nc; j += 3, bp += P) {
    let s0 = 0, s1 = 0, s2 = 0;
    for (let p = ao, bo = bp; p < end; p += 4, bo += 3) {
      const a = Ap[p];
      s0 += a * Bp[bo]; s1 += a * Bp[bo + 1]; s2 += a * Bp[bo + 2];
    }
    tile[0] = s0; tile[1] = s1; tile[2] = s2;
    storeTile(C, c0 + j, ldc, 1, nc - j < 3 ? nc - j : 3, alpha, beta);
  }
}

/** C[o + r·ldc + c] = alpha·tile[r·3 + c] + beta·C[...] for r < rows, c < cols; beta = 0 never reads C. */
function storeTile(C: FloatArray, o: number, ldc: number, rows: number, cols: number, alpha: number, beta: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const q = o + r * ldc + c;
      C[q] = beta === 0 ? alpha * tile[r * 3 + c] : alpha * tile[r * 3 + c] + beta * C[q];
    }
  }
}

/**
 * C = alpha·A·op(B) + beta·C for a handful of rows (generation at batch 1): packing op(B) would cost as
 * much as the product itself, so read B in place: dot products of contiguous rows when transB, else
 * row-of-B updates into a double accumulator row. Shapes: A [M,K] (not transposed), op(B) [K,N], C [M,N].
 */
function gemmFewRows(
  transB: boolean, M: number, N: number, K: number, alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray,
): void {
  rowScratch = grow(rowScratch, N);
  const acc = rowScratch;
  for (let i = 0; i < M; i++) {
    const a0 = i * K;
    if (transB) {
      for (let j = 0; j < N; j++) {
        const b0 = j * K;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, k = 0;
        for (; k + 4 <= K; k += 4) {
          s0 += A[a0 + k] * B[b0 + k]; s1 += A[a0 + k + 1] * B[b0 + k + 1];
          s2 += A[a0 + k + 2] * B[b0 + k + 2]; s3 += A[a0 + k + 3] * B[b0 + k + 3];
        }
        for (; k < K; k++) s0 += A[a0 + k] * B[b0 + k];
        acc[j] = s0 + s1 + s2 + s3;
      }
    } else {
      acc.fill(0, 0, N);
      for (let k = 0; k < K; k++) {
        const a = A[a0 + k], b0 = k * N;
        for (let j = 0; j < N; j++) acc[j] += a * B[b0 + j];
      }
    }
    const o = i * N;
    if (beta === 0) for (let j = 0; j < N; j++) C[o + j] = alpha * acc[j];
    else for (let j = 0; j < N; j++) C[o + j] = alpha * acc[j] + beta * C[o + j];
  }
}
