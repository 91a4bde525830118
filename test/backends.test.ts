// The cross-backend kernel suite: every kernel of the Backend interface on `emu` and `cuda` against the
// `ref` reference (float32), forward and backward, at odd and edge sizes (H = 5, 33; B = 1; T = 1;
// V = 65; GEMM K = 1, 7, 33, 70 with all four transposes). Tolerance: |got - ref| ≤ atol + rtol·|ref| with
// rtol = 1e-4 and atol = 1e-5 · (largest |ref| of that output, at least 1). Dropout masks and sampled
// tokens must be identical. `emu` must always be available (a failure otherwise); `cuda` prints a
// visible SKIP line where there is no GPU. Sizes stay small: the emulator runs ~0.5 GFLOP/s.
import test from 'tape';
import { forEachNativeBackend } from './native_backends.js';
import type { NativeKind } from '../src/native.js';
import type { Backend, Storage, TypedArray } from '../src/backend.js';
import { refBackend as refBe } from '../src/cpu/index.js';
import { RngStream } from '../src/rng.js';

const RTOL = 1e-4;
const ATOL_SCALE = 1e-5;

type Host = Float32Array | Int32Array;
type Stores = Record<string, Storage>;

function uniform(n: number, rng: RngStream, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.next();
  return a;
}

function nans(n: number): Float32Array {
  return new Float32Array(n).fill(NaN);
}

/**
 * Uploads `inputs` to `be`, runs `fn` on the storages, downloads `outs`, frees everything. The same
 * host inputs go to both backends, so any difference is the kernel's.
 */
function runOn(be: Backend, inputs: Record<string, Host>, fn: (s: Stores) => void, outs: string[]): Record<string, TypedArray> {
  const s: Stores = {};
  for (const k in inputs) s[k] = be.upload(inputs[k]);
  try {
    fn(s);
    const r: Record<string, TypedArray> = {};
    for (const k of outs) r[k] = be.download(s[k]);
    return r;
  } finally {
    for (const k in s) be.free(s[k]);
  }
}

/** Worst |got - ref| / (atol + rtol·|ref|) over the elements (≤ 1 passes; NaN in got or ref fails). */
function worstRatio(got: ArrayLike<number>, ref: ArrayLike<number>): { ratio: number; at: number } {
  let scale = 1;
  for (let i = 0; i < ref.length; i++) if (Math.abs(ref[i]) > scale) scale = Math.abs(ref[i]);
  const atol = ATOL_SCALE * scale;
  let ratio = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]) / (atol + RTOL * Math.abs(ref[i]));
    if (!(e <= ratio)) { ratio = Number.isNaN(e) ? Infinity : e; at = i; }
  }
  return { ratio, at };
}

/**
 * Counts mismatches over a sweep and reports the first few in detail, so that a sweep of hundreds of
 * cases is a handful of assertions.
 */
class Sweep {
  cases = 0;
  bad = 0;
  constructor(private t: test.Test, private what: string) {}
  close(label: string, name: string, got: TypedArray, ref: TypedArray): void {
    this.cases++;
    if (got.length !== ref.length) { this.report(`${label} ${name}: length ${got.length} vs ${ref.length}`); return; }
    const { ratio, at } = worstRatio(got, ref);
    if (!(ratio <= 1)) this.report(`${label} ${name}[${at}]: got ${got[at]}, ref ${ref[at]} (error ratio ${ratio.toPrecision(3)})`);
  }
  exact(label: string, name: string, got: TypedArray, ref: TypedArray): void {
    this.cases++;
    const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
    const b = new Uint32Array(ref.buffer, ref.byteOffset, ref.length);
    if (a.length !== b.length) { this.report(`${label} ${name}: length ${a.length} vs ${b.length}`); return; }
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) { this.report(`${label} ${name}[${i}]: got ${got[i]}, ref ${ref[i]} (not bitwise equal)`); return; }
    }
  }
  private report(msg: string): void {
    this.bad++;
    if (this.bad <= 4) this.t.fail(msg);
  }
  done(): void {
    this.t.equal(this.bad, 0, `${this.what}: ${this.cases - this.bad}/${this.cases} comparisons within tolerance`);
  }
}

/** Runs fn on cpu and on `be` with the same inputs and compares the outputs (close or exact). */
function twin(
  sw: Sweep, be: Backend, label: string, inputs: Record<string, Host>, fn: (b: Backend, s: Stores) => void,
  outs: string[], exact: string[] = [],
): void {
  const ref = runOn(refBe, inputs, (s) => fn(refBe, s), [...outs, ...exact]);
  const got = runOn(be, inputs, (s) => fn(be, s), [...outs, ...exact]);
  for (const k of outs) sw.close(label, k, got[k], ref[k]);
  for (const k of exact) sw.exact(label, k, got[k], ref[k]);
}

function suite(kind: NativeKind, be: Backend): void {
  const t0 = Date.now();
  let baseline = { liveCount: 0, liveBytes: 0 };
  const name = (s: string) => `${kind}: ${s}`;

  test(name('memory: alloc zero-fills, upload/download round-trips bits, copy, free is idempotent'), (t) => {
    baseline = be.memory();
    const z = be.alloc('float32', 1000), zi = be.alloc('int32', 33);
    t.ok((be.download(z) as Float32Array).every((v) => v === 0), 'alloc float32 is zero-filled');
    t.ok((be.download(zi) as Int32Array).every((v) => v === 0), 'alloc int32 is zero-filled');
    const bits = new Uint32Array([0x7fc00001, 0x80000000, 0x00000001, 0x7f7fffff, 0xff800000, 0x3f800000]);
    const f = new Float32Array(bits.buffer);
    const sf = be.upload(f);
    const back = be.download(sf) as Float32Array;
    t.ok(back instanceof Float32Array, 'download of float32 is a Float32Array');
    t.deepEqual(Array.from(new Uint32Array(back.buffer, back.byteOffset, back.length)), Array.from(bits), 'float32 bits round-trip (NaN payload, -0, denormal, max, -inf)');
    const ints = new Int32Array([-2147483648, -1, 0, 7, 2147483647]);
    const si = be.upload(ints);
    const bi = be.download(si);
    t.ok(bi instanceof Int32Array, 'download of int32 is an Int32Array');
    t.deepEqual(Array.from(bi), Array.from(ints), 'int32 round-trips');
    const dst = be.alloc('int32', ints.length);
    be.copy(si, dst);
    t.deepEqual(Array.from(be.download(dst)), Array.from(ints), 'copy');
    const empty = be.upload(new Float32Array(0));
    t.equal(be.download(empty).length, 0, 'a zero-length storage round-trips');
    for (const s of [z, zi, sf, si, dst, empty]) be.free(s);
    be.free(z);
    t.pass('free twice is a no-op');
    t.end();
  });

  test(name('elementwise and reductions: fill, axpby, affine, mul, sum, sumRows, addRowVector, sumSquares'), (t) => {
    const sw = new Sweep(t, 'elementwise');
    const rng = new RngStream(11);
    for (const n of [1, 33, 1000, 4099]) {
      const x = uniform(n, rng, -3, 3), y = uniform(n, rng, -3, 3), out = nans(n);
      twin(sw, be, `fill n=${n}`, { x }, (b, s) => b.fill({ n: s.x.length, x: s.x, value: -2.5 }), ['x']);
      twin(sw, be, `axpby n=${n}`, { x, y, out }, (b, s) => b.axpby({ n, alpha: 1.5, x: s.x, beta: -0.25, y: s.y, out: s.out }), ['out']);
      twin(sw, be, `axpby out=x n=${n}`, { x, y }, (b, s) => b.axpby({ n, alpha: -0.5, x: s.x, beta: 2, y: s.y, out: s.x }), ['x']);
      twin(sw, be, `axpby out=y n=${n}`, { x, y }, (b, s) => b.axpby({ n, alpha: 0.75, x: s.x, beta: 1, y: s.y, out: s.y }), ['y']);
      twin(sw, be, `affine n=${n}`, { x, out }, (b, s) => b.affine({ n, alpha: -1.25, x: s.x, beta: 0.5, out: s.out }), ['out']);
      twin(sw, be, `affine out=x n=${n}`, { x }, (b, s) => b.affine({ n, alpha: 3, x: s.x, beta: -1, out: s.x }), ['x']);
      twin(sw, be, `mul n=${n}`, { x, y, out }, (b, s) => b.mul({ n, x: s.x, y: s.y, out: s.out }), ['out']);
      twin(sw, be, `mul out=y n=${n}`, { x, y }, (b, s) => b.mul({ n, x: s.x, y: s.y, out: s.y }), ['y']);
      twin(sw, be, `sum n=${n}`, { x, out: nans(1) }, (b, s) => b.sum({ n, x: s.x, out: s.out }), ['out']);
      // out[2] written, out[0,1,3] untouched
      const partial = new Float32Array([4, -1, NaN, 9]);
      twin(sw, be, `sumSquares n=${n}`, { x, out: partial }, (b, s) => b.sumSquares({ n, x: s.x, out: s.out, outIndex: 2 }), ['out']);
    }
    // many blocks: the cross-block step of the deterministic reductions
    const big = uniform(100003, rng, -1, 1);
    twin(sw, be, 'sum n=100003', { x: big, out: nans(1) }, (b, s) => b.sum({ n: 100003, x: s.x, out: s.out }), ['out']);
    twin(sw, be, 'sumSquares n=100003', { x: big, out: nans(1) }, (b, s) => b.sumSquares({ n: 100003, x: s.x, out: s.out, outIndex: 0 }), ['out']);
    twin(sw, be, 'sumRows M=3001 N=3', { x: uniform(9003, rng), out: nans(3) }, (b, s) => b.sumRows({ M: 3001, N: 3, x: s.x, out: s.out, accumulate: false }), ['out']);
    // several column tiles × row slices (the slice totals added by each tile's last block), accumulating
    twin(sw, be, 'sumRows M=1300 N=70 +=', { x: uniform(91000, rng), out: uniform(70, rng) }, (b, s) => b.sumRows({ M: 1300, N: 70, x: s.x, out: s.out, accumulate: true }), ['out']);
    // a prefix: n < length leaves the tail alone
    const long = uniform(50, rng);
    twin(sw, be, 'axpby n=17 of 50', { x: long, y: uniform(50, rng), out: uniform(50, rng) }, (b, s) => b.axpby({ n: 17, alpha: 1, x: s.x, beta: 1, y: s.y, out: s.out }), ['out']);
    for (const M of [1, 7, 70]) for (const N of [1, 5, 33]) {
      const x = uniform(M * N, rng, -2, 2), v = uniform(N, rng, -2, 2);
      twin(sw, be, `sumRows M=${M} N=${N} =`, { x, out: nans(N) }, (b, s) => b.sumRows({ M, N, x: s.x, out: s.out, accumulate: false }), ['out']);
      twin(sw, be, `sumRows M=${M} N=${N} +=`, { x, out: v }, (b, s) => b.sumRows({ M, N, x: s.x, out: s.out, accumulate: true }), ['out']);
      twin(sw, be, `addRowVector M=${M} N=${N}`, { x, v }, (b, s) => b.addRowVector({ M, N, x: s.x, b: s.v }), ['x']);
    }
    sw.done();
    t.end();
  });

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

  test(name('lstm layer forward and backward (T ∈ 1..5, B ∈ {1,2,3,9}, I ∈ {3..65}, H ∈ {5,33,70}; null optional args)'), (t) => {
    const sw = new Sweep(t, 'lstm');
    const rng = new RngStream(41);
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
      }
    }
    sw.done();
    t.end();
  });

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

  test(name('embedding forward and backward with repeated indices'), (t) => {
    const sw = new Sweep(t, 'embedding');
    const rng = new RngStream(61);
    for (const [N, V, D] of [[40, 65, 5], [40, 65, 33], [1, 1, 7], [300, 3, 2]]) {
      const idx = new Int32Array(N);
      // row 0 and the last row of weight are hit many times; the rest at random
      for (let n = 0; n < N; n++) idx[n] = n % 3 === 0 ? 0 : n % 5 === 0 ? V - 1 : Math.floor(rng.next() * V);
      const weight = uniform(V * D, rng);
      twin(sw, be, `forward N=${N} V=${V} D=${D}`, { weight, idx, out: nans(N * D) },
        (b, s) => b.embeddingForward({ N, V, D, weight: s.weight, idx: s.idx, out: s.out }), ['out']);
      twin(sw, be, `backward N=${N} V=${V} D=${D}`, { idx, dout: uniform(N * D, rng), dweight: uniform(V * D, rng) },
        (b, s) => b.embeddingBackward({ N, V, D, idx: s.idx, dout: s.dout, dweight: s.dweight }), ['dweight']);
    }
    sw.done();
    t.end();
  });

  test(name('dropout masks are bitwise identical to ref for the same seed and offset'), (t) => {
    const sw = new Sweep(t, 'dropout');
    for (const n of [1, 1000, 4097]) for (const p of [0, 0.1, 0.5, 0.9]) {
      for (const [seed, offset] of [[0, 0], [1234567, 99], [0xffffffff, 0xfffffff0], [42, 0x7fffffff]]) {
        const threshold = Math.round(p * 2 ** 24), scale = Math.fround(1 / (1 - p));
        twin(sw, be, `n=${n} p=${p} seed=${seed} offset=${offset}`, { mask: nans(n) },
          (b, s) => b.dropoutMask({ n, seed, offset, threshold, scale, mask: s.mask }), [], ['mask']);
      }
    }
    sw.done();
    t.end();
  });

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

  test(name('sample: same tokens as ref at V = 65 (and 1, 5000) over seeds, offsets, temperatures, top-k and top-p'), (t) => {
    const sw = new Sweep(t, 'sample');
    const rng = new RngStream(81);
    const B = 16, V = 65;
    const logits = uniform(B * V, rng, -4, 4);
    for (let v = 0; v < V; v += 3) logits[V + v] = 1.5;                 // row 1: ties (lowest index first)
    logits.fill(0, 2 * V, 3 * V);                                        // row 2: uniform
    logits.fill(-1000, 3 * V, 4 * V); logits[3 * V + 64] = 1000;         // row 3: one certain token, extreme
    for (let v = 0; v < V; v++) logits[4 * V + v] = Math.round(logits[4 * V + v]); // row 4: many ties
    for (const temperature of [0, 0.5, 1, 1.7]) for (const topK of [0, 1, 5]) for (const topP of [1, 0.9, 0.3]) {
      for (const [seed, offset] of [[1, 0], [77, 1000], [0xdeadbeef, 0xfffffff8], [5, 123456], [2024, 7]]) {
        twin(sw, be, `T=${temperature} topK=${topK} topP=${topP} seed=${seed} offset=${offset}`,
          { logits, tokens: new Int32Array(B).fill(-1), logp: nans(B), entropy: nans(B) },
          (b, s) => b.sample({ B, V, logits: s.logits, temperature, topK, topP, seed, offset, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
          ['logp', 'entropy'], ['tokens']);
      }
    }
    // V = 1 (one choice), V = 5000 (rows too long for the shared-memory path)
    for (const [B2, V2] of [[2, 1], [3, 5000]]) {
      const l2 = uniform(B2 * V2, rng, -4, 4);
      for (const [temperature, topK, topP] of [[0, 0, 1], [1, 0, 1], [0.8, 50, 0.9], [1.3, 0, 0.5]]) {
        twin(sw, be, `B=${B2} V=${V2} T=${temperature} topK=${topK} topP=${topP}`,
          { logits: l2, tokens: new Int32Array(B2).fill(-1), logp: nans(B2), entropy: nans(B2) },
          (b, s) => b.sample({ B: B2, V: V2, logits: s.logits, temperature, topK, topP, seed: 9, offset: 3, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
          ['logp', 'entropy'], ['tokens']);
      }
    }
    // rows with no distribution to draw from (a NaN logit, a +inf logit, all -inf, all NaN): the argmax, in
    // bounds, on both backends (on a GPU these once read unwritten shared memory); logp/entropy are not compared
    {
      const B3 = 4, V3 = 65;
      const l3 = uniform(B3 * V3, rng, -4, 4);
      l3[7] = NaN; l3[V3 + 30] = Infinity; l3.fill(-Infinity, 2 * V3, 3 * V3); l3.fill(NaN, 3 * V3, 4 * V3);
      for (const [temperature, topK, topP] of [[1, 0, 1], [0.7, 5, 0.9]]) {
        twin(sw, be, `non-finite rows T=${temperature} topK=${topK} topP=${topP}`,
          { logits: l3, tokens: new Int32Array(B3).fill(-1), logp: nans(B3), entropy: nans(B3) },
          (b, s) => b.sample({ B: B3, V: V3, logits: s.logits, temperature, topK, topP, seed: 4, offset: 0, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
          [], ['tokens']);
      }
      const [st, tk, lp, en] = [refBe.upload(l3), refBe.alloc('int32', B3), refBe.alloc('float32', B3), refBe.alloc('float32', B3)];
      refBe.sample({ B: B3, V: V3, logits: st, temperature: 1, topK: 0, topP: 1, seed: 4, offset: 0, tokens: tk, logp: lp, entropy: en });
      const tok = refBe.download(tk);
      for (const x of [st, tk, lp, en]) refBe.free(x);
      t.deepEqual(Array.from(tok), [l3.slice(0, V3).reduce((a, v, i, r) => (v > r[a] ? i : a), 0), 30, 0, 0],
        'ref: non-finite rows give the argmax (first maximum among non-NaN logits; 0 when there is none)');
    }
    sw.done();
    t.end();
  });

  test(name('suite runtime'), (t) => {
    const s = be.memory();
    t.deepEqual([s.liveCount, s.liveBytes], [baseline.liveCount, baseline.liveBytes],
      `no storage leaked by the suite (live ${s.liveCount} storages / ${s.liveBytes} B, as before it)`);
    t.comment(`${kind} kernel suite ran in ${((Date.now() - t0) / 1000).toFixed(1)} s on ${be.deviceName}`);
    t.end();
  });
}

forEachNativeBackend('kernel suite', suite);
