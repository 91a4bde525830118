// Kernel-level tests of the ref embedding gather and its scatter-add backward.
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';
import { Sweep, nans, twin, uniform } from './compare.js';
import { RngStream } from '../src/rng.js';
import { forEachNativeBackend } from './native_backends.js';
import { embedding } from '../src/ops/embedding.js';
import { Tensor } from '../src/tensor.js';
import { check, leaf, vars, weighted } from './grad.js';

test('embeddingForward gathers rows; embeddingBackward scatter-adds with repeated indices accumulating', (t) => {
  const V = 4, D = 3, N = 5;
  const weight = new Float32Array(V * D).map((_, i) => i * 0.5 - 1);
  const idx = new Int32Array([2, 0, 2, 3, 2]);
  const out = be.alloc('float32', N * D);
  be.embeddingForward({ N, V, D, weight: be.upload(weight), idx: be.upload(idx), out });
  const got = be.download(out);
  const ref: number[] = [];
  for (const k of idx) ref.push(...weight.subarray(k * D, (k + 1) * D));
  t.deepEqual(Array.from(got), ref, 'out[n] = weight[idx[n]]');

  const dout = new Float32Array(N * D).map((_, i) => (i + 1) * 0.25);
  const dwInit = new Float32Array(V * D).fill(1);
  const dweight = be.upload(dwInit);
  be.embeddingBackward({ N, V, D, idx: be.upload(idx), dout: be.upload(dout), dweight });
  const dw = be.download(dweight);
  const expect = Array.from(dwInit);
  idx.forEach((k, n) => { for (let d = 0; d < D; d++) expect[k * D + d] += dout[n * D + d]; });
  t.deepEqual(Array.from(dw), expect, 'dweight += Σ rows of dout per index (row 2 gets three, row 1 none)');
  t.equal(dw[1 * D], 1, 'an unused row keeps its old value');
  t.end();
});

test('embedding: short storages are clear errors', (t) => {
  t.throws(() => be.embeddingForward({ N: 2, V: 2, D: 2, weight: be.alloc('float32', 4), idx: be.alloc('int32', 1), out: be.alloc('float32', 4) }),
    /'idx' has 1 elements but its shape \[N=2\] needs 2/);
  t.end();
});

// ---- float64 gradient check of the op (test/grad.ts)
test('grad check: embedding (repeated indices), float64 on ref', (t) => {
  const table = leaf([11, 3], 6);
  const idx = Tensor.from([3, 0, 10, 3, 7, 3], [2, 3], { dtype: 'int32', device: 'ref' });
  check(t, 'embedding V=11 D=3, idx [2,3]', vars({ table }), () => weighted([embedding(table, idx)]));
  t.end();
});

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('embedding', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
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
});
