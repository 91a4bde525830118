// The whole model on each native backend that every npm install builds (cpu: the native CPU kernels; emu: the
// emulated CUDA kernels) against the ref reference: Embedding → 2-layer Stack (dropout between layers) →
// Linear → crossEntropy, forward, backward and one Adam step from the same seeds: the backend matches ref
// within atol + rtol·|ref|; the dropout masks are the same on both (a wrong mask changes the loss far beyond
// the tolerance). Then 2,000 training steps of a small model keep the addon's live allocation count and bytes
// flat. Both are always built, so the absence of either is a failure.
import test from 'tape';
import { Adam, Embedding, Linear, Stack, Tensor, crossEntropy, getBackend, tidy, type DeviceName } from '../src/index.js';
import { forEachNativeBackend } from './native_backends.js';
import { collectGarbage } from './gc.js';

const V = 13, D = 6, H = 7, L = 2, T = 5, B = 3;

function build(device: DeviceName, dropout: number) {
  const embed = new Embedding({ numEmbeddings: V, embeddingDim: D, device, seed: 11 });
  const lstm = new Stack({ inputSize: D, hiddenSize: H, numLayers: L, dropout, device, seed: 12 });
  const head = new Linear({ inFeatures: H, outFeatures: V, device, seed: 13 });
  const params = [...embed.parameters(), ...lstm.parameters(), ...head.parameters()];
  const names = [
    ...embed.namedParameters().map(([n]) => `embedding.${n}`),
    ...lstm.namedParameters().map(([n]) => `lstm.${n}`),
    ...head.namedParameters().map(([n]) => `decoder.${n}`),
  ];
  return { embed, lstm, head, params, names };
}

const xs = Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % V);
const ys = Int32Array.from({ length: T * B }, (_, i) => (i === 4 ? -100 : (i * 5 + 1) % V)); // one ignored row

function step(device: DeviceName, dropout: number) {
  const m = build(device, dropout);
  // eps 1e-3, not 1e-8: Adam's first update is lr·g/(|g| + eps), whose sensitivity to g is up to lr/eps, so with
  // eps = 1e-8 a gradient near 1e-8 turns float32 rounding (which differs between backends by design) into
  // update differences of order lr. With eps = 1e-3 a gradient difference δ moves the weight by ≤ 10·δ, so the
  // comparison checks that both backends implement the same step (the kernel alone is checked with eps 1e-8
  // on identical gradients in the op tests).
  const opt = new Adam(m.params, { lr: 1e-2, eps: 1e-3, weightDecay: 0.01, decoupled: true });
  const loss = tidy(() => {
    const x = Tensor.from(xs, [T, B], { dtype: 'int32', device });
    const { output } = m.lstm.forward(m.embed.forward(x));
    const logits = m.head.forward(output).reshape([T * B, V]);
    const l = crossEntropy(logits, Tensor.from(ys, [T * B], { dtype: 'int32', device }), { ignoreIndex: -100 });
    l.backward();
    return l.item();
  });
  const grads = m.params.map((p) => Array.from(p.grad!.toArray()));
  opt.step();
  const after = m.params.map((p) => Array.from(p.toArray()));
  return { loss, grads, after, names: m.names };
}

function close(t: test.Test, what: string, got: number[], ref: number[], atol: number, rtol: number) {
  // a NaN on either side counts as a failure (the comparison is written so that NaN falls into "bad")
  let bad = 0, first = -1;
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(got[i] - ref[i]) <= atol + rtol * Math.abs(ref[i]))) { bad++; if (first < 0) first = i; }
  }
  t.ok(got.length === ref.length && bad === 0, `${what}: ${ref.length} values within ${atol} + ${rtol}·|ref|` +
    (bad > 0 ? ` (${bad} outside; first at ${first}: ${got[first]} vs ${ref[first]})` : ''));
}

forEachNativeBackend('whole model', (kind) => {

for (const dropout of [0, 0.4]) {
  test(`whole model, dropout ${dropout}: ${kind} matches ref in loss, every gradient and one Adam step`, (t) => {
    const ref = step('ref', dropout);
    const got = step(kind, dropout);
    t.ok(Math.abs(got.loss - ref.loss) <= 1e-5 * (1 + Math.abs(ref.loss)), `loss: ref ${ref.loss}, ${kind} ${got.loss}`);
    for (let i = 0; i < ref.grads.length; i++) {
      const scale = Math.max(...ref.grads[i].map(Math.abs));
      close(t, `grad ${ref.names[i]}`, got.grads[i], ref.grads[i], 1e-5 * scale, 1e-4);
      close(t, `after Adam ${ref.names[i]}`, got.after[i], ref.after[i], 1e-6, 1e-4);
    }
    if (dropout > 0) {
      const noDrop = step('ref', 0);
      t.ok(Math.abs(noDrop.loss - ref.loss) > 1e-3, `dropout changes the loss (${noDrop.loss} vs ${ref.loss}), so equal losses mean equal masks`);
    }
    t.end();
  });
}

// The leak check is exact (live count and bytes equal after step 2 and the last step), so a per-step leak
// fails at any length; emu runs fewer steps because its cooperative launches (the persistent LSTM path)
// start an OS thread per block and cost ~10 ms each on the emulator.
const FLAT_STEPS = { emu: 300 } as Partial<Record<string, number>>;
test(`${(FLAT_STEPS[kind] ?? 2000).toLocaleString('en-US')} training steps on ${kind} keep live allocations flat`, (t) => {
  const steps = FLAT_STEPS[kind] ?? 2000;
  const be = getBackend(kind);
  const m = build(kind, 0.2);
  const opt = new Adam(m.params, { lr: 1e-2 });
  const x = Tensor.from(xs, [T, B], { dtype: 'int32', device: kind });
  const y = Tensor.from(ys, [T * B], { dtype: 'int32', device: kind });
  const trainStep = () => {
    const loss = tidy(() => {
      const { output } = m.lstm.forward(m.embed.forward(x));
      const l = crossEntropy(m.head.forward(output).reshape([T * B, V]), y, { ignoreIndex: -100 });
      l.backward();
      return l.item();
    });
    opt.step();
    opt.zeroGrad();
    return loss;
  };
  const first = trainStep();
  trainStep();
  collectGarbage(); // storages earlier tests dropped are freed now, not at some GC during the loop
  const after2 = be.memory();
  let peak = after2.liveBytes;
  let last = first;
  const t0 = Date.now();
  for (let i = 2; i < steps; i++) {
    last = trainStep();
    if (i % 50 === 0) peak = Math.max(peak, be.memory().liveBytes);
  }
  collectGarbage();
  const end = be.memory();
  t.comment(`${steps} steps on ${kind} in ${((Date.now() - t0) / 1000).toFixed(1)} s: live after step 2 ${after2.liveCount} / ${after2.liveBytes} B, ` +
    `after step ${steps} ${end.liveCount} / ${end.liveBytes} B, cached ${end.cachedBytes} B; loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  t.deepEqual([end.liveCount, end.liveBytes], [after2.liveCount, after2.liveBytes], `live count and bytes equal after step 2 and step ${steps}`);
  t.equal(peak, after2.liveBytes, 'live bytes never above the step-2 level at any sample');
  t.ok(end.cachedBytes <= after2.cachedBytes * 2 + 65536, `the cache stays bounded (${after2.cachedBytes} -> ${end.cachedBytes} B)`);
  t.ok(last < first, 'and the model learned meanwhile');
  x.dispose(); y.dispose();
  t.end();
});
});
