// Text generation from a CharRNN: feed the priming text in one forward pass, then one step at a time draw
// the next token ON THE DEVICE (sampleTokens: temperature, top-k, top-p, counter-based RNG), so that each
// step brings back only the token id, its log-probability and the step's entropy, never the logits
// (unless a caller asks for each step's top-n alternatives). Stops at STOP or after maxLength tokens.
// Temperature 0 is greedy decoding. Byte models draw only valid UTF-8 (see generator.ts) unless rawBytes.
// After the prime, generation runs on the device in batches (device_loop.ts: the token fed back on the
// device, one CUDA graph launch per batch where the backend has graphs, the host reading each batch's
// tokens at once) unless a step needs the host: a UTF-8 mask (masked byte models), per-step alternatives,
// or batch: 0. Both paths run the same kernels with the same arguments: the same tokens, the same bits.
// `generate` is the same one step per next() (for callers that wait between steps); `sample` runs it.
import type { CharRNN } from '../nn/char_rnn.js';
import { Generator as TokenGenerator, checkModelVocab } from './generator.js';
import { DeviceLoop } from './device_loop.js';
import { checkCount, checkFunction, checkObject, checkOptions, checkString } from '../args.js';
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
  /**
   * steps drawn on the device per host read (even, default 16; 0: one step at a time, the token read and
   * fed back from the host). Draws past a STOP or maxLength are discarded: the output does not depend on it.
   */
  batch?: number;
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

/** One of the most probable tokens of a step (see GenerateOptions.alternatives). */
export interface Alternative {
  token: number;
  /** the symbol: '' for STOP; in byte mode a byte that is not ASCII reads as `\\xNN` */
  symbol: string;
  /** probability under the model (temperature 1, no top-k/top-p; renormalised over valid UTF-8 in byte mode) */
  p: number;
}

export interface GenerateOptions extends Omit<SampleTextOptions, 'onToken'> {
  /**
   * n > 0: also report each step's n most probable tokens. This copies the step's logits [V] to the host
   * (the sampling kernel returns only token, logp and entropy); the CLI never asks for it, the serve page does.
   */
  alternatives?: number;
}

export interface GeneratedStep extends GeneratedToken {
  /** with GenerateOptions.alternatives: the step's most probable tokens, most probable first */
  alternatives?: Alternative[];
}

/** the n most probable tokens of softmax(logits) over the tokens `allowed` (host side, O(V·n)) */
function topAlternatives(vocab: Vocab, logits: ArrayLike<number>, n: number, allowed: (token: number) => boolean): Alternative[] {
  // shapes: logits [V] → n entries
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (allowed(i) && logits[i]! > max) max = logits[i]!;
  let z = 0;
  const best: number[] = []; // ids by logit, descending
  for (let i = 0; i < logits.length; i++) {
    if (!allowed(i)) continue;
    z += Math.exp(logits[i]! - max);
    if (best.length === n && logits[i]! <= logits[best[n - 1]!]!) continue;
    let j = Math.min(best.length, n - 1);
    best[j] = i;
    while (j > 0 && logits[best[j - 1]!]! < logits[i]!) { best[j] = best[j - 1]!; best[j - 1] = i; j--; }
  }
  return best.map((id) => {
    const s = vocab.symbol(id);
    const symbol = vocab.mode === 'byte' && s.charCodeAt(0) >= 0x80 ? `\\x${s.charCodeAt(0).toString(16).padStart(2, '0')}` : s;
    return { token: id, symbol, p: Math.exp(logits[id]! - max) / z };
  });
}

function unpack(a: CharRNN | SampleSource, b?: Vocab | SampleTextOptions, c?: SampleTextOptions): { model: CharRNN; vocab: Vocab; opts: GenerateOptions; mode: DataMode } {
  const fromSource = !(b instanceof Vocab);
  if (fromSource) checkObject('sample: the first argument (a loaded checkpoint {model, vocab, config}, or a model followed by its Vocab)', a);
  const model = fromSource ? (a as SampleSource).model : (a as CharRNN);
  const vocab = fromSource ? (a as SampleSource).vocab : (b as Vocab);
  checkModelVocab('sample', model, vocab);
  const opts: GenerateOptions = checkOptions('sample', fromSource ? (b as GenerateOptions | undefined) : c);
  if (opts.prime !== undefined) checkString('sample: prime', opts.prime);
  for (const k of ['onToken', 'onWarning'] as const) if ((opts as SampleTextOptions)[k] !== undefined) checkFunction(`sample: ${k}`, (opts as SampleTextOptions)[k]);
  const mode = opts.mode ?? (fromSource ? (a as SampleSource).config?.mode : undefined) ?? 'text';
  if (mode !== 'text' && mode !== 'lines' && mode !== 'turns') throw new TypeError(`sample: mode must be 'text', 'lines' or 'turns', got ${JSON.stringify(mode)}`);
  return { model, vocab, opts, mode };
}

/**
 * Generation one token at a time: each `next()` draws one token and yields it; the return value is the
 * whole result. The caller may wait between steps (the serve page yields to the event loop there) or stop
 * early with `return()`, which frees the generator's state. Same arguments as `sample`.
 */
export function generate(source: SampleSource, opts?: GenerateOptions): Generator<GeneratedStep, SampleTextResult, void>;
export function generate(model: CharRNN, vocab: Vocab, opts?: GenerateOptions): Generator<GeneratedStep, SampleTextResult, void>;
export function* generate(a: CharRNN | SampleSource, b?: Vocab | GenerateOptions, c?: GenerateOptions): Generator<GeneratedStep, SampleTextResult, void> {
  // shapes: prime [Tp,1] → logits [Tp,1,V]; then per step tokens [1,1] → logits [1,1,V] → token [1]
  const { model, vocab, opts, mode } = unpack(a, b, c);
  const maxLength = opts.maxLength ?? 200;
  checkCount('sample: maxLength', maxLength);
  const nAlt = opts.alternatives ?? 0;
  checkCount('sample: alternatives', nAlt);
  const seed = (opts.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  const { ids, skipped } = primeIds(vocab, opts.prime ?? '', mode);
  if (skipped.length) {
    (opts.onWarning ?? console.warn)(`warning: the prime has ${skipped.length} character(s) not in the vocabulary, skipped: ${skipped.map(showSymbol).join(' ')}`);
  }
  const dec = vocab.streamDecoder();
  const perToken: GeneratedStep[] = [];
  let text = '';
  let stopped = false;
  const batch = opts.batch ?? 16;
  if (!Number.isInteger(batch) || batch < 0 || batch % 2 !== 0) throw new (typeof batch === 'number' ? RangeError : TypeError)(`sample: batch must be 0 or an even positive integer, got ${typeof batch === 'number' ? batch : JSON.stringify(batch) ?? String(batch)}`);
  const gen = new TokenGenerator(model, vocab, { rawBytes: opts.rawBytes });
  let loop: DeviceLoop | undefined;
  try {
    gen.feed(ids);
    if (batch > 0 && nAlt === 0 && !gen.masked && maxLength > 0) {
      // the device path: batches of draws, no host read per character (a short sample gets a short batch)
      loop = new DeviceLoop(model, gen.lstmState!, gen.nextLogits, {
        temperature: opts.temperature ?? 1, topK: opts.topK ?? 0, topP: opts.topP ?? 1, seed,
        batch: Math.min(batch, maxLength + (maxLength % 2)),
      });
      for (let step = 0; step < maxLength;) {
        const b = loop.next();
        for (let k = 0; k < loop.batch && step < maxLength; k++, step++) {
          const token = b.tokens[k]!;
          const isStop = token === vocab.stopId;
          const tok: GeneratedStep = { token, char: isStop ? '' : dec.push(token), logp: b.logp[k]!, entropy: b.entropy[k]! };
          if (isStop || step + 1 === maxLength) tok.char += dec.flush();
          perToken.push(tok);
          text += tok.char;
          if (isStop) {
            stopped = true;
            yield tok;
            return finish();
          }
          yield tok;
        }
      }
      return finish();
    }
    // a masked byte model finishes the character it is in (at most 3 bytes past maxLength)
    for (let step = 0; step < maxLength || (gen.masked && !gen.atBoundary); step++) {
      const alternatives = nAlt > 0 ? topAlternatives(vocab, gen.nextLogits.toArray(), Math.min(nAlt, vocab.size), (t) => gen.allows(t)) : undefined;
      const r = gen.draw({ temperature: opts.temperature ?? 1, topK: opts.topK ?? 0, topP: opts.topP ?? 1, seed, offset: step });
      const isStop = r.token === vocab.stopId;
      const char = isStop ? '' : dec.push(r.token);
      const tok: GeneratedStep = { token: r.token, char, logp: r.logp, entropy: r.entropy };
      if (alternatives) tok.alternatives = alternatives;
      if (isStop) stopped = true;
      else gen.feed([r.token]);
      const last = isStop || !(step + 1 < maxLength || (gen.masked && !gen.atBoundary));
      if (last) tok.char += dec.flush(); // a raw byte sequence cut short ends as U+FFFD
      perToken.push(tok);
      text += tok.char;
      yield tok;
      if (isStop) break;
    }
  } finally {
    loop?.dispose();
    gen.dispose();
  }
  return finish();

  function finish(): SampleTextResult {
    const logProb = perToken.reduce((s, t) => s + t.logp, 0);
    const entropy = perToken.length ? perToken.reduce((s, t) => s + t.entropy, 0) / perToken.length : 0;
    return { text, tokens: perToken.map((t) => t.token), perToken, logProb, entropy, skipped, stopped };
  }
}

/**
 * Generates text. `sample(checkpoint, opts)` takes the data mode from the checkpoint (a lines model starts
 * at the start of a line); `sample(model, vocab, opts)` uses opts.mode (default 'text'). Runs `generate`
 * to the end, calling opts.onToken as each token is drawn.
 */
export function sample(source: SampleSource, opts?: SampleTextOptions): SampleTextResult;
export function sample(model: CharRNN, vocab: Vocab, opts?: SampleTextOptions): SampleTextResult;
export function sample(a: CharRNN | SampleSource, b?: Vocab | SampleTextOptions, c?: SampleTextOptions): SampleTextResult {
  const { model, vocab, opts, mode } = unpack(a, b, c);
  const g = generate(model, vocab, { ...opts, mode });
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    (opts as SampleTextOptions).onToken?.(r.value);
  }
}
