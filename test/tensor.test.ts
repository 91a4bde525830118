// Tensor and tape basics on `ref`: creation, toArray/item, reshape, arithmetic values and gradients,
// gradient accumulation, retainGraph, tidy (frees intermediates, keeps results, nests, cleans up on
// throw), noGrad, detach, dispose, and that a graph's saved buffers are all freed by backward().
import test from 'tape';
import { Tensor, noGrad, tidy, keep } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { getBackend } from '../src/device.js';
import { forEachNativeBackend } from './native_backends.js';
import { collectGarbage } from './gc.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { linear } from '../src/ops/linear.js';
import { lstm } from '../src/ops/lstm.js';
import { selectRow } from '../src/ops/rows.js';
import { embedding } from '../src/ops/embedding.js';
import { sampleTokens } from '../src/ops/sample.js';

const be = getBackend('ref');
const live = (): number => be.memory().liveCount;
const CPU = { device: 'ref' } as const;
const arr = (t: Tensor | null): number[] => Array.from(t!.toArray());

test('creation: from, zeros, ones, full, randn, uniform', (t) => {
  const a = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3], CPU);
  t.deepEqual(a.shape, [2, 3], 'shape');
  t.equal(a.dtype, 'float32', 'default dtype float32');
  t.equal(a.device, 'ref', 'device');
  t.equal(a.size, 6, 'size');
  t.deepEqual(arr(a), [1, 2, 3, 4, 5, 6], 'values row-major');
  t.ok(a.toArray() instanceof Float32Array, 'toArray gives a Float32Array');
  t.equal(Tensor.from(Int32Array.of(1, 2), [2], CPU).dtype, 'int32', 'an Int32Array makes int32');
  const d = Tensor.from(new Float64Array([0.1, 0.2]), [2], { ...CPU, dtype: 'float64' });
  t.equal(d.toArray()[0], 0.1, 'float64 keeps double precision');
  t.deepEqual(arr(Tensor.zeros([2, 2], CPU)), [0, 0, 0, 0], 'zeros');
  t.deepEqual(arr(Tensor.ones([3], CPU)), [1, 1, 1], 'ones');
  t.deepEqual(arr(Tensor.full([2], 7, { ...CPU, dtype: 'int32' })), [7, 7], 'full int32');
  const r1 = Tensor.randn([100], { ...CPU, seed: 5 });
  const r2 = Tensor.randn([100], { ...CPU, seed: 5 });
  t.deepEqual(arr(r1), arr(r2), 'randn is repeatable from a seed');
  const m = arr(r1).reduce((s, v) => s + v, 0) / 100;
  t.ok(Math.abs(m) < 0.35, `randn mean ≈ 0 (${m.toFixed(3)})`);
  const u = arr(Tensor.uniform([200], { ...CPU, seed: 6, low: -2, high: 3 }));
  t.ok(u.every((v) => v >= -2 && v < 3), 'uniform in [low, high)');
  t.ok(Math.min(...u) < -1.5 && Math.max(...u) > 2.5, 'uniform spans the range');
  const s = Tensor.zeros([], CPU);
  t.deepEqual(s.shape, [], 'a scalar has shape []');
  t.equal(s.item(), 0, 'item of a scalar');
  t.end();
});

test('toArray is a copy; item', (t) => {
  const a = Tensor.from([1, 2], [2], CPU);
  const h = a.toArray();
  h[0] = 99;
  t.deepEqual(arr(a), [1, 2], 'writing the host copy leaves the tensor unchanged');
  t.equal(Tensor.from([4.5], [1, 1], CPU).item(), 4.5, 'item of a [1,1] tensor');
  t.throws(() => a.item(), /exactly one element.*\[2\]/, 'item of two elements throws');
  t.end();
});

test('reshape: values, -1, shares storage, gradient', (t) => {
  const a = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3], { ...CPU, requiresGrad: true });
  const before = live();
  const b = a.reshape([3, -1]);
  t.equal(live(), before, 'reshape allocates nothing (a view)');
  t.deepEqual(b.shape, [3, 2], '-1 inferred');
  t.deepEqual(arr(b), [1, 2, 3, 4, 5, 6], 'row-major order kept');
  b.mul(Tensor.from([1, 2, 3, 4, 5, 6], [3, 2], CPU)).sum().backward();
  t.deepEqual(arr(a.grad), [1, 2, 3, 4, 5, 6], 'gradient flows back through the view');
  t.throws(() => a.reshape([4, 2]), /\[4,2\] has 8 elements but the tensor has 6/, 'wrong size throws');
  t.end();
});

test('arithmetic: values and gradients', (t) => {
  const a = Tensor.from([1, -2, 3], [3], { ...CPU, requiresGrad: true });
  const b = Tensor.from([4, 5, -6], [3], { ...CPU, requiresGrad: true });
  t.deepEqual(arr(a.add(b)), [5, 3, -3], 'add');
  t.deepEqual(arr(a.sub(b)), [-3, -7, 9], 'sub');
  t.deepEqual(arr(a.mul(b)), [4, -10, -18], 'mul');
  t.deepEqual(arr(a.add(1)), [2, -1, 4], 'add scalar');
  t.deepEqual(arr(a.sub(1)), [0, -3, 2], 'sub scalar');
  t.deepEqual(arr(a.mul(2)), [2, -4, 6], 'mul scalar');
  t.equal(a.sum().item(), 2, 'sum');
  t.ok(Math.abs(a.mean().item() - 2 / 3) < 1e-7, 'mean');
  // loss = sum(a⊙b) + 3·sum(a - b) + mean(a)
  const loss = a.mul(b).sum().add(a.sub(b).sum().mul(3)).add(a.mean());
  loss.backward();
  t.deepEqual(arr(a.grad).map((v) => +v.toFixed(5)), [4 + 3 + 1 / 3, 5 + 3 + 1 / 3, -6 + 3 + 1 / 3].map((v) => +v.toFixed(5)), 'd/da');
  t.deepEqual(arr(b.grad), [1 - 3, -2 - 3, 3 - 3], 'd/db');
  t.end();
});

test('gradients accumulate until cleared; retainGraph allows a second backward', (t) => {
  const a = Tensor.from([1, 2], [2], { ...CPU, requiresGrad: true });
  a.mul(3).sum().backward();
  a.mul(3).sum().backward();
  t.deepEqual(arr(a.grad), [6, 6], 'two backward passes add up');
  a.grad = null;
  const loss = a.mul(a).sum();
  loss.backward(undefined, { retainGraph: true });
  loss.backward();
  t.deepEqual(arr(a.grad), [4, 8], 'retainGraph: twice 2a');
  t.throws(() => loss.backward(), /already freed.*retainGraph/, 'a third backward through the freed graph throws');
  const v = a.mul(2);
  v.backward(Tensor.from([1, 10], [2], CPU));
  t.deepEqual(arr(a.grad), [6, 28], 'backward(grad) of a non-scalar');
  t.end();
});

test('tidy frees intermediates, keeps what is returned, nests, and cleans up on throw', (t) => {
  const x = Tensor.from([1, 2, 3], [3], CPU);
  const base = live();
  const y = tidy(() => x.add(1).mul(2).sub(3));
  t.equal(live(), base + 1, 'only the returned tensor survives');
  t.deepEqual(arr(y), [1, 3, 5], 'its value');
  const obj = tidy(() => {
    const inner = tidy(() => [x.mul(2), x.mul(3).add(1)]);
    x.add(5);
    return { a: inner[0], list: [inner[1]], n: 4 };
  });
  t.equal(live(), base + 3, 'arrays and objects of tensors are kept, through nested tidy');
  t.deepEqual(arr(obj.list[0]), [4, 7, 10], 'nested result value');
  const k = tidy(() => {
    const kept = keep(x.add(100));
    x.add(1);
    return 0;
  });
  t.equal(k, 0, 'non-tensor results pass through');
  t.equal(live(), base + 4, 'keep() survives tidy');
  t.throws(() => tidy(() => {
    x.add(1);
    x.mul(2);
    throw new Error('boom');
  }), /boom/, 'the error propagates');
  t.equal(live(), base + 4, 'tensors created before the throw are freed');
  t.end();
});

test('a graph built inside tidy survives for backward, and backward frees every saved buffer', (t) => {
  const w = Tensor.randn([5, 4], { ...CPU, seed: 1, requiresGrad: true });
  const wih = Tensor.randn([12, 5], { ...CPU, seed: 2, requiresGrad: true });
  const whh = Tensor.randn([12, 3], { ...CPU, seed: 3, requiresGrad: true });
  const targets = Tensor.from([0, 3, 2, 1, 0, 3], [6], { ...CPU, dtype: 'int32' });
  const step = () => {
    const loss = tidy(() => {
      const x = Tensor.randn([3, 2, 5], { ...CPU, seed: 4 });
      const r = lstm(x, null, null, { weightIh: wih, weightHh: whh, biasIh: null, biasHh: null });
      const logits = linear(r.output.reshape([6, 3]), Tensor.randn([4, 3], { ...CPU, seed: 5 }));
      return crossEntropy(logits, targets).add(selectRow(r.c, 1).sum()).add(w.sum());
    });
    loss.backward();
    loss.dispose();
  };
  step(); // creates the grads and the cached row-index storages
  const base = live();
  step();
  t.equal(live(), base, 'no storage left behind after tidy + backward + dispose');
  const before = live();
  tidy(() => {
    const x = Tensor.randn([3, 2, 5], { ...CPU, seed: 4 });
    lstm(x, null, null, { weightIh: wih, weightHh: whh, biasIh: null, biasHh: null });
  });
  t.equal(live(), before, 'a forward that is never back-propagated frees its saved buffers when its outputs go');
  t.end();
});

test('noGrad records nothing; detach cuts the graph', (t) => {
  const a = Tensor.from([1, 2], [2], { ...CPU, requiresGrad: true });
  const y = noGrad(() => a.mul(2).sum());
  t.notOk(y.requiresGrad, 'no grad inside noGrad');
  t.throws(() => y.backward(), /does not require grad/, 'backward on it throws');
  t.ok(a.mul(2).requiresGrad, 'grad mode is back on afterwards');
  const d = a.detach();
  t.notOk(d.requiresGrad, 'detached does not require grad');
  t.deepEqual(arr(d), [1, 2], 'detached shares the values');
  const loss = a.mul(d).sum();
  loss.backward();
  t.deepEqual(arr(a.grad), [1, 2], 'no gradient flows through the detached operand');
  t.end();
});

test('dispose frees the storage; to() the same device is the tensor itself', (t) => {
  const base = live();
  const a = Tensor.zeros([4], CPU);
  t.equal(live(), base + 1, 'allocated');
  t.equal(a.to('ref'), a, "to('ref') of a ref tensor returns it");
  a.dispose();
  a.dispose();
  t.equal(live(), base, 'freed once (dispose is idempotent)');
  t.ok(a.disposed, 'marked disposed');
  t.throws(() => a.toArray(), /disposed/, 'use after dispose throws');
  t.end();
});

test('sampleTokens: greedy picks the argmax; logp and entropy under softmax(logits)', (t) => {
  const logits = Tensor.from([0, 2, 1, -1, 3, 1, 3, 0], [2, 4], { ...CPU, dtype: 'float64' });
  const r = sampleTokens(logits, { temperature: 0, seed: 1, offset: 0 });
  t.equal(r.tokens.dtype, 'int32', 'tokens are int32');
  t.deepEqual(arr(r.tokens), [1, 0], 'argmax per row, lowest index on ties');
  const row = [0, 2, 1, -1];
  const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  const p = row.map((v) => Math.exp(v - lse));
  t.ok(Math.abs(r.logp.toArray()[0] - (2 - lse)) < 1e-12, 'logp of the token');
  t.ok(Math.abs(r.entropy.toArray()[0] + p.reduce((s, q) => s + q * Math.log(q), 0)) < 1e-12, 'entropy in nats');
  const draws = new Set<number>();
  for (let k = 0; k < 40; k++) draws.add(sampleTokens(logits, { seed: 3, offset: 2 * k }).tokens.toArray()[0]);
  t.ok(draws.size > 1, 'temperature 1 samples more than one token');
  const a = sampleTokens(logits, { seed: 3, offset: 8 }).tokens.toArray();
  const b = sampleTokens(logits, { seed: 3, offset: 8 }).tokens.toArray();
  t.deepEqual(Array.from(a), Array.from(b), 'the same seed and offset draw the same tokens');
  t.end();
});

test('indices uploaded from the host are validated without a download', (t) => {
  const idx = Tensor.from(Int32Array.of(1, 0, 2), [3], { ...CPU, dtype: 'int32' });
  const emb = Tensor.randn([3, 3], { ...CPU, seed: 1, requiresGrad: true });
  const download = be.download;
  let downloads = 0;
  be.download = (s) => {
    downloads++;
    return download.call(be, s);
  };
  try {
    const logits = embedding(emb, idx.reshape([3, 1]).reshape([3]));
    crossEntropy(logits, idx.detach()).backward();
    t.equal(downloads, 0, 'embedding and crossEntropy validated uploaded indices (also through views) without downloading');
    const computed = sampleTokens(logits, { seed: 1, offset: 0 }).tokens;
    crossEntropy(logits, computed);
    t.equal(downloads, 1, 'indices computed on the device are downloaded once to validate them');
    const fed = embedding(emb, sampleTokens(logits, { seed: 2, offset: 0 }).tokens.reshape([3, 1]));
    t.equal(downloads, 1, 'sampled tokens (known to lie in [0, V)) feed an embedding of V rows without a download');
    t.deepEqual(fed.shape, [3, 1, 3], 'and are gathered');
    const small = Tensor.randn([2, 3], { ...CPU, seed: 3 });
    const big = sampleTokens(Tensor.from([0, 0, 9], [1, 3], CPU), { seed: 1, offset: 0, temperature: 0 }).tokens;
    t.throws(() => embedding(small, big), /embeddingForward: idx\[0\] = 2 is outside \[0, 2\)/, 'a table smaller than the sampled vocabulary is still validated');
    t.equal(downloads, 1, '(ref reads its own memory for that: no download)');
  } finally {
    be.download = download;
  }
  t.end();
});

forEachNativeBackend('to() across devices', (kind, other) => test(`${kind}: to() across devices, gradients back`, (t) => {
  const x = Tensor.from([1, 2, 3], [3], { ...CPU, requiresGrad: true });
  const y = x.to(kind);
  t.equal(y.device, kind, `copied to ${kind}`);
  t.deepEqual(arr(y), [1, 2, 3], 'values kept');
  y.mul(Tensor.from([4, 5, 6], [3], { device: kind })).sum().backward();
  t.equal(x.grad!.device, 'ref', 'the gradient lands on the source device');
  t.deepEqual(arr(x.grad), [4, 5, 6], 'and has the right values');
  collectGarbage(); // y and the product above were dropped without dispose: freed by this GC, not later
  const live = other.memory().liveCount;
  tidy(() => x.to(kind).mul(2).to('ref').sum().backward());
  collectGarbage();
  t.deepEqual(arr(x.grad), [6, 7, 8], `a ref loss through a ${kind} detour back-propagates`);
  t.equal(other.memory().liveCount, live, `and frees its ${kind} gradients on ${kind}`);
  t.end();
}));
