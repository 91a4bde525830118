// Batching for the char-rnn, host side (int32 arrays, time-major [T,B]):
//   text  — B parallel streams over one id stream, truncated BPTT windows of T; the hidden state is carried
//           from batch k to k+1 and reset at the start of each epoch (karpathy/char-rnn, torch-rnn);
//   lines — one sample per line: input STOP,l₀…lₙ₋₁ and target l₀…lₙ₋₁,STOP, padded to the longest in the
//           batch with IGNORE_INDEX targets (masked out of the loss), lines shuffled per epoch by the seed.
//   turns — text batches whose targets outside the owner's lines are IGNORE_INDEX (src/chat/turns.ts).
// Both are stateless given (epoch, index), so the data position of a run is two integers.
import { RngStream, rngU32 } from '../rng.js';
import { shuffleInPlace } from './corpus.js';
import { checkArray, checkCount, checkPositiveInt, checkTypedArray, given } from '../args.js';

/** target value of padding positions; passed to crossEntropy as ignoreIndex */
export const IGNORE_INDEX = -1;

export interface Batch {
  T: number;
  B: number;
  /** int32 [T,B] input ids */
  x: Int32Array;
  /** int32 [T,B] target ids (IGNORE_INDEX on padding) */
  y: Int32Array;
  /** number of targets that count (not padding) */
  count: number;
  /** the recurrent state must start from zeros for this batch */
  reset: boolean;
}

export interface Batches {
  readonly B: number;
  readonly T: number;
  readonly batchesPerEpoch: number;
  /** batch `index` (0 ≤ index < batchesPerEpoch) of epoch `epoch` */
  batch(epoch: number, index: number): Batch;
}

/**
 * Shrinks (B, T) so that a stream of n ids gives at least one batch: B first, then T (torch-rnn's rule).
 * Returns the fitted sizes and a warning when they changed. n < 2 is an Error (nothing to predict).
 */
export function fitTextShape(n: number, B: number, T: number, what = 'training text'): { B: number; T: number; warning?: string } {
  checkCount('fitTextShape: n', n);
  checkPositiveInt('fitTextShape: B', B);
  checkPositiveInt('fitTextShape: T', T);
  if (n < 2) throw new Error(`${what} is too short: ${n} symbol(s); need at least 2`);
  if (n - 1 >= B * T) return { B, T };
  const B2 = Math.max(1, Math.min(B, Math.floor((n - 1) / T)));
  const T2 = B2 === 1 ? Math.min(T, n - 1) : T;
  return { B: B2, T: T2, warning: `${what} has only ${n} symbols: batch ${B}×seq ${T} shrunk to batch ${B2}×seq ${T2}` };
}

/** text mode: B streams of L = ⌊(n-1)/B⌋ ids; batch k covers positions k·T … k·T+T-1 of each stream. */
export class TextBatches implements Batches {
  readonly batchesPerEpoch: number;
  private readonly L: number;

  /**
   * ids [n]; lossMask [n] (optional, the `turns` mode): target ids[j] counts only where lossMask[j] = 1,
   * elsewhere it is IGNORE_INDEX (read as input, masked out of the loss like padding).
   */
  constructor(private readonly ids: Int32Array, readonly B: number, readonly T: number, private readonly lossMask?: Uint8Array) {
    // ids [n]
    checkTypedArray('TextBatches: ids', ids, Int32Array);
    checkPositiveInt('TextBatches: B', B);
    checkPositiveInt('TextBatches: T', T);
    if (lossMask !== undefined) checkTypedArray('TextBatches: lossMask', lossMask, Uint8Array);
    if (lossMask && lossMask.length !== ids.length) throw new RangeError(`TextBatches: lossMask has ${lossMask.length} entries for ${ids.length} ids`);
    this.L = Math.floor((ids.length - 1) / B);
    this.batchesPerEpoch = Math.floor(this.L / T);
    if (this.batchesPerEpoch < 1) throw new RangeError(`TextBatches: ${ids.length} ids give no batch of ${B}×${T}; call fitTextShape first`);
  }

  batch(_epoch: number, index: number): Batch {
    // x, y [T,B]
    const { B, T, L, ids, lossMask } = this;
    if (!(index >= 0 && index < this.batchesPerEpoch)) throw new RangeError(`TextBatches: batch ${given(index)} not in [0, ${this.batchesPerEpoch})`);
    const x = new Int32Array(T * B);
    const y = new Int32Array(T * B);
    let count = 0;
    for (let b = 0; b < B; b++) {
      const base = b * L + index * T;
      for (let t = 0; t < T; t++) {
        x[t * B + b] = ids[base + t]!;
        const counts = !lossMask || lossMask[base + t + 1] === 1;
        y[t * B + b] = counts ? ids[base + t + 1]! : IGNORE_INDEX;
        if (counts) count++;
      }
    }
    return { T, B, x, y, count, reset: index === 0 };
  }
}

/** lines mode: ⌈lines/B⌉ batches per epoch (the last may be smaller), order shuffled per epoch when seeded. */
export class LineBatches implements Batches {
  readonly batchesPerEpoch: number;
  readonly B: number;
  private permEpoch = -1;
  private perm: number[] = [];

  /**
   * lines [k][len] without newline; T = longest sample (line + 1), longer lines are truncated;
   * seed null = corpus order every epoch (validation).
   */
  constructor(private readonly lines: Int32Array[], B: number, readonly T: number, private readonly stopId: number, private readonly seed: number | null) {
    checkArray('LineBatches: lines', lines);
    lines.forEach((l, i) => checkTypedArray(`LineBatches: lines[${i}]`, l, Int32Array));
    checkPositiveInt('LineBatches: B', B);
    checkPositiveInt('LineBatches: T', T);
    checkCount('LineBatches: stopId', stopId);
    if (seed !== null && typeof seed !== 'number') throw new TypeError(`LineBatches: seed must be a number or null, got ${given(seed)}`);
    if (lines.length === 0) throw new RangeError('LineBatches: no lines');
    this.B = Math.min(B, lines.length);
    this.batchesPerEpoch = Math.ceil(lines.length / this.B);
  }

  /** number of lines longer than T-1 symbols (they lose their ending when batched) */
  truncatedCount(): number {
    return this.lines.reduce((a, l) => a + (l.length + 1 > this.T ? 1 : 0), 0);
  }

  private order(epoch: number): number[] {
    if (this.permEpoch !== epoch) {
      const p = this.lines.map((_, i) => i);
      if (this.seed !== null) shuffleInPlace(p, new RngStream(rngU32((this.seed ^ 0x11e5) >>> 0, epoch)));
      this.perm = p;
      this.permEpoch = epoch;
    }
    return this.perm;
  }

  batch(epoch: number, index: number): Batch {
    // x, y [T,B]
    if (!(index >= 0 && index < this.batchesPerEpoch)) throw new RangeError(`LineBatches: batch ${given(index)} not in [0, ${this.batchesPerEpoch})`);
    const rows = this.order(epoch).slice(index * this.B, (index + 1) * this.B).map((i) => this.lines[i]!);
    const B = rows.length;
    const T = Math.min(this.T, Math.max(...rows.map((l) => l.length + 1)));
    const x = new Int32Array(T * B).fill(this.stopId);
    const y = new Int32Array(T * B).fill(IGNORE_INDEX);
    let count = 0;
    rows.forEach((l, b) => {
      const n = Math.min(l.length + 1, T);
      for (let t = 0; t < n; t++) {
        x[t * B + b] = t === 0 ? this.stopId : l[t - 1]!;
        y[t * B + b] = t < l.length ? l[t]! : this.stopId;
      }
      count += n;
    });
    return { T, B, x, y, count, reset: true };
  }
}
