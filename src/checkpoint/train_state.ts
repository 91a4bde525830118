// The training-state format of a char-rnn run (what --resume needs besides the weights and Adam's moments,
// which checkpoint.ts stores): the run position, the dropout RNG position, a fingerprint of the training
// data, the options the run was started with, and the carried recurrent state of text mode.
//   train_state.json         { format, step, adam, run, dropoutRng, data, options, vocabSize }
//   train_state.safetensors  carry.h, carry.c [L,B,H] (text mode) beside optimizer.m.* / optimizer.v.*
// A new field is added here (encode + decode with its default for older runs) and nowhere else.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostTensor } from './safetensors.js';
import { committedDir } from './commit.js';

export const STATE_FILE = 'train_state.json';
export const STATE_TENSORS_FILE = 'train_state.safetensors';

/** Host tensors (optimizer moments, carried state) and JSON (everything else) of a training run. */
export interface TrainStateData {
  json: Record<string, unknown> & { step: number };
  tensors: Record<string, HostTensor>;
}

/** Where a run stands: the next batch is (epoch, batchIndex); step counts optimizer steps so far. */
export interface RunPosition {
  step: number;
  epoch: number;
  batchIndex: number;
  bestValLoss: number | null;
  lastValLoss: number | null;
  tokensSeen: number;
  /** moving average of the train loss (display only) */
  lossEma: number | null;
}

export interface TrainState {
  run: RunPosition;
  dropoutRng: { seed: number; counter: number };
  /** fingerprint of the training data (see dataFingerprint) */
  data: string;
  /** the options the run uses (train/options.ts gives them their type) */
  options: Record<string, unknown>;
  vocabSize: number;
  /** text mode: the recurrent state carried into the next batch */
  carry?: { h: HostTensor; c: HostTensor };
}

export function freshPosition(): RunPosition {
  return { step: 0, epoch: 0, batchIndex: 0, bestValLoss: null, lastValLoss: null, tokensSeen: 0, lossEma: null };
}

/** FNV-1a over the bytes with the length: tells whether the training data changed between runs */
export function dataFingerprint(b: Uint8Array | string): string {
  const bytes = typeof b === 'string' ? new TextEncoder().encode(b) : b;
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}

/** The JSON and tensors saveCheckpoint stores for a TrainState. */
export function encodeTrainState(s: TrainState): TrainStateData {
  const tensors: Record<string, HostTensor> = {};
  if (s.carry) { tensors['carry.h'] = s.carry.h; tensors['carry.c'] = s.carry.c; }
  return {
    json: { step: s.run.step, run: { ...s.run }, dropoutRng: { ...s.dropoutRng }, data: s.data, options: s.options, vocabSize: s.vocabSize },
    tensors,
  };
}

/** Reads a TrainState back from what loadCheckpoint returned; `where` names the run in errors. */
export function decodeTrainState(d: TrainStateData, where: string): TrainState {
  const j = d.json as Record<string, unknown>;
  const fail = (what: string): never => { throw new Error(`cannot resume: '${where}': training state ${what}`); };
  const run = j.run as Partial<RunPosition> | undefined;
  if (!run || typeof run !== 'object') fail('has no run position');
  for (const k of ['step', 'epoch', 'batchIndex', 'tokensSeen'] as const) {
    if (!Number.isInteger(run![k]) || run![k]! < 0) fail(`has a bad run.${k} (${JSON.stringify(run![k])})`);
  }
  const rng = j.dropoutRng as TrainState['dropoutRng'] | undefined;
  if (!rng || !Number.isInteger(rng.seed) || !Number.isInteger(rng.counter)) fail('has no dropout RNG position');
  if (typeof j.options !== 'object' || j.options === null) fail('has no options');
  const h = d.tensors['carry.h'], c = d.tensors['carry.c'];
  return {
    run: { ...freshPosition(), ...run },
    dropoutRng: rng!,
    data: String(j.data ?? ''),
    options: j.options as Record<string, unknown>,
    vocabSize: Number(j.vocabSize),
    carry: h && c ? { h, c } : undefined,
  };
}

/** The options a run directory was trained with, read without loading the model (for --resume checks). */
export function readRunOptionsJson(dir: string): Record<string, unknown> {
  const p = join(committedDir(dir), STATE_FILE);
  if (!existsSync(p)) {
    throw new Error(existsSync(dir) ? `cannot resume: '${dir}' has no ${STATE_FILE} (not a training run directory, or it never saved)` : `cannot resume: run directory '${dir}' does not exist`);
  }
  let options: unknown;
  try {
    options = (JSON.parse(readFileSync(p, 'utf8')) as { options?: unknown }).options;
  } catch (e) {
    throw new Error(`cannot resume: '${p}' is corrupt (${(e as Error).message})`);
  }
  if (typeof options !== 'object' || options === null) throw new Error(`cannot resume: '${p}' has no options`);
  return options as Record<string, unknown>;
}
