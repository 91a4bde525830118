// Text generation from a CharRNN: feed the priming text in one forward pass, then one step at a time draw
// the next token ON THE DEVICE (sampleTokens: temperature, top-k, top-p, counter-based RNG), so that each
// step brings back only the token id, its log-probability and the step's entropy, never the logits.
// Stops at STOP or after maxLength tokens. Temperature 0 is greedy decoding. Byte models draw only valid
// UTF-8 (see generator.ts) unless rawBytes.
import type { CharRNN } from '../nn/char_rnn.js';
import { Generator } from './generator.js';
import { Vocab, showSymbol } from '../text/vocab.js';
import type { DataMode } from '../text/corpus.js';

export interface GeneratedToken {
  /** token id */
  token: number;
  /** the text this token completes ('' for STOP or an unfinished UTF-8 sequence in byte mode) */
  char: string;
  /** log-probability of the token under the model (temperature 1, no filtering; in byte mode renormalised over valid UTF-8), nats */
  logp: number;
  /** entropy of the step's distribution (temperature 1), nats */
  entropy: number;
}

export interface SampleTextOptions {
  /** priming text; symbols not in the vocabulary are skipped with a warning */
  prime?: string;
  /** tokens to generate at most (default 200) */
  maxLength?: number;
  /** default 1; ≤ 0 is greedy */
  temperature?: number;
  /** 0 = all (default) */
  topK?: number;
  /** 1 = all (default) */
  topP?: number;
  /** uint32; default random */
  seed?: number;
  /** 'lines' models start every sample from STOP (the start-of-line symbol); default: the checkpoint's, else 'text' */
  mode?: DataMode;
  /** byte vocabularies: draw any byte, even one that makes invalid UTF-8 (default false: valid text only) */
  rawBytes?: boolean;
  /** called for each generated token as soon as it is drawn (streaming) */
  onToken?: (t: GeneratedToken) => void;
  /** called with warnings (default console.warn) */
  onWarning?: (message: string) => void;
}

export interface SampleTextResult {
  /** the generated text (without the prime) */
  text: string;
  /** generated token ids (a final STOP included when it ended the sample) */
  tokens: number[];
  perToken: GeneratedToken[];
  /** Σ log p of the generated tokens (nats) */
  logProb: number;
  /** mean per-step entropy (nats) */
  entropy: number;
  /** prime symbols not in the vocabulary (skipped) */
  skipped: string[];
  /** true when the sample ended with STOP */
  stopped: boolean;
}

/** ids the model reads before generating: STOP first in lines mode; text mode with no prime starts at '\n' */
export function primeIds(vocab: Vocab, prime: string, mode: DataMode): { ids: number[]; skipped: string[] } {
  const { ids, unknown } = vocab.encode(prime);
  const out = [...ids];
  if (mode === 'lines') out.unshift(vocab.stopId);
  else if (out.length === 0) {
    const nl = vocab.encode('\n');
    out.push(nl.ids.length === 1 ? nl.ids[0]! : 0);
  }
  return { ids: out, skipped: unknown };
}

/** a loaded run directory (or anything with its model, vocabulary and data mode) */
export interface SampleSource {
  model: CharRNN;
  vocab: Vocab;
  config: { mode: DataMode };
}

/**
 * Generates text. `sample(checkpoint, opts)` takes the data mode from the checkpoint (a lines model starts
 * at the start of a line); `sample(model, vocab, opts)` uses opts.mode (default 'text').
 */
export function sample(source: SampleSource, opts?: SampleTextOptions): SampleTextResult;
export function sample(model: CharRNN, vocab: Vocab, opts?: SampleTextOptions): SampleTextResult;
export function sample(a: CharRNN | SampleSource, b?: Vocab | SampleTextOptions, c?: SampleTextOptions): SampleTextResult {
  // shapes: prime [Tp,1] → logits [Tp,1,V]; then per step tokens [1,1] → logits [1,1,V] → token [1]
  const fromSource = !(b instanceof Vocab);
  const model = fromSource ? (a as SampleSource).model : (a as CharRNN);
  const vocab = fromSource ? (a as SampleSource).vocab : (b as Vocab);
  const opts: SampleTextOptions = (fromSource ? (b as SampleTextOptions | undefined) : c) ?? {};
  const mode = opts.mode ?? (fromSource ? (a as SampleSource).config.mode : 'text');
  if (model.vocabSize !== vocab.size) {
    throw new RangeError(`sample: the model has ${model.vocabSize} output symbols but the vocabulary has ${vocab.size}`);
  }
  const maxLength = opts.maxLength ?? 200;
  if (!Number.isInteger(maxLength) || maxLength < 0) throw new RangeError(`sample: maxLength must be a non-negative integer, got ${maxLength}`);
  const seed = (opts.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  const { ids, skipped } = primeIds(vocab, opts.prime ?? '', mode);
  if (skipped.length) {
    (opts.onWarning ?? console.warn)(`warning: the prime has ${skipped.length} character(s) not in the vocabulary, skipped: ${skipped.map(showSymbol).join(' ')}`);
  }
  const dec = vocab.streamDecoder();
  const perToken: GeneratedToken[] = [];
  let text = '';
  let stopped = false;
  const gen = new Generator(model, vocab, { rawBytes: opts.rawBytes });
  try {
    gen.feed(ids);
    // a masked byte model finishes the character it is in (at most 3 bytes past maxLength)
    for (let step = 0; step < maxLength || (gen.masked && !gen.atBoundary); step++) {
      const r = gen.draw({ temperature: opts.temperature ?? 1, topK: opts.topK ?? 0, topP: opts.topP ?? 1, seed, offset: step });
      const isStop = r.token === vocab.stopId;
      const char = isStop ? '' : dec.push(r.token);
      const tok: GeneratedToken = { token: r.token, char, logp: r.logp, entropy: r.entropy };
      perToken.push(tok);
      text += char;
      opts.onToken?.(tok);
      if (isStop) { stopped = true; break; }
      gen.feed([r.token]);
    }
  } finally {
    gen.dispose();
  }
  const tail = dec.flush();
  text += tail;
  if (tail && perToken.length) perToken[perToken.length - 1]!.char += tail;
  const logProb = perToken.reduce((a, t) => a + t.logp, 0);
  const entropy = perToken.length ? perToken.reduce((a, t) => a + t.entropy, 0) / perToken.length : 0;
  return { text, tokens: perToken.map((t) => t.token), perToken, logProb, entropy, skipped, stopped };
}
