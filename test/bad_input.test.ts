// Bad input to tensors, ops, modules and optimizers: each case of the list must throw the named error type
// with a message matching its pattern (naming what was expected and what was given), must not leak a
// storage, and must leave the library working: a small forward/backward succeeds after every case.
import test from 'tape';
import type { Backend } from '../src/backend.js';
import { getBackend } from '../src/device.js';
import { checkKernelCall } from '../src/spec/check.js';
import { Buf, Tensor, tidy } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { embedding } from '../src/ops/embedding.js';
import { linear } from '../src/ops/linear.js';
import { lstm } from '../src/ops/lstm.js';
import { sampleTokens } from '../src/ops/sample.js';
import { LSTMCell } from '../src/nn/lstm_cell.js';
import { Stack } from '../src/nn/stack.js';
import { Linear } from '../src/nn/linear.js';
import { Embedding } from '../src/nn/embedding.js';
import { Adam } from '../src/optim/adam.js';
import { SGD } from '../src/optim/sgd.js';
import {
  add, sum, mean, reshape, stackRows, selectRow, keep, noGrad, CharRNN, Dropout, disposeLstmState, Vocab, normaliseNewlines,
  decodeUtf8Strict, encodeCorpus, splitCorpus, TextBatches, formatTurns, sample, ChatSession, Generator, encodeSafetensors,
  decodeSafetensors, loadCheckpoint, saveCheckpoint, readSafetensors, writeSafetensors, readCorpusFile, evaluate, setDefaultDevice,
  trainCharRNN, startServer,
} from '../src/index.js';

const cpu = getBackend('ref');
const CPU = { device: 'ref' } as const;
const I32 = { device: 'ref', dtype: 'int32' } as const;

/** A tensor on a second device: the cpu kernels under the name 'emu', to exercise the device check
 *  whether or not the emu addon is built here. */
function onOtherDevice(data: number[], shape: number[]): Tensor {
  const other: Backend = { ...cpu, name: 'emu' };
  return Tensor._wrap(new Buf(other, other.upload(Float32Array.from(data))), shape);
}

interface Case {
  name: string;
  fn: () => unknown;
  type: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;
  message: RegExp;
}

const a23 = () => Tensor.from([1, 2, 3, 4, 5, 6], [2, 3], CPU);
const logits = () => Tensor.randn([4, 11], { ...CPU, seed: 1, requiresGrad: true });
const stack = new Stack({ inputSize: 3, hiddenSize: 5, numLayers: 2, device: 'ref', seed: 1 });
const cell = new LSTMCell({ inputSize: 3, hiddenSize: 2, device: 'ref', seed: 2 });
const lin = new Linear({ inFeatures: 4, outFeatures: 2, device: 'ref', seed: 3 });
const emb = new Embedding({ numEmbeddings: 5, embeddingDim: 2, device: 'ref', seed: 4 });
const tiny = new CharRNN({ vocabSize: 4, embedDim: 2, hiddenSize: 2, numLayers: 1, device: 'ref', seed: 5 });
const tinyModel = () => tiny;
const goodState = () => Object.fromEntries(Object.entries(stack.stateDict()).map(([k, v]) => [k, Array.from(v.toArray())]));

const cases: Case[] = [
  // shapes
  { name: 'add of different shapes', fn: () => a23().add(Tensor.zeros([3, 2], CPU)), type: RangeError, message: /add: b has the wrong shape: expected \[2,3\], got \[3,2\]/ },
  { name: 'mul of different shapes', fn: () => a23().mul(Tensor.zeros([6], CPU)), type: RangeError, message: /mul: b has the wrong shape: expected \[2,3\], got \[6\]/ },
  { name: 'linear with the wrong input width', fn: () => linear(Tensor.zeros([2, 5], CPU), Tensor.zeros([3, 4], CPU)), type: RangeError, message: /linear: x has the wrong shape: expected \[\.\.\., 4\], got \[2,5\]/ },
  { name: 'Linear module with the wrong input width', fn: () => lin.forward(Tensor.zeros([7, 3], CPU)), type: RangeError, message: /expected \[\.\.\., 4\], got \[7,3\]/ },
  { name: 'lstm with a wrong weight_ih', fn: () => lstm(Tensor.zeros([2, 1, 4], CPU), null, null, { weightIh: Tensor.zeros([20, 3], CPU), weightHh: Tensor.zeros([20, 5], CPU), biasIh: null, biasHh: null }), type: RangeError, message: /lstm: x has 4 features per step \(shape \[2,1,4\]\) but weight_ih \[20,3\] takes inputs of size 3/ },
  { name: 'Stack with a wrong input size', fn: () => stack.forward(Tensor.zeros([4, 2, 4], CPU)), type: RangeError, message: /lstm: x has 4 features per step \(shape \[4,2,4\]\) but weight_ih \[20,3\] takes inputs of size 3/ },
  { name: 'Stack with a state of the wrong shape', fn: () => stack.forward(Tensor.zeros([4, 3, 3], CPU), { h: Tensor.zeros([1, 3, 5], CPU), c: Tensor.zeros([2, 3, 5], CPU) }), type: RangeError, message: /Stack: state.h has the wrong shape: expected \[2,3,5\], got \[1,3,5\]/ },
  { name: 'Stack with a 2-d input', fn: () => stack.forward(Tensor.zeros([4, 3], CPU)), type: RangeError, message: /Stack: x must be \[T, B, I\] \(rank 3\), got shape \[4,3\]/ },
  { name: 'LSTMCell with a 3-d input', fn: () => cell.forward(Tensor.zeros([1, 2, 3], CPU)), type: RangeError, message: /LSTMCell: x must be \[B, I\]/ },
  { name: 'LSTMCell with a state of another batch size', fn: () => cell.forward(Tensor.zeros([4, 3], CPU), { h: Tensor.zeros([3, 2], CPU), c: Tensor.zeros([3, 2], CPU) }), type: RangeError, message: /h0 has the wrong shape: expected \[4,2\], got \[3,2\]/ },
  { name: 'crossEntropy with targets of the wrong length', fn: () => crossEntropy(logits(), Tensor.from([1, 2, 3], [3], I32)), type: RangeError, message: /targets has the wrong shape: expected \[4\], got \[3\]/ },
  { name: 'crossEntropy with 3-d logits', fn: () => crossEntropy(Tensor.zeros([2, 2, 11], CPU), [1, 2]), type: RangeError, message: /logits must be \[N, V\] \(rank 2\), got shape \[2,2,11\]/ },
  { name: 'reshape to another size', fn: () => a23().reshape([4, 2]), type: RangeError, message: /reshape: shape \[4,2\] has 8 elements but the tensor has 6/ },
  { name: 'Tensor.from with too little data', fn: () => Tensor.from([1, 2, 3], [2, 2], CPU), type: RangeError, message: /data has 3 elements but shape \[2,2\] needs 4/ },
  { name: 'Tensor.from with a negative dimension', fn: () => Tensor.from([1], [-1], CPU), type: TypeError, message: /shape must contain non-negative integers, got \[-1\]/ },
  // dtypes and devices
  { name: 'add of float32 and float64', fn: () => a23().add(Tensor.zeros([2, 3], { ...CPU, dtype: 'float64' })), type: TypeError, message: /add: dtype mismatch: a is float32 but b is float64/ },
  { name: 'linear of float64 input and float32 weight', fn: () => linear(Tensor.zeros([2, 3], { ...CPU, dtype: 'float64' }), Tensor.zeros([2, 3], CPU)), type: TypeError, message: /linear: dtype mismatch: x is float64 but weight is float32/ },
  { name: 'add of tensors on two devices', fn: () => a23().add(onOtherDevice([1, 2, 3, 4, 5, 6], [2, 3])), type: Error, message: /add: device mismatch: a is on 'ref' but b is on 'emu'/ },
  { name: 'linear with the weight on another device', fn: () => linear(Tensor.zeros([2, 3], CPU), onOtherDevice([1, 2, 3, 4, 5, 6], [2, 3])), type: Error, message: /linear: device mismatch: x is on 'ref' but weight is on 'emu'/ },
  { name: 'an unknown device', fn: () => Tensor.zeros([2], { device: 'tpu' as 'ref' }), type: TypeError, message: /unknown device "tpu"; expected one of ref, cpu, emu, cuda/ },
  { name: 'an unknown dtype', fn: () => Tensor.zeros([2], { ...CPU, dtype: 'float16' as 'float32' }), type: TypeError, message: /unknown dtype "float16"/ },
  { name: 'an int32 tensor requiring grad', fn: () => Tensor.from([1, 2], [2], { ...I32, requiresGrad: true }), type: TypeError, message: /int32 tensor cannot require grad/ },
  // targets and indices
  { name: 'a target equal to V', fn: () => crossEntropy(logits(), Tensor.from([0, 1, 11, 2], [4], I32)), type: RangeError, message: /target 11 at row 2 is outside \[0, 11\) and is not ignoreIndex \(-100\)/ },
  { name: 'a negative target that is not ignoreIndex', fn: () => crossEntropy(logits(), Tensor.from([0, -1, 1, 2], [4], I32), { ignoreIndex: -2 }), type: RangeError, message: /target -1 at row 1 is outside \[0, 11\) and is not ignoreIndex \(-2\)/ },
  { name: 'float targets (a float32 tensor)', fn: () => crossEntropy(logits(), Tensor.from([0, 1, 2, 3], [4], CPU)), type: TypeError, message: /crossEntropy: targets must be int32, got dtype float32/ },
  { name: 'non-integer targets (a number array)', fn: () => crossEntropy(logits(), [0, 1.5, 2, 3]), type: TypeError, message: /targets: int32 data must hold integers, got 1.5 at index 1/ },
  { name: 'an unknown reduction', fn: () => crossEntropy(logits(), [0, 1, 2, 3], { reduction: 'avg' as 'mean' }), type: TypeError, message: /reduction must be 'mean', 'sum' or 'none', got "avg"/ },
  { name: 'crossEntropy ignoreIndex outside int32 (it wrapped on emu)', fn: () => crossEntropy(Tensor.zeros([2, 3], CPU), [0, 1], { ignoreIndex: 2 ** 32 + 1 }), type: RangeError, message: /crossEntropy: ignoreIndex must be an int32, got 4294967297/ },
  { name: 'an embedding index outside [0, V)', fn: () => embedding(Tensor.zeros([5, 2], CPU), Tensor.from([0, 5], [2], I32)), type: RangeError, message: /ref.embeddingForward: idx\[1\] = 5 is outside \[0, 5\)/ },
  { name: 'Embedding module with float indices', fn: () => emb.forward(Tensor.from([0, 1], [2], CPU)), type: TypeError, message: /embedding: idx must be int32, got dtype float32/ },
  { name: 'sampleTokens with topP 0', fn: () => sampleTokens(Tensor.zeros([1, 4], CPU), { seed: 1, offset: 0, topP: 0 }), type: RangeError, message: /topP must be in \(0, 1\], got 0/ },
  // lifetimes and the tape
  { name: 'use after dispose', fn: () => { const x = a23(); x.dispose(); return x.add(1); }, type: Error, message: /add: this tensor \(shape \[2,3\]\) was disposed/ },
  { name: 'toArray after dispose', fn: () => { const x = a23(); x.dispose(); return x.toArray(); }, type: Error, message: /toArray: this tensor \(shape \[2,3\]\) was disposed/ },
  { name: 'backward() on a non-scalar without grad', fn: () => Tensor.zeros([2, 3], { ...CPU, requiresGrad: true }).mul(2).backward(), type: Error, message: /only for a single-element tensor; this one has shape \[2,3\]/ },
  { name: 'backward(grad) with a grad of the wrong shape', fn: () => Tensor.zeros([2, 3], { ...CPU, requiresGrad: true }).mul(2).backward(Tensor.zeros([3, 2], CPU)), type: RangeError, message: /grad has the wrong shape: expected \[2,3\], got \[3,2\]/ },
  { name: 'backward() twice through a freed graph', fn: () => { const l = logits().mul(logits()).sum(); l.backward(); l.backward(); }, type: Error, message: /graph through op '.+' was already freed.*retainGraph: true/ },
  { name: 'backward() of a tensor that does not require grad', fn: () => a23().sum().backward(), type: Error, message: /does not require grad/ },
  { name: 'tidy with an async function', fn: () => tidy(async () => a23()), type: TypeError, message: /tidy\(fn\): fn must be synchronous/ },
  // constructor options
  { name: 'LSTMCell hiddenSize 0', fn: () => new LSTMCell({ inputSize: 3, hiddenSize: 0, device: 'ref' }), type: RangeError, message: /LSTMCell: hiddenSize must be a positive integer, got 0/ },
  { name: 'Stack hiddenSize 2.5', fn: () => new Stack({ inputSize: 3, hiddenSize: 2.5, device: 'ref' }), type: RangeError, message: /Stack: hiddenSize must be a positive integer, got 2.5/ },
  { name: 'Stack numLayers 0', fn: () => new Stack({ inputSize: 3, hiddenSize: 2, numLayers: 0, device: 'ref' }), type: RangeError, message: /Stack: numLayers must be a positive integer, got 0/ },
  { name: 'Stack dropout 1', fn: () => new Stack({ inputSize: 3, hiddenSize: 2, dropout: 1, device: 'ref' }), type: RangeError, message: /Stack: dropout must be in \[0, 1\), got 1/ },
  { name: 'Linear without inFeatures', fn: () => new Linear({ outFeatures: 2 } as never), type: TypeError, message: /Linear: inFeatures must be a positive integer, got undefined/ },
  { name: 'Embedding with a string size', fn: () => new Embedding({ numEmbeddings: '5' as never, embeddingDim: 2 }), type: TypeError, message: /Embedding: numEmbeddings must be a positive integer, got "5"/ },
  { name: 'Adam with no parameters', fn: () => new Adam([], { lr: 0.1 }), type: RangeError, message: /Adam: got an empty parameter list/ },
  { name: 'Adam with a negative lr', fn: () => new Adam(stack.parameters(), { lr: -1 }), type: RangeError, message: /Adam: lr must be a number in \[0, Infinity\], got -1/ },
  { name: 'SGD with a non-leaf parameter', fn: () => new SGD([logits().mul(2)], { lr: 0.1 }), type: TypeError, message: /SGD: params\[0\] must be a leaf tensor with requiresGrad/ },
  // what the fuzzer (test/faults/fuzz_child.ts) found answered in V8's words: each now names the argument
  { name: 'tidy of a number', fn: () => tidy(3 as never), type: TypeError, message: /^tidy\(fn\): fn must be a function, got 3$/ },
  { name: 'noGrad of a string', fn: () => noGrad('x' as never), type: TypeError, message: /^noGrad\(fn\): fn must be a function, got "x"$/ },
  { name: 'keep of a number', fn: () => keep(3 as never), type: TypeError, message: /^keep: t must be a Tensor, got 3$/ },
  { name: 'add of a plain object', fn: () => add({ shape: [2] } as never, 1), type: TypeError, message: /^add: a must be a Tensor, got an object \{shape\}$/ },
  { name: 'sum of an array', fn: () => sum([1, 2] as never), type: TypeError, message: /^sum: x must be a Tensor, got an array of 2$/ },
  { name: 'mean of null', fn: () => mean(null as never), type: TypeError, message: /^mean: x must be a Tensor, got null$/ },
  { name: 'reshape of a number', fn: () => reshape(3 as never, [1]), type: TypeError, message: /^reshape: x must be a Tensor, got 3$/ },
  { name: 'reshape to a non-array', fn: () => a23().reshape(6 as never), type: TypeError, message: /^reshape: shape must be an array of integers, got 6$/ },
  { name: 'stackRows of a tensor (not an array)', fn: () => stackRows(a23() as never), type: TypeError, message: /^stackRows: xs must be an array, got Tensor\(shape=\[2,3\]/ },
  { name: 'selectRow with an object row', fn: () => selectRow(a23(), {} as never), type: TypeError, message: /^selectRow: row must be an integer, got an empty object$/ },
  { name: 'lstm without weights', fn: () => lstm(Tensor.zeros([1, 1, 3], CPU), null, null, undefined as never), type: TypeError, message: /^lstm: weights must be an object, got undefined$/ },
  { name: 'lstm with a number as h0', fn: () => cell.forward(Tensor.zeros([1, 3], CPU), { h: 3, c: 3 } as never), type: TypeError, message: /h0 must be a Tensor, got 3/ },
  { name: 'linear without a weight', fn: () => linear(a23(), undefined as never), type: TypeError, message: /^linear: weight must be a Tensor, got undefined$/ },
  { name: 'embedding with null indices', fn: () => embedding(Tensor.zeros([5, 2], CPU), null as never), type: TypeError, message: /^embedding: idx must be a Tensor, got null$/ },
  { name: 'crossEntropy with a number as targets', fn: () => crossEntropy(logits(), 3 as never), type: TypeError, message: /^crossEntropy: targets must be an int32 Tensor or an array of integers, got 3$/ },
  { name: 'crossEntropy with options null', fn: () => crossEntropy(logits(), [0, 1, 2, 3], 5 as never), type: TypeError, message: /^crossEntropy: options must be an object, got 5$/ },
  { name: 'sampleTokens without options', fn: () => sampleTokens(Tensor.zeros([1, 4], CPU), 'greedy' as never), type: TypeError, message: /^sampleTokens: options must be an object, got "greedy"$/ },
  { name: 'new Tensor() (the internal constructor)', fn: () => new (Tensor as unknown as new (...a: unknown[]) => Tensor)(1, [1]), type: TypeError, message: /the constructor is internal; create tensors with Tensor.from/ },
  { name: 'Tensor.from of a number', fn: () => Tensor.from(3 as never, [1], CPU), type: TypeError, message: /^Tensor.from: data must be an array of numbers or a typed array, got 3$/ },
  { name: 'an unknown device given as a tensor', fn: () => Tensor.zeros([1], { device: a23() as never }), type: TypeError, message: /unknown device Tensor\(shape=\[2,3\], dtype=float32, device=ref\); expected one of/ },
  { name: 'CharRNN without options', fn: () => new CharRNN(undefined as never), type: TypeError, message: /^CharRNN: options must be an object, got undefined$/ },
  { name: 'Dropout with a number as options', fn: () => new Dropout(0.5 as never), type: TypeError, message: /^Dropout: options must be an object, got 0.5$/ },
  { name: 'disposeLstmState of a non-state', fn: () => disposeLstmState({ h: 1 } as never), type: TypeError, message: /^disposeLstmState: state.h must be a Tensor, got 1$/ },
  { name: 'Adam with a tensor as params', fn: () => new Adam(a23() as never, { lr: 0.1 }), type: TypeError, message: /Adam: params must be an array of Tensors \(e.g. model.parameters\(\)\), got Tensor/ },
  { name: 'Vocab.fromJSON of a number', fn: () => Vocab.fromJSON(3), type: TypeError, message: /Vocab.fromJSON: expected an object/ },
  { name: 'Vocab.fromText of a number', fn: () => Vocab.fromText(3 as never), type: TypeError, message: /^Vocab.fromText: text must be a string, got 3$/ },
  { name: 'vocab.encode of an array', fn: () => Vocab.bytes().encode(['a'] as never), type: TypeError, message: /^Vocab.encode: text must be a string, got an array of 1$/ },
  { name: 'normaliseNewlines of null', fn: () => normaliseNewlines(null as never), type: TypeError, message: /^normaliseNewlines: text must be a string, got null$/ },
  { name: 'decodeUtf8Strict of a string', fn: () => decodeUtf8Strict('abc' as never, 'x'), type: TypeError, message: /^decodeUtf8Strict: bytes must be a Uint8Array \(or Buffer\) of bytes, got "abc"$/ },
  { name: 'encodeCorpus of a number', fn: () => encodeCorpus(3 as never, { vocabMode: 'char', dataMode: 'text' }), type: TypeError, message: /^encodeCorpus: source must be a string or a Uint8Array of bytes, got 3$/ },
  { name: 'encodeCorpus with an unknown vocabMode', fn: () => encodeCorpus('abc', { vocabMode: 'word' as never, dataMode: 'text' }), type: TypeError, message: /^encodeCorpus: vocabMode must be 'char' or 'byte', got "word"$/ },
  { name: 'splitCorpus of a string', fn: () => splitCorpus('abc' as never, 0.1, 1), type: TypeError, message: /^splitCorpus: corpus must be an object, got "abc"$/ },
  { name: 'TextBatches of an array', fn: () => new TextBatches([1, 2, 3] as never, 1, 1), type: TypeError, message: /^TextBatches: ids must be an Int32Array, got an array of 3$/ },
  { name: 'formatTurns of a string', fn: () => formatTurns('me: hi' as never), type: TypeError, message: /^formatTurns: conversations must be an array, got "me: hi"$/ },
  { name: 'sample with a string as the checkpoint', fn: () => sample('runs/demo' as never), type: TypeError, message: /^sample: the first argument \(a loaded checkpoint \{model, vocab, config\}, or a model followed by its Vocab\) must be an object, got "runs\/demo"$/ },
  { name: 'sample with a vocabulary of another size', fn: () => sample(tinyModel(), Vocab.bytes(), { maxLength: 1 }), type: RangeError, message: /^sample: the model has 4 output symbols but the vocabulary has 257$/ },
  { name: 'ChatSession with a string as the vocabulary', fn: () => new ChatSession(tinyModel(), 'abc' as never), type: TypeError, message: /^ChatSession: vocab must be a Vocab, got "abc"$/ },
  { name: 'Generator of a plain object', fn: () => new Generator({} as never, Vocab.bytes()), type: TypeError, message: /^Generator: model must be a CharRNN, got an empty object$/ },
  { name: 'encodeSafetensors of a tensor without data', fn: () => encodeSafetensors({ w: { shape: [1] } } as never), type: TypeError, message: /^encodeSafetensors: tensors\['w'\].data must be a Float32Array, Float64Array or Int32Array, got undefined$/ },
  { name: 'decodeSafetensors of a string', fn: () => decodeSafetensors('abc' as never, 'x'), type: TypeError, message: /^decodeSafetensors: bytes must be a Uint8Array/ },
  // the file and process-wide functions the fuzzer leaves out (it would write random paths)
  { name: 'loadCheckpoint of a number', fn: () => loadCheckpoint(3 as never), type: TypeError, message: /^loadCheckpoint: dirOrFile \(a run directory or a .safetensors file\) must be a string, got 3$/ },
  { name: 'saveCheckpoint to an object', fn: () => saveCheckpoint({} as never, { model: tiny, vocab: Vocab.bytes() } as never), type: TypeError, message: /^saveCheckpoint: dir must be a string, got an empty object$/ },
  { name: 'saveCheckpoint without a model', fn: () => saveCheckpoint('/nonexistent/never-written', { vocab: Vocab.bytes() } as never), type: TypeError, message: /^saveCheckpoint: model must be a CharRNN, got undefined$/ },
  { name: 'readSafetensors of null', fn: () => readSafetensors(null as never), type: TypeError, message: /^readSafetensors: path must be a string, got null$/ },
  { name: 'writeSafetensors to a number', fn: () => writeSafetensors(3 as never, {}), type: TypeError, message: /^writeSafetensors: path must be a string, got 3$/ },
  { name: 'readCorpusFile of undefined', fn: () => readCorpusFile(undefined as never), type: TypeError, message: /^readCorpusFile: path must be a string, got undefined$/ },
  { name: 'evaluate of a non-model', fn: () => evaluate(null as never, null as never), type: TypeError, message: /^evaluate: model must be a CharRNN, got null$/ },
  { name: 'setDefaultDevice of an object', fn: () => setDefaultDevice({} as never), type: TypeError, message: /^setDefaultDevice: unknown device an empty object; expected one of ref, cpu, emu, cuda$/ },
  // loadStateDict
  { name: 'loadStateDict with a missing key', fn: () => { const d = goodState(); delete d.bias_hh_l1; stack.loadStateDict(d); }, type: Error, message: /loadStateDict: missing key 'bias_hh_l1'/ },
  { name: 'loadStateDict with an unknown key', fn: () => stack.loadStateDict({ ...goodState(), foo: [1] }), type: Error, message: /loadStateDict: unexpected key 'foo'/ },
  { name: 'loadStateDict with a tensor of the wrong shape', fn: () => stack.loadStateDict({ ...goodState(), weight_ih_l0: Tensor.zeros([20, 4], CPU) }), type: RangeError, message: /loadStateDict: 'weight_ih_l0' has the wrong shape: expected \[20,3\], got \[20,4\]/ },
  { name: 'loadStateDict with an array of the wrong length', fn: () => stack.loadStateDict({ ...goodState(), bias_ih_l1: [1, 2, 3] }), type: RangeError, message: /loadStateDict: 'bias_ih_l1' has the wrong size: expected 20 elements \(shape \[20\]\), got 3/ },
  { name: 'loadStateDict with a string value', fn: () => stack.loadStateDict({ ...goodState(), bias_ih_l1: 'x' as never }), type: TypeError, message: /'bias_ih_l1' must be a Tensor, a number array or a typed array/ },
];

/** a small forward/backward that must work after every case */
function stillWorks(): boolean {
  const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4, device: 'ref', seed: 9 });
  const g = tidy(() => {
    const s = cell.forward(Tensor.randn([2, 3], { ...CPU, seed: 2 }));
    s.h.add(s.c).sum().backward();
    return Array.from(cell.weight_ih.grad!.toArray());
  });
  cell.dispose();
  return g.length === 48 && g.every(Number.isFinite) && g.some((v) => v !== 0);
}

test('bad input: every case throws a clear error, leaks nothing, and the library keeps working', (t) => {
  const before = JSON.stringify(stack.stateDict(), (_, v) => (v instanceof Tensor ? Array.from(v.toArray()) : v));
  stillWorks(); // warm the row-index cache so that storage counts below are exact
  for (const c of cases) {
    const live = cpu.memory().liveCount;
    let err: unknown = null;
    try {
      tidy(() => {
        c.fn();
      });
    } catch (e) {
      err = e;
    }
    const msg = err instanceof Error ? err.message : String(err);
    t.ok(err instanceof c.type && c.message.test(msg), `${c.name}: ${c.type.name} ${JSON.stringify(msg)}`);
    t.equal(cpu.memory().liveCount, live, `${c.name}: no storage leaked`);
    t.ok(stillWorks(), `${c.name}: a forward/backward still works afterwards`);
  }
  const after = JSON.stringify(stack.stateDict(), (_, v) => (v instanceof Tensor ? Array.from(v.toArray()) : v));
  t.equal(after, before, 'failed loadStateDict calls changed no weight');
  t.end();
});

test('a kernel call that writes nothing is checked, then skipped (sumRows over 2^31-1 rows of 0 columns is no loop)', (t) => {
  const host = { name: 't', dtypes: ['float32'] as const, storageState: () => 'live' as const, firstBadIndex: () => null };
  const st = (length: number) => ({ dtype: 'float32' as const, length });
  t.equal(checkKernelCall(host, 'sumRows', { M: 2 ** 31 - 1, N: 0, x: st(0), out: st(0), accumulate: false }), true, 'M = 2^31-1, N = 0: nothing to write, skipped');
  t.equal(checkKernelCall(host, 'sumRows', { M: 2, N: 1, x: st(2), out: st(1), accumulate: false }), false, 'M = 2, N = 1: runs');
  t.throws(() => checkKernelCall(host, 'sumRows', { M: 2 ** 31 - 1, N: 0, x: st(0), out: null, accumulate: false }), /t.sumRows: 'out' is required, got null/, 'an empty call is still checked first');
  const s = cpu.upload(new Float32Array(0));
  cpu.sumRows({ M: 2 ** 31 - 1, N: 0, x: s, out: s, accumulate: true }); // returns at once (the aliasing is legal: nothing is read or written)
  cpu.free(s);
  t.pass('ref.sumRows({M: 2^31-1, N: 0}) returned');
  t.end();
});

test('the native backends expose no internal helper as a method (the fuzzer once reached fail() with a missing class)', (t) => {
  for (const name of ['cpu', 'emu'] as const) {
    let be: Backend;
    try { be = getBackend(name); } catch (e) { t.comment(`SKIP ${name}: ${(e as Error).message}`); continue; }
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(be)).filter((k) => k !== 'constructor');
    for (const internal of ['fail', 'unsupportedDtype', 'buf', 'native', 'launch']) t.notOk(methods.includes(internal), `${name}: no '${internal}' method`);
  }
  t.end();
});

test('the async entry points reject a non-object options argument with a clear TypeError', async (t) => {
  for (const [name, call, message] of [
    ['trainCharRNN(null)', () => trainCharRNN(null as never), /^trainCharRNN: options must be an object, got null$/],
    ['startServer(undefined)', () => startServer(undefined as never), /^startServer: options must be an object, got undefined$/],
  ] as const) {
    const e = await call().then(() => null, (err: unknown) => err);
    t.ok(e instanceof TypeError && message.test((e as Error).message), `${name}: ${String(e)}`);
  }
  t.end();
});
