// CharRNN (shapes, PyTorch parameter names, stepwise == whole-sequence), sampling (greedy, top-k, logProb
// bookkeeping, STOP, unknown prime characters) and learning: on a corpus with a learnable rule the
// validation loss falls below a stated bound within a stated number of steps (cpu).
import test from 'tape';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, noGrad } from '../src/tensor.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Vocab } from '../src/text/vocab.js';
import { sample, generate } from '../src/sample/sample.js';
import { trainCharRNN, DEFAULT_TRAIN_OPTIONS } from '../src/train/trainer.js';
import { RngStream } from '../src/rng.js';

const device = 'ref' as const;

test('CharRNN: shapes and PyTorch parameter names', (t) => {
  const m = new CharRNN({ vocabSize: 11, embedDim: 5, hiddenSize: 7, numLayers: 2, dropout: 0.1, device, seed: 1 });
  const shapes = Object.fromEntries(m.namedParameters().map(([n, p]) => [n, [...p.shape]]));
  t.deepEqual(shapes, {
    'embedding.weight': [11, 5],
    'lstm.weight_ih_l0': [28, 5], 'lstm.weight_hh_l0': [28, 7], 'lstm.bias_ih_l0': [28], 'lstm.bias_hh_l0': [28],
    'lstm.weight_ih_l1': [28, 7], 'lstm.weight_hh_l1': [28, 7], 'lstm.bias_ih_l1': [28], 'lstm.bias_hh_l1': [28],
    'decoder.weight': [11, 7], 'decoder.bias': [11],
  });
  const x = Tensor.from(Int32Array.from({ length: 12 }, (_, i) => i % 11), [4, 3], { dtype: 'int32', device });
  const { logits, state } = m.forward(x);
  t.deepEqual([...logits.shape], [4, 3, 11]);
  t.deepEqual([...state.h.shape], [2, 3, 7]);
  t.deepEqual([...state.c.shape], [2, 3, 7]);
  t.throws(() => m.forward(Tensor.from([1, 2], [2], { dtype: 'int32', device })), /tokens must be \[T, B\], got shape \[2\]/);
  t.throws(() => new CharRNN({ vocabSize: 0, embedDim: 5, hiddenSize: 7, numLayers: 1, dropout: 0 }), /vocabSize must be a positive integer/);
  const m2 = new CharRNN({ vocabSize: 11, embedDim: 5, hiddenSize: 7, numLayers: 2, dropout: 0.1, device, seed: 1 });
  t.deepEqual([...m2.parameters()[1]!.toArray()], [...m.parameters()[1]!.toArray()], 'same seed, same weights');
  m.dispose(); m2.dispose();
  t.end();
});

test('CharRNN: one step at a time with the carried state equals the whole sequence', (t) => {
  const m = new CharRNN({ vocabSize: 9, embedDim: 4, hiddenSize: 6, numLayers: 2, dropout: 0.5, device, seed: 2 });
  m.eval();
  const ids = [1, 4, 2, 8, 5, 7];
  noGrad(() => {
    const whole = m.forward(Tensor.from(Int32Array.from(ids), [6, 1], { dtype: 'int32', device })).logits.toArray();
    let state;
    let worst = 0;
    for (let s = 0; s < ids.length; s++) {
      const r = m.forward(Tensor.from(Int32Array.of(ids[s]!), [1, 1], { dtype: 'int32', device }), state);
      state = r.state;
      const l = r.logits.toArray();
      for (let v = 0; v < 9; v++) worst = Math.max(worst, Math.abs(l[v]! - whole[s * 9 + v]!));
    }
    t.ok(worst < 1e-5, `max |stepwise - whole| = ${worst} < 1e-5`);
  });
  m.dispose();
  t.end();
});

test('sample: greedy is deterministic and equals top-k 1; logProb is the sum; unknown prime chars skipped', (t) => {
  const vocab = Vocab.fromText('abcdefgh\n');
  const m = new CharRNN({ vocabSize: vocab.size, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0, device, seed: 3 });
  const warnings: string[] = [];
  const g1 = sample(m, vocab, { prime: 'abZ', maxLength: 20, temperature: 0, seed: 1, onWarning: (w) => warnings.push(w) });
  const g2 = sample(m, vocab, { prime: 'ab', maxLength: 20, temperature: 0, seed: 99 });
  const k1 = sample(m, vocab, { prime: 'ab', maxLength: 20, temperature: 1.5, topK: 1, seed: 5 });
  t.deepEqual(g1.skipped, ['Z']);
  t.ok(warnings.length === 1 && /not in the vocabulary, skipped: 'Z'/.test(warnings[0]!), 'one warning naming Z');
  t.deepEqual(g1.tokens, g2.tokens, 'greedy ignores the seed');
  t.deepEqual(k1.tokens, g1.tokens, 'top-k 1 is greedy');
  const s = sample(m, vocab, { prime: 'a', maxLength: 30, temperature: 1, seed: 7 });
  const s2 = sample(m, vocab, { prime: 'a', maxLength: 30, temperature: 1, seed: 7 });
  t.deepEqual(s.tokens, s2.tokens, 'same seed, same sample');
  t.ok(Math.abs(s.logProb - s.perToken.reduce((a, p) => a + p.logp, 0)) < 1e-9, 'logProb = Σ per-token logp');
  t.ok(s.perToken.every((p) => p.logp <= 0 && Math.exp(p.logp) > 0), 'probabilities in (0, 1]');
  t.equal(s.text, vocab.decode(s.tokens), 'text = decode(tokens)');
  t.ok(s.tokens.length === 30 || s.stopped, 'length reached or STOP');
  t.ok(m.training, 'training mode restored');
  m.dispose();
  t.end();
});

test('generate: same tokens as sample; top-5 alternatives are softmax(logits) at temperature 1; return() stops early', (t) => {
  const vocab = Vocab.fromText('abcdefgh\n');
  const m = new CharRNN({ vocabSize: vocab.size, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0, device, seed: 3 });
  m.eval();
  const opts = { prime: 'ab', maxLength: 25, temperature: 1, topK: 4, seed: 9 };
  const whole = sample(m, vocab, opts);
  const g = generate(m, vocab, { ...opts, alternatives: 5 });
  const steps = [];
  let r = g.next();
  while (!r.done) { steps.push(r.value); r = g.next(); }
  t.deepEqual(steps.map((s) => s.token), whole.tokens, 'same tokens as sample() (alternatives do not change the draw)');
  t.equal(r.value.logProb, whole.logProb, 'same totals');
  let ok = true, drawnMatches = 0;
  for (const s of steps) {
    const a = s.alternatives!;
    if (a.length !== 5 || a.some((x, i) => i > 0 && x.p > a[i - 1]!.p) || a.some((x) => !(x.p > 0 && x.p <= 1))) ok = false;
    const hit = a.find((x) => x.token === s.token);
    if (hit && Math.abs(Math.log(hit.p) - s.logp) < 1e-5) drawnMatches++;
    if (hit && Math.abs(Math.log(hit.p) - s.logp) >= 1e-5) ok = false;
  }
  t.ok(ok, 'five per step, sorted by probability, each in (0, 1], the drawn one at exp(logp)');
  t.equal(drawnMatches, steps.length, 'with top-k 4 the drawn token is always among the top 5');
  // the first step's alternatives against an independent softmax of the logits
  const logits = noGrad(() => {
    const x = Tensor.from(Int32Array.from(vocab.encode('ab').ids), [2, 1], { dtype: 'int32', device });
    const o = m.forward(x);
    const l = o.logits.toArray().slice(vocab.size);
    o.logits.dispose(); o.state.h.dispose(); o.state.c.dispose();
    return Array.from(l);
  });
  const mx = Math.max(...logits);
  const z = logits.reduce((a, v) => a + Math.exp(v - mx), 0);
  const ref = logits.map((v, i) => ({ i, p: Math.exp(v - mx) / z })).sort((a, b) => b.p - a.p).slice(0, 5);
  t.deepEqual(steps[0]!.alternatives!.map((x) => x.token), ref.map((x) => x.i), 'top-5 ids of the first step');
  t.ok(steps[0]!.alternatives!.every((x, k) => Math.abs(x.p - ref[k]!.p) < 1e-6), 'their probabilities');
  t.equal(steps[0]!.alternatives![0]!.symbol, vocab.symbol(ref[0]!.i), 'symbol of the most probable');
  const early = generate(m, vocab, opts);
  early.next(); early.next();
  t.ok(early.return(undefined as never).done, 'return() ends the generator (its state is freed in finally)');
  t.deepEqual(sample(m, vocab, opts).tokens, whole.tokens, 'the model is unaffected by an abandoned generator');
  m.dispose();
  t.end();
});

test('learning: "x then X" pairs — val loss < 0.75 nats within 100 steps (optimum ln(4)/2 ≈ 0.69)', async (t) => {
  // lowercase letters from {a,b,c,d} at random, each followed by its uppercase: half the characters are
  // unpredictable (ln 4 nats), half are determined by the previous one (0 nats); unigram ≈ ln 8 = 2.08.
  const rng = new RngStream(42);
  let text = '';
  for (let i = 0; i < 6000; i++) {
    const c = 'abcd'[Math.floor(rng.next() * 4)]!;
    text += c + c.toUpperCase();
  }
  const dir = mkdtempSync(join(tmpdir(), 'lstm-learn-'));
  try {
    const t0 = Date.now();
    const res = await trainCharRNN({
      ...DEFAULT_TRAIN_OPTIONS, text, out: dir, device, layers: 1, hidden: 32, embed: 8, seq: 32, batch: 16,
      lr: 1e-2, steps: 100, evalEvery: 20, saveEvery: 0, sampleEvery: 0, quiet: true, val: 0.1,
    }, { log: () => {} });
    t.equal(res.status, 'done');
    t.ok(res.valLoss !== undefined && res.valLoss < 0.75, `val loss ${res.valLoss?.toFixed(4)} < 0.75 after ${res.step} steps (${Date.now() - t0} ms)`);
    const lines = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const vals = lines.filter((l) => l.type === 'val').map((l) => l.valLoss as number);
    t.ok(vals.length === 5 && vals[0]! > vals[4]! + 0.1, `val loss falls: ${vals.map((v) => v.toFixed(3)).join(' → ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
