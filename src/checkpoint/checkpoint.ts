// Run-directory checkpoints of a CharRNN:
//   model.safetensors        weights under PyTorch's names; metadata: config (JSON), vocabulary (JSON), step
//   train_state.safetensors  Adam moments (optimizer.m.<param>, optimizer.v.<param>) and the caller's tensors
//                            (the trainer's carried recurrent state), when an optimizer or trainState is given
//   train_state.json         Adam's step/lr/hyperparameters and the caller's JSON (data position, RNG, options)
// Every file is written atomically (temp + rename) in the order train_state.safetensors, model.safetensors,
// train_state.json, each stamped with the step, so a crash between files is detected on load as a mismatch.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceName } from '../backend.js';
import { getBackend } from '../device.js';
import { Tensor } from '../tensor.js';
import { CharRNN, type CharRNNConfig } from '../nn/char_rnn.js';
import { Adam } from '../optim/adam.js';
import { Vocab } from '../text/vocab.js';
import { readSafetensors, writeSafetensors, type HostTensor } from './safetensors.js';
import { writeFileAtomic } from '../atomic_write.js';

export const MODEL_FILE = 'model.safetensors';
export const STATE_FILE = 'train_state.json';
export const STATE_TENSORS_FILE = 'train_state.safetensors';
const FORMAT = 'lstm-cuda.char-rnn.v1';

/** config stored in the checkpoint: the model's plus how it was trained on (data mode) */
export interface CheckpointConfig extends CharRNNConfig {
  mode: 'text' | 'lines';
}

/** Host tensors (optimizer moments, carried state) and JSON (everything else) of a training run. */
export interface TrainStateData {
  json: Record<string, unknown> & { step: number };
  tensors: Record<string, HostTensor>;
}

export interface SaveCheckpointOptions {
  model: CharRNN;
  vocab: Vocab;
  /** data mode the model was trained on (default 'text') */
  mode?: 'text' | 'lines';
  /** step stamped into the files (default trainState.json.step, else the optimizer's step count, else 0) */
  step?: number;
  /** Adam over model.parameters(): its moments and step are saved beside the model */
  optimizer?: Adam;
  /** extra training state: JSON and host tensors */
  trainState?: Partial<TrainStateData>;
}

export interface LoadedCheckpoint {
  model: CharRNN;
  vocab: Vocab;
  config: CheckpointConfig;
  step: number;
  /** Adam over model.parameters() with its saved moments, step and hyperparameters (when saved) */
  optimizer?: Adam;
  /** present when the directory holds training state */
  trainState?: TrainStateData;
}

interface SavedAdam {
  step: number; lr: number; betas: [number, number]; eps: number; weightDecay: number; decoupled: boolean;
}

/** host copy of a tensor */
export function toHost(t: Tensor): HostTensor {
  const data = t.toArray();
  return { shape: [...t.shape], data: data.slice() };
}

/** Writes `dir` (created if missing): model.safetensors and, with trainState, the training state files. */
export function saveCheckpoint(dir: string, opts: SaveCheckpointOptions): void {
  mkdirSync(dir, { recursive: true });
  const { model, vocab } = opts;
  if (model.vocabSize !== vocab.size) throw new RangeError(`saveCheckpoint: the model has ${model.vocabSize} output symbols but the vocabulary has ${vocab.size}`);
  const step = opts.step ?? opts.trainState?.json?.step ?? opts.optimizer?.stepCount ?? 0;
  const config: CheckpointConfig = { ...model.config, mode: opts.mode ?? 'text' };
  const named = model.namedParameters();
  const withState = !!(opts.optimizer || opts.trainState);
  let stateJson: Record<string, unknown> = {};
  if (withState) {
    const tensors: Record<string, HostTensor> = { ...(opts.trainState?.tensors ?? {}) };
    const o = opts.optimizer;
    if (o) {
      if (o.params.length !== named.length || o.params.some((p, i) => p !== named[i]![1])) {
        throw new Error('saveCheckpoint: the optimizer must be over model.parameters() (same tensors, same order)');
      }
      const sd = o.stateDict();
      named.forEach(([name, p], i) => {
        tensors[`optimizer.m.${name}`] = { shape: [...p.shape], data: Float32Array.from(sd.m[i]!) };
        tensors[`optimizer.v.${name}`] = { shape: [...p.shape], data: Float32Array.from(sd.v[i]!) };
      });
      const adam: SavedAdam = { step: sd.step, lr: sd.lr, betas: [o.beta1, o.beta2], eps: o.eps, weightDecay: o.weightDecay, decoupled: o.decoupled };
      stateJson.adam = adam;
    }
    stateJson = { ...(opts.trainState?.json ?? {}), ...stateJson };
    writeSafetensors(join(dir, STATE_TENSORS_FILE), tensors, { format: FORMAT, step: String(step) });
  }
  const tensors: Record<string, HostTensor> = {};
  for (const [name, p] of named) tensors[name] = toHost(p);
  writeSafetensors(join(dir, MODEL_FILE), tensors, {
    format: 'pt',
    'lstm_cuda.format': FORMAT,
    'lstm_cuda.config': JSON.stringify(config),
    'lstm_cuda.vocab': JSON.stringify(vocab.toJSON()),
    'lstm_cuda.step': String(step),
  });
  if (withState) writeFileAtomic(join(dir, STATE_FILE), JSON.stringify({ format: FORMAT, ...stateJson, step }, null, 1) + '\n');
}

function parseJsonField(meta: Record<string, string>, key: string, file: string): unknown {
  const s = meta[key];
  if (s === undefined) throw new Error(`checkpoint '${file}': metadata has no '${key}' (not a lstm-cuda char-rnn checkpoint?)`);
  try {
    return JSON.parse(s);
  } catch {
    throw new Error(`checkpoint '${file}': metadata '${key}' is not valid JSON`);
  }
}

/**
 * Loads a run directory (or a model.safetensors path) onto `device` (default: the default device).
 * Any inconsistency (missing tensors, wrong shapes, vocabulary size ≠ embedding rows, files of
 * different steps) is an Error naming the file and the problem.
 */
export function loadCheckpoint(dirOrFile: string, opts: { device?: DeviceName } = {}): LoadedCheckpoint {
  const dir = dirOrFile.endsWith('.safetensors') ? join(dirOrFile, '..') : dirOrFile;
  const file = dirOrFile.endsWith('.safetensors') ? dirOrFile : join(dir, MODEL_FILE);
  if (!existsSync(file)) {
    throw new Error(existsSync(dir) ? `no checkpoint in '${dir}': ${MODEL_FILE} is missing` : `checkpoint directory '${dir}' does not exist`);
  }
  const { tensors, metadata } = readSafetensors(file);
  const c = parseJsonField(metadata, 'lstm_cuda.config', file) as Partial<CheckpointConfig>;
  let vocab: Vocab;
  try {
    vocab = Vocab.fromJSON(parseJsonField(metadata, 'lstm_cuda.vocab', file));
  } catch (e) {
    throw new Error(`checkpoint '${file}': bad vocabulary: ${(e as Error).message}`);
  }
  const config: CheckpointConfig = {
    vocabSize: c.vocabSize!, embedDim: c.embedDim!, hiddenSize: c.hiddenSize!, numLayers: c.numLayers!,
    dropout: c.dropout ?? 0, mode: c.mode === 'lines' ? 'lines' : 'text',
  };
  if (config.vocabSize !== vocab.size) {
    throw new Error(`checkpoint '${file}': mismatched vocabulary: the config says ${config.vocabSize} symbols, the stored vocabulary has ${vocab.size}`);
  }
  if (opts.device !== undefined) getBackend(opts.device); // an unavailable device is its own clear error
  let model: CharRNN;
  try {
    model = new CharRNN({ ...config, device: opts.device, seed: 0 });
  } catch (e) {
    throw new Error(`checkpoint '${file}': bad config: ${(e as Error).message}`);
  }
  try {
    const expected = new Map(model.namedParameters());
    for (const name of Object.keys(tensors)) {
      if (!expected.has(name)) throw new Error(`unexpected tensor '${name}'`);
    }
    const dict: Record<string, Tensor> = {};
    for (const [name, p] of expected) {
      const t = tensors[name];
      if (!t) throw new Error(`missing tensor '${name}'`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new Error(`tensor '${name}' has shape [${t.shape}], the config needs [${p.shape}]`);
      }
      if (!(t.data instanceof Float32Array)) throw new Error(`tensor '${name}' must be F32`);
      dict[name] = Tensor.from(t.data, t.shape, { dtype: p.dtype, device: p.device });
    }
    model.loadStateDict(dict);
    for (const t of Object.values(dict)) t.dispose();
  } catch (e) {
    model.dispose();
    throw new Error(`checkpoint '${file}': ${(e as Error).message}`);
  }
  const step = Number(metadata['lstm_cuda.step'] ?? 0);
  const loaded: LoadedCheckpoint = { model, vocab, config, step };
  const stateFile = join(dir, STATE_FILE);
  if (!dirOrFile.endsWith('.safetensors') && existsSync(stateFile)) {
    let json: TrainStateData['json'];
    try {
      json = JSON.parse(readFileSync(stateFile, 'utf8'));
    } catch (e) {
      model.dispose();
      throw new Error(`checkpoint '${stateFile}': corrupt (${(e as Error).message})`);
    }
    let st: ReturnType<typeof readSafetensors>;
    try {
      st = readSafetensors(join(dir, STATE_TENSORS_FILE));
    } catch (e) {
      model.dispose(); // a missing or corrupt state file must not leak the model's device buffers
      throw e;
    }
    const stStep = Number(st.metadata.step);
    if (json.step !== step || stStep !== step) {
      model.dispose();
      throw new Error(`checkpoint '${dir}': files from different steps (${MODEL_FILE} ${step}, ${STATE_FILE} ${json.step}, ${STATE_TENSORS_FILE} ${stStep}); the run was interrupted while saving`);
    }
    loaded.trainState = { json, tensors: st.tensors };
    const a = (json as { adam?: SavedAdam }).adam;
    if (a) {
      try {
        const named = model.namedParameters();
        const arrays = (k: 'm' | 'v') => named.map(([name, p]) => {
          const t = st.tensors[`optimizer.${k}.${name}`];
          if (!t || t.data.length !== p.size) throw new Error(`optimizer.${k}.${name} is missing or has the wrong size`);
          return t.data;
        });
        const opt = new Adam(model.parameters(), { lr: a.lr, betas: a.betas, eps: a.eps, weightDecay: a.weightDecay, decoupled: a.decoupled });
        opt.loadStateDict({ type: 'adam', step: a.step, lr: a.lr, m: arrays('m') as unknown as number[][], v: arrays('v') as unknown as number[][] });
        loaded.optimizer = opt;
      } catch (e) {
        model.dispose();
        throw new Error(`checkpoint '${join(dir, STATE_TENSORS_FILE)}': ${(e as Error).message}`);
      }
    }
  }
  return loaded;
}
