// Kernel-level tests of the ref fused softmax + cross-entropy: loss and logsumexp against a naive
// formula, ignored rows, dlogits against central differences, extreme logits.
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';
import { RngStream } from '../src/rng.js';
import { Sweep, nans, runOn, twin, uniform, type Stores } from './compare.js';
import type { Backend } from '../src/backend.js';
import { refBackend as refBe } from '../src/cpu/index.js';
import { forEachNativeBackend } from './native_backends.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { Tensor } from '../src/tensor.js';
import { check, leaf, vars, weighted } from './grad.js';

const N = 5, V = 65, IGNORE = -100;

function setup(seed: number, scale: number) {
  const rng = new RngStream(seed);
  const logits = new Float64Array(N * V);
  for (let i = 0; i < logits.length; i++) logits[i] = (rng.next() * 2 - 1) * scale;
  const targets = new Int32Array([3, IGNORE, 64, 0, 17]);
  return { logits, targets };
}

/** -log softmax(row)[target] by the textbook formula (row small enough for a plain exp). */
function naiveLoss(row: Float64Array, target: number): number {
  let s = 0;
  for (const z of row) s += Math.exp(z);
  return Math.log(s) - row[target];
}

function forward(logits: Float64Array, targets: Int32Array) {
  const loss = be.alloc('float64', N), lse = be.alloc('float64', N);
  const L = be.upload(logits), tg = be.upload(targets);
  be.softmaxXentForward({ N, V, logits: L, targets: tg, ignoreIndex: IGNORE, loss, lse });
  return { L, tg, loss, lse };
}

test('softmaxXentForward: loss matches the naive formula; ignored rows give 0', (t) => {
  const { logits, targets } = setup(1, 3);
  const { loss, lse } = forward(logits, targets);
  const got = be.download(loss), gl = be.download(lse);
  for (let n = 0; n < N; n++) {
    const row = logits.subarray(n * V, (n + 1) * V);
    if (targets[n] === IGNORE) t.equal(got[n], 0, `row ${n} ignored: loss 0`);
    else t.ok(Math.abs(got[n] - naiveLoss(row, targets[n])) < 1e-13, `row ${n}: loss ${got[n].toFixed(6)} matches`);
    let s = 0;
    for (const z of row) s += Math.exp(z);
    t.ok(Math.abs(gl[n] - Math.log(s)) < 1e-13, `row ${n}: lse matches`);
  }
  t.end();
});

test('softmaxXentBackward: dlogits matches central differences of Σ w·loss; ignored rows are zero', (t) => {
  const { logits, targets } = setup(2, 3);
  const rng = new RngStream(22);
  const w = new Float64Array(N);
  for (let n = 0; n < N; n++) w[n] = rng.next() * 2 - 1;
  const { L, tg, lse } = forward(logits, targets);
  const dlogits = be.upload(new Float64Array(N * V).fill(NaN));
  be.softmaxXentBackward({ N, V, logits: L, targets: tg, ignoreIndex: IGNORE, lse, dloss: be.upload(w), dlogits });
  const an = be.download(dlogits);
  const total = (lg: Float64Array) => {
    const { loss } = forward(lg, targets);
    const l = be.download(loss);
    let s = 0;
    for (let n = 0; n < N; n++) s += w[n] * l[n];
    return s;
  };
  const eps = 1e-5;
  let worst = 0;
  for (let i = 0; i < logits.length; i++) {
    const o = logits[i];
    logits[i] = o + eps; const lp = total(logits);
    logits[i] = o - eps; const lm = total(logits);
    logits[i] = o;
    const num = (lp - lm) / (2 * eps);
    worst = Math.max(worst, Math.abs(an[i] - num) / Math.max(Math.abs(an[i]), Math.abs(num), 1e-3));
  }
  t.ok(worst <= 1e-6, `max rel err ${worst.toExponential(2)} ≤ 1e-6`);
  t.ok(an.subarray(V, 2 * V).every((x) => x === 0), 'ignored row of dlogits is exactly zero (NaN overwritten)');
  t.end();
});

test('softmax-xent: extreme logits (±1e4) stay finite, float32 and float64', (t) => {
  for (const dtype of ['float32', 'float64'] as const) {
    const lg = new Float64Array(2 * 4);
    lg.set([1e4, -1e4, 0, 1e4, -1e4, 9999, 1e4, -1e4]);
    const Arr = dtype === 'float32' ? Float32Array : Float64Array;
    // lse is stored in the dtype: at 1e4 a float32 ulp is ~1e-3, which bounds what the backward can reach
    const tol = dtype === 'float32' ? 1e-3 : 1e-9;
    const L = be.upload(Arr.from(lg)), tg = be.upload(new Int32Array([1, 1]));
    const loss = be.alloc(dtype, 2), lse = be.alloc(dtype, 2), d = be.alloc(dtype, 8);
    be.softmaxXentForward({ N: 2, V: 4, logits: L, targets: tg, ignoreIndex: -1, loss, lse });
    be.softmaxXentBackward({ N: 2, V: 4, logits: L, targets: tg, ignoreIndex: -1, lse, dloss: be.upload(Arr.from([1, 1])), dlogits: d });
    const l = be.download(loss), g = be.download(d);
    t.ok(Math.abs(l[0] - (2e4 + Math.LN2)) < 1e-2, `${dtype}: loss of a -1e4 target among two 1e4 logits is 2e4 + ln 2`);
    t.ok(Math.abs(l[1] - (1 + Math.log1p(Math.exp(-1)))) < tol, `${dtype}: loss with target 1 below the max is 1 + log(1+e^-1)`);
    t.ok(Array.from(g).every(Number.isFinite), `${dtype}: dlogits finite`);
    t.ok(Math.abs(g[0] - 0.5) < tol && Math.abs(g[1] + 1) < tol && Math.abs(g[5] - (1 / (1 + Math.E) - 1)) < tol, `${dtype}: dlogits = softmax - onehot`);
  }
  t.end();
});

test('softmax-xent: an int32 logits or float targets storage is a clear error', (t) => {
  const loss = be.alloc('float32', 1), lse = be.alloc('float32', 1);
  t.throws(() => be.softmaxXentForward({ N: 1, V: 2, logits: be.alloc('float32', 2), targets: be.alloc('float32', 1), ignoreIndex: -1, loss, lse }), /'targets' must be int32/);
  t.throws(() => be.softmaxXentForward({ N: 1, V: 2, logits: be.alloc('float32', 2), targets: be.alloc('int32', 1), ignoreIndex: -1, loss: be.alloc('float64', 1), lse }), /'loss' is float64/);
  t.end();
});

// ---- float64 gradient check of the op (test/grad.ts)
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

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('softmax_xent', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
  test(name('softmax cross-entropy forward and backward: V = 65, ignored rows, extreme logits'), (t) => {
    const sw = new Sweep(t, 'softmax_xent');
    const rng = new RngStream(51);
    for (const [N, V] of [[9, 65], [1, 65], [4, 1], [3, 300]]) {
      const logits = uniform(N * V, rng, -3, 3);
      const targets0 = new Int32Array(N);
      for (let n = 0; n < N; n++) targets0[n] = Math.floor(rng.next() * V);
      if (N >= 9) {
        logits.fill(-1000, 2 * V, 3 * V); logits[2 * V + 5] = 1000; targets0[2] = 5;   // confident and right
        logits.fill(50, 3 * V, 4 * V);                                                    // all equal
        for (let v = 0; v < V; v++) logits[4 * V + v] = v % 2 ? 80 : -80;                 // exp would overflow
        logits.fill(0, 5 * V, 6 * V); logits[5 * V + 7] = 1000; targets0[5] = 8;         // confident and wrong
        logits[5 * V + 8] = -1000;
        targets0[1] = -100; targets0[6] = -100;                                         // ignored rows
      }
      // ignoreIndex -100 (padding), or a class index (2): rows marked -100 then carry that class
      for (const ignoreIndex of [-100, Math.min(2, V - 1)]) {
        const label = `N=${N} V=${V} ignoreIndex=${ignoreIndex}`;
        const targets = targets0.map((v) => (v === -100 ? ignoreIndex : v));
        const fwdIn = { logits, targets, loss: nans(N), lse: nans(N) };
        const fwd = (b: Backend, s: Stores) => b.softmaxXentForward({ N, V, logits: s.logits, targets: s.targets, ignoreIndex, loss: s.loss, lse: s.lse });
        twin(sw, be, `forward ${label}`, fwdIn, fwd, ['loss', 'lse']);
        const saved = runOn(refBe, fwdIn, (s) => fwd(refBe, s), ['lse']);
        twin(sw, be, `backward ${label}`, { logits, targets, lse: saved.lse as Float32Array, dloss: uniform(N, rng, 0.1, 2), dlogits: nans(N * V) },
          (b, s) => b.softmaxXentBackward({ N, V, logits: s.logits, targets: s.targets, ignoreIndex, lse: s.lse, dloss: s.dloss, dlogits: s.dlogits }),
          ['dlogits']);
      }
    }
    sw.done();
    t.end();
  });
});
