// lstm: one LSTM layer over a whole sequence as ONE op on the tape. Forward is one backend.lstmForward
// call (the time loop runs inside the backend); backward is one backend.lstmBackward call (BPTT).
// Outputs: the layer output h[T,B,H] and the final state (h_T, c_T) as [B,H] tensors. The final state is
// the last row of h / c, gathered with the row kernels of ./rows.ts (for T = 1 it is a view, no copy).
// Gate order and weight layout are PyTorch's: i, f, g, o; weight_ih [4H,I], weight_hh [4H,H].
import type { Storage } from '../backend.js';
import { Buf, Tensor, recordOp } from '../tensor.js';
import { checkFloat, checkObject, checkRank, checkSameDevice, checkShape, checkTensor, formatShape } from '../args.js';
import { copyRow } from './rows.js';

export interface LstmWeights {
  /** [4H, I] */
  weightIh: Tensor;
  /** [4H, H] */
  weightHh: Tensor;
  /** [4H] or null */
  biasIh: Tensor | null;
  biasHh: Tensor | null;
}

export interface LstmResult {
  /** [T, B, H]: h_t of every step */
  output: Tensor;
  /** [B, H]: final hidden state h_T */
  h: Tensor;
  /** [B, H]: final cell state c_T */
  c: Tensor;
}

export function lstm(x: Tensor, h0: Tensor | null, c0: Tensor | null, w: LstmWeights): LstmResult {
  // shapes: x [T,B,I], h0 / c0 [B,H] or null (zeros), weights as in LstmWeights
  //         -> output [T,B,H], h [B,H], c [B,H]
  const { weightIh, weightHh, biasIh, biasHh } = checkObject('lstm: weights', w);
  checkTensor('lstm', 'weight_ih', weightIh);
  checkTensor('lstm', 'weight_hh', weightHh);
  const be = checkSameDevice('lstm', { x, h0, c0, weight_ih: weightIh, weight_hh: weightHh, bias_ih: biasIh, bias_hh: biasHh });
  checkFloat('lstm', 'x', x);
  checkRank('lstm', 'x', x, 3, '[T, B, I]');
  const [T, B, I] = x.shape;
  if (T < 1) throw new RangeError(`lstm: x must have at least one time step, got shape ${formatShape(x.shape)}`);
  checkRank('lstm', 'weight_hh', weightHh, 2, '[4H, H]');
  const H = weightHh.shape[1];
  checkShape('lstm', 'weight_hh', weightHh, [4 * H, H]);
  checkRank('lstm', 'weight_ih', weightIh, 2, '[4H, I]');
  if (weightIh.shape[0] === 4 * H && weightIh.shape[1] !== I) {
    // the weights agree with each other: it is x that has the wrong width
    throw new RangeError(`lstm: x has ${I} features per step (shape ${formatShape(x.shape)}) but weight_ih ${formatShape(weightIh.shape)} takes inputs of size ${weightIh.shape[1]}`);
  }
  checkShape('lstm', 'weight_ih', weightIh, [4 * H, I]);
  if (biasIh) checkShape('lstm', 'bias_ih', biasIh, [4 * H]);
  if (biasHh) checkShape('lstm', 'bias_hh', biasHh, [4 * H]);
  if (h0) checkShape('lstm', 'h0', h0, [B, H]);
  if (c0) checkShape('lstm', 'c0', c0, [B, H]);

  const dtype = x.dtype;
  const state0 = (t: Tensor | null): Buf => (t ? t._live('lstm').retain() : new Buf(be, be.alloc(dtype, B * H)));
  const h0Buf = state0(h0);
  const c0Buf = state0(c0);
  const hBuf = new Buf(be, be.alloc(dtype, T * B * H));
  const cBuf = new Buf(be, be.alloc(dtype, T * B * H));
  const gatesBuf = new Buf(be, be.alloc(dtype, T * B * 4 * H));
  const tanhCBuf = new Buf(be, be.alloc(dtype, T * B * H));
  const saved = {
    T, B, I, H,
    x: x._storage, wih: weightIh._storage, whh: weightHh._storage,
    h0: h0Buf.storage, c0: c0Buf.storage,
    h: hBuf.storage, c: cBuf.storage, gates: gatesBuf.storage, tanhC: tanhCBuf.storage,
  };
  be.lstmForward({ ...saved, bih: biasIh ? biasIh._storage : null, bhh: biasHh ? biasHh._storage : null });

  const output = Tensor._wrap(hBuf, [T, B, H]);
  const last = (buf: Buf): Tensor => {
    if (T === 1) return Tensor._wrap(buf.retain(), [B, H]);
    const s = be.alloc(dtype, B * H);
    copyRow(be, B * H, buf.storage, T, T - 1, s, 1, 0);
    return Tensor._fromStorage(be, s, [B, H]);
  };
  const hT = last(hBuf);
  const cT = last(cBuf);

  recordOp('lstm', [x, h0, c0, weightIh, weightHh, biasIh, biasHh], [output, hT, cT], (ctx) => {
    const grad = (i: number, n: number): Storage | null => (ctx.needsGrad(i) ? be.alloc(dtype, n) : null);
    const acc = (i: number): Storage | null => (ctx.needsGrad(i) ? ctx.accumulate(i) : null);
    const dx = grad(0, T * B * I);
    const dh0 = grad(1, B * H);
    const dc0 = grad(2, B * H);
    be.lstmBackward({
      ...saved,
      dh: ctx.gradOutput(0), dhT: ctx.gradOutput(1), dcT: ctx.gradOutput(2),
      dx, dh0, dc0,
      dwih: acc(3), dwhh: acc(4), dbih: acc(5), dbhh: acc(6),
    });
    if (dx) ctx.give(0, dx);
    if (dh0) ctx.give(1, dh0);
    if (dc0) ctx.give(2, dc0);
  }, [x._live('lstm').retain(), weightIh._live('lstm').retain(), weightHh._live('lstm').retain(),
    h0Buf, c0Buf, hBuf.retain(), cBuf, gatesBuf, tanhCBuf]);
  return { output, h: hT, c: cT };
}
