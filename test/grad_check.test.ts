// Gradient checks of the modules, LSTMCell and Stack, through the tape (test/grad.ts: float64 on `ref`
// against central differences, upstream gradient not all ones). Each op's own gradient check is in its
// test/<op>.test.ts.
import test from 'tape';
import { Tensor } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { LSTMCell } from '../src/nn/lstm_cell.js';
import { Stack } from '../src/nn/stack.js';
import type { Module } from '../src/nn/module.js';
import { F64, check, leaf, vars, weighted, type Variable } from './grad.js';

const moduleVars = (m: Module): Variable[] => m.namedParameters().map(([name, tensor]) => ({ name, tensor }));






test('grad check: LSTMCell stepped 3 times with carried state', (t) => {
  const B = 3, I = 4, H = 7;
  const cell = new LSTMCell({ inputSize: I, hiddenSize: H, ...F64, seed: 30 });
  const xs = [0, 1, 2].map((k) => leaf([B, I], 31 + k));
  const h0 = leaf([B, H], 35, 0.5);
  const c0 = leaf([B, H], 36, 0.5);
  const named = vars({ x0: xs[0], x1: xs[1], x2: xs[2], h0, c0 });
  check(t, 'LSTMCell B=3 H=7, 3 steps', [...moduleVars(cell), ...named], () => {
    let s = { h: h0, c: c0 };
    const hs: Tensor[] = [];
    for (const x of xs) {
      s = cell.forward(x, s);
      hs.push(s.h);
    }
    return weighted([...hs, s.c]);
  });
  t.end();
});

test('grad check: Stack of 2 layers, with and without dropout in train mode, with carried state', (t) => {
  const I = 4, H = 5, L = 2;
  for (const [T, B] of [[6, 3], [1, 1]]) {
    for (const p of [0, 0.4]) {
      const st = new Stack({ inputSize: I, hiddenSize: H, numLayers: L, dropout: p, ...F64, seed: 40 });
      st.train();
      const x = leaf([T, B, I], 41);
      const h0 = leaf([L, B, H], 42, 0.5);
      const c0 = leaf([L, B, H], 43, 0.5);
      const rng = { seed: 77, counter: 123 };
      check(t, `Stack L=2 T=${T} B=${B} H=${H} dropout=${p}`, [...moduleVars(st), ...vars({ x, h0, c0 })], () => {
        const r = st.forward(x, { h: h0, c: c0 });
        return weighted([r.output, r.state.h, r.state.c]);
      }, () => st.setRngState(rng));
    }
  }
  t.end();
});
