// Kernel-level tests of the ref gemm against a naive float64 triple loop written here: all four
// transposes, odd sizes, alpha/beta ≠ 1, beta = 0 over NaN, float32 and float64.
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';
import { RngStream } from '../src/rng.js';
import { Sweep, nans, twin, uniform } from './compare.js';
import { forEachNativeBackend } from './native_backends.js';
import { linear } from '../src/ops/linear.js';
import { check, leaf, squared, vars, weighted } from './grad.js';

type F = Float32Array | Float64Array;

function randArray(T: typeof Float32Array | typeof Float64Array, n: number, rng: RngStream): F {
  const a = new T(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() * 2 - 1;
  return a;
}

/** C = alpha·op(A)·op(B) + beta·C in double, element by element. */
function naiveGemm(tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number, A: F, B: F, beta: number, C: F): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (tA ? A[k * M + i] : A[i * K + k]) * (tB ? B[j * K + k] : B[k * N + j]);
      out[i * N + j] = alpha * s + (beta === 0 ? 0 : beta * C[i * N + j]);
    }
  }
  return out;
}

/** max over elements of |got - ref| / (atol + rtol·|ref|); ≤ 1 passes. */
function worst(got: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol: number): number {
  let w = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]) / (atol + rtol * Math.abs(ref[i]));
    if (!(e <= w)) w = e; // NaN propagates as a failure
  }
  return w;
}

const SIZES = [1, 7, 33, 65];

for (const [T, atol, rtol] of [[Float32Array, 1e-6, 1e-5], [Float64Array, 1e-13, 1e-12]] as const) {
  test(`gemm ${T.name}: all transposes, sizes {1,7,33,65}³, alpha/beta ≠ 1 and beta = 0 over NaN`, (t) => {
    const rng = new RngStream(7);
    let cases = 0, bad = 0;
    for (const tA of [false, true]) for (const tB of [false, true]) {
      for (const M of SIZES) for (const N of SIZES) for (const K of SIZES) {
        if (M === 65 && N === 65 && K === 65 && (tA || tB)) continue; // keep the test fast
        const A = randArray(T, M * K, rng), B = randArray(T, K * N, rng);
        for (const [alpha, beta] of [[1.5, -0.75], [-0.5, 0]]) {
          const C0 = randArray(T, M * N, rng);
          if (beta === 0) C0.fill(NaN);
          const ref = naiveGemm(tA, tB, M, N, K, alpha, A, B, beta, C0);
          const sA = be.upload(A), sB = be.upload(B), sC = be.upload(C0);
          be.gemm({ transA: tA, transB: tB, M, N, K, alpha, beta, A: sA, B: sB, C: sC });
          const got = be.download(sC);
          // float32 inputs are exact in double; only the final rounding and summation order differ
          const w = worst(got, ref, atol, rtol);
          if (!(w <= 1)) {
            bad++;
            if (bad <= 3) t.fail(`tA=${tA} tB=${tB} M=${M} N=${N} K=${K} alpha=${alpha} beta=${beta}: worst error ratio ${w}`);
          }
          cases++;
          be.free(sA); be.free(sB); be.free(sC);
        }
      }
    }
    t.equal(bad, 0, `${cases} cases within atol + rtol·|ref| (rtol ${rtol})`);
    t.end();
  });
}

test('gemm: K and N larger than the cache blocks (K = 520, N = 400), all transposes, both dtypes', (t) => {
  const rng = new RngStream(11);
  const M = 9, N = 400, K = 520;
  for (const [T, atol, rtol] of [[Float32Array, 1e-6, 1e-5], [Float64Array, 1e-12, 1e-12]] as const) {
    for (const tA of [false, true]) for (const tB of [false, true]) {
      const A = randArray(T, M * K, rng), B = randArray(T, K * N, rng), C0 = randArray(T, M * N, rng);
      const ref = naiveGemm(tA, tB, M, N, K, 0.5, A, B, 2, C0);
      const sC = be.upload(C0);
      be.gemm({ transA: tA, transB: tB, M, N, K, alpha: 0.5, beta: 2, A: be.upload(A), B: be.upload(B), C: sC });
      // float32: C is rounded once per K block of 256, still far inside the tolerance
      const w = worst(be.download(sC), ref, atol, rtol);
      t.ok(w <= 1, `${T.name} tA=${tA} tB=${tB}: worst error ratio ${w.toFixed(3)} ≤ 1`);
    }
  }
  t.end();
});

test('gemm: K = 0 gives beta·C, M or N = 0 is a no-op, alpha = 0 ignores NaN in A', (t) => {
  const C = be.upload(new Float64Array([1, 2, 3, 4]));
  const A = be.upload(new Float64Array(0)), B = be.upload(new Float64Array(0));
  be.gemm({ transA: false, transB: false, M: 2, N: 2, K: 0, alpha: 1, beta: 2, A, B, C });
  t.deepEqual(Array.from(be.download(C)), [2, 4, 6, 8], 'K = 0: C = beta·C');
  be.gemm({ transA: false, transB: false, M: 0, N: 2, K: 0, alpha: 1, beta: 0, A, B, C });
  t.deepEqual(Array.from(be.download(C)), [2, 4, 6, 8], 'M = 0: untouched');
  const An = be.upload(new Float64Array([NaN, NaN])), Bn = be.upload(new Float64Array([1, 1]));
  be.gemm({ transA: false, transB: false, M: 2, N: 2, K: 1, alpha: 0, beta: 0.5, A: An, B: Bn, C });
  t.deepEqual(Array.from(be.download(C)), [1, 2, 3, 4], 'alpha = 0: C = beta·C');
  t.end();
});

test('gemm: repeated calls reuse scratch and stay correct when sizes shrink and grow', (t) => {
  const rng = new RngStream(3);
  let ok = true;
  for (const [M, N, K] of [[65, 65, 65], [3, 5, 2], [33, 1, 65], [1, 33, 7]]) {
    const A = randArray(Float64Array, M * K, rng), B = randArray(Float64Array, K * N, rng);
    const ref = naiveGemm(false, true, M, N, K, 1, A, B, 0, new Float64Array(M * N));
    const sC = be.alloc('float64', M * N);
    be.gemm({ transA: false, transB: true, M, N, K, alpha: 1, beta: 0, A: be.upload(A), B: be.upload(B), C: sC });
    if (!(worst(be.download(sC), ref, 1e-13, 1e-12) <= 1)) ok = false;
  }
  t.ok(ok, 'all sizes match the naive reference');
  t.end();
});

test('gemm: bad storages are clear errors', (t) => {
  const A = be.alloc('float32', 6), B = be.alloc('float32', 6), C = be.alloc('float32', 4);
  const base = { transA: false, transB: false, M: 2, N: 2, K: 3, alpha: 1, beta: 0, A, B, C };
  t.throws(() => be.gemm({ ...base, C: be.alloc('float32', 3) }), /'C' has 3 elements but its shape \[M=2, N=2\] needs 4/, 'short C');
  t.throws(() => be.gemm({ ...base, B: be.alloc('float64', 6) }), /'B' is float64 but .* float32/, 'mixed dtypes');
  t.throws(() => be.gemm({ ...base, A: be.alloc('int32', 6) }), /'A' must be a float storage, got int32/, 'int32 operand');
  t.throws(() => be.gemm({ ...base, C: A }), /alias/, 'C aliasing A');
  const F = be.alloc('float32', 4);
  be.free(F);
  be.free(F); // idempotent
  t.throws(() => be.gemm({ ...base, C: F }), /use after dispose\/free/, 'freed storage');
  t.throws(() => be.gemm({ ...base, C: { dtype: 'float32', length: 4 } }), /'C' is not a storage of the ref backend/, 'foreign storage');
  be.gemm(base);
  t.deepEqual(Array.from(be.download(C)), [0, 0, 0, 0], 'backend still usable');
  t.end();
});

// ---- float64 gradient check of the op (test/grad.ts)
test('grad check: linear with leading dims, with and without bias', (t) => {
  const x = leaf([2, 3, 4], 3);
  const w = leaf([5, 4], 4);
  const b = leaf([5], 5);
  check(t, 'linear [2,3,4] -> [2,3,5] with bias', vars({ x, w, b }), () => weighted([linear(x, w, b)]));
  check(t, 'linear without bias', vars({ x, w }), () => squared(linear(x, w)));
  t.end();
});

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('gemm', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
  test(name('gemm: all transposes, M,N ∈ {1,5,33,70}, K ∈ {0,1,7,33,70}, alpha/beta variations, beta = 0 over NaN'), (t) => {
    const sw = new Sweep(t, 'gemm');
    const rng = new RngStream(21);
    const ab: [number, number][] = [[1, 0], [1.5, -0.75], [-0.5, 0], [1, 1], [0.25, 2]];
    let i = 0;
    for (const transA of [false, true]) for (const transB of [false, true]) {
      for (const M of [1, 5, 33, 70]) for (const N of [1, 5, 33, 70]) for (const K of [0, 1, 7, 33, 70]) {
        if (M * N * K > 33 * 70 * 70) continue; // the emulator is slow; 70³ only once below
        const [alpha, beta] = ab[i++ % ab.length];
        const A = uniform(M * K, rng), B = uniform(K * N, rng);
        const C = beta === 0 ? nans(M * N) : uniform(M * N, rng);
        twin(sw, be, `tA=${transA} tB=${transB} M=${M} N=${N} K=${K} alpha=${alpha} beta=${beta}`, { A, B, C },
          (b, s) => b.gemm({ transA, transB, M, N, K, alpha, beta, A: s.A, B: s.B, C: s.C }), ['C']);
      }
    }
    for (const [transA, transB] of [[false, true], [true, false]]) {
      const A = uniform(70 * 70, rng), B = uniform(70 * 70, rng);
      twin(sw, be, `tA=${transA} tB=${transB} 70³ beta=0 over NaN`, { A, B, C: nans(70 * 70) },
        (b, s) => b.gemm({ transA, transB, M: 70, N: 70, K: 70, alpha: 1, beta: 0, A: s.A, B: s.B, C: s.C }), ['C']);
    }
    // split over K (the emulator reports 132 SMs: few output tiles are split into K slices summed in a
    // fixed order), all transposes, edges in M, N and K; and the per-step LSTM shapes at H = 512, B = 64
    for (const transA of [false, true]) for (const transB of [false, true]) {
      const [M, N, K] = [40, 100, 600];
      twin(sw, be, `split-K tA=${transA} tB=${transB} M=${M} N=${N} K=${K}`, { A: uniform(M * K, rng), B: uniform(K * N, rng), C: uniform(M * N, rng) },
        (b, s) => b.gemm({ transA, transB, M, N, K, alpha: 1.5, beta: -0.75, A: s.A, B: s.B, C: s.C }), ['C']);
    }
    for (const [transB, M, N, K] of [[true, 64, 2048, 512], [false, 64, 512, 2048]] as const) {
      twin(sw, be, `LSTM step shape tB=${transB} M=${M} N=${N} K=${K} beta=1`, { A: uniform(M * K, rng), B: uniform(K * N, rng), C: uniform(M * N, rng) },
        (b, s) => b.gemm({ transA: false, transB, M, N, K, alpha: 1, beta: 1, A: s.A, B: s.B, C: s.C }), ['C']);
    }
    // 16-byte aligned operands with M, N ≥ 96: the 128-tile kernel where the SMs are few (the shuffled
    // schedule run of test/emu_schedules.test.ts sets LSTM_CUDA_EMU_SMS=1), else the 64-tile one
    twin(sw, be, 'aligned M=130 N=100 K=72', { A: uniform(130 * 72, rng), B: uniform(72 * 100, rng), C: nans(130 * 100) },
      (b, s) => b.gemm({ transA: false, transB: true, M: 130, N: 100, K: 72, alpha: 1, beta: 0, A: s.A, B: s.B, C: s.C }), ['C']);
    // M = 0 / N = 0: nothing happens to C
    twin(sw, be, 'M=0', { A: uniform(4, rng), B: uniform(4, rng), C: uniform(4, rng) },
      (b, s) => b.gemm({ transA: false, transB: false, M: 0, N: 2, K: 2, alpha: 1, beta: 0, A: s.A, B: s.B, C: s.C }), ['C']);
    sw.done();
    t.end();
  });
});
