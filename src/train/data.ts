// Data preparation of a training run: read the corpus (file or text), encode it with the run's vocabulary
// (built here, or the saved one when resuming), split off validation, and make the batches
// (text: B streams of truncated BPTT windows; lines: one padded sample per line). Shapes may shrink to fit
// a small corpus, with a warning.
import { existsSync } from 'node:fs';
import type { Vocab } from '../text/vocab.js';
import { encodeCorpus, readCorpusFile, splitCorpus } from '../text/corpus.js';
import { fitTextShape, LineBatches, TextBatches, type Batches } from '../text/batches.js';
import { turnsLossMask } from '../chat/turns.js';
import { dataFingerprint } from '../checkpoint/train_state.js';
import type { TrainOptions } from './options.js';

export interface TrainingData {
  vocab: Vocab;
  /** fingerprint of the corpus bytes (stored in the run; a different one on resume means the data changed) */
  fingerprint: string;
  /** human name of the corpus for messages */
  what: string;
  train: Batches;
  val: Batches | null;
  /** batches per epoch of the training split */
  batchesPerEpoch: number;
  /** symbols in the training and validation splits */
  trainSymbols: number;
  valSymbols: number;
  /** turns mode: training targets the loss counts (predictions made from your lines) */
  countedTargets?: number;
}

/**
 * Reads and batches the corpus of `opts`. `vocab`: the saved vocabulary of a resumed run (its symbols
 * stay where they are). `extend`: the base vocabulary of --init-from, grown by the corpus's symbols. `resumeDir`: names the run in the error when the training file has gone.
 */
export function prepareData(opts: TrainOptions, env: { vocab?: Vocab; extend?: Vocab; resumeDir?: string; log: (m: string) => void }): TrainingData {
  const { log } = env;
  let source: Uint8Array | string;
  if (opts.file !== undefined) {
    try {
      source = readCorpusFile(opts.file);
    } catch (e) {
      if (env.resumeDir !== undefined && !existsSync(opts.file)) throw new Error(`${(e as Error).message}; give the training file again: lstm-cuda train --resume ${env.resumeDir} FILE`);
      throw e;
    }
  } else if (opts.text !== undefined) source = opts.text;
  else throw new Error('train: give a training file or text');
  const what = opts.file !== undefined ? `'${opts.file}'` : 'training text';
  const corpus = encodeCorpus(source, { vocabMode: opts.vocab, dataMode: opts.mode, vocab: env.vocab, extend: env.extend, what });
  const vocab = corpus.vocab;
  const split = splitCorpus(corpus, opts.val, opts.seed);
  let train: Batches;
  let countedTargets: number | undefined;
  let val: Batches | null = null;
  const B = opts.batch;
  let T = opts.seq;
  if (opts.mode !== 'lines') {
    const ids = split.train as Int32Array;
    const fit = fitTextShape(ids.length, B, T, what);
    if (fit.warning) log(`warning: ${fit.warning}`);
    // turns: the loss counts only what is predicted from your lines (src/chat/turns.ts)
    const mask = (x: Int32Array, w: string) => (opts.mode === 'turns' ? turnsLossMask(x, vocab, w) : undefined);
    const trainMask = mask(ids, what);
    if (trainMask) countedTargets = trainMask.reduce((a, m) => a + m, 0);
    train = new TextBatches(ids, fit.B, fit.T, trainMask);
    const v = split.val as Int32Array;
    if (v.length >= 2) {
      const vf = fitTextShape(v.length, fit.B, fit.T, 'validation text');
      val = new TextBatches(v, vf.B, vf.T, mask(v, 'validation text'));
    }
  } else {
    const lines = split.train as Int32Array[];
    const longest = corpus.lines!.reduce((m, l) => Math.max(m, l.length), 0) + 1; // no spread: corpora of 10^6 lines
    T = T > 0 ? T : Math.min(longest, 512);
    if (lines.length < B) log(`warning: only ${lines.length} training lines: batch ${B} shrunk to ${lines.length}`);
    const lb = new LineBatches(lines, B, T, vocab.stopId, opts.seed);
    const cut = lb.truncatedCount();
    if (cut) log(`warning: ${cut} line(s) longer than ${T - 1} symbols are truncated (raise --seq to keep them whole)`);
    train = lb;
    const v = split.val as Int32Array[];
    if (v.length) val = new LineBatches(v, lb.B, T, vocab.stopId, null);
  }
  if (opts.val > 0 && !val) log('warning: the corpus is too small for a validation split; training without validation');
  const symbols = (x: Int32Array | Int32Array[]) => (Array.isArray(x) ? x.reduce((a, l) => a + l.length, 0) : x.length);
  return {
    vocab, fingerprint: dataFingerprint(source), what, train, val, batchesPerEpoch: train.batchesPerEpoch,
    trainSymbols: symbols(split.train), valSymbols: symbols(split.val), countedTargets,
  };
}
