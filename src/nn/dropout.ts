// Dropout: the seeded mask stream shared by the Dropout module and the Stack's between-layer dropout,
// and the Dropout module itself. Each call draws its mask at the stream's counter and advances the
// counter by the element count (moving to a derived seed before the 32-bit counter would wrap), so
// saving {seed, counter} makes a resumed run draw the same masks.
import { dropout } from '../ops/dropout.js';
import { checkNumber, checkOptions, checkTensor } from '../args.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { rngU32 } from '../rng.js';

export interface RngState {
  seed: number;
  counter: number;
}

/** A (seed, counter) position in the counter-based RNG, advanced by every mask drawn. */
export class DropoutStream {
  seed: number;
  counter = 0;
  constructor(seed: number) {
    this.seed = seed >>> 0;
  }

  /** dropout(x) with this stream's next mask; the counter advances by x.size */
  apply(x: Tensor, p: number): Tensor {
    // shapes: x [...] -> out [...]
    // The counter is 32 bits: a mask that would run past 2^32 starts a fresh stream (a seed derived from this
    // one) instead of wrapping onto masks already used (at H=1024, B=128, T=128 that would be every ~256
    // steps). {seed, counter} remains the whole state, so a resumed run follows the same path.
    if (this.counter + x.size > 2 ** 32) this.rekey();
    const y = dropout(x, { p, seed: this.seed, offset: this.counter });
    this.counter += x.size;
    if (this.counter >= 2 ** 32) this.rekey();
    return y;
  }

  private rekey(): void {
    this.seed = rngU32(this.seed ^ 0x5bd1e995, 0xffffffff);
    this.counter = 0;
  }

  state(): RngState {
    return { seed: this.seed, counter: this.counter };
  }

  setState(s: RngState): void {
    if (!s || !Number.isInteger(s.seed) || !Number.isInteger(s.counter)) {
      throw new TypeError(`setRngState: expected { seed, counter } integers, got ${JSON.stringify(s)}`);
    }
    this.seed = s.seed >>> 0;
    this.counter = s.counter >>> 0;
  }
}

/** the drop probability option, checked */
export function checkDropoutP(what: string, p: unknown): number {
  const v = checkNumber(what, p ?? 0, 0, 1);
  if (v >= 1) throw new RangeError(`${what} must be in [0, 1), got ${v}`);
  return v;
}

export interface DropoutModuleOptions {
  /** drop probability in [0, 1) */
  p: number;
  /** uint32 seed of the mask stream; default 0 */
  seed?: number;
}

/** Zeroes elements with probability p and scales the rest by 1/(1-p), in training mode only. */
export class Dropout extends Module {
  readonly p: number;
  private readonly stream: DropoutStream;

  constructor(options: DropoutModuleOptions) {
    super();
    const opts = checkOptions('Dropout', options);
    this.p = checkDropoutP('Dropout: p', opts.p);
    this.stream = new DropoutStream(opts.seed ?? 0);
  }

  forward(x: Tensor): Tensor {
    // shapes: x [...] -> out [...]
    checkTensor('Dropout', 'x', x);
    if (!this.training || this.p === 0) return x;
    return this.stream.apply(x, this.p);
  }

  rngState(): RngState {
    return this.stream.state();
  }

  setRngState(s: RngState): void {
    this.stream.setState(s);
  }
}
