// lstm-cuda's public API: tensors and autograd, differentiable ops, nn modules, optimizers, devices.
export type { DType, DeviceName, TypedArray, Backend, Storage, MemoryStats } from './backend.js';
export { getBackend, defaultDevice, setDefaultDevice, devices, type DeviceInfo } from './device.js';
export { RngStream } from './rng.js';
export { VERSION } from './version.js';

export { Tensor, noGrad, tidy, keep, isGradEnabled, type TensorOptions, type RandomOptions } from './tensor.js';
import './ops/methods.js'; // t.add, t.mul, t.sum, t.reshape, t.to, ...

export { add, sub, mul } from './ops/elementwise.js';
export { sum, mean } from './ops/reduce.js';
export { reshape } from './ops/reshape.js';
export { linear } from './ops/linear.js';
export { embedding } from './ops/embedding.js';
export { dropout, type DropoutOptions } from './ops/dropout.js';
export { crossEntropy, type CrossEntropyOptions } from './ops/cross_entropy.js';
export { lstm, type LstmWeights, type LstmResult } from './ops/lstm.js';
export { selectRow, stackRows } from './ops/rows.js';
export { sampleTokens, type SampleOptions, type SampleResult } from './ops/sample.js';

export { Module, type ModuleOptions, type StateDictValue } from './nn/module.js';
export { LSTMCell, type LSTMCellOptions, type LstmState } from './nn/lstm_cell.js';
export { Stack, type StackOptions, type StackResult } from './nn/stack.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { Embedding, type EmbeddingOptions } from './nn/embedding.js';
export { Dropout, type DropoutModuleOptions, type RngState } from './nn/dropout.js';

export { Optimizer } from './optim/optimizer.js';
export { Adam, type AdamOptions, type AdamStateDict } from './optim/adam.js';
export { SGD, type SGDOptions, type SGDStateDict } from './optim/sgd.js';
export { clipGradNorm } from './optim/clip.js';

// ---- char-rnn (text/, sample/, checkpoint/)
export { CharRNN, disposeLstmState, type CharRNNConfig, type CharRNNOptions } from './nn/char_rnn.js';
export { Vocab, normaliseNewlines, type VocabMode, type VocabJSON } from './text/vocab.js';
export { readCorpusFile, encodeCorpus, splitCorpus, decodeUtf8Strict, type DataMode, type EncodedCorpus, type CorpusSplit } from './text/corpus.js';
export { TextBatches, LineBatches, fitTextShape, IGNORE_INDEX, type Batch, type Batches } from './text/batches.js';
export { sample, generate, type SampleTextOptions, type SampleTextResult, type GeneratedToken, type SampleSource, type GenerateOptions, type GeneratedStep, type Alternative } from './sample/sample.js';
export { beamSearch, type BeamSearchOptions, type BeamHypothesis } from './sample/beam.js';
export { Generator, type GeneratorOptions, type DrawOptions, type Draw } from './sample/generator.js';
export { ChatSession, reply, type ChatReply, type ChatReplyOptions, type ChatSessionOptions, type ChatMessageRecord } from './chat/chat.js';
export { formatTurns, turnsMask, ME_MARKER, THEM_MARKER, type Turn } from './chat/turns.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointConfig, type LoadedCheckpoint, type SaveCheckpointOptions } from './checkpoint/checkpoint.js';
export { readSafetensors, writeSafetensors, encodeSafetensors, decodeSafetensors } from './checkpoint/safetensors.js';
export { trainCharRNN, evaluate, DEFAULT_TRAIN_OPTIONS, type TrainOptions, type TrainResult } from './train/trainer.js';
export { startServer, type ServeOptions, type RunningServer } from './serve/server.js';
