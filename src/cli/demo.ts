// `lstm-cuda demo` (npm start): writes an embedded corpus (short real English sentences from the
// nlp-corpus package, one per line) into the run directory, trains a small char-rnn on it for about two
// minutes on the default device, then prints samples for a few primes. Ctrl-C ends training early (after
// saving) and goes on to the samples.
/// <reference path="../text/nlp_corpus.d.ts" />
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import corpus from 'nlp-corpus';
import { parseFlags, type FlagSpec } from './flags.js';
import { withInterrupt } from './interrupt.js';
import { defaultDevice, getBackend } from '../device.js';
import type { DeviceName } from '../backend.js';
import { trainCharRNN } from '../train/trainer.js';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../train/options.js';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { sample } from '../sample/sample.js';

const USAGE = 'usage: lstm-cuda demo [--minutes M] [--out DIR] [--device D]';

const SPEC: Record<string, FlagSpec> = {
  minutes: { type: 'number', metavar: 'M', min: 0.05, help: 'training time in minutes', default: 2 },
  out: { type: 'string', metavar: 'DIR', help: 'run directory (overwritten)', default: join('runs', 'demo') },
  device: { type: 'string', choices: ['cpu', 'cuda', 'ref', 'emu'], help: 'device (default: cuda when present, else cpu)' },
  kb: { type: 'integer', min: 10, max: 4000, help: 'corpus size in KB', default: 400 },
  seed: { type: 'integer', min: 0, max: 4294967295, help: 'random seed', default: 1 },
  quiet: { type: 'boolean', help: 'no progress bar or samples during training' },
};

const PRIMES = ['The ', 'I think ', 'In 2013, ', 'What is the '];

// The model per device, sized for what two minutes of training on it can fit (bench/results/ has the
// validation losses these choices were made from): cuda the standard size; cpu (the native backend,
// tens of thousands of chars/s on 2 cores) two layers of 128; ref and emu (a few thousand chars/s) a small
// one-layer model, since more updates of a smaller model beat fewer of a bigger one in two minutes.
const SMALL = { layers: 1, hidden: 96, embed: 32, seq: 32, batch: 16, lr: 1e-2 };
const DEMO_MODELS: Record<DeviceName, Partial<TrainOptions>> = {
  cuda: { layers: 2, hidden: 512, embed: 64, seq: 128, batch: 64, lr: 3e-3 },
  cpu: { layers: 2, hidden: 128, embed: 48, seq: 64, batch: 32, lr: 3e-3 },
  ref: SMALL,
  emu: SMALL,
};

/** Short, plain-ASCII sentences from nlp-corpus, one per line, up to `bytes` in total. */
export function demoCorpus(bytes: number): string {
  const out: string[] = [];
  let n = 0;
  for (const s of corpus.all() as string[]) {
    const line = s.trim();
    if (line.length < 20 || line.length > 160 || !/^[\x20-\x7e]+$/.test(line)) continue;
    out.push(line);
    n += line.length + 1;
    if (n >= bytes) break;
  }
  return out.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, SPEC, USAGE);
  if (!parsed) return 0;
  const f = parsed.values;
  const device = (f.device as DeviceName | undefined) ?? defaultDevice();
  const out = f.out as string;
  mkdirSync(out, { recursive: true });
  const file = join(out, 'corpus.txt');
  const text = demoCorpus((f.kb as number) * 1024);
  writeFileSync(file, text);
  console.log(`lstm-cuda demo: training a char-rnn for ${f.minutes} minute(s) on ${device} (${getBackend(device).deviceName})`);
  console.log(`corpus: ${text.split('\n').length - 1} sentences (${(text.length / 1024).toFixed(0)} KB) from the nlp-corpus package, written to ${file}`);
  console.log('Ctrl-C stops training early (the checkpoint is saved) and goes on to sampling.\n');
  const res = await withInterrupt((signal) => trainCharRNN({
    ...DEFAULT_TRAIN_OPTIONS, file, out, device, minutes: f.minutes as number, seed: f.seed as number, quiet: !!f.quiet,
    ...DEMO_MODELS[device],
    lrDecay: 0.9, evalEvery: 200, saveEvery: 500, sampleEvery: 300, sampleLength: 100,
  }, { signal }), 'interrupt: stopping training after this step and saving (Ctrl-C again to quit)');
  console.log(res.message);
  if (res.status === 'nan') return 1;
  const { model, vocab, config } = loadCheckpoint(res.bestValLoss !== undefined ? join(out, 'best') : out, { device });
  console.log(`\nsamples (temperature 0.7) from ${res.bestValLoss !== undefined ? join(out, 'best') : out}:`);
  PRIMES.forEach((prime, i) => {
    process.stdout.write(`\n> ${prime}`);
    const r = sample(model, vocab, {
      prime, maxLength: 160, temperature: 0.7, seed: 1000 + i, mode: config.mode,
      onToken: (t) => { process.stdout.write(t.char.replace(/\n/g, '\n  ')); },
    });
    process.stdout.write(`\n  [log-probability ${r.logProb.toFixed(1)} nats over ${r.tokens.length} characters]`);
  });
  process.stdout.write('\n');
  model.dispose();
  console.log(`\nmore: npx lstm-cuda sample ${out} --prime "The " --temperature 0.8   (options: npx lstm-cuda sample --help)`);
  return 0;
}
