// `lstm-cuda train FILE --out DIR`: train a char-rnn on a text file (src/train/trainer.ts does the work).
// Exit codes: 0 finished; 1 error (including a NaN loss: the last good checkpoint is kept); 2 bad usage;
// 130 interrupted by Ctrl-C (SIGINT) after saving a checkpoint that --resume continues from.
import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseFlags, type FlagSpec, type FlagValues } from './flags.js';
import { UsageError } from './usage_error.js';
import { defaultDevice, isDeviceName } from '../device.js';
import { withInterrupt } from './interrupt.js';
import { trainCharRNN } from '../train/trainer.js';
import { readRunOptions, DEFAULT_TRAIN_OPTIONS, RESUMABLE_OVERRIDES, type TrainOptions } from '../train/options.js';
import { holdsCheckpoint } from '../checkpoint/checkpoint.js';
import { looksLikeTurns } from '../chat/turns.js';
import { SERVE_FLAGS, serveRun, untilInterrupted } from './serve.js';
import { sizeDefaults } from '../train/defaults.js';

const USAGE = 'usage: lstm-cuda train FILE [--out DIR] [options]   |   lstm-cuda train --resume DIR [FILE] [options]';
const D = DEFAULT_TRAIN_OPTIONS;
const def = (v: unknown) => ` (default ${v})`;

/** flag name → TrainOptions key */
const KEYS: Record<string, keyof TrainOptions> = {
  layers: 'layers', hidden: 'hidden', embed: 'embed', dropout: 'dropout', seq: 'seq', batch: 'batch', lr: 'lr',
  'lr-decay': 'lrDecay', clip: 'clip', steps: 'steps', epochs: 'epochs', minutes: 'minutes', mode: 'mode',
  vocab: 'vocab', val: 'val', device: 'device', seed: 'seed', 'eval-every': 'evalEvery', 'save-every': 'saveEvery',
  'sample-every': 'sampleEvery', 'sample-length': 'sampleLength', quiet: 'quiet', 'init-from': 'initFrom', keep: 'keep',
};

// No `default` fields: a flag left out is undefined, so that --resume can tell given flags from defaults.
export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  out: { type: 'string', metavar: 'DIR', help: 'run directory for checkpoints, log.jsonl and loss.svg (default runs/<file name>)' },
  resume: { type: 'string', metavar: 'DIR', help: 'continue the run in DIR exactly where it stopped' },
  force: { type: 'boolean', help: 'overwrite an existing run in --out' },
  mode: { type: 'string', choices: ['text', 'lines', 'turns'], help: `text: one stream, truncated BPTT; lines: one sample per line; turns: conversations from prepare --turns, loss on your lines only (chosen by itself for such a file)${def(D.mode)}` },
  vocab: { type: 'string', choices: ['char', 'byte'], help: `char: Unicode code points; byte: UTF-8 bytes (any file)${def(D.vocab)}` },
  layers: { type: 'integer', min: 1, help: `LSTM layers${def(D.layers)}` },
  hidden: { type: 'integer', min: 1, help: `hidden size per layer${def(D.hidden)}` },
  embed: { type: 'integer', min: 1, help: `embedding size${def(D.embed)}` },
  dropout: { type: 'number', metavar: 'P', min: 0, max: 0.95, help: `dropout between LSTM layers${def(D.dropout)}` },
  seq: { type: 'integer', min: 0, help: `text: BPTT length${def(D.seq)}; lines: longest sample (0 = longest line)` },
  batch: { type: 'integer', min: 1, help: `sequences per batch${def(D.batch)}` },
  lr: { type: 'number', min: 0, help: `Adam learning rate${def(D.lr)}` },
  'lr-decay': { type: 'number', metavar: 'R', min: 0, max: 1, help: `lr multiplier per epoch, applied smoothly${def(D.lrDecay)}` },
  clip: { type: 'number', min: 0, help: `clip the global gradient norm to this (0 = off)${def(D.clip)}` },
  steps: { type: 'integer', min: 0, help: 'stop at this total step (0 = no limit)' },
  epochs: { type: 'integer', min: 0, help: 'stop after this many epochs (default 10 when no --steps/--minutes)' },
  minutes: { type: 'number', metavar: 'M', min: 0, help: 'stop after this many minutes (0 = no limit)' },
  val: { type: 'number', metavar: 'F', min: 0, max: 0.5, help: `fraction held out for validation${def(D.val)}` },
  device: { type: 'string', choices: ['cpu', 'cuda', 'ref', 'emu'], help: 'device (default: cuda when present, else cpu)' },
  seed: { type: 'integer', min: 0, max: 4294967295, help: `random seed: init, dropout, data order, split${def(D.seed)}` },
  'eval-every': { type: 'integer', min: 0, help: `validate every N steps${def(D.evalEvery)}` },
  'save-every': { type: 'integer', min: 0, help: `save the latest checkpoint every N steps${def(D.saveEvery)}` },
  'sample-every': { type: 'integer', min: 0, help: `print a short sample every N steps (0 = never)${def(D.sampleEvery)}` },
  'sample-length': { type: 'integer', min: 1, help: `length of those samples${def(D.sampleLength)}` },
  quiet: { type: 'boolean', help: 'no progress bar or samples' },
  serve: { type: 'boolean', help: 'also serve the page of `lstm-cuda serve` for this run (live loss curves, samples); it stays up after training until Ctrl-C' },
  ...SERVE_FLAGS,
  'init-from': { type: 'string', help: "fine-tune: start from this run's weights and architecture (symbols it has never seen get fresh rows)" },
  keep: { type: 'integer', min: 0, help: 'also keep the model of the last N saves as RUN/step-<step>/ (default 0)' },
};

/** Options from parsed flags: given ones only (undefined elsewhere). */
export function givenOptions(values: FlagValues): Partial<TrainOptions> {
  const o: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(KEYS)) if (values[flag] !== undefined) o[key] = values[flag];
  return o as Partial<TrainOptions>;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, TRAIN_FLAGS, USAGE);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`expected one training file, got ${positionals.length}: ${positionals.join(' ')}\n${USAGE}`);
  const given = givenOptions(f);
  if (given.device !== undefined && !isDeviceName(given.device)) throw new UsageError(`--device: unknown device '${given.device}'`);
  const file = positionals[0];
  let opts: TrainOptions & { resume?: boolean };
  if (f.resume !== undefined) {
    const dir = f.resume as string;
    if (f.out !== undefined && resolve(f.out as string) !== resolve(dir)) {
      throw new UsageError(`--resume ${dir} continues in that directory; --out ${f.out} cannot be given with it`);
    }
    const prev = readRunOptions(dir);
    const fixed = Object.keys(given).filter((k) => !(RESUMABLE_OVERRIDES as readonly string[]).includes(k) && given[k as keyof TrainOptions] !== prev[k as keyof TrainOptions]);
    if (fixed.length) {
      const flag = (k: string) => `--${Object.entries(KEYS).find(([, v]) => v === k)![0]}`;
      throw new UsageError(`cannot change ${fixed.map(flag).join(', ')} when resuming (the run uses ${fixed.map((k) => `${flag(k)} ${String(prev[k as keyof TrainOptions])}`).join(', ')}); only ${RESUMABLE_OVERRIDES.filter((k) => k !== 'file').map((k) => flag(k)).join(', ')} may change`);
    }
    opts = { ...prev, ...given, out: dir, resume: true, ...(file !== undefined ? { file } : {}) };
  } else {
    if (file === undefined) throw new UsageError(`no training file given\n${USAGE}`);
    const out = (f.out as string | undefined) ?? join('runs', basename(file, extname(file)) || 'run');
    if (!f.force && holdsCheckpoint(out)) {
      throw new UsageError(`'${out}' already holds a run; continue it with --resume ${out}, or overwrite it with --force`);
    }
    opts = { ...D, ...given, file, out };
    // model and batch sizes not given: chosen from the corpus size and the device (fine-tuning: the base's)
    const device = given.device ?? defaultDevice();
    const sized = (['layers', 'hidden', 'embed', 'seq', 'batch', 'lr'] as const).filter((k) => given[k] === undefined && (given.initFrom === undefined || k === 'seq' || k === 'batch'));
    if (sized.length && existsSync(file)) {
      const { chosen, why } = sizeDefaults(statSync(file).size, device);
      for (const k of sized) (opts as unknown as Record<string, number>)[k] = chosen[k];
      process.stderr.write(`train: for ${why}: ${sized.map((k) => `--${k} ${chosen[k]}`).join(' ')} (give a flag to choose yourself)\n`);
    }
    if (given.mode === undefined && looksLikeTurns(file)) {
      opts.mode = 'turns';
      process.stderr.write(`train: '${file}' is a conversation file (prepare --turns): --mode turns, the loss counts your lines only\n`);
    }
    if (opts.mode === 'lines' && given.seq === undefined) opts.seq = 0; // lines: the longest line, not text's BPTT length
  }
  if (!f.serve && (f.port !== undefined || f.host !== undefined)) throw new UsageError('--port and --host go with --serve');
  const server = f.serve ? await serveRun(opts.out, { port: f.port as number | undefined, host: f.host as string | undefined, device: opts.device }, { allowMissingCheckpoint: true }) : undefined;
  const res = await withInterrupt(
    (signal) => trainCharRNN(opts, { signal, log: (m) => process.stderr.write(m + '\n') }),
    'interrupt: saving a checkpoint after this step (Ctrl-C again to quit without saving)',
  );
  process.stderr.write(res.message + '\n');
  if (server) {
    process.stderr.write(`still serving '${opts.out}' at ${server.url} (Ctrl-C stops)\n`);
    await untilInterrupted();
    await server.close();
  }
  return res.status === 'done' ? 0 : res.status === 'interrupted' ? 130 : 1;
}
