// Vocabulary of the char-rnn: `char` (Unicode code points seen in the corpus, an emoji is one symbol) or
// `byte` (the 256 UTF-8 byte values), both followed by one STOP symbol (end of a line in `lines` mode,
// and the start symbol that precedes every line). Serialises to JSON for the checkpoint metadata, so
// sampling never needs the training text.

import { checkBytes, checkString, given } from '../args.js';

export type VocabMode = 'char' | 'byte';

export interface VocabJSON {
  mode: VocabMode;
  /** char mode: the symbols in id order (one code point each); absent in byte mode */
  symbols?: string[];
}

/** Printable name of a symbol for messages: control characters as escapes. */
export function showSymbol(s: string): string {
  const j = JSON.stringify(s);
  return j.slice(1, -1) === s ? `'${s}'` : j;
}

/** Normalises line endings: CRLF and lone CR become LF. */
export function normaliseNewlines(text: string): string {
  return normalise(text, 'normaliseNewlines: text');
}

/** normaliseNewlines, `what` naming the text in the TypeError for a non-string */
function normalise(text: string, what: string): string {
  checkString(what, text);
  return text.indexOf('\r') < 0 ? text : text.replace(/\r\n?/g, '\n');
}

export class Vocab {
  readonly mode: VocabMode;
  /** number of symbols including STOP */
  readonly size: number;
  /** id of the STOP symbol (always the last id) */
  readonly stopId: number;
  private readonly symbols: string[];
  private readonly index: Map<string, number>;

  private constructor(mode: VocabMode, symbols: string[]) {
    if (!Array.isArray(symbols)) throw new TypeError('new Vocab(): the constructor is internal; use Vocab.fromText, Vocab.bytes or Vocab.fromJSON');
    this.mode = mode;
    this.symbols = symbols;
    this.stopId = symbols.length;
    this.size = symbols.length + 1;
    this.index = new Map(symbols.map((s, i) => [s, i]));
  }

  /** The byte vocabulary: ids 0..255 are byte values, 256 is STOP. */
  static bytes(): Vocab {
    return new Vocab('byte', Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)));
  }

  /** A char vocabulary of every code point in `text` (sorted by code point), then STOP. */
  static fromText(text: string): Vocab {
    const seen = new Set<string>();
    for (const ch of normalise(text, 'Vocab.fromText: text')) seen.add(ch);
    const symbols = [...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new Vocab('char', symbols);
  }

  static fromJSON(json: unknown): Vocab {
    const j = json as VocabJSON;
    if (!j || typeof j !== 'object') throw new TypeError('Vocab.fromJSON: expected an object');
    if (j.mode === 'byte') return Vocab.bytes();
    if (j.mode !== 'char') throw new TypeError(`Vocab.fromJSON: mode must be 'char' or 'byte', got ${JSON.stringify(j.mode)}`);
    if (!Array.isArray(j.symbols) || j.symbols.some((s) => typeof s !== 'string' || [...s].length !== 1)) {
      throw new TypeError('Vocab.fromJSON: char mode needs `symbols`, an array of single code points');
    }
    if (new Set(j.symbols).size !== j.symbols.length) throw new TypeError('Vocab.fromJSON: duplicate symbols');
    return new Vocab('char', j.symbols.slice());
  }

  toJSON(): VocabJSON {
    return this.mode === 'byte' ? { mode: 'byte' } : { mode: 'char', symbols: this.symbols.slice() };
  }

  /** true when both map the same symbols to the same ids */
  equals(other: Vocab): boolean {
    if (!(other instanceof Vocab)) return false;
    return this.mode === other.mode && this.size === other.size && this.symbols.every((s, i) => other.symbols[i] === s);
  }

  /** Symbol of an id ('' for STOP); in byte mode a one-byte latin1 string (use decode for text). */
  symbol(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new (typeof id === 'number' ? RangeError : TypeError)(`Vocab: id ${given(id)} out of range [0, ${this.size})`);
    return id === this.stopId ? '' : this.symbols[id]!;
  }

  /**
   * Encodes text (newlines normalised) to ids. Symbols not in the vocabulary are skipped and listed
   * (distinct, in order of appearance) in `unknown`; byte mode never has unknowns.
   */
  encode(text: string): { ids: Int32Array; unknown: string[] } {
    const t = normalise(text, 'Vocab.encode: text');
    if (this.mode === 'byte') return { ids: Int32Array.from(new TextEncoder().encode(t)), unknown: [] };
    const ids: number[] = [];
    const unknown = new Set<string>();
    for (const ch of t) {
      const id = this.index.get(ch);
      if (id === undefined) unknown.add(ch);
      else ids.push(id);
    }
    return { ids: Int32Array.from(ids), unknown: [...unknown] };
  }

  /** Encodes and throws an Error naming the symbols that are not in the vocabulary. */
  encodeStrict(text: string, what = 'text'): Int32Array {
    const { ids, unknown } = this.encode(text);
    if (unknown.length) {
      throw new Error(`${what} has ${unknown.length} character(s) not in the vocabulary: ${unknown.slice(0, 20).map(showSymbol).join(' ')}`);
    }
    return ids;
  }

  /** Encodes raw bytes in byte mode (no UTF-8 decoding; CRLF and lone CR become LF). */
  encodeBytes(bytes: Uint8Array): Int32Array {
    if (this.mode !== 'byte') throw new Error('Vocab.encodeBytes: only for byte vocabularies');
    checkBytes('Vocab.encodeBytes: bytes', bytes);
    const out = new Int32Array(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 13) {
        out[n++] = 10;
        if (bytes[i + 1] === 10) i++;
      } else out[n++] = b;
    }
    return out.slice(0, n);
  }

  /** Decodes ids to text; STOP ids are dropped; byte mode decodes UTF-8 (invalid bytes become U+FFFD). */
  decode(ids: ArrayLike<number>): string {
    if (typeof ids !== 'object' || ids === null || typeof ids.length !== 'number') throw new TypeError(`Vocab.decode: ids must be an array of token ids, got ${given(ids)}`);
    const d = this.streamDecoder();
    let s = '';
    for (let i = 0; i < ids.length; i++) s += d.push(ids[i]!);
    return s + d.flush();
  }

  /** A decoder for ids arriving one at a time (streaming output); byte mode buffers partial UTF-8. */
  streamDecoder(): { push(id: number): string; flush(): string } {
    if (this.mode === 'char') return { push: (id) => this.symbol(id), flush: () => '' };
    const dec = new TextDecoder('utf-8');
    return {
      push: (id) => (id === this.stopId ? '' : dec.decode(Uint8Array.of(this.symbol(id).charCodeAt(0)), { stream: true })),
      flush: () => dec.decode(),
    };
  }
}
