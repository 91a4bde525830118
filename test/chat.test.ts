// Chat: export → prepare --turns → train → chat on a fixture WhatsApp conversation (Alex answers Sam).
// The loss mask counts only predictions made from inside Alex's lines (checked against an independent
// count from the text); the trainer's loss is the mean of the per-character losses over exactly those;
// a trained model answers each of Sam's messages with Alex's reply and ends its turn (chat --reply, greedy);
// a session carries its state (a replayed history gives the same reply as the live session).
import test from 'tape';
import '../src/ops/methods.js'; // t.reshape, ...
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor, noGrad } from '../src/tensor.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Vocab } from '../src/text/vocab.js';
import { turnsMask, formatTurns, ME_MARKER } from '../src/chat/turns.js';
import { ChatSession, reply } from '../src/chat/chat.js';
import { trainCharRNN, DEFAULT_TRAIN_OPTIONS } from '../src/train/trainer.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';

const device = 'ref' as const;
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const EXPORT = fileURLToPath(new URL('../../test/fixtures/chat/WhatsApp Chat with Sam Lee.txt', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lstm-chat-'));
const cli = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, LSTM_CUDA_DEVICE: device } });

// export → prepare --turns
const turnsFile = join(root, 'turns.txt');
const prepared = cli(['prepare', EXPORT, '--me', 'Alex Kim', '--turns', '--out', turnsFile]);
const TEXT = prepared.status === 0 ? readFileSync(turnsFile, 'utf8') : '';
const REPLIES: Record<string, string[]> = { hi: ['hey you'], 'how are you': ['good, you?'], ping: ['pong', 'again?'], 'see you later': ['bye!'] };

/** independent of turnsMask: is the character before target j on one of Alex's lines (its newline included)? */
function mineByText(text: string): boolean[] {
  const chars = [...text];
  const lineOf: boolean[] = [];
  let mine = false, atStart = true, line = '';
  for (let i = 0; i < chars.length; i++) {
    if (atStart) { line = chars.slice(i, i + ME_MARKER.length).join(''); mine = line === ME_MARKER; atStart = false; }
    lineOf.push(mine);
    if (chars[i] === '\n') atStart = true;
  }
  return chars.map((_, j) => j > 0 && lineOf[j - 1]!);
}

test('prepare --turns: whole conversations, markers, an empty line between conversations', (t) => {
  t.equal(prepared.status, 0, `prepare exits 0 (${prepared.stderr.trim().split('\n').pop()})`);
  const blocks = TEXT.split('\n\n');
  t.equal(blocks.length, 36, '36 conversations (one per day: a gap of more than 6 h starts a new one)');
  t.ok(TEXT.startsWith('them: ping\nme: pong\nme: again?\nthem: hi\nme: hey you\n\n'), 'the first conversation, messages in order');
  t.ok(TEXT.split('\n').every((l) => l === '' || l.startsWith('me: ') || l.startsWith('them: ')), "every line starts with 'me: ' or 'them: '");
  t.match(prepared.stderr, /118 messages of 'Alex Kim'.*92 of the others/, 'the summary counts both sides');
  t.equal(formatTurns([[{ role: 'me', text: 'a' }], [{ role: 'Me', text: 'b' }, { role: 'Sam: Lee', text: 'c' }]]), 'me: a\n\nme (other): b\nSam Lee: c\n', 'a sender called "Me" is not the owner; colons leave names');
  t.end();
});

test('turns mask: exactly the predictions made from inside your lines', (t) => {
  const vocab = Vocab.fromText(TEXT);
  const ids = vocab.encodeStrict(TEXT);
  const mask = turnsMask(ids, vocab.encode(ME_MARKER).ids, vocab.encode('\n').ids[0]!);
  const want = mineByText(TEXT);
  t.equal(mask.length, want.length);
  t.ok(want.every((w, j) => (mask[j] === 1) === w), `mask = independent count (${want.filter(Boolean).length} of ${want.length} targets count)`);
  // the others' text never counts: no counted target has its input inside a 'them: ' line
  const firstThem = TEXT.indexOf('them: hi');
  t.equal(mask[firstThem + 7], 0, "predicting Sam's 'i' in 'hi' does not count");
  t.equal(mask[TEXT.indexOf('me: pong') + 5], 1, "predicting Alex's 'o' in 'pong' counts");
  t.end();
});

test('training loss = mean of the per-character losses over your characters only', async (t) => {
  const out = join(root, 'one-step');
  const opts = { ...DEFAULT_TRAIN_OPTIONS, text: TEXT, out, mode: 'turns' as const, hidden: 12, embed: 6, layers: 1, batch: 1, seq: 100000, val: 0, steps: 1, lr: 1e-3, seed: 7, device, quiet: true, evalEvery: 0, sampleEvery: 0, saveEvery: 0 };
  const res = await trainCharRNN(opts, { log: () => {} });
  t.equal(res.status, 'done');
  const logged = readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; loss?: number });
  const loss = logged.find((e) => e.type === 'train')!.loss!;
  // the same initial model (same seed and config), one batch of the whole text, losses per target
  const vocab = Vocab.fromText(TEXT);
  const ids = vocab.encodeStrict(TEXT);
  const m = new CharRNN({ vocabSize: vocab.size, embedDim: 6, hiddenSize: 12, numLayers: 1, dropout: 0, device, seed: 7 });
  const n = ids.length;
  const per = noGrad(() => {
    const x = Tensor.from(ids.slice(0, n - 1), [n - 1, 1], { dtype: 'int32', device });
    return crossEntropy(m.forward(x).logits.reshape([n - 1, vocab.size]), ids.slice(1), { reduction: 'none' }).toArray();
  });
  const want = mineByText(TEXT);
  let s = 0, k = 0, all = 0;
  for (let j = 1; j < n; j++) { all += per[j - 1]!; if (want[j]) { s += per[j - 1]!; k++; } }
  t.ok(Math.abs(loss - s / k) < 1e-6, `logged loss ${loss.toFixed(6)} = mean over your ${k} characters ${(s / k).toFixed(6)}`);
  t.ok(Math.abs(loss - all / (n - 1)) > 1e-3, `and differs from the mean over all ${n - 1} (${(all / (n - 1)).toFixed(6)})`);
  m.dispose();
  t.end();
});

const run = join(root, 'run');
test('chat --reply: a trained model answers as you and ends at the end of its turn', async (t) => {
  const res = await trainCharRNN({ ...DEFAULT_TRAIN_OPTIONS, file: turnsFile, out: run, mode: 'turns', hidden: 32, embed: 16, layers: 1, seq: 64, batch: 8, lr: 0.02, steps: 120, val: 0, device, quiet: true, evalEvery: 0, sampleEvery: 0, saveEvery: 0 }, { log: () => {} });
  t.equal(res.status, 'done', `trained: ${res.message}`);
  for (const [msg, want] of Object.entries(REPLIES)) {
    const r = cli(['chat', run, '--reply', msg, '--temperature', '0', '--json']);
    t.equal(r.status, 0, `chat --reply '${msg}' exits 0 ${r.stderr}`);
    const j = JSON.parse(r.stdout) as { text: string; messages: string[]; ended: string; tokens: { token: number; char: string; logp: number }[] };
    t.deepEqual(j.messages, want, `'${msg}' → ${JSON.stringify(j.messages)}`);
    t.equal(j.ended, 'turn', 'the model ended its turn');
    t.equal(j.text, want.join('\n'), 'text = messages joined by newlines');
    t.ok(j.tokens.every((x) => x.logp <= 0), 'per-token log-probabilities');
  }
  const text = cli(['chat', run, '--reply', 'ping', '--temperature', '0']);
  t.equal(text.stdout, 'me> pong\nme> again?\n', 'text output streams one line per message');
  const notTurns = join(root, 'plain');
  writeFileSync(join(root, 'plain.txt'), 'just some text\n'.repeat(20));
  cli(['train', join(root, 'plain.txt'), '--out', notTurns, '--steps', '1', '--hidden', '8', '--embed', '4', '--layers', '1', '--quiet']);
  const refused = cli(['chat', notTurns, '--reply', 'hi']);
  t.equal(refused.status, 1, 'a run not trained on conversations is refused');
  t.match(refused.stderr, /trained in text mode, not on conversations: .*prepare --turns/, 'with a message saying what to do');
  t.end();
});

test('ChatSession carries the state through the conversation; reply(history) replays it', (t) => {
  const ck = loadCheckpoint(run, { device });
  const s = new ChatSession(ck.model, ck.vocab, { seed: 5 });
  const streamed: string[] = [];
  const a = s.reply('hi', { temperature: 0, onToken: (x) => streamed.push(x.char) });
  t.equal(streamed.join(''), 'hey you', 'onToken streams the reply');
  const b = s.reply('ping', { temperature: 0 });
  t.deepEqual(s.history.map((h) => h.role), ['them', 'me', 'them', ...b.messages.map(() => 'me')], 'history of both sides');
  // the same conversation replayed into a fresh state (one pass) answers the same, with the same log-probability
  const again = reply(ck, 'ping', { temperature: 0, history: [{ role: 'them', text: 'hi' }, ...a.messages.map((text) => ({ role: 'me' as const, text }))] });
  t.deepEqual(again.messages, b.messages, 'reply(history) = the live session');
  t.ok(Math.abs(again.logProb - b.logProb) < 1e-3, `same log-probability (${again.logProb.toFixed(5)} vs ${b.logProb.toFixed(5)})`);
  s.reset();
  t.equal(s.history.length, 0, 'reset forgets the conversation');
  s.dispose();
  t.throws(() => new ChatSession(new CharRNN({ vocabSize: 4, embedDim: 2, hiddenSize: 2, numLayers: 1, device }), Vocab.fromText('abc')), /cannot chat: its vocabulary lacks/, 'a vocabulary without the markers is refused');
  ck.model.dispose();
  t.end();
});

test.onFinish(() => rmSync(root, { recursive: true, force: true }));
