// Training on small files and from a base: --init-from keeps the base's rows for the symbols it knows (by
// symbol, at their new ids) and gives new symbols the rows of a fresh model; the lr decays per epoch but
// never faster than once per LR_DECAY_MIN_STEPS steps, with a note when it falls past a tenth; --keep N
// keeps step-N/ model checkpoints; `info RUN` reports what the run holds; sample(checkpoint) takes the mode.
import test from 'tape';
import '../src/ops/methods.js'; // t.reshape, ...
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainCharRNN, DEFAULT_TRAIN_OPTIONS } from '../src/train/trainer.js';
import { lrAt, LR_DECAY_MIN_STEPS } from '../src/train/options.js';
import { initFromBase } from '../src/train/init_from.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Vocab } from '../src/text/vocab.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { sample } from '../src/sample/sample.js';

const device = 'ref' as const;
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lstm-finetune-'));
const cli = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, LSTM_CUDA_DEVICE: device } });
const quiet = { val: 0, device, quiet: true, evalEvery: 0, sampleEvery: 0, saveEvery: 0 };
const BASE_TEXT = 'the cat sat on the mat\n'.repeat(20);
const base = join(root, 'base');

test('--init-from: known symbols keep the base rows (at their new ids), new symbols get fresh rows', async (t) => {
  await trainCharRNN({ ...DEFAULT_TRAIN_OPTIONS, ...quiet, text: BASE_TEXT, out: base, hidden: 12, embed: 5, layers: 2, seq: 8, batch: 4, steps: 5 }, { log: () => {} });
  const b = loadCheckpoint(base, { device });
  const vocab = Vocab.fromText('the dog ate a bat\n' + 'the cat sat on the mat\n'); // new: d g b (and they shift the old ids)
  const { model, newSymbols } = initFromBase(b, vocab, { device, seed: 3, dropout: 0 });
  t.deepEqual(newSymbols.sort(), ['b', 'd', 'g'], 'the symbols the base never saw');
  const fresh = new CharRNN({ vocabSize: vocab.size, embedDim: 5, hiddenSize: 12, numLayers: 2, device, seed: 3 });
  const rows = (m: CharRNN, name: string, V: number) => {
    const x = Array.from(m.stateDict()[name]!.toArray());
    const w = x.length / V;
    return (id: number) => x.slice(id * w, (id + 1) * w);
  };
  for (const name of ['embedding.weight', 'decoder.weight', 'decoder.bias']) {
    const got = rows(model, name, vocab.size), old = rows(b.model, name, b.vocab.size), init = rows(fresh, name, vocab.size);
    let ok = true;
    for (let id = 0; id < vocab.size; id++) {
      const sym = vocab.symbol(id);
      const bid = id === vocab.stopId ? b.vocab.stopId : b.vocab.encode(sym).ids[0];
      const want = bid === undefined ? init(id) : old(bid);
      if (got(id).some((v, k) => Math.abs(v - want[k]!) > 0)) ok = false;
    }
    t.ok(ok, `${name}: every row is the base's (by symbol) or a fresh model's`);
  }
  const same = (n: string) => Array.from(model.stateDict()[n]!.toArray()).every((v, i) => v === b.model.stateDict()[n]!.toArray()[i]);
  t.ok(same('lstm.weight_hh_l1') && same('lstm.bias_ih_l0'), 'the LSTM weights are the base\'s');
  model.dispose(); fresh.dispose(); b.model.dispose();
  t.end();
});

test('train --init-from: trains on a corpus with new characters, in the base architecture', (t) => {
  const file = join(root, 'new.txt');
  writeFileSync(file, 'the dog ate a bat\n'.repeat(20));
  const r = cli(['train', file, '--out', join(root, 'ft'), '--init-from', base, '--steps', '3', '--hidden', '99', '--quiet']);
  t.equal(r.status, 0, r.stderr.trim().split('\n').pop());
  t.match(r.stderr, /init-from '.*base': its 2×12 weights .*3 symbol\(s\) it has never seen get fresh rows/, 'says what it did');
  const ck = loadCheckpoint(join(root, 'ft'), { device });
  t.equal(ck.config.hiddenSize, 12, 'the architecture is the base\'s');
  ck.model.dispose();
  t.end();
});

test('lr schedule: per epoch, never faster than once per LR_DECAY_MIN_STEPS; a note past a tenth', async (t) => {
  const o = { lr: 1e-2, lrDecay: 0.5 };
  t.equal(lrAt(o, 5, LR_DECAY_MIN_STEPS), 5e-3, 'a 5-step epoch: halved after 1000 steps, not after 5');
  t.equal(lrAt(o, 5000, 5000), 5e-3, 'a 5000-step epoch: halved per epoch');
  t.ok(Math.abs(lrAt(o, 5, 61 * 5) - 1e-2 * 0.5 ** 0.305) < 1e-15, '61 epochs of 5 steps: 0.5^0.305, not 0.5^61');
  const notes: string[] = [];
  await trainCharRNN({ ...DEFAULT_TRAIN_OPTIONS, ...quiet, text: BASE_TEXT, out: join(root, 'tenth'), hidden: 8, embed: 4, layers: 1, seq: 8, batch: 2, steps: 6, lrDecay: 1e-300 }, { log: (m) => notes.push(m) });
  t.ok(notes.some((m) => /the learning rate decayed past a tenth of --lr .* at step 4/.test(m)), 'the note says when (0.5^4 < 0.1)');
  t.end();
});

test('--keep N keeps the last N saves as step-N/; the header; info RUN', (t) => {
  const file = join(root, 'k.txt');
  writeFileSync(file, BASE_TEXT);
  const out = join(root, 'keep');
  const r = cli(['train', file, '--out', out, '--steps', '30', '--save-every', '10', '--keep', '2', '--hidden', '8', '--embed', '4', '--layers', '1', '--batch', '2', '--seq', '8', '--val', '0.2', '--eval-every', '10', '--sample-every', '0']);
  t.equal(r.status, 0, 'trained');
  t.match(r.stderr, /train: '.*k\.txt': 460 characters \(\d+ train, \d+ validation\), char vocabulary of 12 symbols, mode text/, 'header: characters, vocabulary');
  t.match(r.stderr, /model: 1×8 LSTM, embedding 4, 604 parameters on ref/, 'header: parameters and device');
  t.match(r.stderr, /batches: 2×8, \d+ steps per epoch; lr /, 'header: batches and steps per epoch');
  t.notOk(existsSync(join(out, 'step-10')), 'step-10/ removed (keep 2)');
  t.ok(existsSync(join(out, 'step-20')) && existsSync(join(out, 'step-30')), 'step-20/ and step-30/ kept');
  t.equal(cli(['sample', join(out, 'step-20'), '--length', '5', '--seed', '1']).status, 0, 'a kept step samples');
  const info = cli(['info', out]);
  t.equal(info.status, 0, 'info RUN');
  t.match(info.stdout, /model: 1×8 LSTM, embedding 4, dropout 0, 604 parameters; data mode text/, 'config and parameters');
  t.match(info.stdout, /vocabulary: char, 12 symbols/, 'vocabulary');
  t.match(info.stdout, /step: 30; best validation loss \d\.\d{4} \(step \d+, in best\/\)/, 'step and best validation');
  t.match(info.stdout, /trained: \d{4}-\d\d-\d\dT[\d:.]+Z on ref \(.*\), from scratch/, 'when and on which device');
  t.match(info.stdout, /history: step-20\/ step-30\//, 'the kept history');
  const j = JSON.parse(cli(['info', out, '--json']).stdout) as { parameters: number; step: number };
  t.deepEqual([j.parameters, j.step], [604, 30], '--json');
  t.equal(cli(['info', join(root, 'nope')]).status, 1, 'a missing run is an error');
  t.end();
});

test('sample(checkpoint) takes the data mode from the checkpoint', async (t) => {
  const out = join(root, 'lines');
  await trainCharRNN({ ...DEFAULT_TRAIN_OPTIONS, ...quiet, text: BASE_TEXT, out, mode: 'lines', hidden: 8, embed: 4, layers: 1, seq: 0, batch: 4, steps: 5 }, { log: () => {} });
  const ck = loadCheckpoint(out, { device });
  t.equal(ck.config.mode, 'lines');
  const a = sample(ck, { maxLength: 20, seed: 4 });
  const b = sample(ck.model, ck.vocab, { maxLength: 20, seed: 4, mode: 'lines' });
  const c = sample(ck.model, ck.vocab, { maxLength: 20, seed: 4 });
  t.deepEqual(a.tokens, b.tokens, 'sample(ckpt) = lines mode');
  t.notDeepEqual(a.tokens, c.tokens, 'and differs from the text-mode default of sample(model, vocab)');
  ck.model.dispose();
  t.end();
});

test.onFinish(() => rmSync(root, { recursive: true, force: true }));
