// Kernel-level tests of the ref elementwise ops and reductions (fill, axpby, affine, mul, sum,
// addRowVector, sumRows, sumSquares), aliasing included, and of the cpu storage basics they rest on
// (alloc zero-fills, upload/download copy, copy, free is idempotent, memory() counts live storages).
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';
import { Sweep, nans, twin, uniform } from './compare.js';
import { RngStream } from '../src/rng.js';
import { forEachNativeBackend } from './native_backends.js';
import { add, sub, mul } from '../src/ops/elementwise.js';
import { sum, mean } from '../src/ops/reduce.js';
import { reshape } from '../src/ops/reshape.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, ...
import { check, leaf, squared, vars, weighted } from './grad.js';

const X = [1, -2, 3.5, 0.25, -8];
const Y = [0.5, 4, -1, 2, 3];
const up = (a: number[]) => be.upload(Float64Array.from(a));
const get = (s: Parameters<typeof be.download>[0]) => Array.from(be.download(s));

test('fill, axpby, affine, mul, with and without aliasing', (t) => {
  const a = up(X);
  be.fill({ n: a.length, x: a, value: 2.5 });
  t.deepEqual(get(a), [2.5, 2.5, 2.5, 2.5, 2.5], 'fill');
  const out = be.alloc('float64', 5);
  be.axpby({ n: 5, alpha: 2, x: up(X), beta: -3, y: up(Y), out });
  t.deepEqual(get(out), X.map((x, i) => 2 * x - 3 * Y[i]), 'axpby');
  const x = up(X), y = up(Y);
  be.axpby({ n: 5, alpha: 2, x, beta: -3, y, out: x });
  t.deepEqual(get(x), X.map((v, i) => 2 * v - 3 * Y[i]), 'axpby out = x');
  const x2 = up(X), y2 = up(Y);
  be.axpby({ n: 5, alpha: 2, x: x2, beta: -3, y: y2, out: y2 });
  t.deepEqual(get(y2), X.map((v, i) => 2 * v - 3 * Y[i]), 'axpby out = y');
  const x3 = up(X);
  be.axpby({ n: 3, alpha: 1, x: x3, beta: 1, y: x3, out: x3 });
  t.deepEqual(get(x3), [2, -4, 7, 0.25, -8], 'axpby x + x into x, only n = 3 elements');
  const x4 = up(X);
  be.affine({ n: 5, alpha: -0.5, x: x4, beta: 1, out: x4 });
  t.deepEqual(get(x4), X.map((v) => -0.5 * v + 1), 'affine out = x');
  const x5 = up(X), y5 = up(Y);
  be.mul({ n: 5, x: x5, y: y5, out: y5 });
  t.deepEqual(get(y5), X.map((v, i) => v * Y[i]), 'mul out = y');
  be.mul({ n: 5, x: x5, y: x5, out: x5 });
  t.deepEqual(get(x5), X.map((v) => v * v), 'mul x⊙x into x');
  t.end();
});

test('sum, sumSquares, addRowVector, sumRows (= and +=)', (t) => {
  const out = be.alloc('float64', 3);
  be.sum({ n: 5, x: up(X), out });
  t.equal(get(out)[0], X.reduce((a, b) => a + b), 'sum');
  be.sumSquares({ n: 4, x: up(X), out, outIndex: 2 });
  t.deepEqual(get(out), [X.reduce((a, b) => a + b), 0, 1 + 4 + 12.25 + 0.0625], 'sumSquares writes only out[outIndex]');
  // sum accumulates in double
  const big = new Float32Array(1 << 20).fill(1);
  big[0] = 2 ** 24;
  const o32 = be.alloc('float32', 1);
  be.sum({ n: big.length, x: be.upload(big), out: o32 });
  // (a float32 running sum would stay at 2^24: each +1 rounds away)
  t.equal(get(o32)[0], Math.fround(2 ** 24 + 2 ** 20 - 1), 'float32 sum accumulates in double');

  const M = 3, N = 2;
  const m = up([1, 2, 3, 4, 5, 6]);
  be.addRowVector({ M, N, x: m, b: up([10, -1]) });
  t.deepEqual(get(m), [11, 1, 13, 3, 15, 5], 'addRowVector');
  const r = up([100, 200]);
  be.sumRows({ M, N, x: m, out: r, accumulate: false });
  t.deepEqual(get(r), [39, 9], 'sumRows overwrite');
  be.sumRows({ M, N, x: m, out: r, accumulate: true });
  t.deepEqual(get(r), [78, 18], 'sumRows accumulate');
  t.end();
});

test('storage: alloc zero-fills, upload/download copy, copy, free, memory()', (t) => {
  const before = be.memory();
  const a = be.alloc('float32', 10);
  t.ok(get(a).every((v) => v === 0), 'alloc zero-fills');
  t.equal(be.memory().liveCount, before.liveCount + 1, 'liveCount +1');
  t.equal(be.memory().liveBytes, before.liveBytes + 40, 'liveBytes +40');
  const src = new Int32Array([1, 2, 3]);
  const s = be.upload(src);
  src[0] = 99;
  t.deepEqual(get(s), [1, 2, 3], 'upload copies');
  const d = be.download(s);
  d[1] = 99;
  t.deepEqual(get(s), [1, 2, 3], 'download copies');
  t.equal(s.dtype, 'int32', 'upload keeps the dtype');
  const c = be.alloc('int32', 3);
  be.copy(s, c);
  t.deepEqual(get(c), [1, 2, 3], 'copy');
  t.throws(() => be.copy(s, a), /src is int32\[3\] but dst is float32\[10\]/, 'copy mismatch is an error');
  be.free(a); be.free(s); be.free(c); be.free(c);
  t.deepEqual(be.memory(), before, 'memory() back to where it was after free (free twice is harmless)');
  t.throws(() => be.download(a), /use after dispose\/free/, 'download after free throws');
  t.throws(() => be.fill({ n: a.length, x: a, value: 1 }), /use after dispose\/free/, 'fill after free throws');
  t.throws(() => be.alloc('float16' as never, 3), /unsupported dtype "float16"/, 'unknown dtype');
  t.throws(() => be.alloc('float32', -1), /length must be a non-negative integer/, 'negative length');
  t.end();
});

// ---- float64 gradient check of the op (test/grad.ts)
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

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('elementwise', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
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
});
