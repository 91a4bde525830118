// Generation on the device (src/sample/device_loop.ts): the token fed back on the device in batches, one
// CUDA graph replay per batch where the backend has graphs (emu here, cuda on a GPU). On every backend:
//   - sample() through the device loop gives the same tokens, text, log-probabilities and entropies (same
//     bits) as the per-step path (batch: 0, the token read and fed back from the host), over temperatures,
//     top-k, top-p, primes, lengths that are not a multiple of the batch, and samples that end at STOP in
//     the middle of a batch (the steps after it were drawn speculatively and are discarded);
//   - the native backends give the tokens ref gives;
//   - emu really replays a graph (DeviceLoop.graphed), and the graphed and uncaptured loops agree.
import test from 'tape';
import '../src/ops/methods.js';
import type { Backend, DeviceName } from '../src/backend.js';
import { refBackend } from '../src/cpu/index.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Vocab } from '../src/text/vocab.js';
import { sample, type SampleTextOptions, type SampleTextResult } from '../src/sample/sample.js';
import { Generator } from '../src/sample/generator.js';
import { DeviceLoop } from '../src/sample/device_loop.js';
import { forEachNativeBackend } from './native_backends.js';

const TEXT = 'the quick brown fox jumps over the lazy dog\nTHE QUICK BROWN FOX, 0123456789!\n';
const vocab = Vocab.fromText(TEXT);

function model(device: DeviceName, V = vocab.size, seed = 11): CharRNN {
  const m = new CharRNN({ vocabSize: V, embedDim: 13, hiddenSize: 21, numLayers: 3, device, seed });
  m.eval();
  return m;
}

const CASES: SampleTextOptions[] = [
  { prime: 'the ', maxLength: 37, temperature: 1, seed: 1 },
  { prime: 'q', maxLength: 16, temperature: 0.7, topK: 5, seed: 2 },
  { prime: 'fox', maxLength: 23, temperature: 1.3, topP: 0.8, seed: 0xfffffff0 }, // the RNG counter wraps past 2^32
  { prime: '', maxLength: 9, temperature: 0, seed: 3 },                             // greedy
  { prime: 'dog', maxLength: 1, temperature: 1, seed: 4 },
];

const strip = (r: SampleTextResult) => ({ text: r.text, tokens: r.tokens, perToken: r.perToken, stopped: r.stopped, logProb: r.logProb });

const backends: [DeviceName, Backend][] = [['ref', refBackend]];
forEachNativeBackend('device loop', (kind, be) => { backends.push([kind, be]); });

const refTokens = new Map<number, number[]>();

for (const [kind] of backends) {
  test(`${kind}: generation on the device equals the per-step path, bit for bit`, (t) => {
    const m = model(kind);
    try {
      CASES.forEach((o, i) => {
        const step = sample(m, vocab, { ...o, batch: 0 });
        for (const batch of [16, 4]) {
          const dev = sample(m, vocab, { ...o, batch });
          t.deepEqual(strip(dev), strip(step), `case ${i} (maxLength ${o.maxLength}, T=${o.temperature}) batch ${batch}: same tokens, text, logp, entropy`);
        }
        if (kind === 'ref') refTokens.set(i, step.tokens);
        else t.deepEqual(step.tokens, refTokens.get(i), `case ${i}: the tokens ref draws`);
      });
    } finally {
      m.dispose();
    }
    t.end();
  });

  test(`${kind}: a sample that ends at STOP inside a batch: the speculative draws after it are discarded`, (t) => {
    // a tiny vocabulary and a hot temperature: STOP comes within a few steps, mid-batch
    const small = Vocab.fromText('ab\n');
    const m = model(kind, small.size, 3);
    try {
      let stops = 0;
      for (let seed = 0; seed < 12; seed++) {
        const o = { prime: 'a', maxLength: 40, temperature: 2, seed };
        const step = sample(m, small, { ...o, batch: 0 });
        const dev = sample(m, small, { ...o, batch: 16 });
        if (step.stopped && step.tokens.length % 16 !== 0) stops++;
        if (JSON.stringify(strip(dev)) !== JSON.stringify(strip(step))) t.fail(`seed ${seed}: the device loop differs from the per-step path`);
      }
      t.ok(stops >= 3, `${stops} of 12 samples stopped at STOP inside a batch, each identical to the per-step path`);
    } finally {
      m.dispose();
    }
    t.end();
  });
}

forEachNativeBackend('device loop graphs', (kind, be) => {
  if (!be.hasGraphs) return;
  test(`${kind}: the device loop replays one CUDA graph per batch; graphed and uncaptured loops agree`, (t) => {
    const m = model(kind);
    const gen = new Generator(m, vocab);
    try {
      gen.feed(vocab.encode('the ').ids);
      const o = { temperature: 1, topK: 0, topP: 1, seed: 9, batch: 8 };
      const graphed = new DeviceLoop(m, gen.lstmState!, gen.nextLogits, o);
      const direct = new DeviceLoop(m, gen.lstmState!, gen.nextLogits, { ...o, graph: false });
      try {
        t.ok(graphed.graphed, 'the batch was captured as a graph');
        t.notOk(direct.graphed, 'graph: false queues the kernels directly');
        for (let b = 0; b < 3; b++) t.deepEqual(graphed.next(), direct.next(), `batch ${b}: the same draws`);
      } finally {
        graphed.dispose();
        direct.dispose();
      }
    } finally {
      gen.dispose();
      m.dispose();
    }
    t.end();
  });
});
