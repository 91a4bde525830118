// `--keep N`: beside the latest checkpoint, the model of each of the last N saves in RUN/step-<step>/ (a
// model-only checkpoint: sample, chat or --init-from it); older step directories are removed.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { saveCheckpoint } from '../checkpoint/checkpoint.js';
import type { CharRNN } from '../nn/char_rnn.js';
import type { Vocab } from '../text/vocab.js';
import type { DataMode } from '../text/corpus.js';

const STEP_DIR = /^step-(\d+)$/;

/** the step directories of a run, oldest first */
export function historyDirs(out: string): { step: number; dir: string }[] {
  let names: string[];
  try {
    names = readdirSync(out);
  } catch {
    return [];
  }
  return names.map((n) => STEP_DIR.exec(n)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), dir: join(out, m[0]) })).sort((a, b) => a.step - b.step);
}

/** Saves RUN/step-<step>/ and keeps the newest `keep` of them. */
export function keepHistory(out: string, keep: number, c: { model: CharRNN; vocab: Vocab; mode: DataMode; step: number }): void {
  saveCheckpoint(join(out, `step-${c.step}`), { model: c.model, vocab: c.vocab, mode: c.mode, step: c.step });
  const dirs = historyDirs(out);
  for (const d of dirs.slice(0, Math.max(0, dirs.length - keep))) rmSync(d.dir, { recursive: true, force: true });
}
