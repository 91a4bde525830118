// The char-rnn training loop as a library function (the `train` CLI and `demo` call it). trainCharRNN is
// four parts, each a function here or a module beside it:
//   options.ts   the options, their defaults, the merge on --resume
//   data.ts      corpus → vocabulary → split → batches
//   run_dir.ts   the locked run directory: log.jsonl, loss.svg, the latest checkpoint (one atomic commit), best/
//   this file    setupSession (model, Adam, run position, carried state: fresh or from the checkpoint) and
//                runLoop (forward/backward/clip/Adam per step, validation, previews, saves, stopping)
// Resuming restores everything the next step depends on (weights, Adam moments and step, dropout RNG
// position, data position, carried hidden state), so a resumed run equals an uninterrupted one bit for bit
// on ref. A NaN loss stops the run without touching the last checkpoint.
import { resolve } from 'node:path';
import { defaultDevice, getBackend } from '../device.js';
import type { DeviceName } from '../backend.js';
import { Tensor, noGrad, tidy } from '../tensor.js';
import { crossEntropy } from '../ops/cross_entropy.js';
import { reshape } from '../ops/reshape.js';
import { CharRNN, disposeLstmState, type LstmState } from '../nn/char_rnn.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { IGNORE_INDEX, type Batches } from '../text/batches.js';
import { loadCheckpoint, toHost, type LoadedCheckpoint } from '../checkpoint/checkpoint.js';
import { decodeTrainState, freshPosition, type RunPosition, type TrainState } from '../checkpoint/train_state.js';
import { sample } from '../sample/sample.js';
import { ProgressBar, formatRate } from './progress.js';
import { checkAllocation } from '../device_memory.js';
import { checkInstance, checkObject } from '../args.js';
import { lrAt, resumeOptions, storedOptions, LR_DECAY_MIN_STEPS, type TrainOptions } from './options.js';
import { initFromBase } from './init_from.js';
import { keepHistory } from './history.js';
import { prepareData, type TrainingData } from './data.js';
import { RunDir } from './run_dir.js';

export { DEFAULT_TRAIN_OPTIONS, RESUMABLE_OVERRIDES, readRunOptions, type TrainOptions } from './options.js';

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

/** Mean cross-entropy per target over every batch of a split (no grad, dropout off, own carried state). */
export function evaluate(model: CharRNN, batches: Batches, epoch = 0): number {
  checkInstance('evaluate: model', model, CharRNN);
  checkObject('evaluate: batches (a TextBatches or LineBatches)', batches);
  if (typeof batches.batch !== 'function' || typeof batches.batchesPerEpoch !== 'number') throw new TypeError('evaluate: batches must be a TextBatches or LineBatches (batch(epoch, index) and batchesPerEpoch)');
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
          const loss = crossEntropy(reshape(out.logits, [b.T * b.B, model.vocabSize]), y, { ignoreIndex: IGNORE_INDEX, reduction: 'sum' });
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

/** What the loop works on: the model and its optimizer, where the run stands, the carried state. */
export interface Session {
  opts: TrainOptions;
  device: DeviceName;
  data: TrainingData;
  model: CharRNN;
  adam: Adam;
  pos: RunPosition;
  carried?: LstmState;
  dispose(): void;
}

/**
 * The model, optimizer and run position: fresh, or from a loaded checkpoint. A resumed run whose training
 * data changed (other bytes, so other batches) continues with its weights and optimizer from the start of
 * its next epoch with a fresh recurrent state, and says so.
 */
function setupSession(opts: TrainOptions, device: DeviceName, data: TrainingData, saved: LoadedCheckpoint | undefined, log: (m: string) => void, base?: LoadedCheckpoint): Session {
  let model: CharRNN, adam: Adam, pos = freshPosition(), carried: LstmState | undefined;
  if (saved) {
    const st: TrainState = decodeTrainState(saved.trainState!, opts.out);
    if (!saved.optimizer) throw new Error(`cannot resume: '${opts.out}' has no optimizer state`);
    model = saved.model;
    adam = saved.optimizer;
    pos = st.run;
    model.lstm.setRngState(st.dropoutRng);
    const sameData = st.data === data.fingerprint && pos.batchIndex < data.batchesPerEpoch;
    if (!sameData) {
      log(`warning: the training data differs from the one this run started with (${data.fingerprint.split(':')[0]} bytes now, ${st.data.split(':')[0]} then): continuing from step ${pos.step} with the saved weights and optimizer at the start of a new epoch, with a fresh recurrent state`);
      if (pos.batchIndex > 0) { pos.epoch++; pos.batchIndex = 0; }
    } else if (st.carry) {
      carried = { h: Tensor.from(st.carry.h.data, st.carry.h.shape, { device }), c: Tensor.from(st.carry.c.data, st.carry.c.shape, { device }) };
    }
  } else if (base) {
    const init = initFromBase(base, data.vocab, { device, seed: opts.seed, dropout: opts.dropout });
    model = init.model;
    log(`init-from '${opts.initFrom}': its ${base.config.numLayers}×${base.config.hiddenSize} weights (step ${base.step}); ` +
      (init.newSymbols.length ? `${init.newSymbols.length} symbol(s) it has never seen get fresh rows: ${init.newSymbols.slice(0, 20).map((x) => JSON.stringify(x)).join(' ')}` : 'every symbol of this corpus is known to it'));
    adam = new Adam(model.parameters(), { lr: opts.lr });
  } else {
    model = new CharRNN({
      vocabSize: data.vocab.size, embedDim: opts.embed, hiddenSize: opts.hidden, numLayers: opts.layers,
      dropout: opts.dropout, device, seed: opts.seed,
    });
    adam = new Adam(model.parameters(), { lr: opts.lr });
  }
  model.train();
  const s: Session = {
    opts, device, data, model, adam, pos, carried,
    dispose() { disposeLstmState(s.carried); s.carried = undefined; adam.dispose(); model.dispose(); },
  };
  return s;
}

/**
 * Refuses a run that cannot fit on the device before building anything: the parameters four times (values,
 * gradients, Adam's m and v) plus the activations one step keeps for backward (per layer and time step the
 * gates, cell and hidden state and their gradients; the logits, probabilities and their gradient).
 */
function checkTrainingFits(opts: TrainOptions, device: DeviceName, data: TrainingData): void {
  const V = data.vocab.size, D = opts.embed, H = opts.hidden, L = opts.layers;
  const B = data.train.B, T = data.train.T;
  const params = V * D + 4 * H * (D + H + 2) + (L - 1) * 4 * H * (2 * H + 2) + V * H + V;
  const activations = T * B * (L * 14 * H + 3 * V + D);
  checkAllocation(device, 4 * (4 * params + activations), `training this model (${params} parameters; batch ${B} × seq ${T})`,
    'use a smaller --hidden, --layers, --embed, --batch or --seq');
}

/** The message of a run that stopped before its first step: which stop it had reached, and how to go on. */
function nothingToDo(opts: TrainOptions, step: number, epoch: number): string {
  const at = `the run in '${opts.out}' is at step ${step} (epoch ${epoch.toFixed(2)})`;
  if (opts.steps > 0 && step >= opts.steps) return `nothing to do: ${at}, already at its stop --steps ${opts.steps}; extend it with --steps N (N > ${step}), e.g. lstm-cuda train --resume ${opts.out} --steps ${2 * step}`;
  if (opts.epochs > 0 && epoch >= opts.epochs) return `nothing to do: ${at}, already at its stop --epochs ${opts.epochs}; extend it with --epochs N (N > ${opts.epochs}) or --steps N (N > ${step})`;
  return `nothing to do: ${at}; --minutes ${opts.minutes} ran out before the first step`;
}

/**
 * Trains (or, when `resume` is true and opts.out holds a run, continues) a char-rnn.
 * Returns when a stopping criterion is met, on interrupt (after saving) or on a NaN loss (without saving).
 */
export async function trainCharRNN(options: TrainOptions & { resume?: boolean }, hooks: TrainHooks = {}): Promise<TrainResult> {
  checkObject('trainCharRNN: options', options);
  checkObject('trainCharRNN: hooks', hooks);
  const log = hooks.log ?? ((m: string) => { process.stderr.write(m + '\n'); });
  const resuming = !!options.resume;
  const opts: TrainOptions = resuming ? resumeOptions(options) : { ...options };
  const device = opts.device ?? defaultDevice();
  const openRun = () => RunDir.open(opts.out, { plotTitle: `char-rnn loss (${opts.file ?? 'text'})`, command: 'train' });
  // a fresh run reads its data before it creates anything; a resumed one locks its directory before reading it
  let base: LoadedCheckpoint | undefined;
  if (!resuming && opts.initFrom !== undefined) {
    base = loadCheckpoint(opts.initFrom, { device });
    const c = base.config;
    Object.assign(opts, { layers: c.numLayers, hidden: c.hiddenSize, embed: c.embedDim, vocab: base.vocab.mode });
  }
  let early: TrainingData | undefined;
  try {
    early = resuming ? undefined : prepareData(opts, { log, extend: base?.vocab });
    if (early) checkTrainingFits(opts, device, early);
  } catch (e) {
    base?.model.dispose();
    throw e;
  }
  const run = openRun();
  let session: Session | undefined;
  try {
    let saved: LoadedCheckpoint | undefined;
    if (resuming) {
      saved = loadCheckpoint(opts.out, { device });
      if (!saved.trainState) { saved.model.dispose(); saved.optimizer?.dispose(); throw new Error(`cannot resume: '${opts.out}' has no training state`); }
    }
    try {
      const data = early ?? prepareData(opts, { vocab: saved?.vocab, resumeDir: opts.out, log });
      session = setupSession(opts, device, data, saved, log, base);
    } catch (e) {
      if (!session) { saved?.model.dispose(); saved?.optimizer?.dispose(); }
      throw e;
    } finally {
      base?.model.dispose();
    }
    if (opts.steps === 0 && opts.epochs === 0 && opts.minutes === 0) opts.epochs = 10;
    run.startLog(resuming ? session.pos.step : undefined);
    const be = getBackend(device);
    run.log({ type: 'start', step: session.pos.step, time: new Date().toISOString(), device, deviceName: be.deviceName, resumed: resuming, initFrom: opts.initFrom });
    if (!opts.quiet) log(header(session));
    return await runLoop(session, run, hooks);
  } finally {
    session?.dispose();
    run.close();
  }
}

/** the first validation and sample preview come this soon at the latest (then every evalEvery / sampleEvery steps) */
const FIRST_LOOK_MS = 20_000;

/** What is about to be trained, printed before the first step. */
function header(s: Session): string {
  const { opts, data, model, device } = s;
  const c = model.config;
  const params = model.parameters().reduce((a, p) => a + p.size, 0);
  const chars = data.trainSymbols + data.valSymbols;
  const bpe = data.batchesPerEpoch;
  const perSteps = bpe >= LR_DECAY_MIN_STEPS ? 'epoch' : `${LR_DECAY_MIN_STEPS} steps (epochs are ${bpe} steps)`;
  return [
    `train: ${data.what}: ${chars.toLocaleString('en-US')} ${data.vocab.mode === 'byte' ? 'bytes' : 'characters'} (${data.trainSymbols.toLocaleString('en-US')} train, ${data.valSymbols.toLocaleString('en-US')} validation), ` +
      `${data.vocab.mode} vocabulary of ${data.vocab.size} symbols, mode ${opts.mode}${data.countedTargets !== undefined ? ` (the loss counts ${data.countedTargets.toLocaleString('en-US')} predictions from your lines)` : ''}`,
    `model: ${c.numLayers}×${c.hiddenSize} LSTM, embedding ${c.embedDim}, ${params.toLocaleString('en-US')} parameters on ${device} (${getBackend(device).deviceName})`,
    `batches: ${data.train.B}×${data.train.T}, ${bpe} steps per epoch; lr ${opts.lr} ×${opts.lrDecay} per ${perSteps}; ` +
      `${opts.evalEvery > 0 ? `validation every ${opts.evalEvery} steps` : 'no validation'}, ${opts.sampleEvery > 0 ? `a sample every ${opts.sampleEvery}` : 'no samples'} (the first of each within ${FIRST_LOOK_MS / 1000} s)`,
  ].join('\n');
}

/** The training loop over a session, writing into the run directory. */
async function runLoop(s: Session, run: RunDir, hooks: TrainHooks): Promise<TrainResult> {
  const { opts, device, data, model, adam } = s;
  const rs = s.pos;
  const vocab = data.vocab;
  const bpe = data.batchesPerEpoch;
  const params = model.parameters();
  const runOptions = storedOptions(opts, resolve);
  const state = (): TrainState => ({
    run: { ...rs }, dropoutRng: model.lstm.rngState(), data: data.fingerprint, options: runOptions, vocabSize: vocab.size,
    carry: s.carried ? { h: toHost(s.carried.h), c: toHost(s.carried.c) } : undefined,
  });
  const saveLatest = () => {
    run.saveLatest({ model, vocab, mode: opts.mode, optimizer: adam, state: state() });
    if (opts.keep > 0) keepHistory(opts.out, opts.keep, { model, vocab, mode: opts.mode, step: rs.step });
  };

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
  const fields = () => {
    const rate = trainMs > 0 ? tokensThisRun / (trainMs / 1000) : 0;
    const perStep = stepsThisRun ? trainMs / 1000 / stepsThisRun : NaN;
    const etas: number[] = [];
    if (totalSteps !== undefined && Number.isFinite(perStep)) etas.push((totalSteps - rs.step) * perStep);
    if (opts.minutes > 0) etas.push(opts.minutes * 60 - (Date.now() - t0) / 1000);
    return {
      step: rs.step, totalSteps, epoch: rs.epoch + rs.batchIndex / bpe, loss: rs.lossEma ?? NaN,
      valLoss: rs.lastValLoss ?? undefined, charsPerSec: rate, etaSeconds: etas.length ? Math.max(0, Math.min(...etas)) : undefined, lr: lrAt(opts, bpe, rs.step),
    };
  };
  const runEval = () => {
    if (!data.val) return;
    const v = evaluate(model, data.val);
    rs.lastValLoss = v;
    lastEvalStep = rs.step;
    run.valPoints.push({ step: rs.step, loss: v });
    run.log({ type: 'val', step: rs.step, epoch: rs.epoch + rs.batchIndex / bpe, valLoss: v });
    if (Number.isFinite(v) && (rs.bestValLoss === null || v < rs.bestValLoss)) {
      rs.bestValLoss = v;
      run.saveBest({ model, vocab, mode: opts.mode, step: rs.step });
    }
  };
  const preview = () => {
    const smp = sample(model, vocab, { maxLength: opts.sampleLength, temperature: 0.8, seed: (opts.seed + rs.step) >>> 0, mode: opts.mode, onWarning: () => {} });
    run.log({ type: 'sample', step: rs.step, text: smp.text }); // the serve page's previews
    if (!opts.quiet) bar.print(`--- sample at step ${rs.step} ---\n${smp.text}\n---`);
  };

  let status: TrainResult['status'] = 'done';
  let message = '';
  const signal = hooks.signal ?? { interrupted: false };
  // the first validation and the first sample come after FIRST_LOOK_MS at the latest, whatever the step
  let evaluated = false, previewed = false, tenth = lrAt(opts, bpe, rs.step) < opts.lr / 10;
  for (;;) {
    if (signal.interrupted) { status = 'interrupted'; break; }
    if (opts.steps > 0 && rs.step >= opts.steps) break;
    if (opts.epochs > 0 && rs.epoch >= opts.epochs) break;
    if (opts.minutes > 0 && Date.now() - t0 >= opts.minutes * 60000) break;

    const ts = Date.now();
    const batch = data.train.batch(rs.epoch, rs.batchIndex);
    if (batch.reset) { disposeLstmState(s.carried); s.carried = undefined; }
    const lr = lrAt(opts, bpe, rs.step);
    adam.lr = lr;
    if (!tenth && lr < opts.lr / 10) {
      tenth = true;
      (hooks.log ?? ((m: string) => bar.print(m)))(`note: the learning rate decayed past a tenth of --lr (${lr.toExponential(2)} at step ${rs.step}, epoch ${rs.epoch}); raise --lr-decay (now ${opts.lrDecay}) to keep it higher`);
    }
    const r = tidy(() => {
      const x = Tensor.from(batch.x, [batch.T, batch.B], { dtype: 'int32', device });
      const y = Tensor.from(batch.y, [batch.T * batch.B], { dtype: 'int32', device });
      const o = model.forward(x, s.carried);
      const state = opts.mode !== 'lines' ? { h: o.state.h.detach(), c: o.state.c.detach() } : undefined;
      // turns: a window of only the others' text is context, read for the carried state; nothing to learn
      if (batch.count === 0) return { loss: NaN, state };
      const loss = crossEntropy(reshape(o.logits, [batch.T * batch.B, vocab.size]), y, { ignoreIndex: IGNORE_INDEX });
      loss.backward();
      return { loss: loss.item(), state };
    });
    if (batch.count === 0) {
      disposeLstmState(s.carried);
      s.carried = r.state;
      rs.batchIndex++;
      if (rs.batchIndex >= bpe) { rs.epoch++; rs.batchIndex = 0; }
      continue;
    }
    const gradNorm = clipGradNorm(params, opts.clip > 0 ? opts.clip : Number.MAX_VALUE);
    if (!Number.isFinite(r.loss) || !Number.isFinite(gradNorm)) {
      disposeLstmState(r.state);
      adam.zeroGrad();
      status = 'nan';
      const last = run.hasCheckpoint() ? `the last good checkpoint in '${opts.out}' is unchanged` : 'no checkpoint was written';
      message = `training stopped: the ${Number.isFinite(r.loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(r.loss) ? gradNorm : r.loss} at step ${rs.step + 1} (lr ${lr.toExponential(3)}); ${last}. Try a lower --lr or a smaller --clip.`;
      run.log({ type: 'event', step: rs.step, event: 'nan', loss: r.loss, gradNorm });
      break;
    }
    adam.step();
    adam.zeroGrad();
    disposeLstmState(s.carried);
    s.carried = r.state;
    rs.step++;
    rs.batchIndex++;
    rs.tokensSeen += batch.count;
    if (rs.batchIndex >= bpe) { rs.epoch++; rs.batchIndex = 0; }
    const dt = Date.now() - ts;
    trainMs += dt; stepsThisRun++; tokensThisRun += batch.count;
    lastLoss = r.loss;
    rs.lossEma = rs.lossEma !== null ? 0.95 * rs.lossEma + 0.05 * r.loss : r.loss;
    run.trainPoints.push({ step: rs.step, loss: r.loss });
    run.log({ type: 'train', step: rs.step, epoch: rs.epoch + rs.batchIndex / bpe, loss: r.loss, lr, gradNorm, tokens: batch.count, ms: dt });

    const early = Date.now() - t0 >= FIRST_LOOK_MS;
    if (opts.evalEvery > 0 && (rs.step % opts.evalEvery === 0 || (!evaluated && early))) { runEval(); run.writePlot(); evaluated = true; }
    if (opts.saveEvery > 0 && rs.step % opts.saveEvery === 0) saveLatest();
    if (opts.sampleEvery > 0 && (rs.step % opts.sampleEvery === 0 || (!previewed && early))) { preview(); previewed = true; }
    bar.update(fields());
    await new Promise((res) => setImmediate(res));
  }
  if (status !== 'nan') {
    if (status === 'done' && lastEvalStep !== rs.step && stepsThisRun > 0) runEval();
    saveLatest();
    run.writePlot();
    const rate = trainMs > 0 ? tokensThisRun / (trainMs / 1000) : 0;
    message = status === 'interrupted'
      ? `interrupted at step ${rs.step}: checkpoint saved to '${opts.out}' (continue with --resume ${opts.out})`
      : stepsThisRun === 0 ? nothingToDo(opts, rs.step, rs.epoch + rs.batchIndex / bpe)
      : `done: step ${rs.step}, epoch ${(rs.epoch + rs.batchIndex / bpe).toFixed(2)}, train loss ${(rs.lossEma ?? NaN).toFixed(4)}` +
        `${rs.lastValLoss !== null ? `, val loss ${rs.lastValLoss.toFixed(4)} (best ${rs.bestValLoss!.toFixed(4)})` : ''}, ${formatRate(rate)} chars/s, ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s; checkpoint in '${opts.out}'`;
  }
  bar.done(fields());
  return {
    status, message, step: rs.step, epoch: rs.epoch + rs.batchIndex / bpe, trainLoss: rs.lossEma ?? lastLoss,
    valLoss: rs.lastValLoss ?? undefined, bestValLoss: rs.bestValLoss ?? undefined,
    charsPerSec: trainMs > 0 ? tokensThisRun / (trainMs / 1000) : 0, out: opts.out,
  };
}
