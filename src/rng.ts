// Counter-based RNG shared with the kernels (kernels/rng.cuh implements the same bits in C++).
// Dropout masks and sampling draws are rngU32(seed, counter); weight init on the host streams the same hash.

/** murmur3's 32-bit finaliser */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** uint32 hash of (seed, counter); both taken modulo 2^32 */
export function rngU32(seed: number, counter: number): number {
  return fmix32(fmix32((seed ^ 0x6a09e667) >>> 0) ^ (counter >>> 0));
}

/** uniform in [0, 1) with 24 random bits: exact in float32 */
export function rngUniform(seed: number, counter: number): number {
  return (rngU32(seed, counter) >>> 8) * 5.9604644775390625e-8; // 2^-24
}

/** A host-side stream over the counter hash: seedable, with its position saveable for --resume. */
export class RngStream {
  constructor(public seed: number, public counter = 0) {
    this.seed = seed >>> 0;
  }
  /** uniform in [0, 1) with 53 random bits */
  next(): number {
    const hi = rngU32(this.seed, this.counter++) >>> 5;
    const lo = rngU32(this.seed, this.counter++) >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
  nextU32(): number {
    return rngU32(this.seed, this.counter++);
  }
  /** standard normal (Box-Muller) */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  state(): { seed: number; counter: number } {
    return { seed: this.seed, counter: this.counter };
  }
}
