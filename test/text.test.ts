// Vocabulary, corpus loading and batching of the char-rnn (host side only: no tensors).
import test from 'tape';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vocab } from '../src/text/vocab.js';
import { readCorpusFile, encodeCorpus, splitCorpus } from '../src/text/corpus.js';
import { TextBatches, LineBatches, fitTextShape, IGNORE_INDEX } from '../src/text/batches.js';

test('char vocab: code points (emoji one symbol), STOP last, CRLF → LF, round trip', (t) => {
  const text = 'héllo 👋🏽\r\nwörld\r\n';
  const v = Vocab.fromText(text);
  t.equal(v.mode, 'char');
  t.notOk(v.encode(text).unknown.length, 'no unknown symbols in its own text');
  t.equal(v.decode(v.encode(text).ids), 'héllo 👋🏽\nwörld\n', 'decode(encode(x)) is x with LF endings');
  t.equal(v.encode('👋').ids.length, 1, 'an emoji code point is one id');
  t.equal(v.stopId, v.size - 1, 'STOP is the last id');
  t.notOk([...new Set(v.encode(text).ids)].includes(v.stopId), 'text never encodes to STOP');
  t.notOk(v.encode('\r').unknown.length, 'CR alone normalises to LF');
  const round = Vocab.fromJSON(JSON.parse(JSON.stringify(v)));
  t.ok(round.equals(v), 'JSON round trip');
  t.end();
});

test('char vocab: unseen characters are skipped and named; strict encode throws naming them', (t) => {
  const v = Vocab.fromText('abc');
  const r = v.encode('abxcyx');
  t.deepEqual([...r.ids], [0, 1, 2]);
  t.deepEqual(r.unknown, ['x', 'y']);
  t.throws(() => v.encodeStrict('aZ', 'prime'), /prime has 1 character\(s\) not in the vocabulary: 'Z'/);
  t.end();
});

test('byte vocab: 256 bytes + STOP; UTF-8 round trip; streaming decoder buffers partial characters', (t) => {
  const v = Vocab.bytes();
  t.equal(v.size, 257);
  t.equal(v.stopId, 256);
  const ids = v.encode('é👋').ids;
  t.equal(ids.length, 6, '2 + 4 UTF-8 bytes');
  t.equal(v.decode(ids), 'é👋');
  const d = v.streamDecoder();
  const pieces = [...ids].map((i) => d.push(i));
  t.deepEqual(pieces, ['', 'é', '', '', '', '👋'], 'characters appear when their last byte arrives');
  t.deepEqual([...v.encodeBytes(Uint8Array.from([97, 13, 10, 98, 13, 99]))], [97, 10, 98, 10, 99], 'CRLF and CR → LF on raw bytes');
  t.ok(Vocab.fromJSON(v.toJSON()).equals(v));
  t.throws(() => Vocab.fromJSON({ mode: 'word' }), /mode must be 'char' or 'byte'/);
  t.end();
});

test('corpus files: missing, empty, binary, non-UTF-8 give clear errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-text-'));
  try {
    t.throws(() => readCorpusFile(join(dir, 'nope.txt')), /nope\.txt' does not exist/);
    writeFileSync(join(dir, 'empty.txt'), '');
    t.throws(() => readCorpusFile(join(dir, 'empty.txt')), /empty\.txt' is empty/);
    writeFileSync(join(dir, 'blank.txt'), ' \n\r\n');
    t.throws(() => readCorpusFile(join(dir, 'blank.txt')), /is empty \(only whitespace\)/);
    writeFileSync(join(dir, 'bin.dat'), Uint8Array.from([1, 2, 0, 4]));
    t.throws(() => readCorpusFile(join(dir, 'bin.dat')), /looks binary \(NUL byte at offset 2\)/);
    const latin1 = Uint8Array.from([104, 105, 0xe9, 33]);
    t.throws(() => encodeCorpus(latin1, { vocabMode: 'char', dataMode: 'text', what: 'x.txt' }), /x\.txt is not valid UTF-8 .*offset 2.*--vocab byte/);
    const ok = encodeCorpus(latin1, { vocabMode: 'byte', dataMode: 'text' });
    t.deepEqual([...ok.ids], [104, 105, 0xe9, 33], 'byte mode takes any bytes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('corpus: resume vocabulary must cover the text; lines split without empty lines', (t) => {
  const v = Vocab.fromText('ab\n');
  t.throws(() => encodeCorpus('abc', { vocabMode: 'char', dataMode: 'text', vocab: v }), /'c'.*different vocabulary/);
  const c = encodeCorpus('ab\r\n\nba\nb', { vocabMode: 'char', dataMode: 'lines' });
  t.deepEqual(c.lines!.map((l) => c.vocab.decode(l)), ['ab', 'ba', 'b']);
  t.end();
});

test('validation split: disjoint, about the fraction, deterministic under the seed', (t) => {
  const text = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n');
  const c = encodeCorpus(text, { vocabMode: 'char', dataMode: 'text' });
  const a = splitCorpus(c, 0.1, 7), b = splitCorpus(c, 0.1, 7), d = splitCorpus(c, 0.1, 8);
  const av = a.val as Int32Array, at = a.train as Int32Array;
  t.equal(av.length, Math.round(c.ids.length * 0.1));
  t.equal(at.length + av.length, c.ids.length, 'train + val = corpus');
  t.deepEqual([...av], [...(b.val as Int32Array)], 'same seed, same split');
  t.notDeepEqual([...av], [...(d.val as Int32Array)], 'another seed, another block');
  const L = encodeCorpus(text + '\nline 0\nline 0', { vocabMode: 'char', dataMode: 'lines' });
  const s = splitCorpus(L, 0.05, 1);
  const key = (l: Int32Array) => l.join(',');
  const trainKeys = new Set((s.train as Int32Array[]).map(key));
  t.equal((s.val as Int32Array[]).length, Math.round(L.lines!.length * 0.05));
  t.notOk((s.val as Int32Array[]).some((l) => trainKeys.has(key(l))), 'no validation line appears in training (duplicates stay together)');
  t.equal((s.train as Int32Array[]).length + (s.val as Int32Array[]).length, L.lines!.length);
  t.end();
});

test('text batches: B streams, shifted targets, reset at the first batch of an epoch, small files shrink', (t) => {
  const ids = Int32Array.from({ length: 23 }, (_, i) => i);
  const bt = new TextBatches(ids, 2, 5);
  t.equal(bt.batchesPerEpoch, 2, 'L = 11 per stream, 2 windows of 5');
  const b0 = bt.batch(0, 0), b1 = bt.batch(0, 1);
  t.deepEqual([...b0.x.filter((_, i) => i % 2 === 0)], [0, 1, 2, 3, 4], 'stream 0, window 0');
  t.deepEqual([...b1.x.filter((_, i) => i % 2 === 1)], [16, 17, 18, 19, 20], 'stream 1 starts at 11, window 1 at 16');
  t.deepEqual([...b1.y.filter((_, i) => i % 2 === 1)], [17, 18, 19, 20, 21], 'targets are the next id');
  t.ok(b0.reset && !b1.reset);
  t.deepEqual(fitTextShape(10, 4, 8), { B: 1, T: 8, warning: 'training text has only 10 symbols: batch 4×seq 8 shrunk to batch 1×seq 8' });
  t.equal(fitTextShape(5, 4, 8).T, 4, 'seq shrinks once batch is 1');
  t.throws(() => fitTextShape(1, 4, 8), /too short: 1 symbol/);
  t.end();
});

test('line batches: STOP start and end, padding ignored, shuffled per epoch by seed', (t) => {
  const lines = [Int32Array.of(1, 2, 3), Int32Array.of(4), Int32Array.of(5, 6)];
  const lb = new LineBatches(lines, 2, 10, 9, 3);
  t.equal(lb.batchesPerEpoch, 2);
  const seen: number[] = [];
  let total = 0;
  for (let k = 0; k < 2; k++) {
    const b = lb.batch(0, k);
    total += b.count;
    t.equal(b.count, [...b.y].filter((y) => y !== IGNORE_INDEX).length, 'count = non-padding targets');
    for (let bb = 0; bb < b.B; bb++) {
      t.equal(b.x[bb], 9, 'inputs start with STOP');
      const ys = [];
      for (let tt = 0; tt < b.T; tt++) ys.push(b.y[tt * b.B + bb]!);
      const real = ys.filter((y) => y !== IGNORE_INDEX);
      t.equal(real[real.length - 1], 9, 'targets end with STOP');
      seen.push(...real.slice(0, -1));
    }
  }
  t.equal(total, 3 + 1 + 2 + 3, 'every symbol plus one STOP per line');
  t.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6], 'each line exactly once per epoch');
  const order = (e: number) => [0, 1].flatMap((k) => { const b = lb.batch(e, k); return [...b.y.subarray(0, b.B)]; });
  const lb2 = new LineBatches(lines, 2, 10, 9, 3);
  t.deepEqual(order(1), [0, 1].flatMap((k) => { const b = lb2.batch(1, k); return [...b.y.subarray(0, b.B)]; }), 'same seed and epoch → same order');
  const short = new LineBatches(lines, 2, 2, 9, null);
  t.equal(short.truncatedCount(), 2, 'lines longer than T-1 are counted as truncated');
  t.end();
});
