// Benchmark: the sampling kernel (backend.sample) on one row of a large vocabulary, V = 65,536 and 2^20
// (--quick: V = 5,000), without filtering (top-k 0, top-p 1: every candidate is ordered and walked) and
// with it (top-k 50, top-p 0.9), in rows per second. Checked against the ref backend before timing (the
// same token, the same logp and entropy). No torch_reference.py peer: torch.multinomial does not order the
// candidates, so the two would not measure the same work.
import type { Backend, Storage } from '../src/backend.js';
import { refBackend } from '../src/cpu/index.js';
import { benchLine, checkClose, measure, randomFloats, type BenchContext } from './timing.js';

export const SAMPLE_VOCABS = [65536, 2 ** 20];
export const QUICK_SAMPLE_VOCABS = [5000];
const FILTERS = [
  { topK: 0, topP: 1 },
  { topK: 50, topP: 0.9 },
];

interface SampleStores { logits: Storage; tokens: Storage; logp: Storage; entropy: Storage }

function stores(be: Backend, logits: Float32Array): SampleStores {
  return { logits: be.upload(logits), tokens: be.alloc('int32', 1), logp: be.alloc('float32', 1), entropy: be.alloc('float32', 1) };
}

function draw(be: Backend, V: number, s: SampleStores, topK: number, topP: number, offset: number): void {
  be.sample({ B: 1, V, logits: s.logits, temperature: 1, topK, topP, seed: 7, offset, offsetAdd: null, tokens: s.tokens, logp: s.logp, entropy: s.entropy });
}

export function sampleBench(ctx: BenchContext): void {
  const be = ctx.be;
  for (const V of ctx.quick ? QUICK_SAMPLE_VOCABS : SAMPLE_VOCABS) {
    // shapes: logits [1,V] -> tokens int32 [1], logp [1], entropy [1]
    const logits = randomFloats(V, 91 + V, -4, 4);
    const s = stores(be, logits);
    try {
      for (const { topK, topP } of FILTERS) {
        draw(be, V, s, topK, topP, 0);
        if (be.name !== 'ref') {
          const ref = stores(refBackend, logits);
          try {
            draw(refBackend, V, ref, topK, topP, 0);
            const what = `sample V=${V} topK=${topK} topP=${topP} on ${be.name}`;
            const [got, want] = [be.download(s.tokens)[0], refBackend.download(ref.tokens)[0]];
            if (got !== want) throw new Error(`${what}: token ${got}, the reference drew ${want}`);
            for (const k of ['logp', 'entropy'] as const) checkClose(`${what} ${k}`, be.download(s[k]), refBackend.download(ref[k]));
          } finally {
            for (const x of Object.values(ref)) refBackend.free(x);
          }
        }
        const t = measure(ctx, (i) => draw(be, V, s, topK, topP, i));
        ctx.emit(benchLine(ctx, 'sample', { B: 1, V, topK, topP }, t, 1, 'rows/s'));
      }
    } finally {
      for (const x of Object.values(s)) be.free(x);
    }
  }
}
