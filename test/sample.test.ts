// Kernel-level tests of the ref sampler: greedy and top-k = 1 pick the argmax; fixed (seed, offset)
// draws land in the bucket the algorithm of backend.ts dictates (computed here from u); top-k/top-p and
// temperature; logp/entropy against naive formulas; draw frequencies against the distribution.
import test from 'tape';
import { refBackend as be } from '../src/cpu/index.js';
import { rngUniform } from '../src/rng.js';
import { Sweep, nans, twin, uniform } from './compare.js';
import { refBackend as refBe } from '../src/cpu/index.js';
import { RngStream } from '../src/rng.js';
import { forEachNativeBackend } from './native_backends.js';

interface Out { tokens: Int32Array; logp: Float64Array; entropy: Float64Array }

function run(logits: number[], B: number, temperature: number, topK: number, topP: number, seed: number, offset: number): Out {
  const V = logits.length;
  const rows = new Float64Array(B * V);
  for (let b = 0; b < B; b++) rows.set(logits, b * V);
  const tokens = be.alloc('int32', B), logp = be.alloc('float64', B), entropy = be.alloc('float64', B);
  be.sample({ B, V, logits: be.upload(rows), temperature, topK, topP, seed, offset, offsetAdd: null, tokens, logp, entropy });
  return { tokens: be.download(tokens) as Int32Array, logp: be.download(logp) as Float64Array, entropy: be.download(entropy) as Float64Array };
}

const PROBS = [0.1, 0.4, 0.2, 0.3]; // sorted order: 1 (0.4), 3 (0.3), 2 (0.2), 0 (0.1)
const LOGITS = PROBS.map(Math.log);

test('sample: temperature ≤ 0 is greedy (lowest index on ties); top-k = 1 is the argmax', (t) => {
  t.deepEqual(Array.from(run([1, 3, 3, 0], 3, 0, 0, 1, 1, 0).tokens), [1, 1, 1], 'greedy with a tie at 1 and 2 → 1');
  t.deepEqual(Array.from(run([1, 3, 3, 0], 1, -1, 0, 1, 1, 0).tokens), [1], 'negative temperature is greedy too');
  t.deepEqual(Array.from(run(LOGITS, 50, 1, 1, 1, 7, 0).tokens), new Array(50).fill(1), 'top-k = 1 → argmax for every draw');
  t.end();
});

/** The bucket a draw u falls in: walk `order` (probabilities p) until the running sum exceeds u·mass. */
function bucket(order: number[], p: number[], u: number): number {
  const mass = order.reduce((s, i) => s + p[i], 0);
  let run = 0;
  for (const i of order) { run += p[i]; if (run > u * mass) return i; }
  return order[order.length - 1];
}

test('sample: fixed (seed, offset) draws follow the algorithm, with top-k, top-p and temperature', (t) => {
  const B = 200, seed = 2024, offset = 2 ** 32 - 100; // counters wrap past 2^32 within the batch
  const cases: [string, number, number, number, number[], number[]][] = [
    ['all', 1, 0, 1, [1, 3, 2, 0], PROBS],
    ['top-k 2', 1, 2, 1, [1, 3], PROBS],
    ['top-p 0.6 keeps 0.4 + 0.3', 1, 0, 0.6, [1, 3], PROBS],
    ['top-p 0.75 keeps three', 1, 0, 0.75, [1, 3, 2], PROBS],
    ['top-k 3 then top-p 0.95 keeps three', 1, 3, 0.95, [1, 3, 2], PROBS],
  ];
  // temperature 2: p ∝ sqrt(PROBS)
  const s = PROBS.reduce((a, q) => a + Math.sqrt(q), 0);
  cases.push(['temperature 2', 2, 0, 1, [1, 3, 2, 0], PROBS.map((q) => Math.sqrt(q) / s)]);
  for (const [name, temp, k, p, order, probs] of cases) {
    const got = run(LOGITS, B, temp, k, p, seed, offset).tokens;
    const seen = new Set<number>();
    let ok = true;
    for (let b = 0; b < B; b++) {
      const want = bucket(order, probs, rngUniform(seed, (offset + b) % 2 ** 32));
      seen.add(want);
      if (got[b] !== want) ok = false;
    }
    t.ok(ok, `${name}: all ${B} draws land where u dictates`);
    t.equal(seen.size, order.length, `${name}: the draws cover every kept token`);
  }
  t.end();
});

test('sample: logp and entropy are those of softmax(logits) at temperature 1', (t) => {
  const logits = [2, -1, 0.5, 3, -4, 1e-3, 0.7];
  const mx = Math.max(...logits), z = logits.reduce((a, l) => a + Math.exp(l - mx), 0);
  const logpAll = logits.map((l) => l - mx - Math.log(z));
  const H = -logpAll.reduce((a, lp) => a + Math.exp(lp) * lp, 0);
  const out = run(logits, 20, 1.7, 4, 0.9, 3, 11);
  let ok = true;
  for (let b = 0; b < 20; b++) {
    if (Math.abs(out.logp[b] - logpAll[out.tokens[b]]) > 1e-14) ok = false;
    if (Math.abs(out.entropy[b] - H) > 1e-14) ok = false;
  }
  t.ok(ok, `logp = log softmax[token], entropy = ${H.toFixed(6)} nats`);
  const big = run([1e4, -1e4, 1e4], 1, 1, 0, 1, 0, 0);
  t.ok(Math.abs(big.entropy[0] - Math.LN2) < 1e-12 && Math.abs(big.logp[0] + Math.LN2) < 1e-12, 'extreme logits: entropy ln 2, logp -ln 2');
  t.end();
});

test('sample: draw frequencies over many offsets match the (filtered) distribution', (t) => {
  const V = 8, B = 20000;
  const probs = [0.02, 0.3, 0.05, 0.15, 0.2, 0.08, 0.1, 0.1];
  const logits = probs.map((q) => Math.log(q) + 3);
  const cases: [string, number, number[]][] = [['no filter', 0, [0, 1, 2, 3, 4, 5, 6, 7]], ['top-k 3', 3, [1, 4, 3]]];
  for (const [name, k, keep] of cases) {
    const tokens = run(logits, B, 1, k, 1, 77, 123).tokens;
    const count = new Array(V).fill(0);
    for (const tk of tokens) count[tk]++;
    const mass = keep.reduce((a, i) => a + probs[i], 0);
    let chi2 = 0, outside = 0;
    for (let v = 0; v < V; v++) {
      if (keep.includes(v)) { const e = B * probs[v] / mass; chi2 += (count[v] - e) ** 2 / e; }
      else outside += count[v];
    }
    // chi-square with ≤ 7 degrees of freedom: 30 is far in the tail (p < 1e-4) yet a wrong algorithm lands in the hundreds
    t.ok(chi2 < 30, `${name}: chi-square ${chi2.toFixed(1)} < 30`);
    t.equal(outside, 0, `${name}: no draws outside the kept set`);
  }
  t.end();
});

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('sample', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
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
          (b, s) => b.sample({ B, V, logits: s.logits, temperature, topK, topP, seed, offset, offsetAdd: null, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
          ['logp', 'entropy'], ['tokens']);
      }
    }
    // offsetAdd: a counter read on the device (what a replayed CUDA graph advances), added mod 2^32
    for (const [seed, offset, add] of [[77, 1000, 5], [0xdeadbeef, 0xfffffff8, 20], [3, 10, -1]]) {
      twin(sw, be, `offsetAdd=${add} seed=${seed} offset=${offset}`,
        { logits, offs: Int32Array.of(add), tokens: new Int32Array(B).fill(-1), logp: nans(B), entropy: nans(B) },
        (b, s) => b.sample({ B, V, logits: s.logits, temperature: 1, topK: 0, topP: 1, seed, offset, offsetAdd: s.offs, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
        ['logp', 'entropy'], ['tokens']);
    }
    // V = 1 (one choice), V = 5000 (rows too long for the shared-memory path)
    for (const [B2, V2] of [[2, 1], [3, 5000]]) {
      const l2 = uniform(B2 * V2, rng, -4, 4);
      for (const [temperature, topK, topP] of [[0, 0, 1], [1, 0, 1], [0.8, 50, 0.9], [1.3, 0, 0.5]]) {
        twin(sw, be, `B=${B2} V=${V2} T=${temperature} topK=${topK} topP=${topP}`,
          { logits: l2, tokens: new Int32Array(B2).fill(-1), logp: nans(B2), entropy: nans(B2) },
          (b, s) => b.sample({ B: B2, V: V2, logits: s.logits, temperature, topK, topP, seed: 9, offset: 3, offsetAdd: null, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
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
          (b, s) => b.sample({ B: B3, V: V3, logits: s.logits, temperature, topK, topP, seed: 4, offset: 0, offsetAdd: null, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
          [], ['tokens']);
      }
      const [st, tk, lp, en] = [refBe.upload(l3), refBe.alloc('int32', B3), refBe.alloc('float32', B3), refBe.alloc('float32', B3)];
      refBe.sample({ B: B3, V: V3, logits: st, temperature: 1, topK: 0, topP: 1, seed: 4, offset: 0, offsetAdd: null, tokens: tk, logp: lp, entropy: en });
      const tok = refBe.download(tk);
      for (const x of [st, tk, lp, en]) refBe.free(x);
      t.deepEqual(Array.from(tok), [l3.slice(0, V3).reduce((a, v, i, r) => (v > r[a] ? i : a), 0), 30, 0, 0],
        'ref: non-finite rows give the argmax (first maximum among non-NaN logits; 0 when there is none)');
    }
    sw.done();
    t.end();
  });

  test(name('sample: same tokens as ref where the sort spills to the workspace: V = 2006..65,536 and 2^20, with and without filtering'), (t) => {
    const sw = new Sweep(t, 'sample');
    const rng = new RngStream(82);
    const cases: [number, number, [number, number, number][]][] = [
      // just below / above the 48 KB shared-memory limit of the sort (V = 2005), and an odd V above it
      [2, 2005, [[1, 0, 1], [0.9, 0, 0.8]]],
      [2, 2006, [[1, 0, 1], [0.9, 0, 0.8]]],
      [2, 4097, [[1, 0, 1], [1.1, 30, 0.9]]],
      [3, 65536, [[1, 0, 1], [0.7, 0, 1], [1, 50, 0.9], [1.3, 0, 0.95], [1, 4000, 1]]],
      [1, 2 ** 20, [[1, 0, 1]]],
    ];
    for (const [B, V, filters] of cases) {
      const logits = uniform(B * V, rng, -4, 4);
      if (B > 1) for (let v = 0; v < V; v++) logits[V + v] = Math.round(logits[V + v]); // row 1: nine values, ties by index
      for (const [temperature, topK, topP] of filters) {
        for (const [seed, offset] of [[3, 0], [0xdeadbeef, 77]]) {
          twin(sw, be, `B=${B} V=${V} T=${temperature} topK=${topK} topP=${topP} seed=${seed}`,
            { logits, tokens: new Int32Array(B).fill(-1), logp: nans(B), entropy: nans(B) },
            (b, s) => b.sample({ B, V, logits: s.logits, temperature, topK, topP, seed, offset, offsetAdd: null, tokens: s.tokens, logp: s.logp, entropy: s.entropy }),
            ['logp', 'entropy'], ['tokens']);
          if (V === 2 ** 20) break; // one draw at 2^20 (CI time)
        }
      }
    }
    sw.done();
    t.end();
  });
});

test('ref: sample with offsetAdd [a] draws what offset + a draws (mod 2^32)', (t) => {
  const rng = new RngStream(83);
  const B = 12, V = 65;
  const logits = refBe.upload(uniform(B * V, rng, -3, 3));
  const draw = (offset: number, add: number | null): number[] => {
    const tokens = refBe.alloc('int32', B), logp = refBe.alloc('float32', B), entropy = refBe.alloc('float32', B);
    const offs = add === null ? null : refBe.upload(Int32Array.of(add));
    refBe.sample({ B, V, logits, temperature: 1, topK: 0, topP: 1, seed: 21, offset, offsetAdd: offs, tokens, logp, entropy });
    const r = Array.from(refBe.download(tokens));
    for (const x of [tokens, logp, entropy, offs]) if (x) refBe.free(x);
    return r;
  };
  t.deepEqual(draw(100, 23), draw(123, null), 'offset 100 + offsetAdd 23 = offset 123');
  t.deepEqual(draw(0xfffffffe, 5), draw(3, null), 'wraps modulo 2^32');
  t.notDeepEqual(draw(100, 23), draw(100, null), 'and the counter matters');
  refBe.free(logits);
  t.end();
});
