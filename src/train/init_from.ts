// Fine-tuning (`train FILE --init-from RUN`): a new CharRNN with the base run's architecture and weights
// over a vocabulary that may have grown. The LSTM weights are the base's; each symbol the base knows keeps
// its embedding row, decoder row and decoder bias (moved to its id in the new vocabulary); a symbol the base
// has never seen gets the fresh rows of a new model, initialised as PyTorch does (embedding N(0, 1), decoder
// weight and bias U(-1/√H, 1/√H)).
import type { DeviceName } from '../backend.js';
import { CharRNN } from '../nn/char_rnn.js';
import type { LoadedCheckpoint } from '../checkpoint/checkpoint.js';
import type { Vocab } from '../text/vocab.js';

/** per-row tensors of the vocabulary: [V, ...] */
const VOCAB_ROWS = ['embedding.weight', 'decoder.weight', 'decoder.bias'];

export function initFromBase(
  base: LoadedCheckpoint, vocab: Vocab, opts: { device: DeviceName; seed: number; dropout: number },
): { model: CharRNN; newSymbols: string[] } {
  // shapes: embedding.weight [V,D], decoder.weight [V,H], decoder.bias [V]; base rows [V0,...]
  if (vocab.mode !== base.vocab.mode) throw new Error(`--init-from: the base run has a ${base.vocab.mode} vocabulary, this run a ${vocab.mode} one`);
  const c = base.config;
  const model = new CharRNN({
    vocabSize: vocab.size, embedDim: c.embedDim, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
    dropout: opts.dropout, device: opts.device, seed: opts.seed,
  });
  // new id -> base id (-1: a symbol the base has never seen)
  const from = new Int32Array(vocab.size).fill(-1);
  const newSymbols: string[] = [];
  for (let id = 0; id < vocab.size; id++) {
    if (id === vocab.stopId) { from[id] = base.vocab.stopId; continue; }
    const sym = vocab.symbol(id);
    const enc = vocab.mode === 'byte' ? { ids: [id], unknown: [] } : base.vocab.encode(sym);
    if (enc.unknown.length === 0 && enc.ids.length === 1) from[id] = enc.ids[0]!;
    else newSymbols.push(sym);
  }
  const baseSd = base.model.stateDict();
  const fresh = model.stateDict();
  const sd: Record<string, Float64Array | Float32Array> = {};
  for (const [name, t] of Object.entries(fresh)) {
    const b = baseSd[name]!;
    if (!VOCAB_ROWS.includes(name)) { sd[name] = b.toArray() as Float32Array; continue; }
    const row = t.size / vocab.size;
    const out = Float64Array.from(t.toArray());
    const src = b.toArray();
    for (let id = 0; id < vocab.size; id++) {
      const j = from[id]!;
      if (j >= 0) for (let k = 0; k < row; k++) out[id * row + k] = src[j * row + k]!;
    }
    sd[name] = out;
  }
  model.loadStateDict(sd);
  return { model, newSymbols };
}
