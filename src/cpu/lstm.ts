// LSTM on host typed arrays: the fused gate step forward and backward (one pass over [B,H] each), and one
// layer over T steps forward and backward (BPTT), following kernels/lstm_cuda.h: one GEMM for the input
// projection of all steps, per step one recurrent GEMM and one fused gate kernel; backward in reverse
// with one GEMM per step for dh_{t-1}, then big GEMMs for dW_ih, dW_hh, dx and row sums for the biases.
// Gate order i, f, g, o; weights [4H,I] and [4H,H] as in PyTorch. W_hh is packed once per call.
import { gemmArrays, gemmPackedB, packB, packedBLength } from './gemm.js';
import { sumRows } from './elementwise.js';
import { scratch, type FloatArray } from './storage.js';

/** σ(x) without overflow: exp is only ever taken of a non-positive number. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * One step's fused gates.
 * Shapes: gates [B,4H] in/out (pre-activations in, activations σ(i),σ(f),tanh(g),σ(o) out);
 * bih, bhh [4H] or null; cPrev [B,H] in; c, h, tanhC [B,H] out.
 */
export function gatesForward(
  B: number, H: number, gates: FloatArray, bih: FloatArray | null, bhh: FloatArray | null,
  cPrev: FloatArray, c: FloatArray, h: FloatArray, tanhC: FloatArray,
): void {
  const H4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const g0 = b * H4, s0 = b * H;
    for (let j = 0; j < H; j++) {
      let pi = gates[g0 + j], pf = gates[g0 + H + j], pg = gates[g0 + 2 * H + j], po = gates[g0 + 3 * H + j];
      if (bih !== null) { pi += bih[j]; pf += bih[H + j]; pg += bih[2 * H + j]; po += bih[3 * H + j]; }
      if (bhh !== null) { pi += bhh[j]; pf += bhh[H + j]; pg += bhh[2 * H + j]; po += bhh[3 * H + j]; }
      const ig = sigmoid(pi), fg = sigmoid(pf), gg = Math.tanh(pg), og = sigmoid(po);
      gates[g0 + j] = ig; gates[g0 + H + j] = fg; gates[g0 + 2 * H + j] = gg; gates[g0 + 3 * H + j] = og;
      const ct = fg * cPrev[s0 + j] + ig * gg;
      c[s0 + j] = ct;
      const tc = Math.tanh(ct);
      tanhC[s0 + j] = tc;
      h[s0 + j] = og * tc;
    }
  }
}

/**
 * One step's fused gate backward, from the saved activations (nothing recomputed).
 * Shapes: gates [B,4H] in (activations); cPrev, tanhC [B,H] in; dh [B,H] in, plus dhExtra [B,H] in or
 * null (the two are summed: the layer-above gradient and the carried recurrent one); dc [B,H] in/out
 * (gradient w.r.t. c_t in, w.r.t. c_{t-1} out); dgates [B,4H] out.
 */
export function gatesBackward(
  B: number, H: number, gates: FloatArray, cPrev: FloatArray, tanhC: FloatArray,
  dh: FloatArray, dhExtra: FloatArray | null, dc: FloatArray, dgates: FloatArray,
): void {
  const H4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const g0 = b * H4, s0 = b * H;
    for (let j = 0; j < H; j++) {
      const s = s0 + j;
      const ig = gates[g0 + j], fg = gates[g0 + H + j], gg = gates[g0 + 2 * H + j], og = gates[g0 + 3 * H + j];
      const tc = tanhC[s];
      const dhs = dhExtra === null ? dh[s] : dh[s] + dhExtra[s];
      const dct = dc[s] + dhs * og * (1 - tc * tc);
      dgates[g0 + j] = dct * gg * ig * (1 - ig);
      dgates[g0 + H + j] = dct * cPrev[s] * fg * (1 - fg);
      dgates[g0 + 2 * H + j] = dct * ig * (1 - gg * gg);
      dgates[g0 + 3 * H + j] = dhs * tc * og * (1 - og);
      dc[s] = dct * fg;
    }
  }
}

function dtypeOfArray(a: FloatArray): 'float32' | 'float64' {
  return a instanceof Float32Array ? 'float32' : 'float64';
}

/**
 * One layer over T steps.
 * Shapes: x [T,B,I]; wih [4H,I]; whh [4H,H]; bih, bhh [4H] or null; h0, c0 [B,H];
 * out h, c, tanhC [T,B,H] and gates [T,B,4H] (all saved for backward).
 */
export function lstmForward(
  T: number, B: number, I: number, H: number, x: FloatArray, wih: FloatArray, whh: FloatArray,
  bih: FloatArray | null, bhh: FloatArray | null, h0: FloatArray, c0: FloatArray,
  h: FloatArray, c: FloatArray, gates: FloatArray, tanhC: FloatArray,
): void {
  const BH = B * H, BH4 = 4 * BH, H4 = 4 * H;
  // gates[T·B,4H] = x[T·B,I]·W_ihᵀ
  gemmArrays(false, true, T * B, H4, I, 1, x, wih, 0, gates);
  // op(B) = W_hhᵀ [H,4H], packed once for all steps (below 4 rows gemm reads it in place instead)
  const packed = B >= 4;
  const whhP = scratch('lstm.whhPacked', 'float64', packed ? packedBLength(H, H4) : 0) as Float64Array;
  if (packed) packB(true, H, H4, whh, whhP);
  for (let t = 0; t < T; t++) {
    const hPrev = t === 0 ? h0 : h.subarray((t - 1) * BH, t * BH);
    const cPrev = t === 0 ? c0 : c.subarray((t - 1) * BH, t * BH);
    const gt = gates.subarray(t * BH4, (t + 1) * BH4);
    if (packed) gemmPackedB(false, B, H4, H, 1, hPrev, whhP, 1, gt);
    else gemmArrays(false, true, B, H4, H, 1, hPrev, whh, 1, gt);
    gatesForward(B, H, gt, bih, bhh, cPrev,
      c.subarray(t * BH, (t + 1) * BH), h.subarray(t * BH, (t + 1) * BH), tanhC.subarray(t * BH, (t + 1) * BH));
  }
}

/**
 * BPTT over one layer (see kernels/lstm_cuda.h).
 * Shapes: x [T,B,I]; wih [4H,I]; whh [4H,H]; h0, c0 [B,H]; h, c, tanhC [T,B,H]; gates [T,B,4H] (as saved
 * by lstmForward); dh [T,B,H] or null; dhT, dcT [B,H] or null; out dx [T,B,I], dh0, dc0 [B,H] (each
 * overwritten, or null); acc dwih [4H,I], dwhh [4H,H], dbih, dbhh [4H] (+=, or null).
 */
export function lstmBackward(
  T: number, B: number, I: number, H: number, x: FloatArray, wih: FloatArray, whh: FloatArray,
  h0: FloatArray, c0: FloatArray, h: FloatArray, c: FloatArray, gates: FloatArray, tanhC: FloatArray,
  dh: FloatArray | null, dhT: FloatArray | null, dcT: FloatArray | null,
  dx: FloatArray | null, dh0: FloatArray | null, dc0: FloatArray | null,
  dwih: FloatArray | null, dwhh: FloatArray | null, dbih: FloatArray | null, dbhh: FloatArray | null,
): void {
  const BH = B * H, BH4 = 4 * BH, H4 = 4 * H;
  const dtype = dtypeOfArray(gates);
  // workspace: dgates [T,B,4H], carried dh and dc [B,H] (in the storages' precision, like the device)
  const dgates = scratch('lstm.dgates', dtype, T * BH4).subarray(0, T * BH4);
  const dhCarry = scratch('lstm.dhCarry', dtype, BH).subarray(0, BH);
  const dcCarry = scratch('lstm.dcCarry', dtype, BH).subarray(0, BH);
  if (dhT !== null) dhCarry.set(dhT.subarray(0, BH)); else dhCarry.fill(0);
  if (dcT !== null) dcCarry.set(dcT.subarray(0, BH)); else dcCarry.fill(0);
  // op(B) = W_hh [4H,H], packed once: dh_{t-1} = dgates_t·W_hh (below 4 rows read in place)
  const packed = B >= 4;
  const whhP = scratch('lstm.whhPacked', 'float64', packed ? packedBLength(H4, H) : 0) as Float64Array;
  if (packed) packB(false, H4, H, whh, whhP);
  for (let t = T - 1; t >= 0; t--) {
    const cPrev = t === 0 ? c0 : c.subarray((t - 1) * BH, t * BH);
    const dgt = dgates.subarray(t * BH4, (t + 1) * BH4);
    if (dh !== null) {
      gatesBackward(B, H, gates.subarray(t * BH4, (t + 1) * BH4), cPrev, tanhC.subarray(t * BH, (t + 1) * BH),
        dh.subarray(t * BH, (t + 1) * BH), dhCarry, dcCarry, dgt);
    } else {
      gatesBackward(B, H, gates.subarray(t * BH4, (t + 1) * BH4), cPrev, tanhC.subarray(t * BH, (t + 1) * BH),
        dhCarry, null, dcCarry, dgt);
    }
    // dh_{t-1} = dgates_t·W_hh (overwrites the carry, which the gate step above has consumed)
    if (t > 0 || dh0 !== null) {
      if (packed) gemmPackedB(false, B, H, H4, 1, dgt, whhP, 0, dhCarry);
      else gemmArrays(false, false, B, H, H4, 1, dgt, whh, 0, dhCarry);
    }
  }
  if (dh0 !== null) dh0.set(dhCarry);
  if (dc0 !== null) dc0.set(dcCarry);
  const N = T * B;
  // dW_ih += dgatesᵀ·x : [4H,T·B]·[T·B,I]
  if (dwih !== null) gemmArrays(true, false, H4, I, N, 1, dgates, x, 1, dwih);
  // dW_hh += dgates[0]ᵀ·h0 + dgates[1:]ᵀ·h[:-1]
  if (dwhh !== null) {
    gemmArrays(true, false, H4, H, B, 1, dgates.subarray(0, BH4), h0, 1, dwhh);
    if (T > 1) gemmArrays(true, false, H4, H, (T - 1) * B, 1, dgates.subarray(BH4), h, 1, dwhh);
  }
  // dx = dgates·W_ih : [T·B,4H]·[4H,I]
  if (dx !== null) gemmArrays(false, false, N, I, H4, 1, dgates, wih, 0, dx);
  if (dbih !== null) sumRows(N, H4, dgates, dbih, true);
  if (dbhh !== null) sumRows(N, H4, dgates, dbhh, true);
}
