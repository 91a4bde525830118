// UTF-8 well-formedness as a state machine over bytes (Unicode Table 3-7): which bytes may come next so
// that the byte stream stays valid UTF-8. The byte-vocabulary sampler turns each state into a 0 / -inf
// logit mask, so a byte model only ever draws valid text.

/**
 * Where a byte stream stands: `need` continuation bytes still to come, the next one in [lo, hi]
 * (need 0: at a character boundary).
 */
export interface Utf8State {
  need: number;
  lo: number;
  hi: number;
}

export const UTF8_START: Utf8State = Object.freeze({ need: 0, lo: 0, hi: 0 });

/** true when `byte` may follow in state `s` */
export function utf8Allows(s: Utf8State, byte: number): boolean {
  if (s.need > 0) return byte >= s.lo && byte <= s.hi;
  return byte <= 0x7f || (byte >= 0xc2 && byte <= 0xf4);
}

/** The state after `byte` (which must be allowed in `s`). */
export function utf8Next(s: Utf8State, byte: number): Utf8State {
  if (!utf8Allows(s, byte)) {
    throw new RangeError(`utf8Next: byte 0x${byte.toString(16)} cannot follow here (need ${s.need})`);
  }
  if (s.need > 0) return s.need === 1 ? UTF8_START : { need: s.need - 1, lo: 0x80, hi: 0xbf };
  if (byte <= 0x7f) return UTF8_START;
  if (byte <= 0xdf) return { need: 1, lo: 0x80, hi: 0xbf };
  // the second byte of E0 / ED / F0 / F4 is narrowed: no overlong forms, no surrogates, nothing past U+10FFFF
  if (byte <= 0xef) return { need: 2, lo: byte === 0xe0 ? 0xa0 : 0x80, hi: byte === 0xed ? 0x9f : 0xbf };
  return { need: 3, lo: byte === 0xf0 ? 0x90 : 0x80, hi: byte === 0xf4 ? 0x8f : 0xbf };
}

/** A short key naming the state (masks are cached by it). */
export function utf8Key(s: Utf8State): string {
  return s.need === 0 ? '0' : `${s.need}:${s.lo}-${s.hi}`;
}
