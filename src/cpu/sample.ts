// Token sampling on host typed arrays, exactly the algorithm of the kernel spec (src/spec/kernels.mjs, sample): temperature,
// top-k, top-p, one uniform draw per row from the shared RNG; plus the row's log-probability of the
// drawn token and its entropy under the model (temperature 1, no filtering). Softmaxes subtract the max.
import { rngUniform } from '../rng.js';
import type { FloatArray } from './storage.js';

let probs = new Float64Array(0);
let order = new Int32Array(0);

/**
 * Shapes: logits [B,V] in; tokens int32 [B] out; logp, entropy [B] out.
 * temperature ≤ 0: greedy (argmax, lowest index on ties). Else p = softmax(logits/temperature), order by
 * p descending (ties by index ascending), keep the first topK (0 = all), then the shortest prefix whose
 * running sum ≥ topP (at least one); mass = Σ kept p; u = rngUniform(seed, offset + b); pick the first
 * kept whose running sum > u·mass (the last kept if rounding leaves none).
 */
export function sample(
  B: number, V: number, logits: FloatArray, temperature: number, topK: number, topP: number,
  seed: number, offset: number, tokens: Int32Array, logp: FloatArray, entropy: FloatArray,
): void {
  if (probs.length < V) { probs = new Float64Array(V); order = new Int32Array(V); }
  const p = probs;
  for (let b = 0; b < B; b++) {
    const o = b * V;
    // model distribution (temperature 1): lse, entropy = lse - Σ p·logit
    let mx = -Infinity, arg = 0;
    for (let v = 0; v < V; v++) if (logits[o + v] > mx) { mx = logits[o + v]; arg = v; }
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - mx);
    const lse = mx + Math.log(s);
    let pl = 0;
    for (let v = 0; v < V; v++) {
      const q = Math.exp(logits[o + v] - lse);
      if (q > 0) pl += q * (logits[o + v] - lse);
    }
    entropy[b] = -pl;
    const tok = temperature <= 0 ? arg : draw(V, logits, o, temperature, topK, topP, rngUniform(seed, offset + b), p, arg);
    tokens[b] = tok;
    logp[b] = logits[o + tok] - lse;
  }
}

/** One row's draw (see sample). p: scratch [V]; arg: the row's argmax. Returns the token index. */
function draw(
  V: number, logits: FloatArray, o: number, temperature: number, topK: number, topP: number, u: number, p: Float64Array,
  arg: number,
): number {
  let mx = -Infinity;
  for (let v = 0; v < V; v++) if (logits[o + v] > mx) mx = logits[o + v];
  let s = 0;
  for (let v = 0; v < V; v++) { const e = Math.exp((logits[o + v] - mx) / temperature); p[v] = e; s += e; }
  // a NaN or +inf logit (or an all -inf row) leaves no distribution to draw from: the argmax, as the kernel does
  if (!(s > 0 && s < Infinity)) return arg;
  for (let v = 0; v < V; v++) p[v] /= s;
  const idx = order.subarray(0, V);
  for (let v = 0; v < V; v++) idx[v] = v;
  idx.sort((a, c) => (p[c] - p[a]) || (a - c));
  let kept = topK > 0 && topK < V ? topK : V;
  if (topP < 1) {
    let run = 0;
    for (let r = 0; r < kept; r++) {
      run += p[idx[r]];
      if (run >= topP) { kept = r + 1; break; }
    }
  }
  let mass = 0;
  for (let r = 0; r < kept; r++) mass += p[idx[r]];
  const target = u * mass;
  let run = 0;
  for (let r = 0; r < kept; r++) {
    run += p[idx[r]];
    if (run > target) return idx[r];
  }
  return idx[kept - 1];
}
