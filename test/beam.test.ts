// Beam search: K = 1 is greedy decoding (same tokens and log-probability as sample at temperature 0, char
// and byte vocabularies); for K > 1 the hypotheses are distinct, ranked by logProb / length, and each
// logProb equals the teacher-forced log-probability of its tokens under the model.
import test from 'tape';
import '../src/ops/methods.js'; // t.reshape, ...
import { Tensor, noGrad } from '../src/tensor.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Vocab } from '../src/text/vocab.js';
import { sample, primeIds } from '../src/sample/sample.js';
import { beamSearch } from '../src/sample/beam.js';
import { trainCharRNN, DEFAULT_TRAIN_OPTIONS } from '../src/train/trainer.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const device = 'ref' as const;
const TEXT = 'the cat sat on the mat. the dog sat on the log. a cat and a dog.\n'.repeat(8);

test('beam search: K = 1 equals greedy decoding', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-beam-'));
  try {
    await trainCharRNN({ ...DEFAULT_TRAIN_OPTIONS, text: TEXT, out: dir, hidden: 24, embed: 8, layers: 2, seq: 16, batch: 4, steps: 40, lr: 0.02, val: 0, device, quiet: true, evalEvery: 0, sampleEvery: 0, saveEvery: 0 }, { log: () => {} });
    const ck = loadCheckpoint(dir, { device });
    for (const prime of ['the ', 'a', '']) {
      const g = sample(ck.model, ck.vocab, { prime, maxLength: 60, temperature: 0 });
      const b = beamSearch(ck.model, ck.vocab, { prime, beam: 1, maxLength: 60 }).beams;
      t.equal(b.length, 1, `prime ${JSON.stringify(prime)}: one hypothesis`);
      t.deepEqual(b[0]!.tokens, g.tokens, `prime ${JSON.stringify(prime)}: the same tokens as greedy`);
      t.equal(b[0]!.text, g.text, 'the same text');
      t.ok(Math.abs(b[0]!.logProb - g.logProb) < 1e-4, `the same log-probability (${b[0]!.logProb.toFixed(5)} vs ${g.logProb.toFixed(5)})`);
    }
    ck.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // an untrained byte model (masked): greedy and K = 1 agree too
  const m = new CharRNN({ vocabSize: 257, embedDim: 8, hiddenSize: 16, numLayers: 1, device, seed: 3 });
  const bytes = Vocab.bytes();
  const g = sample(m, bytes, { prime: 'é', maxLength: 30, temperature: 0 });
  const b = beamSearch(m, bytes, { prime: 'é', beam: 1, maxLength: 30 }).beams[0]!;
  t.deepEqual(b.tokens, g.tokens, 'byte model: K = 1 tokens = greedy tokens');
  m.dispose();
  t.end();
});

test('beam search: K > 1 gives distinct hypotheses ranked by logProb / length, each logProb the teacher-forced one', (t) => {
  const vocab = Vocab.fromText('abcde \n');
  const m = new CharRNN({ vocabSize: vocab.size, embedDim: 6, hiddenSize: 12, numLayers: 2, device, seed: 11 });
  const prime = 'ab';
  const { beams } = beamSearch(m, vocab, { prime, beam: 5, maxLength: 8 });
  t.equal(beams.length, 5, 'K hypotheses');
  t.equal(new Set(beams.map((b) => b.tokens.join(','))).size, 5, 'all distinct');
  t.ok(beams.every((b, i) => i === 0 || beams[i - 1]!.score >= b.score), 'sorted by score');
  const { ids } = primeIds(vocab, prime, 'text');
  for (const b of beams) {
    t.ok(Math.abs(b.score - b.logProb / b.tokens.length) < 1e-12, 'score = logProb / length');
    // teacher forcing: feed prime + tokens, sum log p(token_t | prefix)
    const seq = [...ids, ...b.tokens];
    const lp = noGrad(() => {
      const x = Tensor.from(Int32Array.from(seq.slice(0, -1)), [seq.length - 1, 1], { dtype: 'int32', device });
      const out = m.forward(x);
      const y = Int32Array.from(seq.slice(1)).map((v, i) => (i < ids.length - 1 ? -1 : v));
      return -crossEntropy(out.logits.reshape([seq.length - 1, vocab.size]), y, { ignoreIndex: -1, reduction: 'sum' }).item();
    });
    t.ok(Math.abs(lp - b.logProb) < 1e-4, `${JSON.stringify(b.text)}: logProb ${b.logProb.toFixed(5)} = teacher-forced ${lp.toFixed(5)}`);
  }
  t.throws(() => beamSearch(m, vocab, { beam: 0 }), /beam must be a positive integer/);
  m.dispose();
  t.end();
});
