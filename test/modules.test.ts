// Modules against each other and against PyTorch's conventions, on `ref`: a 1-layer Stack equals
// LSTMCell stepped T times; a sequence split in two with the state carried equals it run at once;
// dropout 0 is the no-dropout path, eval() disables dropout, rngState replays masks; stateDict keys and
// shapes are torch.nn.LSTM's and round-trip; nested names; initialisation ranges; Linear and Embedding;
// and the same model on every native backend matches ref.
import test from 'tape';
import { Tensor, tidy } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { getBackend } from '../src/device.js';
import type { DeviceName } from '../src/backend.js';
import { forEachNativeBackend } from './native_backends.js';
import { Module } from '../src/nn/module.js';
import { LSTMCell } from '../src/nn/lstm_cell.js';
import { Stack } from '../src/nn/stack.js';
import { Linear } from '../src/nn/linear.js';
import { Embedding } from '../src/nn/embedding.js';
import { Dropout, DropoutStream } from '../src/nn/dropout.js';
import { selectRow } from '../src/ops/rows.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';

const F64 = { device: 'ref', dtype: 'float64' } as const;
const arr = (t: Tensor): number[] => Array.from(t.toArray());
const maxDiff = (a: Tensor, b: Tensor): number => {
  const x = a.toArray(), y = b.toArray();
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
};

test('a 1-layer Stack equals LSTMCell stepped T times (same weights, carried state)', (t) => {
  const T = 5, B = 3, I = 4, H = 7;
  const cell = new LSTMCell({ inputSize: I, hiddenSize: H, ...F64, seed: 1 });
  const stack = new Stack({ inputSize: I, hiddenSize: H, numLayers: 1, ...F64, seed: 2 });
  const cd = cell.stateDict();
  stack.loadStateDict({ weight_ih_l0: cd.weight_ih, weight_hh_l0: cd.weight_hh, bias_ih_l0: cd.bias_ih, bias_hh_l0: cd.bias_hh });
  const x = Tensor.randn([T, B, I], { ...F64, seed: 3 });
  const h0 = Tensor.randn([1, B, H], { ...F64, seed: 4 });
  const c0 = Tensor.randn([1, B, H], { ...F64, seed: 5 });
  tidy(() => {
    const r = stack.forward(x, { h: h0, c: c0 });
    let s = { h: h0.reshape([B, H]), c: c0.reshape([B, H]) };
    let worst = 0;
    for (let k = 0; k < T; k++) {
      s = cell.forward(selectRow(x, k), s);
      worst = Math.max(worst, maxDiff(s.h, selectRow(r.output, k)));
    }
    t.ok(worst < 1e-12, `every step's h matches (max diff ${worst})`);
    t.ok(maxDiff(s.h, r.state.h.reshape([B, H])) < 1e-12, 'final h matches');
    t.ok(maxDiff(s.c, r.state.c.reshape([B, H])) < 1e-12, 'final c matches');
  });
  t.end();
});

test('Stack: running a sequence in two halves with the state carried equals running it at once', (t) => {
  const T = 6, B = 2, I = 3, H = 5, L = 3;
  const st = new Stack({ inputSize: I, hiddenSize: H, numLayers: L, ...F64, seed: 6 });
  const x = Tensor.randn([T, B, I], { ...F64, seed: 7 });
  tidy(() => {
    const whole = st.forward(x);
    const xs = arr(x);
    const first = st.forward(Tensor.from(xs.slice(0, 3 * B * I), [3, B, I], F64));
    const second = st.forward(Tensor.from(xs.slice(3 * B * I), [3, B, I], F64), first.state);
    t.ok(maxDiff(selectRow(whole.output, 5), selectRow(second.output, 2)) < 1e-12, 'last output matches');
    t.ok(maxDiff(whole.state.h, second.state.h) < 1e-12, 'final h [L,B,H] matches');
    t.ok(maxDiff(whole.state.c, second.state.c) < 1e-12, 'final c [L,B,H] matches');
    t.ok(maxDiff(selectRow(whole.state.h, L - 1), selectRow(whole.output, T - 1)) === 0, 'h[L-1] is the last output step');
  });
  t.end();
});

test('Stack dropout: 0 is the no-dropout path, eval() disables it, rngState replays it', (t) => {
  const T = 4, B = 2, I = 3, H = 6, L = 2;
  const plain = new Stack({ inputSize: I, hiddenSize: H, numLayers: L, dropout: 0, ...F64, seed: 8 });
  const drop = new Stack({ inputSize: I, hiddenSize: H, numLayers: L, dropout: 0.5, ...F64, seed: 8 });
  const x = Tensor.randn([T, B, I], { ...F64, seed: 9 });
  tidy(() => {
    const r0 = plain.forward(x).output;
    t.deepEqual(plain.rngState().counter, 0, 'dropout 0 draws no mask');
    const evalOut = drop.eval().forward(x).output;
    t.equal(maxDiff(r0, evalOut), 0, 'eval() with dropout 0.5 equals dropout 0 (same seed, same weights)');
    t.equal(drop.rngState().counter, 0, 'eval() draws no mask');
    drop.train();
    const saved = drop.rngState();
    const a = drop.forward(x).output;
    t.ok(maxDiff(a, r0) > 1e-3, 'train mode with dropout 0.5 changes the output');
    t.equal(drop.rngState().counter, T * B * H * (L - 1), 'the counter advanced by one mask between the 2 layers');
    const b = drop.forward(x).output;
    t.ok(maxDiff(a, b) > 1e-3, 'the next call draws a different mask');
    drop.setRngState(saved);
    const c = drop.forward(x).output;
    t.equal(maxDiff(a, c), 0, 'setRngState replays the same mask bit-exactly');
    const one = new Stack({ inputSize: I, hiddenSize: H, numLayers: 1, dropout: 0.5, ...F64, seed: 8 });
    one.forward(x);
    t.equal(one.rngState().counter, 0, 'no dropout after the last layer');
  });
  const d = new Dropout({ p: 0.5, seed: 1 });
  const ones = Tensor.ones([1000], F64);
  const kept = arr(d.forward(ones)).filter((v) => v !== 0);
  t.ok(kept.length > 400 && kept.length < 600 && kept.every((v) => v === 2), `Dropout module keeps ~half, scaled by 2 (${kept.length})`);
  t.equal(d.eval().forward(ones), ones, 'Dropout module in eval returns its input');
  t.end();
});

test('stateDict: torch.nn.LSTM keys and shapes; loadStateDict round trip with Tensors and arrays', (t) => {
  const I = 3, H = 4;
  const st = new Stack({ inputSize: I, hiddenSize: H, numLayers: 2, ...F64, seed: 10 });
  const d = st.stateDict();
  t.deepEqual(Object.entries(d).map(([k, v]) => [k, v.shape]), [
    ['weight_ih_l0', [4 * H, I]], ['weight_hh_l0', [4 * H, H]], ['bias_ih_l0', [4 * H]], ['bias_hh_l0', [4 * H]],
    ['weight_ih_l1', [4 * H, H]], ['weight_hh_l1', [4 * H, H]], ['bias_ih_l1', [4 * H]], ['bias_hh_l1', [4 * H]],
  ], 'keys and shapes in torch.nn.LSTM order');
  const other = new Stack({ inputSize: I, hiddenSize: H, numLayers: 2, ...F64, seed: 11 });
  const x = Tensor.randn([3, 2, I], { ...F64, seed: 12 });
  tidy(() => {
    t.ok(maxDiff(st.forward(x).output, other.forward(x).output) > 1e-3, 'different seeds give different models');
    other.loadStateDict(d);
    t.equal(maxDiff(st.forward(x).output, other.forward(x).output), 0, 'after loading Tensors the outputs are equal');
    const third = new Stack({ inputSize: I, hiddenSize: H, numLayers: 2, ...F64, seed: 13 });
    third.loadStateDict(Object.fromEntries(Object.entries(d).map(([k, v]) => [k, arr(v)])));
    t.equal(maxDiff(st.forward(x).output, third.forward(x).output), 0, 'after loading number arrays the outputs are equal');
    const f32 = new Stack({ inputSize: I, hiddenSize: H, numLayers: 2, device: 'ref', seed: 14 });
    f32.loadStateDict(d);
    t.ok(maxDiff(f32.stateDict().weight_hh_l1, d.weight_hh_l1) < 1e-7, 'float64 tensors load into a float32 model');
  });
  const noBias = new LSTMCell({ inputSize: 2, hiddenSize: 3, bias: false, device: 'ref', seed: 1 });
  t.deepEqual(Object.keys(noBias.stateDict()), ['weight_ih', 'weight_hh'], 'bias: false has no bias parameters');
  t.end();
});

test('nested modules: PyTorch names and order; train()/eval() recurse', (t) => {
  class Model extends Module {
    readonly embedding = this.registerModule('embedding', new Embedding({ numEmbeddings: 5, embeddingDim: 3, device: 'ref', seed: 1 }));
    readonly lstm = this.registerModule('lstm', new Stack({ inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.1, device: 'ref', seed: 2 }));
    readonly decoder = this.registerModule('decoder', new Linear({ inFeatures: 4, outFeatures: 5, device: 'ref', seed: 3 }));
  }
  const m = new Model();
  t.deepEqual(m.namedParameters().map(([k]) => k), [
    'embedding.weight',
    'lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0',
    'lstm.weight_ih_l1', 'lstm.weight_hh_l1', 'lstm.bias_ih_l1', 'lstm.bias_hh_l1',
    'decoder.weight', 'decoder.bias',
  ], 'dotted names in registration order');
  t.equal(m.parameters().length, 11, 'parameters()');
  t.ok(m.parameters().every((p) => p.requiresGrad && p.isLeaf), 'parameters are leaves requiring grad');
  m.eval();
  t.ok(!m.training && !m.lstm.training && !m.decoder.training, 'eval() reaches every submodule');
  m.train();
  t.ok(m.training && m.lstm.training, 'train() too');
  const tmp = tidy(() => new Linear({ inFeatures: 2, outFeatures: 2, device: 'ref', seed: 4 }));
  t.doesNotThrow(() => tmp.weight.toArray(), 'parameters created inside tidy survive it');
  m.dispose();
  t.ok(m.parameters().every((p) => p.disposed), 'dispose() frees every parameter');
  t.end();
});

test('initialisation: ranges like PyTorch, repeatable from a seed', (t) => {
  const H = 16, I = 9;
  const st = new Stack({ inputSize: I, hiddenSize: H, numLayers: 2, device: 'ref', seed: 20 });
  const bound = 1 / Math.sqrt(H);
  const all = st.parameters().flatMap(arr);
  t.ok(all.every((v) => Math.abs(v) <= bound), `LSTM params within ±1/√H = ±${bound}`);
  t.ok(Math.max(...all) > 0.9 * bound && Math.min(...all) < -0.9 * bound, 'and spread over the range');
  const lin = new Linear({ inFeatures: I, outFeatures: 30, device: 'ref', seed: 21 });
  const lb = 1 / Math.sqrt(I);
  const lv = [...arr(lin.weight), ...arr(lin.bias!)];
  t.ok(lv.every((v) => Math.abs(v) <= lb) && Math.max(...lv) > 0.9 * lb, `Linear weight and bias within ±1/√in = ±${lb.toFixed(3)}`);
  const emb = new Embedding({ numEmbeddings: 50, embeddingDim: 40, device: 'ref', seed: 22 });
  const ev = arr(emb.weight);
  const mean = ev.reduce((s, v) => s + v, 0) / ev.length;
  const sd = Math.sqrt(ev.reduce((s, v) => s + (v - mean) ** 2, 0) / ev.length);
  t.ok(Math.abs(mean) < 0.06 && Math.abs(sd - 1) < 0.06, `Embedding N(0,1): mean ${mean.toFixed(3)}, sd ${sd.toFixed(3)}`);
  const again = new Stack({ inputSize: I, hiddenSize: H, numLayers: 2, device: 'ref', seed: 20 });
  t.deepEqual(again.parameters().flatMap(arr), all, 'the same seed gives the same weights');
  t.end();
});

test('Linear and Embedding: values with leading dimensions', (t) => {
  const lin = new Linear({ inFeatures: 2, outFeatures: 3, ...F64, seed: 1 });
  lin.loadStateDict({ weight: [1, 2, 3, 4, 5, 6], bias: [0.5, -1, 2] });
  const y = lin.forward(Tensor.from([1, 1, 2, 0, 0, -1, 3, 2], [2, 2, 2], F64));
  t.deepEqual(y.shape, [2, 2, 3], 'shape [..., out]');
  t.deepEqual(arr(y), [3.5, 6, 13, 2.5, 5, 12, -1.5, -5, -4, 7.5, 16, 29], 'x·Wᵀ + b');
  const emb = new Embedding({ numEmbeddings: 4, embeddingDim: 2, ...F64, seed: 2 });
  emb.loadStateDict({ weight: [0, 1, 10, 11, 20, 21, 30, 31] });
  const e = emb.forward(Tensor.from([3, 0, 2, 2, 1, 3], [3, 2], { device: 'ref', dtype: 'int32' }));
  t.deepEqual(e.shape, [3, 2, 2], 'shape [..., D]');
  t.deepEqual(arr(e), [30, 31, 0, 1, 20, 21, 20, 21, 10, 11, 30, 31], 'rows gathered');
  t.equal(getBackend('ref').name, 'ref', 'ran on ref');
  t.end();
});

forEachNativeBackend('modules', (kind) => test(`${kind}: Stack + Linear + crossEntropy match ref (forward and gradients)`, (t) => {
  const run = (device: DeviceName) => {
    const st = new Stack({ inputSize: 3, hiddenSize: 7, numLayers: 2, dropout: 0.3, device, seed: 50 });
    const lin = new Linear({ inFeatures: 7, outFeatures: 11, device, seed: 51 });
    st.setRngState({ seed: 5, counter: 99 });
    const x = Tensor.randn([5, 3, 3], { device, seed: 52 });
    const loss = tidy(() => {
      const r = st.forward(x);
      const l = crossEntropy(lin.forward(r.output).reshape([15, 11]), Array.from({ length: 15 }, (_, i) => (i * 7) % 11));
      const total = l.add(r.state.h.mul(r.state.c).sum());
      total.backward();
      return total.item();
    });
    return { loss, grads: [...st.parameters(), ...lin.parameters()].map((p) => Array.from(p.grad!.toArray())) };
  };
  const a = run('ref');
  const b = run(kind);
  t.ok(Math.abs(a.loss - b.loss) <= 1e-5 * (1 + Math.abs(a.loss)), `loss: ref ${a.loss}, ${kind} ${b.loss}`);
  // atol + rtol·|ref| with rtol 1e-4 and atol 1e-5 of each gradient's scale; NaN fails (the ratio is then NaN)
  let worst = 0;
  a.grads.forEach((g, k) => {
    const atol = 1e-5 * Math.max(...g.map(Math.abs));
    g.forEach((v, i) => { const r = Math.abs(v - b.grads[k][i]) / (atol + 1e-4 * Math.abs(v)); worst = r > worst || Number.isNaN(r) ? r : worst; });
  });
  t.ok(worst <= 1, `every gradient within 1e-5·scale + 1e-4·|ref|: worst ratio ${worst.toExponential(2)}`);
  const lin = new Linear({ inFeatures: 3, outFeatures: 2, device: 'ref', seed: 53 });
  const x = Tensor.randn([4, 3], { device: 'ref', seed: 54 });
  const onCpu = arr(lin.forward(x));
  const weight = lin.weight;
  lin.to(kind);
  t.ok(lin.weight === weight && weight.device === kind, 'module.to() moves parameters in place (same Tensor objects)');
  const there = arr(lin.forward(x.to(kind)));
  t.ok(there.every((v, i) => Math.abs(v - onCpu[i]) < 1e-6), 'and computes the same there');
  t.end();
}));

test('the dropout stream never wraps onto masks it already drew: near 2^32 it moves to a derived seed', (t) => {
  const x = Tensor.ones([16], { device: 'ref' });
  const mask = (s: DropoutStream) => Array.from(s.apply(x, 0.5).toArray());
  const a = new DropoutStream(7);
  const first = mask(a);
  t.deepEqual(a.state(), { seed: 7, counter: 16 }, 'the counter advances by the element count');
  const b = new DropoutStream(7);
  b.setState({ seed: 7, counter: 2 ** 32 - 10 });
  const nearEnd = mask(b);
  const after = b.state();
  t.notEqual(after.seed, 7, 'a mask that would cross 2^32 is drawn from a derived seed');
  t.equal(after.counter, 16, 'starting at counter 0 of that stream');
  t.notDeepEqual(nearEnd, first, 'so it is not the counter-0 mask of the old seed again');
  const c = new DropoutStream(7);
  c.setState({ seed: 7, counter: 2 ** 32 - 16 });
  mask(c);
  t.deepEqual(c.state(), { seed: after.seed, counter: 0 }, 'a mask ending exactly at 2^32 is drawn, then the stream moves on');
  const resumed = new DropoutStream(0);
  resumed.setState(after);
  const d = new DropoutStream(7);
  d.setState({ seed: 7, counter: 2 ** 32 - 10 });
  mask(d);
  t.deepEqual(mask(resumed), mask(d), 'state() after the move resumes the same masks');
  t.end();
});
