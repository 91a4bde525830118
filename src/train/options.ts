// Options of a char-rnn training run: their type and defaults, which of them may change on --resume, and
// the merge of a run's stored options with those given again (the stored ones are in train_state.json).
import type { DeviceName } from '../backend.js';
import type { VocabMode } from '../text/vocab.js';
import type { DataMode } from '../text/corpus.js';
import { readRunOptionsJson } from '../checkpoint/train_state.js';

/** Options of a run; those in RESUMABLE_OVERRIDES may change when resuming, the rest come from the run. */
export interface TrainOptions {
  /** training file (read as bytes), or `text` instead */
  file?: string;
  text?: string;
  /** run directory */
  out: string;
  mode: DataMode;
  vocab: VocabMode;
  /** validation fraction in [0, 1) */
  val: number;
  layers: number;
  hidden: number;
  embed: number;
  dropout: number;
  /** text: BPTT length; lines: longest sample (0 = longest line + 1, at most 512) */
  seq: number;
  batch: number;
  lr: number;
  /** lr multiplier per epoch, or per LR_DECAY_MIN_STEPS steps when an epoch is shorter (applied smoothly) */
  lrDecay: number;
  /** max global gradient norm (0 = no clipping) */
  clip: number;
  /** stop at this total step (0 = no limit) */
  steps: number;
  /** stop after this many epochs (0 = no limit) */
  epochs: number;
  /** stop after this many minutes of this invocation (0 = no limit) */
  minutes: number;
  seed: number;
  device?: DeviceName;
  evalEvery: number;
  saveEvery: number;
  /** print a short sample every N steps (0 = never) */
  sampleEvery: number;
  sampleLength: number;
  quiet: boolean;
  /** fine-tuning: start from this run directory's weights (its architecture; new symbols get fresh rows) */
  initFrom?: string;
  /** keep the model of the last N saves as step-N/ beside the latest (0 = none) */
  keep: number;
}

/** may change on --resume; lr, lrDecay and clip too (e.g. after a NaN), which departs from the original run */
export const RESUMABLE_OVERRIDES = ['steps', 'epochs', 'minutes', 'evalEvery', 'saveEvery', 'sampleEvery', 'sampleLength', 'quiet', 'device', 'file', 'lr', 'lrDecay', 'clip', 'keep'] as const;

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'out'> = {
  mode: 'text', vocab: 'char', val: 0.05, layers: 2, hidden: 128, embed: 64, dropout: 0, seq: 64, batch: 32,
  lr: 2e-3, lrDecay: 0.95, clip: 5, steps: 0, epochs: 0, minutes: 0, seed: 1, evalEvery: 200, saveEvery: 500,
  sampleEvery: 500, sampleLength: 120, quiet: false, keep: 0,
};

/**
 * The lr decays by lrDecay per epoch, but never faster than once per this many steps: on a small corpus an
 * epoch is a handful of steps, and a per-epoch decay would take the lr to nothing within a minute.
 */
export const LR_DECAY_MIN_STEPS = 1000;

/** the learning rate at a step: opts.lr · lrDecay^(step / max(batchesPerEpoch, LR_DECAY_MIN_STEPS)) */
export function lrAt(opts: Pick<TrainOptions, 'lr' | 'lrDecay'>, batchesPerEpoch: number, step: number): number {
  return opts.lr * opts.lrDecay ** (step / Math.max(batchesPerEpoch, LR_DECAY_MIN_STEPS));
}

/** Reads the options a run directory was trained with (for resuming and for messages). */
export function readRunOptions(dir: string): TrainOptions {
  return readRunOptionsJson(dir) as unknown as TrainOptions;
}

/** The options of a resumed run: the stored ones, with the overridable ones given again taking their place. */
export function resumeOptions(given: TrainOptions): TrainOptions {
  const out = given.out;
  const merged: Record<string, unknown> = { ...readRunOptions(out), out };
  for (const k of RESUMABLE_OVERRIDES) if (given[k] !== undefined) merged[k] = given[k];
  if (given.text !== undefined && given.file === undefined) { merged.text = given.text; delete merged.file; }
  return merged as unknown as TrainOptions;
}

/** The options as stored in the run (no inline text; the file as an absolute path). */
export function storedOptions(opts: TrainOptions, resolvePath: (p: string) => string): Record<string, unknown> {
  const o: Record<string, unknown> = { ...opts };
  delete o.text;
  if (opts.file !== undefined) o.file = resolvePath(opts.file);
  return o;
}
