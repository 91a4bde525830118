// Row copies (the copyRows kernel; ops selectRow and stackRows): the ref kernel against index arithmetic
// written here; the same cases on every native backend against ref (bitwise: a copy, or one add per
// element); float64 gradient checks of selectRow and stackRows; and the bad calls.
import test from 'tape';
import type { Backend } from '../src/backend.js';
import { refBackend } from '../src/cpu/index.js';
import { selectRow, stackRows } from '../src/ops/rows.js';
import { Tensor } from '../src/tensor.js';
import { check, leaf, vars, weighted } from './grad.js';
import { forEachNativeBackend, presentBackends } from './native_backends.js';

/** src [S,D] with values 100·row + col + 0.5, dst [T,D] with -(row + 1); returns dst after the copy. */
function run(be: Backend, S: number, T: number, D: number, R: number, srcRow: number, dstRow: number, accumulate: boolean): Float32Array {
  const src = be.upload(Float32Array.from({ length: S * D }, (_, i) => 100 * Math.floor(i / D) + (i % D) + 0.5));
  const dst = be.upload(Float32Array.from({ length: T * D }, (_, i) => -(Math.floor(i / D) + 1)));
  be.copyRows({ R, D, src, srcRows: S, srcRow, dst, dstRows: T, dstRow, accumulate });
  const out = be.download(dst) as Float32Array;
  be.free(src);
  be.free(dst);
  return out;
}

const CASES = [
  { S: 4, T: 1, D: 3, R: 1, srcRow: 3, dstRow: 0 },
  { S: 1, T: 5, D: 7, R: 1, srcRow: 0, dstRow: 4 },
  { S: 6, T: 6, D: 33, R: 4, srcRow: 2, dstRow: 1 },
  { S: 3, T: 3, D: 1, R: 0, srcRow: 3, dstRow: 3 },
  { S: 9, T: 2, D: 300, R: 2, srcRow: 7, dstRow: 0 },
];

test('copyRows on ref: the block lands at dstRow, everything else untouched; accumulate adds', (t) => {
  for (const c of CASES) {
    for (const accumulate of [false, true]) {
      const got = run(refBackend, c.S, c.T, c.D, c.R, c.srcRow, c.dstRow, accumulate);
      let bad = -1;
      for (let i = 0; i < got.length && bad < 0; i++) {
        const row = Math.floor(i / c.D), col = i % c.D, old = -(row + 1);
        const inBlock = row >= c.dstRow && row < c.dstRow + c.R;
        const src = 100 * (row - c.dstRow + c.srcRow) + col + 0.5;
        const want = inBlock ? (accumulate ? old + src : src) : old;
        if (got[i] !== want) bad = i;
      }
      t.equal(bad, -1, `S=${c.S} T=${c.T} D=${c.D} R=${c.R} ${c.srcRow}->${c.dstRow}${accumulate ? ' accumulate' : ''}`);
    }
  }
  t.end();
});

forEachNativeBackend('copyRows', (kind, be) => {
  test(`${kind}: copyRows equals ref bit for bit`, (t) => {
    for (const c of CASES) {
      for (const accumulate of [false, true]) {
        const want = run(refBackend, c.S, c.T, c.D, c.R, c.srcRow, c.dstRow, accumulate);
        const got = run(be, c.S, c.T, c.D, c.R, c.srcRow, c.dstRow, accumulate);
        t.deepEqual(Array.from(got), Array.from(want), `${kind}: S=${c.S} T=${c.T} D=${c.D} R=${c.R}${accumulate ? ' accumulate' : ''}`);
      }
    }
    t.end();
  });
  test(`${kind}: selectRow and stackRows equal ref`, (t) => {
    const host = Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.sin(i));
    const on = (device: 'ref' | typeof kind) => {
      const x = Tensor.from(host, [4, 2, 3], { device });
      const y = stackRows([selectRow(x, 3), selectRow(x, 0)]);
      return Array.from(y.toArray());
    };
    t.deepEqual(on(kind), on('ref'), `${kind}: rows 3 and 0 stacked`);
    t.end();
  });
});

test('grad check: selectRow, stackRows (float64, ref)', (t) => {
  const s = leaf([4, 2, 3], 8);
  check(t, 'selectRow', vars({ s }), () => weighted([selectRow(s, 2), selectRow(s, 0)]));
  const u = leaf([2, 3], 10);
  check(t, 'stackRows (one input twice)', vars({ x: u, s }), () => weighted([stackRows([u, selectRow(s, 1), u])]));
  t.end();
});

test('copyRows: bad calls are refused on every backend alike', (t) => {
  for (const be of presentBackends()) {
    const src = be.alloc('float32', 6), dst = be.alloc('float32', 6);
    const base = { R: 1, D: 3, src, srcRows: 2, srcRow: 0, dst, dstRows: 2, dstRow: 0, accumulate: false };
    t.throws(() => be.copyRows({ ...base, srcRow: 2 }), (e: Error) => e instanceof RangeError && e.message === `${be.name}.copyRows: srcRow must be at most srcRows-R = 1, got 2`, `${be.name}: a source row past the end`);
    t.throws(() => be.copyRows({ ...base, R: 2, dstRow: 1 }), (e: Error) => e instanceof RangeError && e.message === `${be.name}.copyRows: dstRow must be at most dstRows-R = 0, got 1`, `${be.name}: a block past the end of dst`);
    t.throws(() => be.copyRows({ ...base, dst: src }), (e: Error) => e.message === `${be.name}.copyRows: 'dst' must not alias 'src'`, `${be.name}: dst aliasing src`);
    t.throws(() => be.copyRows({ ...base, dstRows: 3 }), (e: Error) => e instanceof RangeError && e.message === `${be.name}.copyRows: 'dst' has 6 elements but its shape [dstRows=3, D=3] needs 9`, `${be.name}: dstRows longer than dst`);
    be.free(src);
    be.free(dst);
  }
  t.throws(() => selectRow(Tensor.zeros([2, 3]), 2), /selectRow: row 2 is out of range for shape \[2,3\]/, 'selectRow checks the row first');
  t.end();
});
