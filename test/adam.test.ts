// Kernel-level tests of the ref optimizer steps: Adam (L2) and AdamW (decoupled) against PyTorch's
// formula written out here and a hand-computed first step; SGD with weight decay and momentum by hand.
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';
import { Sweep, nans, twin, uniform } from './compare.js';
import { RngStream } from '../src/rng.js';
import { forEachNativeBackend } from './native_backends.js';

interface AdamCfg { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }

/** torch.optim.Adam / AdamW on plain numbers, one parameter at a time. */
function refAdam(p: number[], grads: number[][], c: AdamCfg): number[] {
  return p.map((p0, i) => {
    let p1 = p0, m = 0, v = 0;
    grads.forEach((gs, s) => {
      const step = s + 1;
      let g = gs[i];
      if (c.decoupled) p1 = p1 * (1 - c.lr * c.weightDecay); else g = g + c.weightDecay * p1;
      m = c.beta1 * m + (1 - c.beta1) * g;
      v = c.beta2 * v + (1 - c.beta2) * g * g;
      const bc1 = 1 - c.beta1 ** step, bc2 = 1 - c.beta2 ** step;
      p1 = p1 - (c.lr / bc1) * m / (Math.sqrt(v) / Math.sqrt(bc2) + c.eps);
    });
    return p1;
  });
}

function runAdam(p: number[], grads: number[][], c: AdamCfg, dtype: 'float32' | 'float64'): Float32Array | Float64Array {
  const Arr = dtype === 'float32' ? Float32Array : Float64Array;
  const n = p.length, param = be.upload(Arr.from(p)), m = be.alloc(dtype, n), v = be.alloc(dtype, n);
  grads.forEach((g, s) => {
    const step = s + 1;
    be.adamStep({ n, param, grad: be.upload(Arr.from(g)), m, v, ...c, bc1: 1 - c.beta1 ** step, bc2: 1 - c.beta2 ** step });
  });
  return be.download(param) as Float32Array | Float64Array;
}

const P = [1, -2, 0.5, 0];
const G = [[0.1, -0.3, 0, 2], [0.2, 0.1, -0.05, 2], [-0.4, 0.2, 0.3, -1]];

test('adamStep: the first step moves each parameter by lr·g/(|g| + eps) (hand-computed)', (t) => {
  const c = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
  const got = runAdam(P, [G[0]], c, 'float64');
  t.ok(Math.abs(got[0] - (1 - 0.01 * 0.1 / (0.1 + 1e-8))) < 1e-15, 'p=1, g=0.1 → 0.99000000099…');
  t.ok(Math.abs(got[1] - (-2 + 0.01 * 0.3 / (0.3 + 1e-8))) < 1e-15, 'p=-2, g=-0.3 → -1.99000000033…');
  t.equal(got[2], 0.5, 'g = 0 leaves p unchanged');
  t.end();
});

for (const [name, wd, decoupled] of [['Adam', 0, false], ['Adam + L2', 0.1, false], ['AdamW', 0.1, true]] as const) {
  test(`adamStep ${name}: three steps match PyTorch's formula`, (t) => {
    const c = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, decoupled };
    const ref = refAdam(P, G, c);
    const g64 = runAdam(P, G, c, 'float64'), g32 = runAdam(P, G, c, 'float32');
    t.ok(ref.every((r, i) => Math.abs(g64[i] - r) <= 1e-14), `float64: ${Array.from(g64).map((x) => x.toFixed(8)).join(', ')}`);
    t.ok(ref.every((r, i) => Math.abs(g32[i] - r) <= 1e-6 * (1 + Math.abs(r))), 'float32 within 1e-6');
    t.end();
  });
}

test('adamStep: weight decay differs between L2 and decoupled', (t) => {
  const base = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
  const l2 = runAdam([1], [[0]], { ...base, decoupled: false }, 'float64');
  const dec = runAdam([1], [[0]], { ...base, decoupled: true }, 'float64');
  // L2: g = 0.1·1 = 0.1 → step of lr·sign; decoupled: p·(1 - 0.005), g = 0 → no Adam step
  t.ok(Math.abs(l2[0] - (1 - 0.05 * 0.1 / (0.1 + 1e-8))) < 1e-15, 'L2: p = 1 - lr·0.1/(0.1+eps)');
  t.equal(dec[0], 1 * (1 - 0.05 * 0.1), 'AdamW: p = 1·(1 - lr·wd) = 0.995');
  t.end();
});

test('sgdStep: plain, weight decay and momentum (hand-computed)', (t) => {
  const param = be.upload(new Float64Array([1])), grad = be.upload(new Float64Array([0.5]));
  be.sgdStep({ n: 1, param, grad, buf: null, lr: 0.1, momentum: 0, weightDecay: 0, first: true });
  t.equal(be.download(param)[0], 0.95, 'p = 1 - 0.1·0.5');

  const p2 = be.upload(new Float64Array([1])), buf = be.upload(new Float64Array([123]));
  const args = { n: 1, param: p2, grad, buf, lr: 0.1, momentum: 0.9, weightDecay: 0.01 };
  be.sgdStep({ ...args, first: true });
  t.ok(Math.abs(be.download(p2)[0] - 0.949) < 1e-15, 'step 1: g = 0.5 + 0.01·1 = 0.51, buf = g (old buf ignored), p = 0.949');
  t.ok(Math.abs(be.download(buf)[0] - 0.51) < 1e-15, 'step 1: buf = 0.51');
  be.sgdStep({ ...args, first: false });
  t.ok(Math.abs(be.download(buf)[0] - 0.96849) < 1e-15, 'step 2: buf = 0.9·0.51 + (0.5 + 0.01·0.949) = 0.96849');
  t.ok(Math.abs(be.download(p2)[0] - 0.852151) < 1e-15, 'step 2: p = 0.949 - 0.1·0.96849 = 0.852151');
  t.throws(() => be.sgdStep({ ...args, buf: null, first: true }), /'buf' is null but momentum is 0.9; a non-zero momentum needs it/, 'momentum without buf is an error');
  t.end();
});

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('adam', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
  test(name('adam and sgd steps'), (t) => {
    const sw = new Sweep(t, 'optim');
    const rng = new RngStream(71);
    for (const n of [1, 1000]) {
      for (const [weightDecay, decoupled] of [[0, false], [0.01, false], [0.1, true]] as const) {
        const inputs = { param: uniform(n, rng), grad: uniform(n, rng), m: uniform(n, rng, -0.1, 0.1), v: uniform(n, rng, 0, 0.01) };
        twin(sw, be, `adam n=${n} wd=${weightDecay} decoupled=${decoupled}`, inputs, (b, s) => {
          for (let step = 1; step <= 3; step++) {
            b.adamStep({
              n, param: s.param, grad: s.grad, m: s.m, v: s.v, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay,
              decoupled, bc1: 1 - 0.9 ** step, bc2: 1 - 0.999 ** step,
            });
          }
        }, ['param', 'm', 'v']);
      }
      for (const [momentum, weightDecay] of [[0, 0], [0.9, 0], [0.5, 0.01]]) {
        const inputs = { param: uniform(n, rng), grad: uniform(n, rng), buf: nans(n) };
        twin(sw, be, `sgd n=${n} momentum=${momentum} wd=${weightDecay}`, inputs, (b, s) => {
          for (let step = 0; step < 3; step++) {
            b.sgdStep({ n, param: s.param, grad: s.grad, buf: momentum === 0 ? null : s.buf, lr: 0.1, momentum, weightDecay, first: step === 0 });
          }
        }, momentum === 0 ? ['param'] : ['param', 'buf']);
      }
    }
    sw.done();
    t.end();
  });
});
