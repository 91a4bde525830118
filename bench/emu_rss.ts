// Resident memory and live native buffers of a long training loop on a device (issue 11: emu grew ~8 KB per
// step). Trains a tiny CharRNN for --steps steps in four loops, each in a fresh process (so that one loop's
// warm-up does not count against another): every step inside tidy() (all intermediates disposed) or not
// (intermediates dropped without dispose, left to the garbage collector), and either never yielding to the
// event loop (a user script, a test) or yielding once per step (as trainCharRNN does). One JSON line per
// loop: RSS after a forced GC every 500 steps, the growth per step over the second half of the run, and the
// allocator's live buffer count (memory().liveCount) at the middle and at the end.
//   node --expose-gc build/bench/emu_rss.js [--device emu] [--steps 6000] [--loop tidy-sync|...]
// Cause of the growth (fixed in native/storage.cc): Node 20 runs the finalizer of a wrapped native object
// on the event loop, so a loop that never yields kept every buffer dropped without dispose() — device
// memory included — until it yielded. The addon now reports Node-API version NAPI_VERSION_EXPERIMENTAL,
// under which Node (>= 20.10) calls its finalizers during the garbage collection itself.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tensor, tidy } from '../src/tensor.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Adam } from '../src/optim/adam.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { reshape } from '../src/ops/reshape.js';
import { getBackend } from '../src/device.js';
import type { DeviceName } from '../src/backend.js';

const LOOPS = ['tidy-sync', 'tidy-yield', 'no-dispose-sync', 'no-dispose-yield'] as const;
type Loop = (typeof LOOPS)[number];

const { values } = parseArgs({
  options: { device: { type: 'string', default: 'emu' }, steps: { type: 'string', default: '6000' }, loop: { type: 'string' } },
});
const device = values.device as DeviceName;
const steps = Number(values.steps);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function measure(loop: Loop): Promise<void> {
  const V = 12, T = 4, B = 2;
  const useTidy = loop.startsWith('tidy'), yieldEveryStep = loop.endsWith('yield');
  const be = getBackend(device);
  const model = new CharRNN({ vocabSize: V, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0, device, seed: 1 });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const xs = Int32Array.from({ length: T * B }, (_, i) => i % V), ys = Int32Array.from({ length: T * B }, (_, i) => (i + 1) % V);
  const step = (): number => {
    const x = Tensor.from(xs, [T, B], { dtype: 'int32', device });
    const y = Tensor.from(ys, [T * B], { dtype: 'int32', device });
    const l = crossEntropy(reshape(model.forward(x).logits, [T * B, V]), y);
    l.backward();
    return l.item();
  };
  const half = Math.floor(steps / 2);
  const rssMiB: number[] = [];
  let atHalf = 0, liveAtHalf = 0;
  const t0 = Date.now();
  for (let s = 1; s <= steps; s++) {
    if (useTidy) tidy(step);
    else step();
    opt.step();
    opt.zeroGrad();
    if (yieldEveryStep) await new Promise((r) => setImmediate(r));
    if (s % 500 === 0 || s === half || s === steps) {
      gc!();
      const rss = process.memoryUsage().rss / 2 ** 20;
      if (s % 500 === 0) rssMiB.push(+rss.toFixed(1));
      if (s === half) { atHalf = rss; liveAtHalf = be.memory().liveCount; }
    }
  }
  const end = process.memoryUsage().rss / 2 ** 20;
  console.log(JSON.stringify({
    bench: 'emu_rss', device, loop, steps, rssMiB, rssMiBAtEnd: +end.toFixed(1),
    growthKiBPerStepSecondHalf: +(((end - atHalf) * 1024) / (steps - half)).toFixed(2),
    liveBuffersAtHalf: liveAtHalf, liveBuffersAtEnd: be.memory().liveCount,
    seconds: +((Date.now() - t0) / 1000).toFixed(1), node: process.version,
  }));
  opt.dispose();
  model.dispose();
}

if (values.loop !== undefined) {
  if (!(LOOPS as readonly string[]).includes(values.loop)) throw new Error(`--loop: expected one of ${LOOPS.join(', ')}`);
  await measure(values.loop as Loop);
} else {
  for (const loop of LOOPS) {
    const args = ['--expose-gc', fileURLToPath(import.meta.url), '--device', device, '--steps', String(steps), '--loop', loop];
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`loop ${loop} exited with ${r.status ?? r.signal}`);
  }
}
