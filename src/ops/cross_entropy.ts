// crossEntropy: fused softmax + negative log-likelihood over rows of logits (backend.softmaxXentForward /
// softmaxXentBackward), with an ignore index for padding and mean / sum / none reductions.
// Targets are validated on the host (N int32 values: the upload's copy, else downloaded) before any
// kernel runs; 'mean' divides by the number of non-ignored rows (NaN when every row is ignored, like PyTorch).
import type { Storage } from '../backend.js';
import { Buf, Tensor, hostArray, recordOp } from '../tensor.js';
import { checkFloat, checkOptions, checkRank, checkSameDevice, formatShape, given } from '../args.js';

export interface CrossEntropyOptions {
  /** rows whose target equals this are skipped (default -100, as in PyTorch) */
  ignoreIndex?: number;
  /** default 'mean' */
  reduction?: 'mean' | 'sum' | 'none';
}

export function crossEntropy(logits: Tensor, targets: Tensor | ArrayLike<number>, options: CrossEntropyOptions = {}): Tensor {
  // shapes: logits [N, V], targets int32 [N] -> out [] (mean, sum) or [N] (none)
  const opts = checkOptions('crossEntropy', options);
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? 'mean';
  if (!Number.isInteger(ignoreIndex)) throw new TypeError(`crossEntropy: ignoreIndex must be an integer, got ${given(ignoreIndex)}`);
  if (ignoreIndex < -0x80000000 || ignoreIndex > 0x7fffffff) throw new RangeError(`crossEntropy: ignoreIndex must be an int32, got ${ignoreIndex}`);
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new TypeError(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  checkFloat('crossEntropy', 'logits', logits);
  checkRank('crossEntropy', 'logits', logits, 2, '[N, V]');
  const [N, V] = logits.shape;
  if (!(targets instanceof Tensor) && (typeof targets !== 'object' || targets === null || typeof targets.length !== 'number')) {
    throw new TypeError(`crossEntropy: targets must be an int32 Tensor or an array of integers, got ${given(targets)}`);
  }
  const tgt = targets instanceof Tensor ? targets : Tensor.from(hostArray('crossEntropy: targets', targets, 'int32'), [targets.length], { device: logits.device });
  try {
    const be = checkSameDevice('crossEntropy', { logits, targets: tgt }, ['targets']);
    if (tgt.shape.length !== 1 || tgt.shape[0] !== N) {
      throw new RangeError(`crossEntropy: targets has the wrong shape: expected [${N}], got ${formatShape(tgt.shape)}`);
    }
    const host = tgt._hostIndices();
    let count = 0;
    for (let n = 0; n < N; n++) {
      const t = host[n];
      if (t === ignoreIndex) continue;
      if (t < 0 || t >= V) {
        throw new RangeError(`crossEntropy: target ${t} at row ${n} is outside [0, ${V}) and is not ignoreIndex (${ignoreIndex})`);
      }
      count++;
    }
    const ls = logits._storage;
    const ts = tgt._storage;
    const loss = be.alloc(logits.dtype, N);
    const lse = be.alloc(logits.dtype, N);
    be.softmaxXentForward({ N, V, logits: ls, targets: ts, ignoreIndex, loss, lse });
    let y: Tensor;
    if (reduction === 'none') {
      y = Tensor._fromStorage(be, loss, [N]);
    } else {
      const out = be.alloc(logits.dtype, 1);
      be.sum({ n: N, x: loss, out });
      be.free(loss);
      if (reduction === 'mean') be.affine({ n: 1, alpha: 1 / count, x: out, beta: 0, out });
      y = Tensor._fromStorage(be, out, []);
    }
    const scale = reduction === 'mean' ? 1 / count : 1;
    recordOp('crossEntropy', [logits, tgt], [y], (ctx) => {
      if (!ctx.needsGrad(0)) return;
      let dloss: Storage;
      if (reduction === 'none') {
        dloss = ctx.gradOutput(0)!;
      } else {
        const g = ctx.takeGradOutput(0)!;
        if (scale !== 1) be.affine({ n: 1, alpha: scale, x: g, beta: 0, out: g });
        dloss = be.alloc(logits.dtype, N);
        be.addRowVector({ M: N, N: 1, x: dloss, b: g });
        be.free(g);
      }
      const dlogits = be.alloc(logits.dtype, N * V);
      be.softmaxXentBackward({ N, V, logits: ls, targets: ts, ignoreIndex, lse, dloss, dlogits });
      if (reduction !== 'none') be.free(dloss);
      ctx.give(0, dlogits);
    }, [logits._live('crossEntropy').retain(), tgt._live('crossEntropy').retain(), new Buf(be, lse)]);
    return y;
  } finally {
    if (tgt !== targets) tgt.dispose();
  }
}
