// `lstm-cuda sample DIR` end to end on ref (spawned): streaming text with a prime, --json per-token output
// (probabilities in (0,1], logProb = Σ logp, mean entropy), seeds, greedy, top-k/top-p, lines-mode STOP,
// and bad input (missing run, truncated checkpoint, unknown flag) failing cleanly.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, copyFileSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lstm-cli-sample-'));
const SMALL = ['--hidden', '16', '--embed', '8', '--layers', '1', '--seq', '16', '--batch', '4', '--device', 'ref', '--quiet'];

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, LSTM_CUDA_DEVICE: 'ref' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const corpus = join(root, 'c.txt');
writeFileSync(corpus, 'the meaning of life is to train a model\nthe cat sat on the mat\n'.repeat(10));
const run = join(root, 'run');
const lines = join(root, 'lines');
const trained = cli(['train', corpus, '--out', run, ...SMALL, '--steps', '30', '--lr', '0.01']);
const trainedLines = cli(['train', corpus, '--out', lines, '--mode', 'lines', ...SMALL, '--seq', '0', '--steps', '60', '--lr', '0.02']);

test('sample: prime + temperature + top-k streams text; stats on stderr; same seed same text', (t) => {
  t.equal(trained.code, 0, 'training run for the tests');
  const args = ['sample', run, '--prime', 'the ', '--length', '40', '--temperature', '0.8', '--top-k', '5', '--seed', '11'];
  const a = cli(args), b = cli(args);
  t.equal(a.code, 0, 'exit 0');
  t.ok(a.stdout.startsWith('the '), 'output starts with the prime');
  t.equal([...a.stdout.trimEnd().slice(4)].length <= 40, true, 'at most --length characters generated');
  t.match(a.stderr, /seed 11, 40 tokens, log-probability -\d+\.\d+ nats, mean entropy \d+\.\d+ nats/);
  t.equal(a.stdout, b.stdout, 'same seed → same text');
  const c = cli([...args.slice(0, -1), '12']);
  t.notEqual(c.stdout, a.stdout, 'another seed → another text');
  const g1 = cli(['sample', run, '--prime', 'the', '--length', '30', '--temperature', '0', '--seed', '1']);
  const g2 = cli(['sample', run, '--prime', 'the', '--length', '30', '--temperature', '0', '--seed', '2']);
  t.equal(g1.stdout, g2.stdout, 'temperature 0 is greedy (seed-independent)');
  t.end();
});

test('sample --json: per-token token/char/logp/entropy, probabilities in (0,1], logProb = Σ logp', (t) => {
  const r = cli(['sample', run, '--prime', 'the c', '--length', '25', '--temperature', '1', '--top-p', '0.9', '--seed', '3', '--json']);
  t.equal(r.code, 0);
  t.equal(r.stderr, '', 'nothing on stderr with --json');
  const j = JSON.parse(r.stdout);
  t.equal(j.prime, 'the c');
  t.equal(j.tokens.length, 25);
  t.ok(j.tokens.every((x: { logp: number }) => Math.exp(x.logp) > 0 && Math.exp(x.logp) <= 1), 'each probability in (0, 1]');
  const sum = j.tokens.reduce((a: number, x: { logp: number }) => a + x.logp, 0);
  t.ok(Math.abs(j.logProb - sum) < 1e-9, `logProb ${j.logProb} = Σ logp ${sum}`);
  const ent = j.tokens.reduce((a: number, x: { entropy: number }) => a + x.entropy, 0) / j.tokens.length;
  t.ok(Math.abs(j.entropy - ent) < 1e-9, 'entropy = mean per-token entropy');
  t.equal(j.text, j.tokens.map((x: { char: string }) => x.char).join(''), 'text = the chars joined');
  t.ok(j.tokens.every((x: { token: number }) => Number.isInteger(x.token)), 'token ids');
  const many = JSON.parse(cli(['sample', run, '--length', '5', '--count', '3', '--seed', '1', '--json']).stdout);
  t.ok(Array.isArray(many) && many.length === 3 && many[1].seed === 2, '--count 3 gives 3 samples with seeds 1,2,3');
  t.end();
});

test('sample: lines-mode model stops at STOP; unknown prime characters warn and are skipped', (t) => {
  t.equal(trainedLines.code, 0, 'lines-mode training run');
  const r = cli(['sample', lines, '--length', '500', '--temperature', '0.5', '--seed', '4', '--json']);
  const j = JSON.parse(r.stdout);
  t.ok(j.stopped && j.tokens.length < 500, `stopped at STOP after ${j.tokens.length} tokens`);
  t.equal(j.tokens[j.tokens.length - 1].char, '', 'the STOP token has no text');
  const w = cli(['sample', run, '--prime', 'the Ωz', '--length', '5', '--seed', '1']);
  t.equal(w.code, 0, 'unknown characters are not fatal');
  t.match(w.stderr, /warning: the prime has 2 character\(s\) not in the vocabulary, skipped: 'Ω' 'z'/);
  t.ok(w.stdout.startsWith('the ') && !w.stdout.includes('Ωz'), 'the echoed prime is what the model read (skipped characters left out)');
  // stdout and stderr into one file, as a terminal shows them: the warning comes before the text starts
  const merged = join(root, 'merged.txt');
  const fd = openSync(merged, 'w');
  spawnSync(process.execPath, [MAIN, 'sample', run, '--prime', 'the Ωz', '--length', '5', '--seed', '1'], { stdio: ['ignore', fd, fd], env: { ...process.env, LSTM_CUDA_DEVICE: 'ref' } });
  closeSync(fd);
  t.match(readFileSync(merged, 'utf8'), /^warning: the prime has 2 character\(s\)[^\n]*\nthe [^\n]*\n\[sample 1\/1\]/, 'warning line, then the sampled line, then the stats');
  t.end();
});

test('sample: missing run, truncated or corrupt checkpoint, unknown flag → clear message, non-zero exit', (t) => {
  const miss = cli(['sample', join(root, 'nope')]);
  t.equal(miss.code, 1);
  t.match(miss.stderr, /checkpoint directory '.*nope' does not exist/);
  const cut = join(root, 'cut');
  mkdirSync(cut);
  const bytes = readFileSync(join(run, 'model.safetensors'));
  writeFileSync(join(cut, 'model.safetensors'), bytes.subarray(0, Math.floor(bytes.length * 0.7)));
  const tr = cli(['sample', cut]);
  t.equal(tr.code, 1);
  t.match(tr.stderr, /checkpoint '.*cut\/model\.safetensors': truncated: tensor '.*' ends at data byte \d+ but the file has only \d+ bytes of data/);
  writeFileSync(join(cut, 'model.safetensors'), 'not a checkpoint at all, just text');
  t.match(cli(['sample', cut]).stderr, /cut\/model\.safetensors': truncated or not a safetensors file/);
  copyFileSync(join(run, 'model.safetensors'), join(cut, 'model.safetensors'));
  t.equal(cli(['sample', cut, '--length', '3']).code, 0, 'a model file alone (no training state) samples');
  const bad = cli(['sample', run, '--temprature', '1']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /Unknown option '--temprature'/);
  const topp = cli(['sample', run, '--top-p', '1.5']);
  t.match(topp.stderr, /--top-p must be ≤ 1, got 1\.5/);
  t.notOk(/at .*\.js:\d+/.test(miss.stderr + tr.stderr + bad.stderr), 'no stack traces');
  t.end();
});

test.onFinish(() => rmSync(root, { recursive: true, force: true }));
