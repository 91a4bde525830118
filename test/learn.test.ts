// End to end on `ref` float32: Embedding → 2-layer Stack → Linear → crossEntropy → Adam (with gradient
// clipping, dropout 0.1 between layers) learns a short repeating text to near-zero loss in 150 steps,
// with flat memory; in eval mode it then predicts every next character.
// Each window starts without state, so its first targets (which two characters of context decide) are
// masked out with ignoreIndex.
import test from 'tape';
import { Tensor, tidy } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { getBackend } from '../src/device.js';
import { Module } from '../src/nn/module.js';
import { Embedding } from '../src/nn/embedding.js';
import { Stack } from '../src/nn/stack.js';
import { Linear } from '../src/nn/linear.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { Adam } from '../src/optim/adam.js';
import { clipGradNorm } from '../src/optim/clip.js';

test('a tiny char model learns a repeating text to loss < 0.05', (t) => {
  const text = 'hello world! ';
  const chars = [...new Set(text)];
  const V = chars.length;
  const ids = [...text.repeat(8)].map((ch) => chars.indexOf(ch));
  const T = 16, B = 4, D = 12, H = 32;
  class CharModel extends Module {
    readonly embedding = this.registerModule('embedding', new Embedding({ numEmbeddings: V, embeddingDim: D, device: 'ref', seed: 1 }));
    readonly lstm = this.registerModule('lstm', new Stack({ inputSize: D, hiddenSize: H, numLayers: 2, dropout: 0.1, device: 'ref', seed: 2 }));
    readonly decoder = this.registerModule('decoder', new Linear({ inFeatures: H, outFeatures: V, device: 'ref', seed: 3 }));
  }
  const model = new CharModel();
  const opt = new Adam(model.parameters(), { lr: 0.02 });
  const be = getBackend('ref');
  const started = Date.now();
  let liveAt10 = 0;
  let step = 0;
  const losses: number[] = [];
  for (; step < 150; step++) {
    // B windows at offsets spread over the text period, so every position is a target
    const x: number[] = [], y: number[] = [];
    for (let tt = 0; tt < T; tt++) {
      for (let b = 0; b < B; b++) {
        const at = ((step * 5 + b * 3) % text.length) + tt;
        x.push(ids[at]);
        y.push(tt < 2 ? -1 : ids[at + 1]);
      }
    }
    const loss = tidy(() => {
      const xs = Tensor.from(x, [T, B], { device: 'ref', dtype: 'int32' });
      const ys = Tensor.from(y, [T * B], { device: 'ref', dtype: 'int32' });
      const out = model.lstm.forward(model.embedding.forward(xs)).output;
      const l = crossEntropy(model.decoder.forward(out).reshape([T * B, V]), ys, { ignoreIndex: -1 });
      opt.zeroGrad();
      l.backward();
      clipGradNorm(model.parameters(), 5);
      opt.step();
      return l.item();
    });
    losses.push(loss);
    if (step === 10) liveAt10 = be.memory().liveCount;
  }
  const seconds = (Date.now() - started) / 1000;
  const last = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
  t.ok(last < 0.05, `mean loss of the last 10 steps ${last.toFixed(4)} < 0.05 after ${step} steps (first ${losses[0].toFixed(3)}, ${seconds.toFixed(2)} s)`);
  t.equal(be.memory().liveCount, liveAt10, 'live storages are the same at the end as at step 10 (flat memory)');
  model.eval();
  const acc = tidy(() => {
    const xs = Tensor.from(ids.slice(0, 2 * text.length), [2 * text.length, 1], { device: 'ref', dtype: 'int32' });
    const logits = model.decoder.forward(model.lstm.forward(model.embedding.forward(xs)).output).toArray();
    let right = 0;
    for (let i = text.length; i < 2 * text.length; i++) {
      const row = logits.subarray(i * V, (i + 1) * V);
      if (row.indexOf(Math.max(...row)) === ids[i + 1]) right++;
    }
    return right / text.length;
  });
  t.equal(acc, 1, 'greedy next-character prediction is right on every position of the second period');
  t.end();
});
