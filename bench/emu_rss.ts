// Resident memory of a long training loop on a device (issue 11: emu grew ~8 KB per step). Trains a tiny
// CharRNN for --steps steps twice: in a synchronous loop (as a user script or a test does) and in a loop
// that yields to the event loop once per step (as trainCharRNN does), and prints one JSON line per loop:
// RSS (after a forced GC) at step 200 and at the end, and the growth per step between them.
//   node --expose-gc build/bench/emu_rss.js [--device emu] [--steps 6000]
// Finding: every native buffer is an N-API wrapped object whose finalizer Node defers to the event loop,
// so a loop that never yields keeps ~200 B of native bookkeeping per buffer it ever created (about 40 per
// step here) even though dispose() returned the device memory (the allocator's counters stay flat).
import { parseArgs } from 'node:util';
import { Tensor, tidy } from '../src/tensor.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Adam } from '../src/optim/adam.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import type { DeviceName } from '../src/backend.js';

const { values } = parseArgs({ options: { device: { type: 'string', default: 'emu' }, steps: { type: 'string', default: '6000' } } });
const device = values.device as DeviceName;
const steps = Number(values.steps);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const rssMiB = () => { gc!(); return process.memoryUsage().rss / 2 ** 20; };

async function measure(yieldEveryStep: boolean): Promise<void> {
  const V = 12, T = 4, B = 2;
  const model = new CharRNN({ vocabSize: V, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0, device, seed: 1 });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const xs = Int32Array.from({ length: T * B }, (_, i) => i % V), ys = Int32Array.from({ length: T * B }, (_, i) => (i + 1) % V);
  let at200 = 0;
  const t0 = Date.now();
  for (let s = 1; s <= steps; s++) {
    tidy(() => {
      const x = Tensor.from(xs, [T, B], { dtype: 'int32', device });
      const y = Tensor.from(ys, [T * B], { dtype: 'int32', device });
      const l = crossEntropy(model.forward(x).logits.reshape([T * B, V]), y);
      l.backward();
      return l.item();
    });
    opt.step();
    opt.zeroGrad();
    if (yieldEveryStep) await new Promise((r) => setImmediate(r));
    if (s === 200) at200 = rssMiB();
  }
  const end = rssMiB();
  console.log(JSON.stringify({
    bench: 'emu_rss', device, loop: yieldEveryStep ? 'yields every step (trainCharRNN)' : 'synchronous', steps,
    rssMiBAtStep200: +at200.toFixed(1), rssMiBAtEnd: +end.toFixed(1), growthKiBPerStep: +(((end - at200) * 1024) / (steps - 200)).toFixed(2),
    seconds: +((Date.now() - t0) / 1000).toFixed(1), node: process.version,
  }));
  opt.dispose();
  model.dispose();
}

await measure(false);
await measure(true);
