// Dropout mask from the shared counter-based RNG (src/rng.ts): identical bits on every backend.
import { rngU32 } from '../rng.js';
import type { FloatArray } from './storage.js';

/**
 * Shapes: mask [n] out. Element i is kept (= scale) iff (rngU32(seed, offset + i) >>> 8) >= threshold,
 * else 0; counters wrap modulo 2^32 (rngU32 takes them modulo 2^32).
 */
export function dropoutMask(n: number, seed: number, offset: number, threshold: number, scale: number, mask: FloatArray): void {
  for (let i = 0; i < n; i++) mask[i] = rngU32(seed, offset + i) >>> 8 >= threshold ? scale : 0;
}
