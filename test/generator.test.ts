// Generation with a byte vocabulary draws only valid UTF-8 (the 0/-inf mask from the UTF-8 state), and
// its logp/entropy are those of the renormalised distribution; --raw-bytes keeps the old behaviour (which
// does produce invalid UTF-8: the check below could fail). The UTF-8 state machine against TextDecoder.
import test from 'tape';
import '../src/ops/methods.js'; // t.reshape, ...
import { CharRNN } from '../src/nn/char_rnn.js';
import { Vocab } from '../src/text/vocab.js';
import { sample } from '../src/sample/sample.js';
import { Generator } from '../src/sample/generator.js';
import { UTF8_START, utf8Allows, utf8Next, type Utf8State } from '../src/text/utf8.js';

const device = 'ref' as const;

test('utf8 state machine: a byte sequence the machine accepts to the end is exactly valid UTF-8', (t) => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const valid = (b: number[]) => { try { fatal.decode(Uint8Array.from(b)); return true; } catch { return false; } };
  const accepts = (b: number[]) => {
    let s: Utf8State = UTF8_START;
    for (const x of b) { if (!utf8Allows(s, x)) return false; s = utf8Next(s, x); }
    return s.need === 0;
  };
  // every 1- and 2-byte sequence, and 3/4-byte ones around the edges of the narrowed ranges
  let checked = 0, bad = 0;
  for (let a = 0; a < 256; a++) {
    if (accepts([a]) !== valid([a])) bad++;
    for (let b = 0; b < 256; b++) { if (accepts([a, b]) !== valid([a, b])) bad++; checked++; }
  }
  for (const a of [0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5]) {
    for (let b = 0x70; b < 0xd0; b++) for (const c of [0x7f, 0x80, 0xbf, 0xc0]) for (const d of [0x7f, 0x80, 0xbf, 0xc0]) {
      const seq = a >= 0xf0 ? [a, b, c, d] : [a, b, c];
      if (accepts(seq) !== valid(seq)) bad++;
      checked++;
    }
  }
  t.equal(bad, 0, `${checked} sequences: accepted ⇔ valid UTF-8`);
  t.end();
});

test('byte model: 1,000 samples contain no U+FFFD and decode strictly; --raw-bytes does produce invalid bytes', (t) => {
  // an untrained byte model spreads its mass over all 257 symbols: most raw draws are invalid UTF-8
  const model = new CharRNN({ vocabSize: 257, embedDim: 8, hiddenSize: 16, numLayers: 1, device, seed: 5 });
  const vocab = Vocab.bytes();
  const fatal = new TextDecoder('utf-8', { fatal: true });
  let replacement = 0, invalid = 0, nonAscii = 0;
  for (let i = 0; i < 1000; i++) {
    const r = sample(model, vocab, { maxLength: 12, temperature: 1, seed: i });
    if (r.text.includes('\ufffd')) replacement++;
    try { fatal.decode(Uint8Array.from(r.tokens.filter((x) => x !== vocab.stopId))); } catch { invalid++; }
    if (/[^\x00-\x7f]/.test(r.text)) nonAscii++;
  }
  t.equal(replacement, 0, 'no U+FFFD in 1,000 masked samples');
  t.equal(invalid, 0, 'every masked sample is strictly valid UTF-8');
  t.ok(nonAscii > 100, `multi-byte characters are still drawn (${nonAscii} of 1,000 samples have one)`);
  let rawBad = 0;
  for (let i = 0; i < 100; i++) if (sample(model, vocab, { maxLength: 12, temperature: 1, seed: i, rawBytes: true }).text.includes('\ufffd')) rawBad++;
  t.ok(rawBad > 50, `raw bytes: ${rawBad} of 100 samples contain U+FFFD (what the mask prevents)`);
  model.dispose();
  t.end();
});

test('byte model: logp and entropy are of the renormalised distribution; STOP only at a character boundary', (t) => {
  const model = new CharRNN({ vocabSize: 257, embedDim: 8, hiddenSize: 16, numLayers: 1, device, seed: 6 });
  const vocab = Vocab.bytes();
  const gen = new Generator(model, vocab);
  gen.feed([0x41, 0xe2]); // 'A', then the lead byte of a 3-byte character: only 0x80..0xBF may follow
  const logits = Array.from(gen.nextLogits.toArray());
  const allowed = logits.map((_, v) => v >= 0x80 && v <= 0xbf);
  const mx = Math.max(...logits.filter((_, v) => allowed[v]));
  const z = logits.reduce((a, x, v) => a + (allowed[v] ? Math.exp(x - mx) : 0), 0);
  const p = logits.map((x, v) => (allowed[v] ? Math.exp(x - mx) / z : 0));
  const H = -p.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0);
  t.notOk(gen.allows(vocab.stopId), 'STOP is not allowed inside a character');
  for (let s = 0; s < 50; s++) {
    const d = gen.draw({ temperature: 1, topK: 0, topP: 1, seed: 9, offset: s });
    if (!allowed[d.token]) { t.fail(`drew 0x${d.token.toString(16)} after 0xE2`); break; }
    if (Math.abs(d.logp - Math.log(p[d.token]!)) > 1e-5 || Math.abs(d.entropy - H) > 1e-5) {
      t.fail(`draw ${s}: logp ${d.logp} vs ${Math.log(p[d.token]!)}, entropy ${d.entropy} vs ${H}`);
      break;
    }
  }
  t.pass('50 draws: allowed continuations only, logp = log of the renormalised probability, entropy of it');
  const raw = new Generator(model, vocab, { rawBytes: true });
  raw.feed([0x41, 0xe2]);
  const d = raw.draw({ temperature: 0, topK: 0, topP: 1, seed: 1, offset: 0 });
  const lse = Math.log(logits.reduce((a, x) => a + Math.exp(x), 0));
  t.ok(Math.abs(d.logp - (logits[d.token]! - lse)) < 1e-5, 'raw bytes: logp of the full distribution');
  gen.dispose(); raw.dispose(); model.dispose();
  t.end();
});

test('byte model: a sample cut by maxLength inside a character finishes the character', (t) => {
  const model = new CharRNN({ vocabSize: 257, embedDim: 8, hiddenSize: 16, numLayers: 1, device, seed: 7 });
  const vocab = Vocab.bytes();
  let extended = 0;
  for (let i = 0; i < 200; i++) {
    const r = sample(model, vocab, { maxLength: 3, seed: i });
    if (r.tokens.length > 3 && !r.stopped) extended++;
    if (r.text.includes('\ufffd')) { t.fail(`seed ${i}: ${JSON.stringify(r.text)}`); break; }
    if (r.tokens.length > 6) { t.fail(`seed ${i}: ${r.tokens.length} tokens for maxLength 3`); break; }
  }
  t.ok(extended > 0, `${extended} of 200 samples went past maxLength to finish a character (at most 3 bytes)`);
  model.dispose();
  t.end();
});
