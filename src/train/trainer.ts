// The char-rnn training loop as a library function (the `train` CLI and `demo` call it): corpus → vocab →
// split → batches; CharRNN + Adam + gradient clipping + per-epoch exponential lr decay; progress bar,
// periodic validation, sample previews, checkpoints (latest, best by val loss), log.jsonl and loss.svg
// in the run directory. Resuming restores everything the next step depends on (weights, Adam moments and
// step, dropout RNG position, data position, carried hidden state), so a resumed run equals an
// uninterrupted one bit for bit on ref. A NaN loss stops the run without touching the last checkpoint.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DeviceName } from '../backend.js';
import { defaultDevice } from '../device.js';
import { Tensor, noGrad, tidy } from '../tensor.js';
import { crossEntropy } from '../ops/cross_entropy.js';
import { CharRNN, disposeLstmState, type LstmState } from '../nn/char_rnn.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import type { VocabMode } from '../text/vocab.js';
import { encodeCorpus, readCorpusFile, splitCorpus, type DataMode } from '../text/corpus.js';
import { fitTextShape, LineBatches, TextBatches, IGNORE_INDEX, type Batches } from '../text/batches.js';
import { saveCheckpoint, loadCheckpoint, toHost, MODEL_FILE, STATE_FILE } from '../checkpoint/checkpoint.js';
import { type HostTensor } from '../checkpoint/safetensors.js';
import { writeFileAtomic } from '../atomic_write.js';
import { sample } from '../sample/sample.js';
import { ProgressBar, formatRate } from './progress.js';
import { lossCurveSvg, type LossPoint } from './plot.js';

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
  /** lr multiplier per epoch (applied smoothly: lr · decay^(step / batchesPerEpoch)) */
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
}

/** may change on --resume; lr, lrDecay and clip too (e.g. after a NaN), which departs from the original run */
export const RESUMABLE_OVERRIDES = ['steps', 'epochs', 'minutes', 'evalEvery', 'saveEvery', 'sampleEvery', 'sampleLength', 'quiet', 'device', 'file', 'lr', 'lrDecay', 'clip'] as const;

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'out'> = {
  mode: 'text', vocab: 'char', val: 0.05, layers: 2, hidden: 128, embed: 64, dropout: 0, seq: 64, batch: 32,
  lr: 2e-3, lrDecay: 0.95, clip: 5, steps: 0, epochs: 0, minutes: 0, seed: 1, evalEvery: 200, saveEvery: 500,
  sampleEvery: 500, sampleLength: 120, quiet: false,
};

export interface TrainHooks {
  /** set .interrupted = true (e.g. from a SIGINT handler) to save and stop at the next step boundary */
  signal?: { interrupted: boolean };
  /** warnings and notes (default: stderr unless quiet) */
  log?: (message: string) => void;
  /** progress output stream (default process.stderr) */
  stream?: NodeJS.WriteStream;
}

export interface TrainResult {
  status: 'done' | 'interrupted' | 'nan';
  message: string;
  step: number;
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  bestValLoss?: number;
  charsPerSec: number;
  out: string;
}

interface RunState {
  step: number;
  epoch: number;
  batchIndex: number;
  bestValLoss: number | null;
  lastValLoss: number | null;
  tokensSeen: number;
  /** moving average of the train loss (display only) */
  lossEma: number | null;
}

/** FNV-1a over the bytes: detects a training file that changed between runs */
function fingerprint(b: Uint8Array | string): string {
  const bytes = typeof b === 'string' ? new TextEncoder().encode(b) : b;
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}


/** Reads the options a run directory was trained with (for resuming and for messages). */
export function readRunOptions(dir: string): TrainOptions {
  const p = join(dir, STATE_FILE);
  if (!existsSync(p)) {
    throw new Error(existsSync(dir) ? `cannot resume: '${dir}' has no ${STATE_FILE} (not a training run directory, or it never saved)` : `cannot resume: run directory '${dir}' does not exist`);
  }
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as { options: TrainOptions }).options;
  } catch (e) {
    throw new Error(`cannot resume: '${p}' is corrupt (${(e as Error).message})`);
  }
}

/** Mean cross-entropy per target over every batch of a split (no grad, dropout off, own carried state). */
export function evaluate(model: CharRNN, batches: Batches, epoch = 0): number {
  // shapes: per batch x [T,B] → logits [T·B,V] → summed loss []
  const wasTraining = model.training;
  model.eval();
  let total = 0, count = 0;
  let state: LstmState | undefined;
  try {
    noGrad(() => {
      for (let k = 0; k < batches.batchesPerEpoch; k++) {
        const b = batches.batch(epoch, k);
        if (b.reset) { disposeLstmState(state); state = undefined; }
        const r = tidy(() => {
          const x = Tensor.from(b.x, [b.T, b.B], { dtype: 'int32', device: model.device });
          const y = Tensor.from(b.y, [b.T * b.B], { dtype: 'int32', device: model.device });
          const out = model.forward(x, state);
          const loss = crossEntropy(out.logits.reshape([b.T * b.B, model.vocabSize]), y, { ignoreIndex: IGNORE_INDEX, reduction: 'sum' });
          return { loss: loss.item(), state: out.state };
        });
        disposeLstmState(state);
        state = r.state;
        total += r.loss;
        count += b.count;
      }
    });
  } finally {
    disposeLstmState(state);
    if (wasTraining) model.train();
  }
  return total / Math.max(count, 1);
}

/** Decimates a long loss series to at most n points by averaging buckets (for the plot). */
function decimate(points: LossPoint[], n: number): LossPoint[] {
  if (points.length <= n) return points;
  const k = Math.ceil(points.length / n);
  const out: LossPoint[] = [];
  for (let i = 0; i < points.length; i += k) {
    const b = points.slice(i, i + k);
    out.push({ step: b[b.length - 1]!.step, loss: b.reduce((a, p) => a + p.loss, 0) / b.length });
  }
  return out;
}

/**
 * Trains (or, when `resume` is true and opts.out holds a run, continues) a char-rnn.
 * Returns when a stopping criterion is met, on interrupt (after saving) or on a NaN loss (without saving).
 */
export async function trainCharRNN(options: TrainOptions & { resume?: boolean }, hooks: TrainHooks = {}): Promise<TrainResult> {
  let opts: TrainOptions = { ...options };
  const out = opts.out;
  const log = hooks.log ?? ((m: string) => { process.stderr.write(m + '\n'); });
  const resuming = !!options.resume;
  let saved: ReturnType<typeof loadCheckpoint> | undefined;
  if (resuming) {
    const prev = readRunOptions(out);
    const merged: Record<string, unknown> = { ...prev, out };
    for (const k of RESUMABLE_OVERRIDES) if (options[k] !== undefined) merged[k] = options[k];
    if (options.text !== undefined && options.file === undefined) { merged.text = options.text; delete merged.file; }
    opts = merged as unknown as TrainOptions;
  }
  const device = opts.device ?? defaultDevice();
  if (resuming) saved = loadCheckpoint(out, { device });
  if (resuming && !saved?.trainState) throw new Error(`cannot resume: '${out}' has no training state`);

  // ---- data
  let source: Uint8Array | string;
  if (opts.file !== undefined) {
    try {
      source = readCorpusFile(opts.file);
    } catch (e) {
      if (resuming && !existsSync(opts.file)) throw new Error(`${(e as Error).message}; give the training file again: lstm-cuda train --resume ${out} FILE`);
      throw e;
    }
  }
  else if (opts.text !== undefined) source = opts.text;
  else throw new Error('train: give a training file or text');
  const what = opts.file !== undefined ? `'${opts.file}'` : 'training text';
  const corpus = encodeCorpus(source, { vocabMode: opts.vocab, dataMode: opts.mode, vocab: saved?.vocab, what });
  const vocab = corpus.vocab;
  const fp = fingerprint(source);
  if (saved && saved.trainState!.json.data !== fp) {
    log(`warning: the training data differs from the one this run started with; the data position will not match`);
  }
  const split = splitCorpus(corpus, opts.val, opts.seed);
  let trainBatches: Batches;
  let valBatches: Batches | null = null;
  let B = opts.batch, T = opts.seq;
  if (opts.mode === 'text') {
    const ids = split.train as Int32Array;
    const fit = fitTextShape(ids.length, B, T, what);
    if (fit.warning) log(`warning: ${fit.warning}`);
    B = fit.B; T = fit.T;
    trainBatches = new TextBatches(ids, B, T);
    const v = split.val as Int32Array;
    if (v.length >= 2) {
      const vf = fitTextShape(v.length, B, T, 'validation text');
      valBatches = new TextBatches(v, vf.B, vf.T);
    }
  } else {
    const lines = split.train as Int32Array[];
    const longest = corpus.lines!.reduce((m, l) => Math.max(m, l.length), 0) + 1; // no spread: corpora of 10^6 lines
    T = T > 0 ? T : Math.min(longest, 512);
    if (lines.length < B) log(`warning: only ${lines.length} training lines: batch ${B} shrunk to ${lines.length}`);
    const lb = new LineBatches(lines, B, T, vocab.stopId, opts.seed);
    const cut = lb.truncatedCount();
    if (cut) log(`warning: ${cut} line(s) longer than ${T - 1} symbols are truncated (raise --seq to keep them whole)`);
    B = lb.B;
    trainBatches = lb;
    const v = split.val as Int32Array[];
    if (v.length) valBatches = new LineBatches(v, B, T, vocab.stopId, null);
  }
  if (opts.val > 0 && !valBatches) log('warning: the corpus is too small for a validation split; training without validation');
  const bpe = trainBatches.batchesPerEpoch;
  if (opts.steps === 0 && opts.epochs === 0 && opts.minutes === 0) opts.epochs = 10;

  // ---- model and optimizer
  const model = saved?.model ?? new CharRNN({
    vocabSize: vocab.size, embedDim: opts.embed, hiddenSize: opts.hidden, numLayers: opts.layers,
    dropout: opts.dropout, device, seed: opts.seed,
  });
  model.train();
  const params = model.parameters();
  const adam = saved?.optimizer ?? new Adam(params, { lr: opts.lr });
  const rs: RunState = { step: 0, epoch: 0, batchIndex: 0, bestValLoss: null, lastValLoss: null, tokensSeen: 0, lossEma: null };
  let carried: LstmState | undefined;
  if (saved) {
    const j = saved.trainState!.json as Record<string, unknown>;
    const tensors = saved.trainState!.tensors;
    Object.assign(rs, j.run as RunState);
    if (!saved.optimizer) throw new Error(`cannot resume: '${out}' has no optimizer state`);
    model.lstm.setRngState(j.dropoutRng as { seed: number; counter: number });
    if (tensors['carry.h'] && tensors['carry.c']) {
      carried = {
        h: Tensor.from(tensors['carry.h'].data, tensors['carry.h'].shape, { device }),
        c: Tensor.from(tensors['carry.c'].data, tensors['carry.c'].shape, { device }),
      };
    }
  }

  // ---- run directory, log, plot
  mkdirSync(out, { recursive: true });
  const logPath = join(out, 'log.jsonl');
  const trainPts: LossPoint[] = [];
  const valPts: LossPoint[] = [];
  {
    let kept = '';
    if (resuming && existsSync(logPath)) {
      for (const line of readFileSync(logPath, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const e = JSON.parse(line) as { type: string; step: number; loss?: number; valLoss?: number };
          if (e.step > rs.step) continue;
          kept += line + '\n';
          if (e.type === 'train' && e.loss !== undefined) trainPts.push({ step: e.step, loss: e.loss });
          if (e.type === 'val' && e.valLoss !== undefined) valPts.push({ step: e.step, loss: e.valLoss });
        } catch { /* a torn last line from a killed run */ }
      }
    }
    writeFileAtomic(logPath, kept);
    // a fresh run (--force over an old one) must not leave the old run's best checkpoint behind
    if (!resuming) rmSync(join(out, 'best', MODEL_FILE), { force: true });
  }
  const writeLog = (e: Record<string, unknown>) => appendFileSync(logPath, JSON.stringify(e) + '\n');
  const writePlot = () => writeFileAtomic(join(out, 'loss.svg'), lossCurveSvg(decimate(trainPts, 2000), valPts, `char-rnn loss (${opts.file ?? 'text'})`));

  const runOptions: Record<string, unknown> = { ...opts };
  delete runOptions.text;
  if (opts.file !== undefined) runOptions.file = resolve(opts.file);
  const save = (dir: string, withState: boolean) => {
    if (!withState) { saveCheckpoint(dir, { model, vocab, mode: opts.mode, step: rs.step }); return; }
    const tensors: Record<string, HostTensor> = {};
    if (carried) { tensors['carry.h'] = toHost(carried.h); tensors['carry.c'] = toHost(carried.c); }
    saveCheckpoint(dir, {
      model, vocab, mode: opts.mode, step: rs.step, optimizer: adam,
      trainState: { json: { step: rs.step, run: { ...rs }, dropoutRng: model.lstm.rngState(), data: fp, options: runOptions, vocabSize: vocab.size }, tensors },
    });
  };

  // ---- the loop
  const bar = new ProgressBar(hooks.stream ?? process.stderr, 10, !opts.quiet);
  const t0 = Date.now();
  let trainMs = 0, stepsThisRun = 0, tokensThisRun = 0;
  let lastLoss = NaN;
  let lastEvalStep = -1;
  const totalSteps = (() => {
    const c: number[] = [];
    if (opts.steps > 0) c.push(opts.steps);
    if (opts.epochs > 0) c.push(opts.epochs * bpe);
    return c.length ? Math.min(...c) : undefined;
  })();
  const lrAt = (step: number) => opts.lr * opts.lrDecay ** (step / bpe);
  const fields = () => {
    const rate = trainMs > 0 ? tokensThisRun / (trainMs / 1000) : 0;
    const perStep = stepsThisRun ? trainMs / 1000 / stepsThisRun : NaN;
    const etas: number[] = [];
    if (totalSteps !== undefined && Number.isFinite(perStep)) etas.push((totalSteps - rs.step) * perStep);
    if (opts.minutes > 0) etas.push(opts.minutes * 60 - (Date.now() - t0) / 1000);
    return {
      step: rs.step, totalSteps, epoch: rs.epoch + rs.batchIndex / bpe, loss: rs.lossEma ?? NaN,
      valLoss: rs.lastValLoss ?? undefined, charsPerSec: rate, etaSeconds: etas.length ? Math.max(0, Math.min(...etas)) : undefined, lr: lrAt(rs.step),
    };
  };
  const runEval = () => {
    if (!valBatches) return;
    const v = evaluate(model, valBatches);
    rs.lastValLoss = v;
    lastEvalStep = rs.step;
    valPts.push({ step: rs.step, loss: v });
    writeLog({ type: 'val', step: rs.step, epoch: rs.epoch + rs.batchIndex / bpe, valLoss: v });
    if (Number.isFinite(v) && (rs.bestValLoss === null || v < rs.bestValLoss)) {
      rs.bestValLoss = v;
      save(join(out, 'best'), false);
    }
  };
  const preview = () => {
    const s = sample(model, vocab, { maxLength: opts.sampleLength, temperature: 0.8, seed: (opts.seed + rs.step) >>> 0, mode: opts.mode, onWarning: () => {} });
    bar.print(`--- sample at step ${rs.step} ---\n${s.text}\n---`);
  };

  let status: TrainResult['status'] = 'done';
  let message = '';
  const signal = hooks.signal ?? { interrupted: false };
  try {
    for (;;) {
      if (signal.interrupted) { status = 'interrupted'; break; }
      if (opts.steps > 0 && rs.step >= opts.steps) break;
      if (opts.epochs > 0 && rs.epoch >= opts.epochs) break;
      if (opts.minutes > 0 && Date.now() - t0 >= opts.minutes * 60000) break;

      const ts = Date.now();
      const batch = trainBatches.batch(rs.epoch, rs.batchIndex);
      if (batch.reset) { disposeLstmState(carried); carried = undefined; }
      const lr = lrAt(rs.step);
      adam.lr = lr;
      const r = tidy(() => {
        const x = Tensor.from(batch.x, [batch.T, batch.B], { dtype: 'int32', device });
        const y = Tensor.from(batch.y, [batch.T * batch.B], { dtype: 'int32', device });
        const o = model.forward(x, carried);
        const loss = crossEntropy(o.logits.reshape([batch.T * batch.B, vocab.size]), y, { ignoreIndex: IGNORE_INDEX });
        loss.backward();
        return { loss: loss.item(), state: opts.mode === 'text' ? { h: o.state.h.detach(), c: o.state.c.detach() } : undefined };
      });
      const gradNorm = clipGradNorm(params, opts.clip > 0 ? opts.clip : Number.MAX_VALUE);
      if (!Number.isFinite(r.loss) || !Number.isFinite(gradNorm)) {
        disposeLstmState(r.state);
        adam.zeroGrad();
        status = 'nan';
        const last = existsSync(join(out, MODEL_FILE)) ? `the last good checkpoint in '${out}' is unchanged` : 'no checkpoint was written';
        message = `training stopped: the ${Number.isFinite(r.loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(r.loss) ? gradNorm : r.loss} at step ${rs.step + 1} (lr ${lr.toExponential(3)}); ${last}. Try a lower --lr or a smaller --clip.`;
        writeLog({ type: 'event', step: rs.step, event: 'nan', loss: r.loss, gradNorm });
        break;
      }
      adam.step();
      adam.zeroGrad();
      disposeLstmState(carried);
      carried = r.state;
      rs.step++;
      rs.batchIndex++;
      rs.tokensSeen += batch.count;
      if (rs.batchIndex >= bpe) { rs.epoch++; rs.batchIndex = 0; }
      const dt = Date.now() - ts;
      trainMs += dt; stepsThisRun++; tokensThisRun += batch.count;
      lastLoss = r.loss;
      rs.lossEma = rs.lossEma !== null ? 0.95 * rs.lossEma + 0.05 * r.loss : r.loss;
      trainPts.push({ step: rs.step, loss: r.loss });
      writeLog({ type: 'train', step: rs.step, epoch: rs.epoch + rs.batchIndex / bpe, loss: r.loss, lr, gradNorm, tokens: batch.count, ms: dt });

      if (opts.evalEvery > 0 && rs.step % opts.evalEvery === 0) { runEval(); writePlot(); }
      if (opts.saveEvery > 0 && rs.step % opts.saveEvery === 0) save(out, true);
      if (!opts.quiet && opts.sampleEvery > 0 && rs.step % opts.sampleEvery === 0) preview();
      bar.update(fields());
      await new Promise((res) => setImmediate(res));
    }
    if (status !== 'nan') {
      if (status === 'done' && lastEvalStep !== rs.step && stepsThisRun > 0) runEval();
      save(out, true);
      writePlot();
      const rate = trainMs > 0 ? tokensThisRun / (trainMs / 1000) : 0;
      message = status === 'interrupted'
        ? `interrupted at step ${rs.step}: checkpoint saved to '${out}' (continue with --resume ${out})`
        : `done: step ${rs.step}, epoch ${(rs.epoch + rs.batchIndex / bpe).toFixed(2)}, train loss ${(rs.lossEma ?? NaN).toFixed(4)}` +
          `${rs.lastValLoss !== null ? `, val loss ${rs.lastValLoss.toFixed(4)} (best ${rs.bestValLoss!.toFixed(4)})` : ''}, ${formatRate(rate)} chars/s, ` +
          `${((Date.now() - t0) / 1000).toFixed(1)} s; checkpoint in '${out}'`;
    }
    bar.done(fields());
  } finally {
    disposeLstmState(carried);
  }
  const res: TrainResult = {
    status, message, step: rs.step, epoch: rs.epoch + rs.batchIndex / bpe, trainLoss: rs.lossEma ?? lastLoss,
    valLoss: rs.lastValLoss ?? undefined, bestValLoss: rs.bestValLoss ?? undefined,
    charsPerSec: trainMs > 0 ? tokensThisRun / (trainMs / 1000) : 0, out,
  };
  adam.dispose();
  model.dispose();
  return res;
}
