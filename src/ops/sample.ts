// sampleTokens: draws one token per row of logits on the device (backend.sample: temperature, top-k,
// top-p, counter-based RNG), plus each token's log-probability and the row's entropy. Not differentiable.
import { Tensor } from '../tensor.js';
import { checkFloat, checkNumber, checkOptions, checkRank, given } from '../args.js';

export interface SampleOptions {
  /** ≤ 0: greedy; default 1 */
  temperature?: number;
  /** keep the topK most probable (0 = all, the default) */
  topK?: number;
  /** nucleus: keep the most probable tokens up to this mass (1 = all, the default) */
  topP?: number;
  /** uint32 */
  seed: number;
  /** uint32: row b draws with counter offset + b */
  offset: number;
}

export interface SampleResult {
  /** int32 [B] */
  tokens: Tensor;
  /** [B]: log-probability of each token under softmax(logits) (temperature 1, no filtering) */
  logp: Tensor;
  /** [B]: entropy of softmax(logits) in nats */
  entropy: Tensor;
}

export function sampleTokens(logits: Tensor, options: SampleOptions): SampleResult {
  // shapes: logits [B, V] -> tokens int32 [B], logp [B], entropy [B]
  const opts = checkOptions('sampleTokens', options);
  checkFloat('sampleTokens', 'logits', logits);
  checkRank('sampleTokens', 'logits', logits, 2, '[B, V]');
  const [B, V] = logits.shape;
  if (V < 1) throw new RangeError('sampleTokens: logits must have at least one column');
  const temperature = checkNumber('sampleTokens: temperature', opts.temperature ?? 1);
  const topK = opts.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) {
    throw new (typeof topK === 'number' ? RangeError : TypeError)(`sampleTokens: topK must be a non-negative integer, got ${given(topK)}`);
  }
  const topP = checkNumber('sampleTokens: topP', opts.topP ?? 1, 0, 1);
  if (topP <= 0) throw new RangeError(`sampleTokens: topP must be in (0, 1], got ${topP}`);
  const be = logits.backend;
  const tokens = be.alloc('int32', B);
  const logp = be.alloc(logits.dtype, B);
  const entropy = be.alloc(logits.dtype, B);
  be.sample({
    B, V, logits: logits._storage, temperature, topK, topP,
    seed: (opts.seed ?? 0) >>> 0, offset: (opts.offset ?? 0) >>> 0, offsetAdd: null, tokens, logp, entropy,
  });
  return {
    tokens: Tensor._fromStorage(be, tokens, [B]),
    logp: Tensor._fromStorage(be, logp, [B]),
    entropy: Tensor._fromStorage(be, entropy, [B]),
  };
}
