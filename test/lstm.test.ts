// Kernel-level tests of the ref LSTM: lstmForward against the gate formulas stepped by hand here (naive
// matmuls and per-element σ/tanh), lstmBackward against central finite differences in float64 for every
// gradient, accumulation of parameter gradients, nulls, and the gate kernels at extreme pre-activations.
import test from 'tape';
import type { Storage } from '../src/backend.js';
import { refBackend as be } from '../src/cpu/index.js';
import { RngStream } from '../src/rng.js';
import { Sweep, nans, runOn, twin, uniform, type Host, type Stores } from './compare.js';
import type { Backend } from '../src/backend.js';
import { refBackend as refBe } from '../src/cpu/index.js';
import { forEachNativeBackend } from './native_backends.js';
import type { NativeBackend } from '../src/native.js';
import { lstm } from '../src/ops/lstm.js';
import { check, leaf, squared, vars, weighted } from './grad.js';

const I = 4, H = 5;

function rand(n: number, rng: RngStream, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

interface Inputs { x: Float64Array; wih: Float64Array; whh: Float64Array; bih: Float64Array; bhh: Float64Array; h0: Float64Array; c0: Float64Array }

function makeInputs(T: number, B: number, seed: number): Inputs {
  const rng = new RngStream(seed);
  return {
    x: rand(T * B * I, rng), wih: rand(4 * H * I, rng, 0.7), whh: rand(4 * H * H, rng, 0.7),
    bih: rand(4 * H, rng, 0.5), bhh: rand(4 * H, rng, 0.5), h0: rand(B * H, rng, 0.5), c0: rand(B * H, rng, 0.5),
  };
}

const sig = (z: number) => 1 / (1 + Math.exp(-z));

/** The LSTM stepped by hand: returns h, c, gates (activations), tanhC, all [T,...]. */
function naiveForward(T: number, B: number, p: Inputs) {
  const h = new Float64Array(T * B * H), c = new Float64Array(T * B * H), tc = new Float64Array(T * B * H);
  const gates = new Float64Array(T * B * 4 * H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const hp = (j: number) => (t === 0 ? p.h0[b * H + j] : h[((t - 1) * B + b) * H + j]);
      const cp = (j: number) => (t === 0 ? p.c0[b * H + j] : c[((t - 1) * B + b) * H + j]);
      const pre = new Float64Array(4 * H);
      for (let r = 0; r < 4 * H; r++) {
        let s = p.bih[r] + p.bhh[r];
        for (let k = 0; k < I; k++) s += p.x[(t * B + b) * I + k] * p.wih[r * I + k];
        for (let k = 0; k < H; k++) s += hp(k) * p.whh[r * H + k];
        pre[r] = s;
      }
      for (let j = 0; j < H; j++) {
        const ig = sig(pre[j]), fg = sig(pre[H + j]), gg = Math.tanh(pre[2 * H + j]), og = sig(pre[3 * H + j]);
        const o = (t * B + b) * H + j, g = (t * B + b) * 4 * H + j;
        gates[g] = ig; gates[g + H] = fg; gates[g + 2 * H] = gg; gates[g + 3 * H] = og;
        c[o] = fg * cp(j) + ig * gg;
        tc[o] = Math.tanh(c[o]);
        h[o] = og * tc[o];
      }
    }
  }
  return { h, c, gates, tanhC: tc };
}

interface Fwd { x: Storage; wih: Storage; whh: Storage; bih: Storage; bhh: Storage; h0: Storage; c0: Storage; h: Storage; c: Storage; gates: Storage; tanhC: Storage }

function runForward(T: number, B: number, p: Inputs, dtype: 'float32' | 'float64' = 'float64'): Fwd {
  const up = (a: Float64Array) => be.upload(dtype === 'float64' ? a : Float32Array.from(a));
  const f: Fwd = {
    x: up(p.x), wih: up(p.wih), whh: up(p.whh), bih: up(p.bih), bhh: up(p.bhh), h0: up(p.h0), c0: up(p.c0),
    h: be.alloc(dtype, T * B * H), c: be.alloc(dtype, T * B * H), gates: be.alloc(dtype, T * B * 4 * H), tanhC: be.alloc(dtype, T * B * H),
  };
  be.lstmForward({ T, B, I, H, ...f });
  return f;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (!(d <= m)) m = d; }
  return m;
}

for (const [T, B] of [[1, 1], [1, 3], [6, 1], [6, 3], [3, 5]]) { // B = 5 takes the packed-W_hh path
  test(`lstmForward T=${T} B=${B}: equals the gates stepped by hand`, (t) => {
    const p = makeInputs(T, B, 100 + T * 10 + B);
    const ref = naiveForward(T, B, p);
    const f = runForward(T, B, p);
    for (const k of ['h', 'c', 'gates', 'tanhC'] as const) {
      t.ok(maxAbsDiff(be.download(f[k]), ref[k]) <= 1e-13, `${k} within 1e-13 (float64)`);
    }
    const f32 = runForward(T, B, p, 'float32');
    t.ok(maxAbsDiff(be.download(f32.h), ref.h) <= 1e-5, 'float32 h within 1e-5');
    t.end();
  });
}

/** Loss L = Σ wH⊙h (every step) + Σ u⊙h[T-1] + Σ v⊙c[T-1], computed by a float64 forward. */
function lossOf(T: number, B: number, p: Inputs, wH: Float64Array, u: Float64Array, v: Float64Array): number {
  const f = runForward(T, B, p);
  const h = be.download(f.h), c = be.download(f.c);
  for (const s of Object.values(f)) be.free(s);
  let L = 0;
  for (let i = 0; i < h.length; i++) L += wH[i] * h[i];
  const last = (T - 1) * B * H;
  for (let i = 0; i < B * H; i++) L += u[i] * h[last + i] + v[i] * c[last + i];
  return L;
}

for (const [T, B] of [[1, 1], [1, 3], [6, 1], [6, 3], [3, 5]]) { // B = 5 takes the packed-W_hh path
  test(`lstmBackward T=${T} B=${B}: every gradient matches central differences (float64)`, (t) => {
    const p = makeInputs(T, B, 200 + T * 10 + B);
    const rng = new RngStream(300 + T + B);
    const wH = rand(T * B * H, rng), u = rand(B * H, rng), v = rand(B * H, rng);
    const f = runForward(T, B, p);
    const g = {
      dx: be.alloc('float64', T * B * I), dh0: be.alloc('float64', B * H), dc0: be.alloc('float64', B * H),
      dwih: be.alloc('float64', 4 * H * I), dwhh: be.alloc('float64', 4 * H * H),
      dbih: be.alloc('float64', 4 * H), dbhh: be.alloc('float64', 4 * H),
    };
    const back = () => be.lstmBackward({
      T, B, I, H, x: f.x, wih: f.wih, whh: f.whh, h0: f.h0, c0: f.c0, h: f.h, c: f.c, gates: f.gates, tanhC: f.tanhC,
      dh: be.upload(wH), dhT: be.upload(u), dcT: be.upload(v), ...g,
    });
    back();
    const eps = 1e-5;
    const pairs: [keyof Inputs, keyof typeof g][] = [
      ['x', 'dx'], ['h0', 'dh0'], ['c0', 'dc0'], ['wih', 'dwih'], ['whh', 'dwhh'], ['bih', 'dbih'], ['bhh', 'dbhh'],
    ];
    const analytic: Record<string, Float64Array> = {};
    for (const [pk, gk] of pairs) {
      const an = be.download(g[gk]) as Float64Array;
      analytic[gk] = an;
      let worst = 0;
      for (let i = 0; i < p[pk].length; i++) {
        const orig = p[pk][i];
        p[pk][i] = orig + eps; const lp = lossOf(T, B, p, wH, u, v);
        p[pk][i] = orig - eps; const lm = lossOf(T, B, p, wH, u, v);
        p[pk][i] = orig;
        const num = (lp - lm) / (2 * eps);
        const rel = Math.abs(an[i] - num) / Math.max(Math.abs(an[i]), Math.abs(num), 1e-3);
        if (!(rel <= worst)) worst = rel;
      }
      t.ok(worst <= 1e-6, `${gk}: max rel err ${worst.toExponential(2)} ≤ 1e-6`);
    }
    // a second call accumulates parameter gradients and overwrites activation gradients
    back();
    for (const k of ['dwih', 'dwhh', 'dbih', 'dbhh'] as const) {
      const twice = be.download(g[k]);
      t.ok(maxAbsDiff(twice, analytic[k].map((a) => 2 * a)) <= 1e-12, `${k} accumulates (second call doubles it)`);
    }
    for (const k of ['dx', 'dh0', 'dc0'] as const) {
      t.ok(maxAbsDiff(be.download(g[k]), analytic[k]) === 0, `${k} is overwritten (second call gives the same)`);
    }
    t.end();
  });
}

test('lstmBackward: null inputs act as zeros and null outputs are skipped', (t) => {
  const T = 3, B = 2;
  const p = makeInputs(T, B, 5);
  const f = runForward(T, B, p);
  const common = { T, B, I, H, x: f.x, wih: f.wih, whh: f.whh, h0: f.h0, c0: f.c0, h: f.h, c: f.c, gates: f.gates, tanhC: f.tanhC };
  const rng = new RngStream(9);
  const dhT = be.upload(rand(B * H, rng));
  const full = { dx: be.alloc('float64', T * B * I), dh0: be.alloc('float64', B * H), dc0: be.alloc('float64', B * H),
    dwih: be.alloc('float64', 4 * H * I), dwhh: be.alloc('float64', 4 * H * H), dbih: be.alloc('float64', 4 * H), dbhh: be.alloc('float64', 4 * H) };
  be.lstmBackward({ ...common, dh: be.alloc('float64', T * B * H), dhT, dcT: be.alloc('float64', B * H), ...full });
  const dx2 = be.alloc('float64', T * B * I);
  be.lstmBackward({ ...common, dh: null, dhT, dcT: null, dx: dx2, dh0: null, dc0: null, dwih: null, dwhh: null, dbih: null, dbhh: null });
  t.deepEqual(Array.from(be.download(dx2)), Array.from(be.download(full.dx)), 'dh = null and dcT = null equal zeros; dx alone is right');
  t.ok(maxAbsDiff(be.download(full.dx), new Float64Array(T * B * I)) > 0, 'the gradient is not trivially zero');
  t.end();
});

test('lstmGatesForward/Backward: extreme pre-activations stay finite; backward matches the formulas', (t) => {
  const B = 1, H1 = 4;
  const pre = new Float64Array([1e4, -1e4, 0.3, -800, 800, -1e4, 1e4, 2, -3, 1e4, -1e4, 0.5, 700, -700, 1e4, -1e4]);
  const gates = be.upload(pre.slice());
  const cPrev = be.upload(new Float64Array([0.5, -0.5, 2, -2]));
  const c = be.alloc('float64', 4), h = be.alloc('float64', 4), tanhC = be.alloc('float64', 4);
  be.lstmGatesForward({ B, H: H1, gates, bih: null, bhh: null, cPrev, c, h, tanhC });
  const g = be.download(gates);
  t.ok(Array.from(g).every(Number.isFinite) && Array.from(be.download(h)).every(Number.isFinite), 'activations and h finite');
  t.equal(g[0], 1, 'σ(1e4) = 1');
  t.equal(g[1], 0, 'σ(-1e4) = 0');
  t.ok(Math.abs(g[2] - sig(0.3)) < 1e-15, 'σ(0.3)');
  const dh = be.upload(new Float64Array([0.1, -0.2, 0.3, -0.4]));
  const dcIn = new Float64Array([0.05, 0.06, -0.07, 0.08]);
  const dc = be.upload(dcIn.slice());
  const dgates = be.alloc('float64', 16);
  be.lstmGatesBackward({ B, H: H1, gates, cPrev, tanhC, dh, dc, dgates });
  const tc = be.download(tanhC), cp = be.download(cPrev), dhv = be.download(dh), dg = be.download(dgates), dco = be.download(dc);
  let worst = 0;
  for (let j = 0; j < H1; j++) {
    const [i, f, gg, o] = [g[j], g[H1 + j], g[2 * H1 + j], g[3 * H1 + j]];
    const dct = dcIn[j] + dhv[j] * o * (1 - tc[j] ** 2);
    const ref = [dct * gg * i * (1 - i), dct * cp[j] * f * (1 - f), dct * i * (1 - gg * gg), dhv[j] * tc[j] * o * (1 - o)];
    for (let q = 0; q < 4; q++) worst = Math.max(worst, Math.abs(dg[q * H1 + j] - ref[q]));
    worst = Math.max(worst, Math.abs(dco[j] - dct * f));
  }
  t.ok(worst <= 1e-15, `dgates and dc match the formulas (max err ${worst})`);
  t.end();
});

test('lstmBackward float32 agrees with float64 (T=6, B=5)', (t) => {
  const T = 6, B = 5;
  const p = makeInputs(T, B, 77);
  const rng = new RngStream(78);
  const dh = rand(T * B * H, rng);
  const grads = (dtype: 'float32' | 'float64') => {
    const f = runForward(T, B, p, dtype);
    const g = { dx: be.alloc(dtype, T * B * I), dh0: be.alloc(dtype, B * H), dc0: be.alloc(dtype, B * H),
      dwih: be.alloc(dtype, 4 * H * I), dwhh: be.alloc(dtype, 4 * H * H), dbih: be.alloc(dtype, 4 * H), dbhh: be.alloc(dtype, 4 * H) };
    be.lstmBackward({ T, B, I, H, x: f.x, wih: f.wih, whh: f.whh, h0: f.h0, c0: f.c0, h: f.h, c: f.c, gates: f.gates, tanhC: f.tanhC,
      dh: be.upload(dtype === 'float32' ? Float32Array.from(dh) : dh), dhT: null, dcT: null, ...g });
    return Object.fromEntries(Object.entries(g).map(([k, s]) => [k, be.download(s)]));
  };
  const g32 = grads('float32'), g64 = grads('float64');
  for (const k of Object.keys(g64)) {
    let worst = 0;
    g64[k].forEach((r, i) => { worst = Math.max(worst, Math.abs(g32[k][i] - r) / (1e-6 + 1e-5 * Math.abs(r))); });
    t.ok(worst <= 1, `${k}: float32 within 1e-6 + 1e-5·|ref| of float64 (worst ratio ${worst.toFixed(3)})`);
  }
  t.end();
});

// ---- float64 gradient check of the op (test/grad.ts)
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

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('lstm', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
  test(name('lstm gates forward and backward alone (B ∈ {1,3}, H ∈ {5,33}, biases or null)'), (t) => {
    const sw = new Sweep(t, 'gates');
    const rng = new RngStream(31);
    for (const B of [1, 3]) for (const H of [5, 33]) for (const bias of [true, false]) {
      const pre = uniform(B * 4 * H, rng, -3, 3), bih = uniform(4 * H, rng), bhh = uniform(4 * H, rng);
      const cPrev = uniform(B * H, rng, -2, 2);
      const label = `B=${B} H=${H} bias=${bias}`;
      const inputs = { gates: pre, bih, bhh, cPrev, c: nans(B * H), h: nans(B * H), tanhC: nans(B * H) };
      const fwd = (b: Backend, s: Stores) => b.lstmGatesForward({
        B, H, gates: s.gates, bih: bias ? s.bih : null, bhh: bias ? s.bhh : null, cPrev: s.cPrev, c: s.c, h: s.h, tanhC: s.tanhC,
      });
      twin(sw, be, `forward ${label}`, inputs, fwd, ['gates', 'c', 'h', 'tanhC']);
      // backward from the cpu's saved activations
      const saved = runOn(refBe, inputs, (s) => fwd(refBe, s), ['gates', 'tanhC']);
      twin(sw, be, `backward ${label}`, {
        gates: saved.gates as Float32Array, cPrev, tanhC: saved.tanhC as Float32Array,
        dh: uniform(B * H, rng), dc: uniform(B * H, rng), dgates: nans(B * 4 * H),
      }, (b, s) => b.lstmGatesBackward({ B, H, gates: s.gates, cPrev: s.cPrev, tanhC: s.tanhC, dh: s.dh, dc: s.dc, dgates: s.dgates }),
      ['dc', 'dgates']);
    }
    sw.done();
    t.end();
  });

  // emu, cuda: the .cu time loop has two paths (kernels/lstm.cu): the persistent recurrent kernel
  // (lstm_persistent.cuh) and the per-step recipe; the sweep runs on each, forced by LSTM_CUDA_LSTM_PATH
  for (const path of kind === 'cpu' ? ['default'] : ['persistent', 'steps']) {
  test(name(`lstm layer forward and backward, ${path} path (T ∈ 1..5, B ∈ {1,2,3,9}, I ∈ {3..65}, H ∈ {5,33,70}; null optional args)`), (t) => {
    const sw = new Sweep(t, `lstm (${path})`);
    const rng = new RngStream(41);
    const restore = withLstmPath(kind === 'cpu' ? undefined : path);
    // B = 9: the recurrent GEMM leaves the M ≤ 8 path; H = 70: 4H = 280 gates per row
    const shapes = [[1, 1, 3, 5], [4, 3, 7, 33], [3, 1, 65, 5], [2, 3, 5, 33], [5, 2, 4, 5], [3, 9, 6, 33], [2, 2, 5, 70]];
    let variant = 0;
    for (const [T, B, I, H] of shapes) {
      const k = 1 / Math.sqrt(H);
      const x = uniform(T * B * I, rng, -1, 1), wih = uniform(4 * H * I, rng, -k, k), whh = uniform(4 * H * H, rng, -k, k);
      const bih = uniform(4 * H, rng, -k, k), bhh = uniform(4 * H, rng, -k, k);
      const h0 = uniform(B * H, rng), c0 = uniform(B * H, rng);
      for (const bias of [true, false]) {
        const label = `T=${T} B=${B} I=${I} H=${H} bias=${bias}`;
        const inputs = {
          x, wih, whh, bih, bhh, h0, c0,
          h: nans(T * B * H), c: nans(T * B * H), gates: nans(T * B * 4 * H), tanhC: nans(T * B * H),
        };
        const fwd = (b: Backend, s: Stores) => b.lstmForward({
          T, B, I, H, x: s.x, wih: s.wih, whh: s.whh, bih: bias ? s.bih : null, bhh: bias ? s.bhh : null,
          h0: s.h0, c0: s.c0, h: s.h, c: s.c, gates: s.gates, tanhC: s.tanhC,
        });
        twin(sw, be, `forward ${label}`, inputs, fwd, ['h', 'c', 'gates', 'tanhC']);
        const saved = runOn(refBe, inputs, (s) => fwd(refBe, s), ['h', 'c', 'gates', 'tanhC']);
        // three patterns of optional arguments: all given; a mix without dx; no upstream dh at all
        const patterns = [
          { dh: true, dhT: true, dcT: true, dx: true, dh0: true, dc0: true, dwih: true, dwhh: true, dbih: true, dbhh: true },
          { dh: true, dhT: true, dcT: false, dx: false, dh0: true, dc0: false, dwih: true, dwhh: false, dbih: false, dbhh: true },
          { dh: false, dhT: false, dcT: true, dx: true, dh0: false, dc0: true, dwih: false, dwhh: true, dbih: true, dbhh: false },
        ];
        const has = patterns[variant++ % patterns.length];
        const bwdInputs: Record<string, Host> = {
          x, wih, whh, h0, c0,
          h: saved.h as Float32Array, c: saved.c as Float32Array, gates: saved.gates as Float32Array, tanhC: saved.tanhC as Float32Array,
          dh: uniform(T * B * H, rng), dhT: uniform(B * H, rng), dcT: uniform(B * H, rng),
          dx: nans(T * B * I), dh0: nans(B * H), dc0: nans(B * H),
          // parameter gradients accumulate: start from non-zero values
          dwih: uniform(4 * H * I, rng), dwhh: uniform(4 * H * H, rng), dbih: uniform(4 * H, rng), dbhh: uniform(4 * H, rng),
        };
        const opt = (s: Stores, key: keyof typeof has) => (has[key] ? s[key] : null);
        const outs = (['dx', 'dh0', 'dc0', 'dwih', 'dwhh', 'dbih', 'dbhh'] as const).filter((key) => has[key]);
        twin(sw, be, `backward ${label} optional=${JSON.stringify(has)}`, bwdInputs, (b, s) => b.lstmBackward({
          T, B, I, H, x: s.x, wih: s.wih, whh: s.whh, h0: s.h0, c0: s.c0, h: s.h, c: s.c, gates: s.gates, tanhC: s.tanhC,
          dh: opt(s, 'dh'), dhT: opt(s, 'dhT'), dcT: opt(s, 'dcT'), dx: opt(s, 'dx'), dh0: opt(s, 'dh0'), dc0: opt(s, 'dc0'),
          dwih: opt(s, 'dwih'), dwhh: opt(s, 'dwhh'), dbih: opt(s, 'dbih'), dbhh: opt(s, 'dbhh'),
        }), [...outs]);
        if (kind !== 'cpu') {
          const took = (be as NativeBackend).lstmPath();
          const want = path === 'steps' ? /^forward: \S+ \S+ steps .*backward: \S+ \S+ steps/ : /^forward: \S+ \S+ persistent: .*backward: \S+ \S+ persistent: /;
          if (!want.test(took)) t.fail(`${label}: the ${path} path ran (lstmPath: ${took})`);
        }
      }
    }
    restore();
    sw.done();
    t.end();
  });
  }

  if (kind === 'cpu') return;
  test(name('lstm time-loop path: persistent where it fits, else per-step with the reason; deterministic; both against ref'), (t) => {
    const be2 = be as NativeBackend;
    const restore = withLstmPath(undefined);
    t.match(be2.lstmPathPlan(3, 33), /^forward persistent: \d+ blocks x \d+ units.*; backward persistent: /, 'auto: a small layer takes the persistent kernel');
    // (132 SMs: 32 units per block need 2 MiB of shared memory; LSTM_CUDA_EMU_SMS=1: 4096 work items)
    t.match(be2.lstmPathPlan(1, 4096), /^forward steps \(B=1, H=4096: .*(shared memory|exceed 256 threads).*\); backward steps \(/, 'auto: a W_hh slice too large for one SM falls back, saying why');
    t.match(be2.lstmPathPlan(1025, 5), /^forward steps \(.*work items per block exceed 256 threads\)/, 'auto: a batch beyond the block falls back, saying why');
    // a shape that falls back, run: the path record says so, and it is right
    const sw = new Sweep(t, 'lstm fallback');
    const rng = new RngStream(43);
    const [T, B, I, H] = [2, 1025, 3, 5];
    const k = 1 / Math.sqrt(H);
    const inputs = {
      x: uniform(T * B * I, rng, -1, 1), wih: uniform(4 * H * I, rng, -k, k), whh: uniform(4 * H * H, rng, -k, k),
      bih: uniform(4 * H, rng, -k, k), bhh: uniform(4 * H, rng, -k, k), h0: uniform(B * H, rng), c0: uniform(B * H, rng),
      h: nans(T * B * H), c: nans(T * B * H), gates: nans(T * B * 4 * H), tanhC: nans(T * B * H),
    };
    const fwd = (b: Backend, s: Stores) => b.lstmForward({ T, B, I, H, ...s } as Parameters<Backend['lstmForward']>[0]);
    twin(sw, be, `forward T=${T} B=${B} H=${H}`, inputs, fwd, ['h', 'c', 'gates', 'tanhC']);
    t.match(be2.lstmPath(), /^forward: B=1025 H=5 steps \(B=1025, H=5: .* exceed 256 threads\)/, `the fallback is recorded: ${be2.lstmPath()}`);
    process.env.LSTM_CUDA_LSTM_PATH = 'persistent';
    twin(sw, be, `forward T=${T} B=${B} H=${H}, LSTM_CUDA_LSTM_PATH=persistent`, inputs, fwd, ['h', 'c', 'gates', 'tanhC']);
    t.match(be2.lstmPath(), /^forward: B=1025 H=5 steps \(LSTM_CUDA_LSTM_PATH=persistent, but /, 'forced persistent that cannot fit falls back and says so');
    sw.done();
    // the persistent path is deterministic: two runs give the same bits (forward and backward)
    const [T2, B2, I2, H2] = [4, 6, 5, 37];
    const p2 = {
      x: uniform(T2 * B2 * I2, rng, -1, 1), wih: uniform(4 * H2 * I2, rng, -0.3, 0.3), whh: uniform(4 * H2 * H2, rng, -0.3, 0.3),
      h0: uniform(B2 * H2, rng), c0: uniform(B2 * H2, rng),
    };
    const runTwice = (): Float32Array[] => {
      const up = (a: Float32Array) => be.upload(a);
      const s = { x: up(p2.x), wih: up(p2.wih), whh: up(p2.whh), h0: up(p2.h0), c0: up(p2.c0),
        h: be.alloc('float32', T2 * B2 * H2), c: be.alloc('float32', T2 * B2 * H2), gates: be.alloc('float32', T2 * B2 * 4 * H2), tanhC: be.alloc('float32', T2 * B2 * H2) };
      be.lstmForward({ T: T2, B: B2, I: I2, H: H2, ...s, bih: null, bhh: null });
      const g = { dx: be.alloc('float32', T2 * B2 * I2), dh0: be.alloc('float32', B2 * H2), dc0: be.alloc('float32', B2 * H2), dwhh: be.alloc('float32', 4 * H2 * H2) };
      be.lstmBackward({ T: T2, B: B2, I: I2, H: H2, ...s, dh: s.h, dhT: null, dcT: s.c, ...g, dwih: null, dbih: null, dbhh: null });
      const out = [s.h, s.c, g.dx, g.dh0, g.dc0, g.dwhh].map((x) => be.download(x) as Float32Array);
      for (const x of [...Object.values(s), ...Object.values(g)]) be.free(x);
      return out;
    };
    const a = runTwice(), b = runTwice();
    t.match(be2.lstmPath(), /^forward: B=6 H=37 persistent: .*backward: B=6 H=37 persistent: /, 'persistent forward and backward ran');
    t.ok(a.every((x, i) => x.length > 0 && x.every((v, e) => Object.is(v, b[i][e]))), 'persistent path: the same bits twice (h, c, dx, dh0, dc0, dW_hh)');
    restore();
    t.end();
  });
});

/** Sets LSTM_CUDA_LSTM_PATH (undefined: unset, auto) and returns the function that restores it. */
function withLstmPath(path: string | undefined): () => void {
  const old = process.env.LSTM_CUDA_LSTM_PATH;
  if (path === undefined) delete process.env.LSTM_CUDA_LSTM_PATH;
  else process.env.LSTM_CUDA_LSTM_PATH = path;
  return () => {
    if (old === undefined) delete process.env.LSTM_CUDA_LSTM_PATH;
    else process.env.LSTM_CUDA_LSTM_PATH = old;
  };
}
