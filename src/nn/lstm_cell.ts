// LSTMCell (one step) and LstmLayers, the base it shares with Stack: creating a layer's parameters with
// PyTorch's names, layout and init (every parameter U(-1/√H, 1/√H), drawn in parameter order from one
// seeded host stream). The step itself is the lstm op with T = 1.
import type { RngStream } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { lstm, type LstmWeights } from '../ops/lstm.js';
import { reshape } from '../ops/reshape.js';
import { checkPositiveInt, checkRank } from '../args.js';
import { Module, type ModuleOptions } from './module.js';

export interface LstmState {
  h: Tensor;
  c: Tensor;
}

/** Parameters shared by LSTMCell and Stack. */
export abstract class LstmLayers extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly bias: boolean;

  constructor(what: string, opts: { inputSize: number; hiddenSize: number; bias?: boolean }) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`${what}: expected an options object`);
    this.inputSize = checkPositiveInt(`${what}: inputSize`, opts.inputSize);
    this.hiddenSize = checkPositiveInt(`${what}: hiddenSize`, opts.hiddenSize);
    this.bias = opts.bias ?? true;
  }

  /** Refuses `layers` layers whose parameters cannot fit (before creating any). */
  protected checkLayersFit(what: string, layers: number, opts: ModuleOptions): void {
    const H = this.hiddenSize, I = this.inputSize, b = this.bias ? 2 : 0;
    const first = 4 * H * (I + H + b), rest = 4 * H * (2 * H + b);
    Module.checkParameterMemory(`${what}(inputSize ${I}, hiddenSize ${H}${layers > 1 ? `, numLayers ${layers}` : ''})`, first + (layers - 1) * rest, 4 * H * Math.max(I, H), opts);
  }

  /** Creates weight_ih{suffix} [4H,I], weight_hh{suffix} [4H,H], bias_ih{suffix}, bias_hh{suffix} [4H]. */
  protected createLayer(suffix: string, I: number, rng: RngStream, opts: ModuleOptions): void {
    const H = this.hiddenSize;
    const bound = 1 / Math.sqrt(H);
    this.createUniform(`weight_ih${suffix}`, [4 * H, I], bound, rng, opts);
    this.createUniform(`weight_hh${suffix}`, [4 * H, H], bound, rng, opts);
    if (this.bias) {
      this.createUniform(`bias_ih${suffix}`, [4 * H], bound, rng, opts);
      this.createUniform(`bias_hh${suffix}`, [4 * H], bound, rng, opts);
    }
  }

  protected layerWeights(suffix: string): LstmWeights {
    return {
      weightIh: this.param(`weight_ih${suffix}`),
      weightHh: this.param(`weight_hh${suffix}`),
      biasIh: this.bias ? this.param(`bias_ih${suffix}`) : null,
      biasHh: this.bias ? this.param(`bias_hh${suffix}`) : null,
    };
  }
}

export interface LSTMCellOptions extends ModuleOptions {
  inputSize: number;
  hiddenSize: number;
  /** default true */
  bias?: boolean;
}

/** One LSTM step: (x, (h, c)) -> (h', c'), like torch.nn.LSTMCell. */
export class LSTMCell extends LstmLayers {
  constructor(opts: LSTMCellOptions) {
    super('LSTMCell', opts);
    this.checkLayersFit('LSTMCell', 1, opts);
    this.createLayer('', this.inputSize, Module.initStream(opts), opts);
  }

  get weight_ih(): Tensor { return this.param('weight_ih'); }
  get weight_hh(): Tensor { return this.param('weight_hh'); }
  get bias_ih(): Tensor | null { return this.bias ? this.param('bias_ih') : null; }
  get bias_hh(): Tensor | null { return this.bias ? this.param('bias_hh') : null; }

  forward(x: Tensor, state?: LstmState): LstmState {
    // shapes: x [B,I], state.h / state.c [B,H] (zeros when omitted) -> h [B,H], c [B,H]
    checkRank('LSTMCell', 'x', x, 2, '[B, I]');
    const x3 = reshape(x, [1, ...x.shape]);
    const r = lstm(x3, state?.h ?? null, state?.c ?? null, this.layerWeights(''));
    x3.dispose();
    r.output.dispose();
    return { h: r.h, c: r.c };
  }
}
