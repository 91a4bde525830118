// Run-directory checkpoints of a CharRNN:
//   model.safetensors        weights under PyTorch's names; metadata: config (JSON), vocabulary (JSON), step
//   train_state.safetensors  Adam moments (optimizer.m.<param>, optimizer.v.<param>) and the caller's tensors
//                            (the trainer's carried recurrent state), when an optimizer or trainState is given
//   train_state.json         Adam's step/lr/hyperparameters and the caller's JSON (data position, RNG, options;
//                            the trainer's format is train_state.ts)
// The files of one save are one atomic commit (commit.ts: a fresh directory, then one symlink switch), so a
// crash at any instant leaves the previous or the new checkpoint. Each file is stamped with the step; the old
// flat layout (files written one by one) still loads, and a crash between its files is a mismatch error.
// Loading checks before allocating: checksums (safetensors.ts), the config against the tensors' names and
// shapes, finite weights.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceName } from '../backend.js';
import { getBackend } from '../device.js';
import { Tensor } from '../tensor.js';
import { CharRNN, charRnnParameterShapes, type CharRNNConfig } from '../nn/char_rnn.js';
import { Adam } from '../optim/adam.js';
import { Vocab } from '../text/vocab.js';
import type { DataMode } from '../text/corpus.js';
import { encodeSafetensors, readSafetensors, type HostTensor } from './safetensors.js';
import { writeFileAtomic } from '../atomic_write.js';
import { checkInstance, checkObject, checkString } from '../args.js';
import { commitFiles, committedDir, hasCommit } from './commit.js';
import { STATE_FILE, STATE_TENSORS_FILE, type TrainStateData } from './train_state.js';

export const MODEL_FILE = 'model.safetensors';
export { STATE_FILE, STATE_TENSORS_FILE, type TrainStateData };
/** every file one checkpoint may hold */
const CHECKPOINT_FILES = [MODEL_FILE, STATE_FILE, STATE_TENSORS_FILE];
const FORMAT = 'lstm-cuda.char-rnn.v1';

/** config stored in the checkpoint: the model's plus how it was trained on (data mode) */
export interface CheckpointConfig extends CharRNNConfig {
  mode: DataMode;
}


export interface SaveCheckpointOptions {
  model: CharRNN;
  vocab: Vocab;
  /** data mode the model was trained on (default 'text') */
  mode?: DataMode;
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

/**
 * Writes a checkpoint into `dir` (created if missing). With an optimizer or trainState the files are one
 * atomic commit (commit.ts): after a crash at any instant `dir` loads as the previous or this checkpoint.
 * A model alone goes into one atomically written model.safetensors (unless `dir` already uses commits).
 * `beforeCommit` runs when every file is durable, right before the switch (e.g. to check a lock).
 */
export function saveCheckpoint(dir: string, opts: SaveCheckpointOptions & { beforeCommit?: () => void }): void {
  checkString('saveCheckpoint: dir', dir);
  checkObject('saveCheckpoint: options', opts);
  checkInstance('saveCheckpoint: model', opts.model, CharRNN);
  checkInstance('saveCheckpoint: vocab', opts.vocab, Vocab);
  mkdirSync(dir, { recursive: true });
  const { model, vocab } = opts;
  if (model.vocabSize !== vocab.size) throw new RangeError(`saveCheckpoint: the model has ${model.vocabSize} output symbols but the vocabulary has ${vocab.size}`);
  const step = opts.step ?? opts.trainState?.json?.step ?? opts.optimizer?.stepCount ?? 0;
  const config: CheckpointConfig = { ...model.config, mode: opts.mode ?? 'text' };
  const named = model.namedParameters();
  const withState = !!(opts.optimizer || opts.trainState);
  const files: Record<string, Uint8Array | string> = {};
  if (withState) {
    let stateJson: Record<string, unknown> = {};
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
    files[STATE_TENSORS_FILE] = encodeSafetensors(tensors, { format: FORMAT, step: String(step) });
    files[STATE_FILE] = JSON.stringify({ format: FORMAT, ...stateJson, step }, null, 1) + '\n';
  }
  const tensors: Record<string, HostTensor> = {};
  for (const [name, p] of named) tensors[name] = toHost(p);
  files[MODEL_FILE] = encodeSafetensors(tensors, {
    format: 'pt',
    'lstm_cuda.format': FORMAT,
    'lstm_cuda.config': JSON.stringify(config),
    'lstm_cuda.vocab': JSON.stringify(vocab.toJSON()),
    'lstm_cuda.step': String(step),
  });
  if (withState || hasCommit(dir)) {
    commitFiles(dir, step, files, { beforeCommit: opts.beforeCommit, obsolete: CHECKPOINT_FILES });
  } else {
    opts.beforeCommit?.();
    writeFileAtomic(join(dir, MODEL_FILE), files[MODEL_FILE]!);
  }
}

/** true when `dir` holds a run's checkpoint (either layout) */
export function holdsCheckpoint(dir: string): boolean {
  return hasCommit(dir) || existsSync(join(dir, MODEL_FILE)) || existsSync(join(dir, STATE_FILE));
}

/** Positive integer config field, checked before anything is sized from it. */
function configInt(c: Record<string, unknown>, key: string, file: string): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) {
    throw new Error(`checkpoint '${file}': impossible config: ${key} ${JSON.stringify(v)} (expected an integer in [1, 2^31))`);
  }
  return v;
}

/**
 * The config of a model file, checked against the file's own tensors (names, shapes, dtypes, finite values)
 * before anything is allocated: a config that asks for more than the file holds is refused here.
 */
function checkedConfig(tensors: Record<string, HostTensor>, metadata: Record<string, string>, file: string): CheckpointConfig {
  const raw = parseJsonField(metadata, 'lstm_cuda.config', file);
  if (!raw || typeof raw !== 'object') throw new Error(`checkpoint '${file}': impossible config: not a JSON object`);
  const c = raw as Record<string, unknown>;
  const config: CheckpointConfig = {
    vocabSize: configInt(c, 'vocabSize', file), embedDim: configInt(c, 'embedDim', file),
    hiddenSize: configInt(c, 'hiddenSize', file), numLayers: configInt(c, 'numLayers', file),
    dropout: typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1 ? c.dropout : 0,
    mode: c.mode === 'lines' || c.mode === 'turns' ? c.mode : 'text',
  };
  const names = Object.keys(tensors);
  if (4 * config.numLayers + 3 !== names.length) {
    throw new Error(`checkpoint '${file}': config says numLayers ${config.numLayers} (${4 * config.numLayers + 3} tensors) but the file holds ${names.length} tensors`);
  }
  const expected = charRnnParameterShapes(config);
  const want = new Set(expected.map(([n]) => n));
  for (const name of names) if (!want.has(name)) throw new Error(`checkpoint '${file}': unexpected tensor '${name}'`);
  for (const [name, shape] of expected) {
    const t = tensors[name];
    if (!t) throw new Error(`checkpoint '${file}': missing tensor '${name}'`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`checkpoint '${file}': tensor '${name}' has shape [${t.shape}], the config needs [${shape}]`);
    }
    if (!(t.data instanceof Float32Array)) throw new Error(`checkpoint '${file}': tensor '${name}' must be F32`);
    let bad = 0, first = -1;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) { bad++; if (first < 0) first = i; }
    if (bad) throw new Error(`checkpoint '${file}': tensor '${name}' holds ${bad} non-finite value(s) (the first, ${t.data[first]}, at index ${first}); the weights are unusable (a diverged run or a damaged file)`);
  }
  return config;
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
  checkString('loadCheckpoint: dirOrFile (a run directory or a .safetensors file)', dirOrFile);
  checkObject('loadCheckpoint: options', opts);
  const single = dirOrFile.endsWith('.safetensors');
  const runDir = single ? join(dirOrFile, '..') : dirOrFile;
  const dir = single ? runDir : committedDir(runDir);
  const file = single ? dirOrFile : join(dir, MODEL_FILE);
  if (!existsSync(file)) {
    throw new Error(existsSync(runDir) ? `no checkpoint in '${runDir}': ${MODEL_FILE} is missing` : `checkpoint directory '${runDir}' does not exist`);
  }
  const { tensors, metadata } = readSafetensors(file);
  const config = checkedConfig(tensors, metadata, file);
  let vocab: Vocab;
  try {
    vocab = Vocab.fromJSON(parseJsonField(metadata, 'lstm_cuda.vocab', file));
  } catch (e) {
    throw new Error(`checkpoint '${file}': bad vocabulary: ${(e as Error).message}`);
  }
  if (config.vocabSize !== vocab.size) {
    throw new Error(`checkpoint '${file}': mismatched vocabulary: the config says ${config.vocabSize} symbols, the stored vocabulary has ${vocab.size}`);
  }
  if (opts.device !== undefined) getBackend(opts.device); // an unavailable device is its own clear error
  const model = new CharRNN({ ...config, device: opts.device, seed: 0 });
  try {
    const dict: Record<string, Tensor> = {};
    for (const [name, p] of model.namedParameters()) dict[name] = Tensor.from(tensors[name]!.data, tensors[name]!.shape, { dtype: p.dtype, device: p.device });
    model.loadStateDict(dict);
    for (const t of Object.values(dict)) t.dispose();
  } catch (e) {
    model.dispose();
    throw new Error(`checkpoint '${file}': ${(e as Error).message}`);
  }
  const step = Number(metadata['lstm_cuda.step'] ?? 0);
  const loaded: LoadedCheckpoint = { model, vocab, config, step };
  const stateFile = join(dir, STATE_FILE);
  if (!single && existsSync(stateFile)) {
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
          if (!t.data.every((x) => Number.isFinite(x))) throw new Error(`optimizer.${k}.${name} holds non-finite values; the optimizer state is unusable`);
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
