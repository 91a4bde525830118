// Stack: a multi-layer LSTM over a sequence, like torch.nn.LSTM (seq-first: x [T,B,I]). Each layer is one
// lstm op; dropout (training only, p > 0) sits between layers, not after the last, with masks from a
// seeded counter stream whose state is saveable (rngState / setRngState) for bit-exact resume.
// Per-layer states move between [L,B,H] and [B,H] with the row ops (no copies for one layer).
import type { Tensor } from '../tensor.js';
import { lstm } from '../ops/lstm.js';
import { reshape } from '../ops/reshape.js';
import { selectRow, stackRows } from '../ops/rows.js';
import { checkPositiveInt, checkRank, checkShape } from '../args.js';
import { Module } from './module.js';
import { DropoutStream, checkDropoutP, type RngState } from './dropout.js';
import { LstmLayers, type LSTMCellOptions, type LstmState } from './lstm_cell.js';

export interface StackOptions extends LSTMCellOptions {
  /** default 1 */
  numLayers?: number;
  /** dropout probability on the outputs of every layer but the last, in training; default 0 */
  dropout?: number;
}

export interface StackResult {
  /** [T,B,H]: the last layer's h_t of every step */
  output: Tensor;
  /** final states, [L,B,H] each */
  state: LstmState;
}

export class Stack extends LstmLayers {
  readonly numLayers: number;
  readonly dropout: number;
  private readonly stream: DropoutStream;

  constructor(opts: StackOptions) {
    super('Stack', opts);
    this.numLayers = checkPositiveInt('Stack: numLayers', opts.numLayers ?? 1);
    this.dropout = checkDropoutP('Stack: dropout', opts.dropout);
    this.checkLayersFit('Stack', this.numLayers, opts);
    const rng = Module.initStream(opts);
    for (let l = 0; l < this.numLayers; l++) this.createLayer(`_l${l}`, l === 0 ? this.inputSize : this.hiddenSize, rng, opts);
    this.stream = new DropoutStream(rng.nextU32());
  }

  forward(x: Tensor, state?: LstmState): StackResult {
    // shapes: x [T,B,I], state.h / state.c [L,B,H] (zeros when omitted) -> output [T,B,H], state [L,B,H] each
    checkRank('Stack', 'x', x, 3, '[T, B, I]');
    const L = this.numLayers;
    const B = x.shape[1];
    const H = this.hiddenSize;
    if (state) {
      checkShape('Stack', 'state.h', state.h, [L, B, H]);
      checkShape('Stack', 'state.c', state.c, [L, B, H]);
    }
    const layerState = (s: Tensor, l: number): Tensor => (L === 1 ? reshape(s, [B, H]) : selectRow(s, l));
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let input = x;
    for (let l = 0; l < L; l++) {
      const h0 = state ? layerState(state.h, l) : null;
      const c0 = state ? layerState(state.c, l) : null;
      const r = lstm(input, h0, c0, this.layerWeights(`_l${l}`));
      h0?.dispose();
      c0?.dispose();
      if (input !== x) input.dispose();
      input = r.output;
      if (l < L - 1 && this.training && this.dropout > 0) {
        const dropped = this.stream.apply(input, this.dropout);
        input.dispose();
        input = dropped;
      }
      hs.push(r.h);
      cs.push(r.c);
    }
    const gather = (xs: Tensor[]): Tensor => {
      const out = L === 1 ? reshape(xs[0], [1, B, H]) : stackRows(xs);
      for (const t of xs) t.dispose();
      return out;
    };
    return { output: input, state: { h: gather(hs), c: gather(cs) } };
  }

  /** the dropout mask stream's position */
  rngState(): RngState {
    return this.stream.state();
  }

  setRngState(s: RngState): void {
    this.stream.setState(s);
  }
}
