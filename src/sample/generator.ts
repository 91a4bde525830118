// Generator: a CharRNN being read and written one token at a time, the step that sample(), chat and beam
// search share. feed(ids) runs the model over tokens (all but the last in one pass, the last alone) and
// keeps the logits of the next token; draw() picks that token ON THE DEVICE (sampleTokens) and returns its
// id, log-probability and the step's entropy, without feeding it (the caller feeds what it keeps).
// Byte vocabularies draw only valid UTF-8: the logits get a 0 / -inf mask from the UTF-8 state of the bytes
// fed so far (one elementwise add, so every backend does it), so continuations that cannot form a
// character, and STOP inside a character, have probability 0; logp and entropy are then those of the
// renormalised distribution. `rawBytes` turns the mask off.
import { Tensor, keep, noGrad, tidy } from '../tensor.js';
import { add } from '../ops/elementwise.js';
import { reshape } from '../ops/reshape.js';
import { sampleTokens } from '../ops/sample.js';
import { CharRNN, disposeLstmState, type LstmState } from '../nn/char_rnn.js';
import { Vocab } from '../text/vocab.js';
import { checkInstance, checkOptions, given } from '../args.js';
import { UTF8_START, utf8Allows, utf8Key, utf8Next, type Utf8State } from '../text/utf8.js';

export interface DrawOptions {
  /** ≤ 0: greedy */
  temperature: number;
  /** 0 = all */
  topK: number;
  /** 1 = all */
  topP: number;
  /** uint32 */
  seed: number;
  /** uint32 counter of this draw */
  offset: number;
}

export interface Draw {
  token: number;
  /** log-probability of the token (temperature 1, no top-k/top-p; masked and renormalised in byte mode), nats */
  logp: number;
  /** entropy of that distribution, nats */
  entropy: number;
}

export interface GeneratorOptions {
  /** byte vocabularies: draw any byte, valid UTF-8 or not (default false) */
  rawBytes?: boolean;
}

/** The model and vocabulary every generation entry point takes: a CharRNN and a Vocab of its output size. */
export function checkModelVocab(what: string, model: unknown, vocab: unknown): asserts model is CharRNN {
  checkInstance(`${what}: model`, model, CharRNN);
  checkInstance(`${what}: vocab`, vocab, Vocab);
  if (model.vocabSize !== vocab.size) {
    throw new RangeError(`${what}: the model has ${model.vocabSize} output symbols but the vocabulary has ${vocab.size}`);
  }
}

export class Generator {
  /** true when draws are restricted to valid UTF-8 continuations */
  readonly masked: boolean;
  private state: LstmState | undefined;
  private logits: Tensor | undefined;
  private utf8: Utf8State = UTF8_START;
  private readonly masks = new Map<string, Tensor>();
  private readonly wasTraining: boolean;

  constructor(readonly model: CharRNN, readonly vocab: Vocab, options: GeneratorOptions = {}) {
    checkModelVocab('Generator', model, vocab);
    const opts = checkOptions('Generator', options);
    this.masked = vocab.mode === 'byte' && !opts.rawBytes;
    this.wasTraining = model.training;
    model.eval();
  }

  /** true when the tokens fed so far end at a character boundary (always in char mode) */
  get atBoundary(): boolean {
    return this.utf8.need === 0;
  }

  /** the logits [1,V] of the next token (before any mask); feed something first */
  get nextLogits(): Tensor {
    if (!this.logits) throw new Error('Generator: nothing fed yet');
    return this.logits;
  }

  /** true when `token` may be drawn next (false only for invalid UTF-8 continuations when masked) */
  allows(token: number): boolean {
    if (!this.masked) return true;
    return token === this.vocab.stopId ? this.utf8.need === 0 : utf8Allows(this.utf8, token);
  }

  /** Runs the model over `ids` (each in [0,V)), carrying the state; keeps the logits after the last one. */
  feed(ids: ArrayLike<number>): void {
    // shapes: ids [n] -> x [n-1,1] (one pass), then [1,1] -> logits [1,1,V] kept as [1,V]
    if (typeof ids !== 'object' || ids === null || typeof ids.length !== 'number') {
      throw new TypeError(`Generator.feed: ids must be an array of token ids, got ${given(ids)}`);
    }
    const n = ids.length;
    if (n === 0) return;
    const device = this.model.device;
    noGrad(() => {
      if (n > 1) {
        const head = Int32Array.from({ length: n - 1 }, (_, i) => ids[i]!);
        const next = tidy(() => this.model.forward(Tensor.from(head, [n - 1, 1], { dtype: 'int32', device }), this.state).state);
        disposeLstmState(this.state);
        this.state = next;
      }
      const r = tidy(() => {
        const out = this.model.forward(Tensor.from(Int32Array.of(ids[n - 1]!), [1, 1], { dtype: 'int32', device }), this.state);
        return { state: out.state, logits: reshape(out.logits, [1, this.model.vocabSize]) };
      });
      disposeLstmState(this.state);
      this.state = r.state;
      this.logits?.dispose();
      this.logits = keep(r.logits);
    });
    if (this.vocab.mode === 'byte') {
      for (let i = 0; i < n; i++) {
        const t = ids[i]!;
        // STOP, or a byte that breaks the sequence (raw bytes, a corrupt prime): start afresh
        this.utf8 = t === this.vocab.stopId || !utf8Allows(this.utf8, t) ? UTF8_START : utf8Next(this.utf8, t);
      }
    }
  }

  /** The 0 / -inf mask [1,V] of the current UTF-8 state (cached per state). */
  private mask(): Tensor {
    const key = utf8Key(this.utf8);
    let m = this.masks.get(key);
    if (!m) {
      const V = this.vocab.size;
      const host = new Float64Array(V);
      for (let v = 0; v < V; v++) host[v] = this.allows(v) ? 0 : -Infinity;
      m = keep(Tensor.from(host, [1, V], { device: this.model.device, dtype: this.logits!.dtype }));
      this.masks.set(key, m);
    }
    return m;
  }

  /** Draws the next token from the kept logits (does not feed it). */
  draw(o: DrawOptions): Draw {
    const logits = this.nextLogits;
    return noGrad(() => tidy(() => {
      const x = this.masked ? add(logits, this.mask()) : logits;
      const s = sampleTokens(x, o);
      return { token: s.tokens.toArray()[0]!, logp: s.logp.item(), entropy: s.entropy.item() };
    }));
  }

  /** The recurrent state after what was fed (owned by the generator; undefined before the first feed). */
  get lstmState(): LstmState | undefined {
    return this.state;
  }

  dispose(): void {
    disposeLstmState(this.state);
    this.state = undefined;
    this.logits?.dispose();
    this.logits = undefined;
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
    if (this.wasTraining) this.model.train();
  }
}
