// `lstm-cuda train` end to end on ref (spawned: node build/src/cli/main.js): run directory contents,
// resume == uninterrupted bit for bit (text and lines modes, dropout on, across epoch boundaries), SIGINT
// leaves a loadable checkpoint, NaN stops with a clear message, and bad input fails cleanly.
import test from 'tape';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { formatProgress, formatDuration, ProgressBar } from '../src/train/progress.js';
import { lossCurveSvg } from '../src/train/plot.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lstm-cli-train-'));
const TINY = ['the cat sat on the mat', 'a dog ran to the park', 'the dog slept', 'then the cat ran', 'a mat and a park'];
const tiny = join(root, 'tiny.txt');
writeFileSync(tiny, Array.from({ length: 12 }, (_, i) => TINY[i % 5]).join('\r\n') + '\r\n');
const SMALL = ['--hidden', '12', '--embed', '6', '--layers', '2', '--seq', '16', '--batch', '4', '--device', 'ref'];

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, LSTM_CUDA_DEVICE: 'ref' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('train: a few steps write model, best, train state, log.jsonl and loss.svg', (t) => {
  const out = join(root, 'run1');
  const r = cli(['train', tiny, '--out', out, ...SMALL, '--steps', '6', '--eval-every', '3', '--sample-every', '3', '--sample-length', '10']);
  t.equal(r.code, 0, `exit 0 (${r.stderr.trim().split('\n').pop()})`);
  t.match(r.stderr, /--- sample at step 3 ---/, 'sample previews printed');
  t.match(r.stderr, /step 6\/6 .*chars\/s/, 'progress line with step and chars/s');
  t.deepEqual(readdirSync(out).sort(), ['best', 'checkpoints', 'current', 'log.jsonl', 'loss.svg', 'model.safetensors', 'train_state.json', 'train_state.safetensors']);
  t.ok(existsSync(join(out, 'best', 'model.safetensors')), 'best checkpoint');
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(log.filter((e) => e.type === 'train').map((e) => e.step), [1, 2, 3, 4, 5, 6], 'one train entry per step');
  t.deepEqual(log.filter((e) => e.type === 'val').map((e) => e.step), [3, 6], 'val entries at eval steps');
  t.ok(log.every((e) => e.type !== 'train' || (Number.isFinite(e.loss) && e.lr > 0 && e.tokens > 0)), 'train entries have loss, lr, tokens');
  t.match(readFileSync(join(out, 'loss.svg'), 'utf8'), /^<svg[^]*<path[^]*<\/svg>$/, 'loss.svg is an SVG with curves');
  const ck = loadCheckpoint(out, { device: 'ref' });
  t.equal(ck.step, 6);
  t.equal(ck.vocab.decode(ck.vocab.encode('cat\n').ids), 'cat\n', 'vocabulary stored (CRLF was normalised: no \\r symbol)');
  t.notOk(ck.vocab.encode('\r').unknown.length, '');
  ck.model.dispose();
  const again = cli(['train', tiny, '--out', out, ...SMALL, '--steps', '2']);
  t.equal(again.code, 2, 'an existing run is not overwritten without --force');
  t.match(again.stderr, /already holds a run; continue it with --resume/);
  const idle = cli(['train', '--resume', out, '--quiet']);
  t.equal(idle.code, 0, 'resume when --steps is already reached: exit 0');
  t.match(idle.stderr, /nothing to do: the run in '.*run1' is at step 6 \(epoch [\d.]+\), already at its stop --steps 6; extend it with --steps N \(N > 6\), e\.g\. lstm-cuda train --resume .*run1 --steps 12/, 'says the stop was reached and how to extend it');
  t.notOk(/0 chars\/s/.test(idle.stderr), 'no "0 chars/s" report');
  const ck2 = loadCheckpoint(out, { device: 'ref' });
  t.equal(ck2.step, 6, 'the checkpoint is unchanged');
  ck2.model.dispose();
  t.end();
});

for (const mode of ['text', 'lines']) {
  test(`train --resume equals an uninterrupted run bit for bit (${mode} mode, dropout, epoch boundaries)`, (t) => {
    const a = join(root, `full-${mode}`), b = join(root, `half-${mode}`);
    const common = ['--mode', mode, ...SMALL, '--dropout', '0.3', '--seed', '7', '--eval-every', '3', '--sample-every', '4', '--sample-length', '5', '--quiet'];
    const full = cli(['train', tiny, '--out', a, ...common, '--steps', '11']);
    t.equal(full.code, 0, `uninterrupted run: exit 0 ${full.stderr}`);
    const h1 = cli(['train', tiny, '--out', b, ...common, '--steps', '5']);
    t.equal(h1.code, 0, 'first half: exit 0');
    const h2 = cli(['train', '--resume', b, '--steps', '11', '--quiet']);
    t.equal(h2.code, 0, `resumed: exit 0 ${h2.stderr}`);
    const epochs = JSON.parse(readFileSync(join(a, 'train_state.json'), 'utf8')).run.epoch;
    t.ok(epochs >= 1, `the run crossed ${epochs} epoch boundar${epochs === 1 ? 'y' : 'ies'}`);
    t.ok(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors'))), 'model.safetensors identical byte for byte');
    t.ok(readFileSync(join(a, 'train_state.safetensors')).equals(readFileSync(join(b, 'train_state.safetensors'))), 'Adam moments and carried state identical');
    const steps = (d: string) => readFileSync(join(d, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'train').map((e) => [e.step, e.loss]);
    t.deepEqual(steps(b), steps(a), 'log.jsonl: same steps and losses');
    const bad = cli(['train', '--resume', b, '--hidden', '99']);
    t.equal(bad.code, 2, 'changing the model when resuming is a usage error');
    t.match(bad.stderr, /cannot change --hidden when resuming \(the run uses --hidden 12\)/);
    t.end();
  });
}

test('SIGINT to a training child saves a loadable checkpoint and exits 130', async (t) => {
  const out = join(root, 'sigint');
  const child = spawn(process.execPath, [MAIN, 'train', tiny, '--out', out, ...SMALL, '--steps', '1000000', '--eval-every', '0', '--sample-every', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // wait until some steps are logged, then interrupt
  for (let i = 0; i < 300 && !(existsSync(join(out, 'log.jsonl')) && readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').length > 3); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.equal(code, 130, 'exit code 130');
  t.match(stderr, /interrupted at step (\d+): checkpoint saved/, 'says where it stopped');
  const ck = loadCheckpoint(out, { device: 'ref' });
  t.ok(ck.step > 0 && ck.trainState && ck.optimizer, `checkpoint at step ${ck.step} with training state loads`);
  ck.model.dispose();
  ck.optimizer?.dispose();
  const resumed = cli(['train', '--resume', out, '--steps', String(ck.step + 2), '--quiet']);
  t.equal(resumed.code, 0, 'and resumes');
  t.end();
});

test('NaN loss stops with a clear message, non-zero exit, last good checkpoint kept', (t) => {
  const out = join(root, 'nan');
  const r = cli(['train', tiny, '--out', out, ...SMALL, '--steps', '50', '--lr', '1e38', '--clip', '0', '--save-every', '1', '--eval-every', '0', '--quiet']);
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stderr, /training stopped: the (loss|gradient norm) became (NaN|Infinity|-Infinity) at step (\d+) .*last good checkpoint in '.*' is unchanged\. Try a lower --lr/);
  const step = Number(/at step (\d+)/.exec(r.stderr)?.[1]);
  const ck = loadCheckpoint(out, { device: 'ref' });
  t.equal(ck.step, step - 1, 'the checkpoint is the step before the NaN');
  ck.model.dispose();
  ck.optimizer?.dispose();
  t.end();
});

test('bad input: clear message, non-zero exit, nothing written', (t) => {
  const out = join(root, 'never');
  const cases: [string, string[], RegExp][] = [
    ['missing file', [join(root, 'missing.txt')], /training file '.*missing\.txt' does not exist/],
    ['empty file', [join(root, 'empty.txt')], /empty\.txt' is empty/],
    ['binary file', [join(root, 'bin.dat')], /looks binary \(NUL byte at offset 3\)/],
    ['non-UTF-8 in char mode', [join(root, 'latin1.txt')], /is not valid UTF-8 .*--vocab byte/],
    ['unknown flag', [tiny, '--hiden', '3'], /Unknown option '--hiden'/],
    ['bad number', [tiny, '--lr', 'fast'], /--lr expects a number, got 'fast'/],
    ['resume from nothing', ['--resume', join(root, 'nothing')], /cannot resume: run directory '.*nothing' does not exist/],
  ];
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'bin.dat'), Uint8Array.from([0x7f, 0x45, 0x4c, 0, 1, 2]));
  writeFileSync(join(root, 'latin1.txt'), Buffer.from('caf\xe9 cr\xe8me\n', 'latin1'));
  for (const [what, args, re] of cases) {
    const r = cli(['train', ...args, ...(args[0] === '--resume' ? [] : ['--out', out]), ...SMALL, '--steps', '2']);
    t.ok(r.code !== 0 && r.code !== null, `${what}: non-zero exit (${r.code})`);
    t.match(r.stderr, re, `${what}: ${r.stderr.trim().split('\n')[0]}`);
    t.notOk(/at .*\.js:\d+/.test(r.stderr), `${what}: no stack trace`);
  }
  t.notOk(existsSync(out), 'no run directory was created');
  const byte = cli(['train', join(root, 'latin1.txt'), '--vocab', 'byte', '--out', join(root, 'bytes'), ...SMALL, '--steps', '2', '--quiet']);
  t.equal(byte.code, 0, 'the same file trains with --vocab byte');
  t.match(byte.stderr, /shrunk to batch 1×seq 10/, 'a tiny file shrinks batch and seq with a warning');
  // a checkpoint from a different vocabulary: resume on a file with characters the run never saw
  const other = join(root, 'other.txt');
  writeFileSync(other, 'XYZ QQQ\n'.repeat(20));
  const mism = cli(['train', '--resume', join(root, 'run1'), other, '--steps', '8']);
  t.equal(mism.code, 1, 'resume on a text with another vocabulary fails');
  t.match(mism.stderr, /character\(s\) not in the vocabulary: 'Q' 'X' 'Y' 'Z'|not in the vocabulary: .*different vocabulary/);
  t.end();
});

test('progress line, non-TTY periodic output, and the loss plot', (t) => {
  const line = formatProgress({ step: 50, totalSteps: 200, epoch: 1.25, loss: 1.23456, valLoss: 1.5, charsPerSec: 12345, etaSeconds: 125, lr: 0.002 });
  t.equal(line, '[#####...............] step 50/200 | epoch 1.25 | loss 1.2346 | val 1.5000 | 12.3k chars/s | lr 2.00e-3 | ETA 2m05s');
  t.equal(formatDuration(3725), '1h02m');
  const written: string[] = [];
  const fake = { isTTY: false, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
  const bar = new ProgressBar(fake, 3600);
  const f = { step: 1, epoch: 0, loss: 2, charsPerSec: 10, lr: 1e-3 };
  bar.update(f); bar.update({ ...f, step: 2 });
  t.equal(written.length, 0, 'not a TTY: no line before the interval');
  bar.done({ ...f, step: 3 });
  t.equal(written.length, 1, 'one final line');
  t.ok(written[0]!.endsWith('\n') && !written[0]!.includes('\r'), 'plain lines without \\r');
  const svg = lossCurveSvg([{ step: 1, loss: 3 }, { step: 2, loss: NaN }, { step: 3, loss: 2 }], [{ step: 3, loss: 2.5 }]);
  t.ok(svg.startsWith('<svg') && svg.endsWith('</svg>') && !svg.includes('NaN'), 'SVG without NaN coordinates');
  t.equal((svg.match(/<path /g) ?? []).length, 2, 'a train and a val curve');
  t.match(svg, />loss \(nats\/char\)<\/text>/, 'y-axis label');
  const three = lossCurveSvg([{ step: 1, loss: 3 }, { step: 9, loss: 1 }], [{ step: 3, loss: 2.5 }, { step: 6, loss: 1.75 }, { step: 9, loss: 1.75 }]);
  t.match(three, /<g class="best">.*best checkpoint: step 6, validation loss 1\.7500/s, 'best marker at the first lowest validation loss (what best\/ holds)');
  t.match(three, />best checkpoint: step 6, 1\.750</, 'best in the legend');
  t.notOk(lossCurveSvg([{ step: 1, loss: 3 }, { step: 2, loss: 2 }], []).includes('class="best"'), 'no validation: no best marker');
  t.match(lossCurveSvg([], []), /no data yet/);
  t.end();
});

test.onFinish(() => rmSync(root, { recursive: true, force: true }));
