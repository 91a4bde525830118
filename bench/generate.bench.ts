// Benchmark: generation at batch 1 — a CharRNN (Embedding → 3-layer Stack, H = 512 → Linear to V = 256)
// stepped one token at a time, each step drawing the next token on the device (sampleTokens, temperature
// 1), in characters per second over 1,000 generated characters (--quick: H = 32, 40 characters). The
// config and unit are torch_reference.py's bench_generate:
//   stream = true   each token is read on the host every step (what `lstm-cuda sample` does) and fed back
//   stream = false  the token tensor stays on the device and is fed back as it is (the library still
//                   reads the index on the host to validate it: embedding() checks ids are in [0, V))
//   loop = device   what sample() does (src/sample/device_loop.ts): the token fed back on the device,
//                   batches of 16 steps read by the host at once, each batch one CUDA graph launch where
//                   the backend has graphs (emu, cuda); checked first to draw the tokens stream = true draws
// One timed call = one whole generation from a zero state; the draws use the counter-based RNG, so every
// repeat generates the same text. The first generation is checked: every token in [0, V).
import type { DeviceName } from '../src/backend.js';
import { CharRNN, disposeLstmState } from '../src/nn/char_rnn.js';
import { DeviceLoop } from '../src/sample/device_loop.js';
import type { LstmState } from '../src/nn/lstm_cell.js';
import { sampleTokens } from '../src/ops/sample.js';
import { Tensor, keep, noGrad, tidy } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { VOCAB, benchLine, measure, type BenchContext } from './timing.js';

export interface GenerateConfig { H: number; layers: number; chars: number }

export const STANDARD_GENERATE: GenerateConfig = { H: 512, layers: 3, chars: 1000 };
export const QUICK_GENERATE: GenerateConfig = { H: 32, layers: 3, chars: 40 };

function disposeState(s: LstmState | undefined): void {
  if (!s) return;
  keep(s.h).dispose();
  keep(s.c).dispose();
}

/** Generates `chars` tokens from token 0 and a zero state; returns them when stream is true, else []. */
export function generateTokens(model: CharRNN, device: DeviceName, chars: number, stream: boolean, seed: number): number[] {
  // shapes: per step token [1,1] -> logits [1,1,V] -> sampled token [1]; state h, c [L,1,H]
  const V = model.vocabSize;
  const seen: number[] = [];
  let state: LstmState | undefined;
  let hostToken = 0;
  let deviceToken: Tensor | undefined;
  try {
    noGrad(() => {
      for (let step = 0; step < chars; step++) {
        const r = tidy(() => {
          const x = deviceToken ? deviceToken.reshape([1, 1]) : Tensor.from(Int32Array.of(hostToken), [1, 1], { dtype: 'int32', device });
          const out = model.forward(x, state);
          const s = sampleTokens(out.logits.reshape([1, V]), { temperature: 1, seed, offset: step });
          return { state: out.state, tokens: s.tokens };
        });
        disposeState(state);
        state = r.state;
        if (stream) {
          hostToken = r.tokens.toArray()[0];
          seen.push(hostToken);
          keep(r.tokens).dispose();
        } else {
          if (deviceToken) deviceToken.dispose();
          deviceToken = r.tokens;
        }
      }
    });
  } finally {
    disposeState(state);
    if (deviceToken) keep(deviceToken).dispose();
  }
  return seen;
}

/** The same generation as generateTokens, the way sample() runs it (the device loop); returns the tokens. */
export function generateDevice(model: CharRNN, device: DeviceName, chars: number, seed: number, batch = 16): number[] {
  // shapes: token 0 [1,1] -> logits [1,1,V], state h, c [L,1,H]; then batches of draws on the device
  const V = model.vocabSize;
  const first = noGrad(() => model.forward(Tensor.from(Int32Array.of(0), [1, 1], { dtype: 'int32', device })));
  const logits = first.logits.reshape([1, V]);
  const loop = new DeviceLoop(model, first.state, logits, { temperature: 1, topK: 0, topP: 1, seed, batch });
  const seen: number[] = [];
  try {
    while (seen.length < chars) seen.push(...loop.next().tokens.subarray(0, chars - seen.length));
  } finally {
    loop.dispose();
    disposeLstmState(first.state);
    first.logits.dispose();
    logits.dispose();
  }
  return seen;
}

export function generateBench(ctx: BenchContext): void {
  const { H, layers, chars } = ctx.quick ? QUICK_GENERATE : STANDARD_GENERATE;
  const device = ctx.be.name;
  const model = new CharRNN({ vocabSize: VOCAB, embedDim: H, hiddenSize: H, numLayers: layers, device, seed: 7 });
  model.eval();
  try {
    const first = generateTokens(model, device, chars, true, 8);
    const bad = first.findIndex((t) => !(Number.isInteger(t) && t >= 0 && t < VOCAB));
    if (first.length !== chars || bad >= 0) {
      throw new Error(`generate on ${device}: ${first.length} tokens of ${chars}${bad >= 0 ? `, token ${bad} is ${first[bad]}` : ''}`);
    }
    for (const stream of [true, false]) {
      const t = measure(ctx, () => generateTokens(model, device, chars, stream, 8));
      const config = { V: VOCAB, D: H, H, layers, B: 1, chars, stream, temperature: 1 };
      ctx.emit(benchLine(ctx, 'generate', config, t, chars, 'chars/s'));
    }
    const onDevice = generateDevice(model, device, chars, 8);
    const differs = onDevice.findIndex((tok, i) => tok !== first[i]);
    if (differs >= 0) throw new Error(`generate on ${device}: the device loop drew ${onDevice[differs]} at step ${differs}, the per-step path ${first[differs]}`);
    const t = measure(ctx, () => generateDevice(model, device, chars, 8));
    ctx.emit(benchLine(ctx, 'generate', { V: VOCAB, D: H, H, layers, B: 1, chars, stream: true, temperature: 1, loop: 'device', batch: 16 }, t, chars, 'chars/s'));
  } finally {
    model.dispose();
  }
}
