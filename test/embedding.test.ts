// Kernel-level tests of the ref embedding gather and its scatter-add backward.
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';

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
