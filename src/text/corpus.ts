// Corpus loading for the char-rnn: read a file (or take a string), reject empty, binary and (in char mode)
// non-UTF-8 input with a clear message, normalise newlines, encode to ids with a vocabulary, and split off a
// validation set that training never sees (deterministic under the seed).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { RngStream } from '../rng.js';
import { Vocab, normaliseNewlines, type VocabMode } from './vocab.js';
import { checkBytes, checkObject, checkString, given } from '../args.js';

/** text: one stream; lines: one sample per line; turns: one stream of conversations, loss on the owner's lines */
export type DataMode = 'text' | 'lines' | 'turns';

/** The corpus as ids: one stream (`text` mode) or one array per non-empty line without its newline (`lines`). */
export interface EncodedCorpus {
  vocab: Vocab;
  /** text mode: the whole corpus; lines mode: every line concatenated without separators (for counts) */
  ids: Int32Array;
  /** lines mode only */
  lines?: Int32Array[];
}

/** A training/validation split of an encoded corpus. */
export interface CorpusSplit {
  train: Int32Array | Int32Array[];
  val: Int32Array | Int32Array[];
}

/** the largest training file read */
export const MAX_CORPUS_BYTES = 2 ** 30;

/** Reads at most `max` bytes of `path`; `tooBig()` is thrown when there is more. */
function readBounded(path: string, max: number, tooBig: () => Error): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 24, max + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > max) throw tooBig();
      if (chunks.length === 1 && chunk.subarray(0, n).indexOf(0) >= 0) break; // binary: checkCorpusBytes names it
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Reads a training file as bytes, with clear errors for a missing, empty, binary or endless file. */
export function readCorpusFile(path: string): Uint8Array {
  checkString('readCorpusFile: path', path);
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`training file '${path}' does not exist`);
  }
  if (st.isDirectory()) throw new Error(`training file '${path}' is a directory, not a text file`);
  const tooBig = () => new Error(`training file '${path}' is larger than ${MAX_CORPUS_BYTES / 2 ** 30} GiB, the most one run reads (its ids alone would take 4 bytes per symbol); train on a part of it`);
  if (st.isFile() && st.size > MAX_CORPUS_BYTES) throw tooBig();
  // not readFileSync: a device or a pipe (/dev/zero, /dev/stdin) has no size and may never end
  const bytes = readBounded(path, MAX_CORPUS_BYTES, tooBig);
  checkCorpusBytes(bytes, `'${path}'`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws when bytes are empty (or only whitespace) or look binary (a NUL byte). */
export function checkCorpusBytes(bytes: Uint8Array, what: string): void {
  checkBytes('checkCorpusBytes: bytes', bytes);
  if (bytes.length === 0) throw new Error(`training file ${what} is empty`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new Error(`training file ${what} looks binary (NUL byte at offset ${nul}); give a text file (UTF-8 or any text with --vocab byte)`);
  }
  let blank = true;
  for (let i = 0; i < bytes.length && blank; i++) blank = bytes[i] === 32 || (bytes[i]! >= 9 && bytes[i]! <= 13);
  if (blank) throw new Error(`training file ${what} is empty (only whitespace)`);
}

/** Decodes UTF-8 strictly; the error names the offset of the first bad byte and suggests --vocab byte. */
export function decodeUtf8Strict(bytes: Uint8Array, what: string): string {
  checkBytes('decodeUtf8Strict: bytes', bytes);
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    const off = firstInvalidUtf8(bytes);
    throw new Error(`${what} is not valid UTF-8 (first invalid byte 0x${bytes[off]?.toString(16).padStart(2, '0')} at offset ${off}); ` +
      `convert it to UTF-8, or train on raw bytes with --vocab byte`);
  }
}

function firstInvalidUtf8(b: Uint8Array): number {
  const lenient = new TextDecoder('utf-8', { fatal: false });
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : (c & 0xe0) === 0xc0 ? 1 : (c & 0xf0) === 0xe0 ? 2 : (c & 0xf8) === 0xf0 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    if (n > 0 && lenient.decode(b.subarray(i, i + n + 1)).includes('\ufffd')) return i;
    i += n + 1;
  }
  return b.length;
}

/**
 * Encodes a corpus given as bytes (from a file) or a string. Shapes: ids [n]; lines mode also lines[k][len].
 * `vocab` given (resume): every symbol must be in it, else an Error naming the unseen symbols.
 * `extend` given (fine-tuning, char mode): the vocabulary is its symbols plus the corpus's.
 */
export function encodeCorpus(
  source: Uint8Array | string,
  opts: { vocabMode: VocabMode; dataMode: DataMode; vocab?: Vocab; extend?: Vocab; what?: string },
): EncodedCorpus {
  checkObject('encodeCorpus: options', opts);
  const what = opts.what ?? 'training text';
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) {
    throw new TypeError(`encodeCorpus: source must be a string or a Uint8Array of bytes, got ${given(source)}`);
  }
  if (opts.vocabMode !== 'char' && opts.vocabMode !== 'byte') {
    throw new TypeError(`encodeCorpus: vocabMode must be 'char' or 'byte', got ${given(opts.vocabMode)}`);
  }
  if (opts.dataMode !== 'text' && opts.dataMode !== 'lines' && opts.dataMode !== 'turns') {
    throw new TypeError(`encodeCorpus: dataMode must be 'text', 'lines' or 'turns', got ${given(opts.dataMode)}`);
  }
  for (const k of ['vocab', 'extend'] as const) {
    if (opts[k] !== undefined && !(opts[k] instanceof Vocab)) throw new TypeError(`encodeCorpus: ${k} must be a Vocab, got ${given(opts[k])}`);
  }
  const bytes = typeof source === 'string' ? null : source;
  if (bytes) checkCorpusBytes(bytes, what);
  else if (source.length === 0 || (source as string).trim() === '') throw new Error(`${what} is empty`);
  let vocab = opts.vocab;
  if (vocab && vocab.mode !== opts.vocabMode) {
    throw new Error(`${what}: vocabulary mode mismatch: the checkpoint uses '${vocab.mode}', asked for '${opts.vocabMode}'`);
  }
  let ids: Int32Array;
  if (opts.vocabMode === 'byte') {
    vocab ??= Vocab.bytes();
    ids = bytes ? vocab.encodeBytes(bytes) : vocab.encode(source as string).ids;
  } else {
    const text = normaliseNewlines(bytes ? decodeUtf8Strict(bytes, what) : (source as string));
    if (text.includes('\0')) throw new Error(`${what} looks binary (contains NUL characters)`);
    // extend (fine-tuning): the base's symbols and the corpus's, so that every base symbol keeps a row
    const base = opts.extend ? Array.from({ length: opts.extend.stopId }, (_, i) => opts.extend!.symbol(i)).join('') : '';
    vocab ??= Vocab.fromText(base + text);
    try {
      ids = vocab.encodeStrict(text, what);
    } catch (e) {
      throw new Error(`${(e as Error).message}; the checkpoint was trained with a different vocabulary`);
    }
  }
  if (opts.dataMode !== 'lines') return { vocab, ids };
  const newline = vocab.encode('\n').ids[0];
  const lines: Int32Array[] = [];
  let start = 0;
  for (let i = 0; i <= ids.length; i++) {
    if (i === ids.length || ids[i] === newline) {
      if (i > start) lines.push(ids.slice(start, i));
      start = i + 1;
    }
  }
  if (lines.length === 0) throw new Error(`${what} has no non-empty lines`);
  const flat = new Int32Array(lines.reduce((a, l) => a + l.length, 0));
  let o = 0;
  for (const l of lines) { flat.set(l, o); o += l.length; }
  return { vocab, ids: flat, lines };
}

/**
 * Splits off a validation set of about `fraction` of the corpus, deterministic under `seed`:
 * text mode: one contiguous block at a seeded position (the rest, joined, is training);
 * lines mode: a seeded choice of distinct line contents (a duplicated line is all-train or all-val).
 * fraction 0 gives an empty validation set.
 */
export function splitCorpus(corpus: EncodedCorpus, fraction: number, seed: number): CorpusSplit {
  checkObject('splitCorpus: corpus', corpus);
  if (!(corpus.ids instanceof Int32Array)) throw new TypeError(`splitCorpus: corpus.ids must be an Int32Array (from encodeCorpus), got ${given(corpus.ids)}`);
  if (corpus.lines !== undefined && !Array.isArray(corpus.lines)) throw new TypeError(`splitCorpus: corpus.lines must be an array of Int32Array, got ${given(corpus.lines)}`);
  if (typeof fraction !== 'number') throw new TypeError(`splitCorpus: the validation fraction must be a number in [0, 1), got ${given(fraction)}`);
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`validation fraction must be in [0, 1), got ${fraction}`);
  const rng = new RngStream((seed ^ 0x5eed5) >>> 0);
  if (!corpus.lines) {
    const n = corpus.ids.length;
    let nVal = Math.round(n * fraction);
    if (fraction > 0 && nVal < 2) nVal = 0;
    if (n - nVal < 2) nVal = 0;
    if (nVal === 0) return { train: corpus.ids, val: new Int32Array(0) };
    const start = Math.floor(rng.next() * (n - nVal + 1));
    const train = new Int32Array(n - nVal);
    train.set(corpus.ids.subarray(0, start), 0);
    train.set(corpus.ids.subarray(start + nVal), start);
    return { train, val: corpus.ids.slice(start, start + nVal) };
  }
  const groups = new Map<string, Int32Array[]>();
  for (const l of corpus.lines) {
    const k = l.join(',');
    const g = groups.get(k);
    if (g) g.push(l); else groups.set(k, [l]);
  }
  const keys = [...groups.keys()];
  shuffleInPlace(keys, rng);
  const target = fraction > 0 && corpus.lines.length >= 2 ? Math.max(1, Math.round(corpus.lines.length * fraction)) : 0;
  const val: Int32Array[] = [];
  const train: Int32Array[] = [];
  for (const k of keys) {
    const g = groups.get(k)!;
    const side = val.length < target && val.length + g.length < corpus.lines.length ? val : train;
    for (const line of g) side.push(line); // no spread: a line may repeat 10^5+ times
  }
  // restore corpus order inside each side (the shuffle only chose which lines go where)
  const order = new Map(corpus.lines.map((l, i) => [l, i]));
  train.sort((a, b) => order.get(a)! - order.get(b)!);
  val.sort((a, b) => order.get(a)! - order.get(b)!);
  return { train, val };
}

/** Fisher–Yates with a seeded stream. */
export function shuffleInPlace<T>(a: T[], rng: RngStream): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
