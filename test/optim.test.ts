// Optimizers on `ref` against textbook updates computed here in double: Adam (bias-corrected, L2),
// AdamW (decoupled), SGD with and without momentum and weight decay; zeroGrad; a settable lr;
// clipGradNorm's norm and scaling; stateDict round trips that continue bit-exactly (also through JSON).
import test from 'tape';
import { Tensor } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { Adam } from '../src/optim/adam.js';
import { SGD } from '../src/optim/sgd.js';
import { clipGradNorm } from '../src/optim/clip.js';
import { Linear } from '../src/nn/linear.js';

const F64 = { device: 'ref', dtype: 'float64' } as const;
const arr = (t: Tensor | null): number[] => Array.from(t!.toArray());
const close = (a: number[], b: number[], tol: number): boolean => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol * Math.max(1, Math.abs(b[i])));

const P0 = [0.5, -1.25, 2, 0.1];
const GRADS = [[0.3, -0.2, 1.5, -0.01], [-0.7, 0.4, 0.2, 0.05], [0.1, 0.1, -2, 0.3]];

function param(): Tensor {
  return Tensor.from(P0, [4], { ...F64, requiresGrad: true });
}

/** textbook Adam / AdamW over GRADS */
function adamReference(lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[] {
  const p = [...P0], m = [0, 0, 0, 0], v = [0, 0, 0, 0];
  GRADS.forEach((g0, k) => {
    const step = k + 1;
    for (let i = 0; i < 4; i++) {
      let g = g0[i];
      if (decoupled) p[i] *= 1 - lr * wd;
      else g += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mhat = m[i] / (1 - b1 ** step);
      const vhat = v[i] / (1 - b2 ** step);
      p[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  });
  return p;
}

function runOptimizer(p: Tensor, opt: { step(): void }): number[] {
  for (const g of GRADS) {
    p.grad = Tensor.from(g, [4], F64);
    opt.step();
  }
  return arr(p);
}

test('Adam (bias-corrected, L2 weight decay) and AdamW (decoupled) match the textbook update', (t) => {
  const p1 = param();
  const got1 = runOptimizer(p1, new Adam([p1], { lr: 0.01, betas: [0.8, 0.95], eps: 1e-6 }));
  t.ok(close(got1, adamReference(0.01, 0.8, 0.95, 1e-6, 0, false), 1e-12), `Adam: ${got1}`);
  const p2 = param();
  const got2 = runOptimizer(p2, new Adam([p2], { lr: 0.05, weightDecay: 0.1 }));
  t.ok(close(got2, adamReference(0.05, 0.9, 0.999, 1e-8, 0.1, false), 1e-12), 'Adam with L2 weight decay');
  const p3 = param();
  const got3 = runOptimizer(p3, new Adam([p3], { lr: 0.05, weightDecay: 0.1, decoupled: true }));
  t.ok(close(got3, adamReference(0.05, 0.9, 0.999, 1e-8, 0.1, true), 1e-12), 'AdamW (decoupled)');
  t.ok(!close(got2, got3, 1e-9), 'L2 and decoupled decay differ');
  t.end();
});

test('SGD with and without momentum and weight decay matches the textbook update', (t) => {
  const reference = (lr: number, mom: number, wd: number): number[] => {
    const p = [...P0], buf = [0, 0, 0, 0];
    GRADS.forEach((g0, k) => {
      for (let i = 0; i < 4; i++) {
        const g = g0[i] + wd * p[i];
        buf[i] = k === 0 ? g : mom * buf[i] + g;
        p[i] -= lr * (mom > 0 ? buf[i] : g);
      }
    });
    return p;
  };
  const p1 = param();
  t.ok(close(runOptimizer(p1, new SGD([p1], { lr: 0.1 })), reference(0.1, 0, 0), 1e-14), 'plain SGD');
  const p2 = param();
  t.ok(close(runOptimizer(p2, new SGD([p2], { lr: 0.1, momentum: 0.9 })), reference(0.1, 0.9, 0), 1e-14), 'SGD with momentum (buf = g on the first step)');
  const p3 = param();
  t.ok(close(runOptimizer(p3, new SGD([p3], { lr: 0.1, momentum: 0.5, weightDecay: 0.01 })), reference(0.1, 0.5, 0.01), 1e-14), 'SGD with momentum and weight decay');
  t.end();
});

test('zeroGrad, settable lr, parameters without a gradient are left alone', (t) => {
  const p = param();
  const q = param();
  const opt = new SGD([p, q], { lr: 1 });
  p.mul(Tensor.from([1, 2, 3, 4], [4], F64)).sum().backward();
  t.deepEqual(arr(p.grad), [1, 2, 3, 4], 'grad after backward');
  opt.lr = 0.5;
  t.equal(opt.lr, 0.5, 'lr is settable');
  opt.step();
  t.deepEqual(arr(p), P0.map((v, i) => v - 0.5 * (i + 1)), 'the step used the new lr');
  t.deepEqual(arr(q), P0, 'a parameter without a gradient is not updated');
  opt.zeroGrad();
  t.deepEqual(arr(p.grad), [0, 0, 0, 0], 'zeroGrad zeroes the gradient');
  t.throws(() => { opt.lr = -1; }, RangeError, 'a negative lr is rejected');
  t.end();
});

test('clipGradNorm returns the total norm before clipping and scales only above maxNorm', (t) => {
  const a = Tensor.from([0, 0, 0], [3], { ...F64, requiresGrad: true });
  const b = Tensor.from([0, 0], [2], { ...F64, requiresGrad: true });
  const c = Tensor.from([0], [1], { ...F64, requiresGrad: true });
  a.grad = Tensor.from([3, 0, 4], [3], F64);
  b.grad = Tensor.from([12, 0], [2], F64);
  const norm = clipGradNorm([a, b, c], 26);
  t.ok(Math.abs(norm - 13) < 1e-12, `norm of (3,0,4,12,0) = 13, got ${norm}`);
  t.deepEqual(arr(a.grad), [3, 0, 4], 'below maxNorm: unchanged');
  const norm2 = clipGradNorm([a, b, c], 6.5);
  t.ok(Math.abs(norm2 - 13) < 1e-12, 'returns the norm before clipping');
  const s = 6.5 / (13 + 1e-6);
  t.ok(close(arr(a.grad), [3 * s, 0, 4 * s], 1e-14) && close(arr(b.grad), [12 * s, 0], 1e-14), 'scaled by maxNorm / (norm + 1e-6)');
  t.ok(Math.abs(clipGradNorm([a, b], 100) - 6.5) < 1e-5, 'the new norm is maxNorm');
  t.end();
});

test('optimizer stateDict round trip continues bit-exactly (float32, through JSON)', (t) => {
  const make = () => new Linear({ inFeatures: 3, outFeatures: 2, device: 'ref', seed: 5 });
  const x = Tensor.randn([4, 3], { device: 'ref', seed: 6 });
  const train = (m: Linear, opt: Adam | SGD) => {
    opt.zeroGrad();
    m.forward(x).mul(m.forward(x)).sum().backward();
    opt.step();
  };
  for (const kind of ['adam', 'sgd'] as const) {
    const a = make();
    const optA = kind === 'adam' ? new Adam(a.parameters(), { lr: 0.01, weightDecay: 0.01 }) : new SGD(a.parameters(), { lr: 0.01, momentum: 0.9 });
    for (let i = 0; i < 3; i++) train(a, optA);
    const weights = Object.fromEntries(Object.entries(a.stateDict()).map(([k, v]) => [k, arr(v)]));
    const state = JSON.parse(JSON.stringify(optA.stateDict()));
    const b = make();
    b.loadStateDict(weights);
    const optB = kind === 'adam' ? new Adam(b.parameters(), { lr: 0.5, weightDecay: 0.01 }) : new SGD(b.parameters(), { lr: 0.5, momentum: 0.9 });
    optB.loadStateDict(state);
    t.equal(optB.lr, 0.01, `${kind}: lr restored`);
    for (let i = 0; i < 2; i++) {
      train(a, optA);
      train(b, optB);
    }
    t.deepEqual(b.parameters().map(arr), a.parameters().map(arr), `${kind}: resumed training is bit-identical`);
    t.throws(() => optB.loadStateDict({ ...state, [kind === 'adam' ? 'm' : 'momentum']: [[1, 2]] }), /must be an array of 2 arrays/, `${kind}: a state of the wrong shape is rejected`);
  }
  t.end();
});

test('optimizer messages name the real problem; a 3e38 gradient is scaled, not zeroed', async (t) => {
  const m = await import('../src/index.js');
  t.throws(() => m.clipGradNorm(5 as never, 1), /clipGradNorm: params must be an array of Tensors \(e\.g\. model\.parameters\(\)\), got number/);
  const p = m.Tensor.zeros([2], { requiresGrad: true, device: 'ref' });
  t.throws(() => new m.Adam([p], { lr: 1, betas: [1, 0.9] }), /Adam: betas\[0\] must be in \[0, 1\), got 1/);
  t.throws(() => new m.Adam([p], { lr: 1, betas: [0.9, 1] }), /Adam: betas\[1\] must be in \[0, 1\), got 1/);
  const w = m.Tensor.ones([3], { requiresGrad: true, device: 'ref' });
  m.sum(m.mul(w, m.Tensor.from([3e38, -3e38, 1], [3], { device: 'ref' }))).backward();
  const norm = m.clipGradNorm([w], 1);
  t.ok(Math.abs(norm / (3e38 * Math.SQRT2) - 1) < 1e-6, `norm in double: ${norm.toExponential(4)} (float32 squares would overflow to Infinity)`);
  const g = [...w.grad!.toArray()];
  t.ok(Math.abs(g[0]! - Math.SQRT1_2) < 1e-6 && Math.abs(g[1]! + Math.SQRT1_2) < 1e-6, `clipped to norm 1, not zeroed: [${g.map((x) => x.toExponential(3))}]`);
  const cell = new m.LSTMCell({ inputSize: 4, hiddenSize: 3, device: 'ref' });
  t.throws(() => cell.forward(m.Tensor.zeros([2, 5], { device: 'ref' })), /lstm: x has 5 features per step .* but weight_ih \[12,4\] takes inputs of size 4/, 'an x of the wrong width blames x');
  t.end();
});
