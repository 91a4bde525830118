// Gradient checks of every differentiable op and of LSTMCell and Stack through the tape: analytic
// gradients from backward() against float64 central differences on `ref`, at odd sizes, with an upstream
// gradient that is not all ones (loss = Σ_k sum(y_k ⊙ w_k) with fixed random w_k, or sum((y+1)²)).
// Relative error per element: |analytic - numeric| / max(|analytic|, |numeric|, 1e-3) ≤ 1e-6.
import test from 'tape';
import { Tensor } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { add, sub, mul } from '../src/ops/elementwise.js';
import { sum, mean } from '../src/ops/reduce.js';
import { reshape } from '../src/ops/reshape.js';
import { linear } from '../src/ops/linear.js';
import { embedding } from '../src/ops/embedding.js';
import { dropout } from '../src/ops/dropout.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { lstm } from '../src/ops/lstm.js';
import { LSTMCell } from '../src/nn/lstm_cell.js';
import { Stack } from '../src/nn/stack.js';
import type { Module } from '../src/nn/module.js';

import { F64, check, leaf, squared, vars, weighted, type Variable } from './grad.js';

const moduleVars = (m: Module): Variable[] => m.namedParameters().map(([name, tensor]) => ({ name, tensor }));

test('grad check: elementwise, scalar forms, sum, mean, reshape', (t) => {
  const a = leaf([3, 5], 1);
  const b = leaf([3, 5], 2);
  check(t, 'add', vars({ a, b }), () => weighted([add(a, b)]));
  check(t, 'sub', vars({ a, b }), () => weighted([sub(a, b)]));
  check(t, 'mul', vars({ a, b }), () => weighted([mul(a, b)]));
  check(t, 'mul of a tensor with itself', vars({ a }), () => weighted([mul(a, a)]));
  check(t, 'add scalar', vars({ a }), () => squared(add(a, 0.75)));
  check(t, 'sub scalar', vars({ a }), () => squared(sub(a, -1.5)));
  check(t, 'mul scalar', vars({ a }), () => squared(mul(a, -2.5)));
  check(t, 'sum', vars({ a }), () => squared(sum(a)));
  check(t, 'mean', vars({ a }), () => squared(mean(a)));
  check(t, 'reshape', vars({ a }), () => weighted([reshape(a, [5, 3]), reshape(a, [15, -1])]));
  check(t, 'Tensor methods chained', vars({ a, b }), () => a.mul(b).sub(a).add(2).mul(0.5).reshape([15]).mean().mul(a.sum()));
  t.end();
});

test('grad check: linear with leading dims, with and without bias', (t) => {
  const x = leaf([2, 3, 4], 3);
  const w = leaf([5, 4], 4);
  const b = leaf([5], 5);
  check(t, 'linear [2,3,4] -> [2,3,5] with bias', vars({ x, w, b }), () => weighted([linear(x, w, b)]));
  check(t, 'linear without bias', vars({ x, w }), () => squared(linear(x, w)));
  t.end();
});

test('grad check: embedding (repeated indices), dropout (fixed mask)', (t) => {
  const table = leaf([11, 3], 6);
  const idx = Tensor.from([3, 0, 10, 3, 7, 3], [2, 3], { dtype: 'int32', device: 'ref' });
  check(t, 'embedding V=11 D=3, idx [2,3]', vars({ table }), () => weighted([embedding(table, idx)]));
  const x = leaf([3, 7], 7);
  check(t, 'dropout p=0.3 (fixed seed and offset)', vars({ x }), () => weighted([dropout(x, { p: 0.3, seed: 9, offset: 5 })]));
  t.end();
});

test('grad check: crossEntropy, every reduction, with ignoreIndex', (t) => {
  const logits = leaf([5, 11], 11, 2);
  const targets = Tensor.from([3, 10, 0, 3, 7], [5], { dtype: 'int32', device: 'ref' });
  const withIgnored = Tensor.from([3, -1, 0, -1, 7], [5], { dtype: 'int32', device: 'ref' });
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    check(t, `crossEntropy ${reduction}`, vars({ logits }), () => weighted([crossEntropy(logits, targets, { reduction })]));
    check(t, `crossEntropy ${reduction}, ignoreIndex -1`, vars({ logits }),
      () => weighted([crossEntropy(logits, withIgnored, { reduction, ignoreIndex: -1 })]));
  }
  t.end();
});

test('grad check: lstm op (T = 1 and 6, B = 1 and 3, H = 5 and 7), with and without carried state', (t) => {
  const I = 4;
  for (const [T, B, H] of [[1, 1, 5], [6, 3, 5], [6, 1, 7], [1, 3, 7]]) {
    const x = leaf([T, B, I], 20 + T + B);
    const wih = leaf([4 * H, I], 21, 0.5);
    const whh = leaf([4 * H, H], 22, 0.5);
    const bih = leaf([4 * H], 23, 0.5);
    const bhh = leaf([4 * H], 24, 0.5);
    const h0 = leaf([B, H], 25, 0.5);
    const c0 = leaf([B, H], 26, 0.5);
    const w = { weightIh: wih, weightHh: whh, biasIh: bih, biasHh: bhh };
    check(t, `lstm T=${T} B=${B} H=${H} with h0, c0 (output, h, c)`, vars({ x, wih, whh, bih, bhh, h0, c0 }), () => {
      const r = lstm(x, h0, c0, w);
      return weighted([r.output, r.h, r.c]);
    });
    check(t, `lstm T=${T} B=${B} H=${H}, zero state, no bias, only c used`, vars({ x, wih, whh }), () => {
      const r = lstm(x, null, null, { weightIh: wih, weightHh: whh, biasIh: null, biasHh: null });
      return squared(r.c);
    });
  }
  t.end();
});

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
