// Benchmark: the fused softmax + cross-entropy kernels, forward then backward (backend.softmaxXentForward,
// softmaxXentBackward with dloss = 1/N, i.e. the mean), at V = 256 and N = B·T of each training config, in
// rows per second — the config and unit of torch_reference.py's bench_softmax_xent (F.cross_entropy forward
// + backward). Checked against the ref backend before timing. Every tenth target is the ignore index, as
// padding would be.
import type { Backend, Storage } from '../src/backend.js';
import { refBackend } from '../src/cpu/index.js';
import { VOCAB, benchLine, checkClose, measure, randomFloats, randomInts, trainConfigs, type BenchContext } from './timing.js';

const IGNORE = -100;

interface XentStores { logits: Storage; targets: Storage; dloss: Storage; loss: Storage; lse: Storage; dlogits: Storage }

function xentStores(be: Backend, N: number, V: number, logits: Float32Array, targets: Int32Array): XentStores {
  return {
    logits: be.upload(logits), targets: be.upload(targets), dloss: be.upload(new Float32Array(N).fill(1 / N)),
    loss: be.upload(new Float32Array(N).fill(NaN)), lse: be.upload(new Float32Array(N).fill(NaN)),
    dlogits: be.upload(new Float32Array(N * V).fill(NaN)),
  };
}

function forwardBackward(be: Backend, N: number, V: number, s: XentStores): void {
  be.softmaxXentForward({ N, V, logits: s.logits, targets: s.targets, ignoreIndex: IGNORE, loss: s.loss, lse: s.lse });
  be.softmaxXentBackward({ N, V, logits: s.logits, targets: s.targets, ignoreIndex: IGNORE, lse: s.lse, dloss: s.dloss, dlogits: s.dlogits });
}

function freeStores(be: Backend, s: XentStores): void {
  for (const k of Object.keys(s) as (keyof XentStores)[]) be.free(s[k]);
}

export function softmaxXentBench(ctx: BenchContext): void {
  const be = ctx.be;
  for (const { B, T } of trainConfigs(ctx)) {
    // shapes: logits [N,V], targets int32 [N] -> loss, lse [N]; dlogits [N,V]; N = B·T
    const N = B * T, V = VOCAB;
    const logits = randomFloats(N * V, 61 + N, -4, 4);
    const targets = randomInts(N, V, 62 + N);
    for (let n = 0; n < N; n += 10) targets[n] = IGNORE;
    const s = xentStores(be, N, V, logits, targets);
    try {
      forwardBackward(be, N, V, s);
      if (be.name !== 'ref') {
        const ref = xentStores(refBackend, N, V, logits, targets);
        try {
          forwardBackward(refBackend, N, V, ref);
          for (const k of ['loss', 'lse', 'dlogits'] as const) {
            checkClose(`softmaxXent N=${N} V=${V} ${k} on ${be.name}`, be.download(s[k]), refBackend.download(ref[k]));
          }
        } finally {
          freeStores(refBackend, ref);
        }
      }
      const t = measure(ctx, () => forwardBackward(be, N, V, s));
      ctx.emit(benchLine(ctx, 'softmax_xent', { N, V, pass: 'forward+backward' }, t, N, 'rows/s'));
    } finally {
      freeStores(be, s);
    }
  }
}
