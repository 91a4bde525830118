// Run-directory I/O of a training run: create and lock RUN, log.jsonl (kept up to the resumed step on
// --resume, appended per event), loss.svg, the latest checkpoint with the training state (one atomic
// commit, made only while this process holds the lock) and best/ (model only, by validation loss).
import { accessSync, appendFileSync, constants, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CharRNN } from '../nn/char_rnn.js';
import type { DataMode } from '../text/corpus.js';
import type { Adam } from '../optim/adam.js';
import type { Vocab } from '../text/vocab.js';
import { holdsCheckpoint, saveCheckpoint, MODEL_FILE } from '../checkpoint/checkpoint.js';
import { encodeTrainState, type TrainState } from '../checkpoint/train_state.js';
import { lockRunDir, type RunLock } from '../checkpoint/lock.js';
import { writeErrorMessage, writeFileAtomic } from '../atomic_write.js';
import { lossCurveSvg, type LossPoint } from './plot.js';

export const LOG_FILE = 'log.jsonl';
export const PLOT_FILE = 'loss.svg';
export const BEST_DIR = 'best';

/** mkdir -p with an error that names the real cause (a read-only or unwritable parent, a file in the way). */
export function makeRunDir(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
    accessSync(out, constants.W_OK);
  } catch (e) {
    let p = resolve(out);
    while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
    let why = (e as Error).message;
    try {
      accessSync(p, constants.W_OK);
    } catch (a) {
      const code = (a as NodeJS.ErrnoException).code;
      why = `'${p}' is not writable (${code === 'EROFS' ? 'read-only file system' : code === 'EACCES' ? 'permission denied' : code})`;
    }
    throw new Error(`cannot create run directory '${out}': ${why}`);
  }
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

export interface CheckpointContent {
  model: CharRNN;
  vocab: Vocab;
  mode: DataMode;
  optimizer: Adam;
  state: TrainState;
}

export class RunDir {
  readonly trainPoints: LossPoint[] = [];
  readonly valPoints: LossPoint[] = [];
  private readonly logPath: string;

  private constructor(readonly out: string, private readonly lock: RunLock, private readonly plotTitle: string) {
    this.logPath = join(out, LOG_FILE);
  }

  /** Creates `out` and takes its lock (before anything in it is read or written). */
  static open(out: string, opts: { plotTitle: string; command?: string }): RunDir {
    makeRunDir(out);
    return new RunDir(out, lockRunDir(out, opts.command), opts.plotTitle);
  }

  /**
   * Starts the log. Resuming at `resumeStep`: log.jsonl keeps its entries up to that step (a killed run
   * may have logged steps after its last checkpoint; a torn last line is dropped). A fresh run starts an
   * empty log and removes an older run's best/ checkpoint.
   */
  startLog(resumeStep?: number): void {
    let kept = '';
    if (resumeStep !== undefined && existsSync(this.logPath)) {
      for (const line of readFileSync(this.logPath, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const e = JSON.parse(line) as { type: string; step: number; loss?: number; valLoss?: number };
          if (e.step > resumeStep) continue;
          kept += line + '\n';
          if (e.type === 'train' && e.loss !== undefined) this.trainPoints.push({ step: e.step, loss: e.loss });
          if (e.type === 'val' && e.valLoss !== undefined) this.valPoints.push({ step: e.step, loss: e.valLoss });
        } catch { /* a torn last line from a killed run */ }
      }
    }
    writeFileAtomic(this.logPath, kept);
    if (resumeStep === undefined) rmSync(join(this.out, BEST_DIR, MODEL_FILE), { force: true });
  }

  /** appends one event to log.jsonl */
  log(e: Record<string, unknown>): void {
    try {
      appendFileSync(this.logPath, JSON.stringify(e) + '\n');
    } catch (err) {
      throw new Error(writeErrorMessage(this.logPath, err), { cause: err });
    }
  }

  writePlot(): void {
    writeFileAtomic(join(this.out, PLOT_FILE), lossCurveSvg(decimate(this.trainPoints, 2000), this.valPoints, this.plotTitle));
  }

  /** the latest checkpoint with the training state, committed atomically while the lock is ours */
  saveLatest(c: CheckpointContent): void {
    const trainState = encodeTrainState(c.state);
    saveCheckpoint(this.out, { model: c.model, vocab: c.vocab, mode: c.mode, step: c.state.run.step, optimizer: c.optimizer, trainState, beforeCommit: () => this.lock.check() });
  }

  /** best/: the model alone */
  saveBest(c: Omit<CheckpointContent, 'optimizer' | 'state'> & { step: number }): void {
    this.lock.check();
    saveCheckpoint(join(this.out, BEST_DIR), { model: c.model, vocab: c.vocab, mode: c.mode, step: c.step });
  }

  hasCheckpoint(): boolean {
    return holdsCheckpoint(this.out);
  }

  /** releases the lock */
  close(): void {
    this.lock.release();
  }
}
