// CharRNN: the char-rnn language model — Embedding [V,D] → Stack of LSTM layers (dropout between layers) →
// Linear to vocabulary logits. Parameter names are PyTorch's (`embedding.weight`, `lstm.weight_ih_l0`, …,
// `decoder.weight`, `decoder.bias`), so a state dict loads into torch nn.Embedding / nn.LSTM / nn.Linear.
import type { DeviceName } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { keep, nextDefaultSeed } from '../tensor.js';
import { checkNumber, checkObject, checkPositiveInt, checkTensor, formatShape } from '../args.js';
import { rngU32 } from '../rng.js';
import { Module } from './module.js';
import { Embedding } from './embedding.js';
import { Stack } from './stack.js';
import type { LstmState } from './lstm_cell.js';
import { Linear } from './linear.js';

export interface CharRNNConfig {
  vocabSize: number;
  embedDim: number;
  hiddenSize: number;
  numLayers: number;
  /** dropout between LSTM layers (training only); default 0 */
  dropout: number;
}

export interface CharRNNOptions extends Partial<Pick<CharRNNConfig, 'dropout'>>, Omit<CharRNNConfig, 'dropout'> {
  device?: DeviceName;
  /** uint32 seed of the weight initialisation and the dropout masks */
  seed?: number;
}

/** recurrent state of every layer: h, c [L,B,H] */
export type { LstmState };

export class CharRNN extends Module {
  readonly config: CharRNNConfig;
  readonly embedding: Embedding;
  readonly lstm: Stack;
  readonly decoder: Linear;

  constructor(opts: CharRNNOptions) {
    super();
    checkObject('CharRNN: options', opts);
    const vocabSize = checkPositiveInt('CharRNN: vocabSize', opts.vocabSize);
    const embedDim = checkPositiveInt('CharRNN: embedDim', opts.embedDim);
    const hiddenSize = checkPositiveInt('CharRNN: hiddenSize', opts.hiddenSize);
    const numLayers = checkPositiveInt('CharRNN: numLayers', opts.numLayers);
    const dropout = checkNumber('CharRNN: dropout', opts.dropout ?? 0, 0, 0.99);
    this.config = { vocabSize, embedDim, hiddenSize, numLayers, dropout };
    const seed = (opts.seed ?? nextDefaultSeed()) >>> 0;
    const device = opts.device;
    this.embedding = this.registerModule('embedding', new Embedding({ numEmbeddings: vocabSize, embeddingDim: embedDim, device, seed: rngU32(seed, 1) }));
    this.lstm = this.registerModule('lstm', new Stack({ inputSize: embedDim, hiddenSize, numLayers, dropout, device, seed: rngU32(seed, 2) }));
    this.decoder = this.registerModule('decoder', new Linear({ inFeatures: hiddenSize, outFeatures: vocabSize, device, seed: rngU32(seed, 3) }));
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  override get device(): DeviceName {
    return this.parameters()[0]!.device;
  }

  /**
   * tokens int32 [T,B] (ids in [0,V)), state h/c [L,B,H] or undefined (zeros)
   * -> logits [T,B,V], state h/c [L,B,H] after the last step.
   */
  forward(tokens: Tensor, state?: LstmState): { logits: Tensor; state: LstmState } {
    // shapes: tokens [T,B] -> emb [T,B,D] -> output [T,B,H] -> logits [T,B,V]
    checkTensor('CharRNN.forward', 'tokens', tokens);
    if (tokens.shape.length !== 2) throw new RangeError(`CharRNN.forward: tokens must be [T, B], got shape ${formatShape(tokens.shape)}`);
    if (tokens.dtype !== 'int32') throw new TypeError(`CharRNN.forward: tokens must be int32, got dtype ${tokens.dtype}`);
    const emb = this.embedding.forward(tokens);
    const { output, state: next } = this.lstm.forward(emb, state);
    return { logits: this.decoder.forward(output), state: next };
  }
}

/**
 * Name → shape of every parameter of a CharRNN with this config, in namedParameters() order, computed
 * without allocating anything (loading checks a file's tensors against it before building the model).
 */
export function charRnnParameterShapes(c: Omit<CharRNNConfig, 'dropout'>): [string, number[]][] {
  const { vocabSize: V, embedDim: D, hiddenSize: H, numLayers: L } = c;
  const out: [string, number[]][] = [['embedding.weight', [V, D]]];
  for (let l = 0; l < L; l++) {
    out.push([`lstm.weight_ih_l${l}`, [4 * H, l === 0 ? D : H]], [`lstm.weight_hh_l${l}`, [4 * H, H]], [`lstm.bias_ih_l${l}`, [4 * H]], [`lstm.bias_hh_l${l}`, [4 * H]]);
  }
  out.push(['decoder.weight', [V, H]], ['decoder.bias', [V]]);
  return out;
}

/** Frees a recurrent state (also when a tidy scope tracks it); undefined is a no-op. */
export function disposeLstmState(s: LstmState | undefined): void {
  if (!s) return;
  checkObject('disposeLstmState: state', s);
  checkTensor('disposeLstmState', 'state.h', s.h);
  checkTensor('disposeLstmState', 'state.c', s.c);
  keep(s.h).dispose();
  keep(s.c).dispose();
}
