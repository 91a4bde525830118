// Beam search over a CharRNN: the K most probable continuations of a prime, with their log-probabilities.
// The live beams run as one batch (tokens [1,K], state [L,K,H]); after each step every beam's K·V
// candidate extensions are ranked on the host by total log-probability (ties: lower beam, then lower token),
// the best K are kept, and the state rows are regathered by parent with the embedding kernel (no host copy
// of the state). A candidate that is STOP ends its hypothesis. The search ends once K hypotheses have ended
// or after maxLength tokens; hypotheses are ranked by length-normalised score, logProb / tokens.
// Byte vocabularies extend only with valid UTF-8 continuations (renormalised), unless rawBytes; an
// unfinished hypothesis cut inside a character loses the incomplete bytes.
// With K = 1 this is greedy decoding: the same prime pass, the same argmax (lowest index on ties).
import { Tensor, noGrad, tidy } from '../tensor.js';
import { embedding } from '../ops/embedding.js';
import { reshape } from '../ops/reshape.js';
import { disposeLstmState, type CharRNN, type LstmState } from '../nn/char_rnn.js';
import { showSymbol, type Vocab } from '../text/vocab.js';
import { UTF8_START, utf8Allows, utf8Next, type Utf8State } from '../text/utf8.js';
import type { DataMode } from '../text/corpus.js';
import { Generator, checkModelVocab } from './generator.js';
import { checkCount, checkFunction, checkObject, checkString, given } from '../args.js';
import { primeIds } from './sample.js';

export interface BeamSearchOptions {
  /** beam width K (≥ 1) */
  beam: number;
  prime?: string;
  /** tokens per hypothesis at most (default 200) */
  maxLength?: number;
  /** default 'text' ('lines' starts from STOP) */
  mode?: DataMode;
  /** byte vocabularies: allow invalid UTF-8 (default false) */
  rawBytes?: boolean;
  onWarning?: (message: string) => void;
}

export interface BeamHypothesis {
  text: string;
  /** generated ids (a final STOP included when it ended) */
  tokens: number[];
  /** log-probability of each token, nats */
  logps: number[];
  /** Σ logps */
  logProb: number;
  /** logProb / tokens.length: what the hypotheses are ranked by */
  score: number;
  /** ended with STOP */
  stopped: boolean;
}

interface Live {
  tokens: number[];
  logps: number[];
  logProb: number;
  utf8: Utf8State;
}

/** The K most probable continuations, best (by length-normalised score) first. */
export function beamSearch(model: CharRNN, vocab: Vocab, opts: BeamSearchOptions): { beams: BeamHypothesis[]; skipped: string[] } {
  // shapes: per step logits [K,V] (to the host), state h/c [L,K,H], tokens [1,K]
  checkModelVocab('beamSearch', model, vocab);
  checkObject('beamSearch: options', opts);
  const K = opts.beam;
  if (!Number.isInteger(K) || K < 1) throw new (typeof K === 'number' ? RangeError : TypeError)(`beamSearch: beam must be a positive integer, got ${given(K)}`);
  if (opts.prime !== undefined) checkString('beamSearch: prime', opts.prime);
  const maxLength = opts.maxLength ?? 200;
  checkCount('beamSearch: maxLength', maxLength);
  if (opts.onWarning !== undefined) checkFunction('beamSearch: onWarning', opts.onWarning);
  const { ids, skipped } = primeIds(vocab, opts.prime ?? '', opts.mode ?? 'text');
  if (skipped.length) {
    (opts.onWarning ?? console.warn)(`warning: the prime has ${skipped.length} character(s) not in the vocabulary, skipped: ${skipped.map(showSymbol).join(' ')}`);
  }
  const V = vocab.size;
  const L = model.config.numLayers, H = model.config.hiddenSize;
  const masked = vocab.mode === 'byte' && !opts.rawBytes;
  const device = model.device;
  const gen = new Generator(model, vocab, { rawBytes: opts.rawBytes });
  let state: LstmState | undefined;
  let logits: Float64Array;
  const finished: BeamHypothesis[] = [];
  const finish = (b: Live, stopped: boolean) => {
    let n = b.tokens.length;
    if (!stopped && masked && b.utf8.need > 0) {
      while (n > 0 && (b.tokens[n - 1]! & 0xc0) === 0x80) n--; // continuation bytes of the unfinished character
      n--; // and its lead byte
    }
    const tokens = b.tokens.slice(0, n), logps = b.logps.slice(0, n);
    const logProb = logps.reduce((a, x) => a + x, 0);
    finished.push({ text: vocab.decode(tokens), tokens, logps, logProb, score: tokens.length ? logProb / tokens.length : 0, stopped });
  };
  try {
    gen.feed(ids);
    logits = Float64Array.from(gen.nextLogits.toArray());
    state = regather(gen.lstmState!, [0], 1, L, H);
    let live: Live[] = [{ tokens: [], logps: [], logProb: 0, utf8: UTF8_START }];
    for (let step = 0; step < maxLength && live.length > 0; step++) {
      // candidates: (total log-probability, beam, token), the best K
      const cands: { total: number; beam: number; token: number; lp: number }[] = [];
      live.forEach((b, k) => {
        const row = logits.subarray(k * V, (k + 1) * V);
        const ok = (v: number) => !masked || (v === vocab.stopId ? b.utf8.need === 0 : utf8Allows(b.utf8, v));
        let mx = -Infinity;
        for (let v = 0; v < V; v++) if (ok(v) && row[v]! > mx) mx = row[v]!;
        let s = 0;
        for (let v = 0; v < V; v++) if (ok(v)) s += Math.exp(row[v]! - mx);
        const lse = mx + Math.log(s);
        for (let v = 0; v < V; v++) if (ok(v)) cands.push({ total: b.logProb + (row[v]! - lse), beam: k, token: v, lp: row[v]! - lse });
      });
      cands.sort((a, c) => (c.total - a.total) || (a.beam - c.beam) || (a.token - c.token));
      const next: Live[] = [];
      const parents: number[] = [];
      for (const c of cands.slice(0, K)) {
        const p = live[c.beam]!;
        const b: Live = {
          tokens: [...p.tokens, c.token], logps: [...p.logps, c.lp], logProb: c.total,
          utf8: vocab.mode === 'byte' && c.token !== vocab.stopId && utf8Allows(p.utf8, c.token) ? utf8Next(p.utf8, c.token) : UTF8_START,
        };
        if (c.token === vocab.stopId) finish(b, true);
        else { next.push(b); parents.push(c.beam); }
      }
      live = next;
      if (finished.length >= K || live.length === 0) break;
      const prev: LstmState = state;
      state = regather(prev, parents, prev.h.shape[1]!, L, H);
      disposeLstmState(prev);
      const r = noGrad(() => tidy(() => {
        const x = Tensor.from(Int32Array.from(live.map((b) => b.tokens[b.tokens.length - 1]!)), [1, live.length], { dtype: 'int32', device });
        const out = model.forward(x, state);
        return { state: out.state, logits: Float64Array.from(out.logits.toArray()) };
      }));
      disposeLstmState(state);
      state = r.state;
      logits = r.logits;
    }
    for (const b of live) finish(b, false);
  } finally {
    disposeLstmState(state);
    gen.dispose();
  }
  finished.sort((a, c) => c.score - a.score);
  return { beams: finished.slice(0, K), skipped };
}

/** New state [L,K',H] whose row k is row parents[k] of s ([L,B,H]), gathered by the embedding kernel. */
function regather(s: LstmState, parents: number[], B: number, L: number, H: number): LstmState {
  // shapes: s.h/c [L,B,H] viewed as a table [L·B, H]; idx [L·K'] = l·B + parents[k]
  const Kp = parents.length;
  return noGrad(() => tidy(() => {
    const idx = new Int32Array(L * Kp);
    for (let l = 0; l < L; l++) for (let k = 0; k < Kp; k++) idx[l * Kp + k] = l * B + parents[k]!;
    const it = Tensor.from(idx, [L * Kp], { dtype: 'int32', device: s.h.device });
    return {
      h: reshape(embedding(reshape(s.h, [L * B, H]), it), [L, Kp, H]),
      c: reshape(embedding(reshape(s.c, [L * B, H]), it), [L, Kp, H]),
    };
  }));
}
