// Kernel-level tests of the ref dropout mask: the shared RNG's bits (recomputed here by hand from the
// fmix32 definition in backend.ts), the keep rate, and the exact scale value.
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';
import { rngU32 } from '../src/rng.js';
import { Sweep, nans, twin } from './compare.js';
import { forEachNativeBackend } from './native_backends.js';
import { dropout } from '../src/ops/dropout.js';
import { check, leaf, vars, weighted } from './grad.js';

/** murmur3 fmix32 with BigInt arithmetic, independent of Math.imul. */
function fmix(x: bigint): bigint {
  const M = 0xffffffffn;
  x ^= x >> 16n; x = (x * 0x85ebca6bn) & M; x ^= x >> 13n; x = (x * 0xc2b2ae35n) & M; x ^= x >> 16n;
  return x;
}
const handU32 = (seed: number, counter: number) =>
  Number(fmix(fmix(BigInt(seed >>> 0) ^ 0x6a09e667n) ^ BigInt(counter >>> 0)));

test('rngU32 matches the contract computed by hand', (t) => {
  t.equal(fmix(0n), 0n, 'fmix32(0) = 0');
  t.equal(fmix(1n), 0x514e28b7n, 'fmix32(1) = 0x514e28b7 (murmur3 reference value)');
  for (const [s, c] of [[0, 0], [1, 0], [42, 7], [0xffffffff, 0xffffffff], [123456789, 2 ** 31]]) {
    t.equal(rngU32(s, c), handU32(s, c), `rngU32(${s}, ${c}) = ${handU32(s, c)}`);
  }
  t.end();
});

test('dropoutMask: element i is kept iff (rngU32(seed, offset+i) >>> 8) ≥ threshold; counters wrap', (t) => {
  const n = 64, seed = 1234, offset = 0xffffffe0; // wraps past 2^32 inside the mask
  const p = 0.3, threshold = Math.round(p * 2 ** 24), scale = Math.fround(1 / (1 - p));
  const mask = be.alloc('float32', n);
  be.dropoutMask({ n, seed, offset, threshold, scale, mask });
  const got = be.download(mask);
  let ok = true;
  for (let i = 0; i < n; i++) {
    const keep = handU32(seed, (offset + i) % 2 ** 32) >>> 8 >= threshold;
    if (got[i] !== (keep ? scale : 0)) ok = false;
  }
  t.ok(ok, 'all 64 elements as the hand-computed hash dictates');
  t.end();
});

test('dropoutMask: keep rate ≈ 1 - p on 1e5 elements; kept value is exactly fround(1/(1-p))', (t) => {
  for (const [dtype, p] of [['float32', 0.5], ['float64', 0.1]] as const) {
    const n = 100000, threshold = Math.round(p * 2 ** 24), scale = Math.fround(1 / (1 - p));
    const mask = be.alloc(dtype, n);
    be.dropoutMask({ n, seed: 99, offset: 5, threshold, scale, mask });
    const m = be.download(mask);
    let kept = 0, other = 0;
    for (const v of m) { if (v === scale) kept++; else if (v !== 0) other++; }
    const sd = Math.sqrt(n * p * (1 - p));
    t.ok(Math.abs(kept - n * (1 - p)) < 5 * sd, `${dtype} p=${p}: kept ${kept} of ${n} (expected ${n * (1 - p)} ± ${(5 * sd).toFixed(0)})`);
    t.equal(other, 0, `${dtype}: every element is 0 or exactly the scale ${scale}`);
  }
  t.end();
});

// ---- float64 gradient check of the op (test/grad.ts)
test('grad check: dropout (fixed mask), float64 on ref', (t) => {
  const x = leaf([3, 7], 7);
  check(t, 'dropout p=0.3 (fixed seed and offset)', vars({ x }), () => weighted([dropout(x, { p: 0.3, seed: 9, offset: 5 })]));
  t.end();
});

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('dropout', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
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
});
