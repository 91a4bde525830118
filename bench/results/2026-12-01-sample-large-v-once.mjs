// One timed call of backend.sample per (V, filter) on a device, one JSON line each (for addons too slow for
// bench/sample.bench.ts's repeats, e.g. the O(V^2) kernel before 2026-12-01). Run from the repo root after
// npm run build:  node bench/results/2026-12-01-sample-large-v-once.mjs DEVICE V[,V] topK:topP[,topK:topP]
const [device, Vs, filters] = [process.argv[2], process.argv[3].split(',').map(Number), process.argv[4] ?? '0:1'];
const { getBackend } = await import(process.cwd() + '/build/src/device.js');
const { randomFloats } = await import(process.cwd() + '/build/bench/timing.js');
const be = getBackend(device);
for (const V of Vs) for (const f of filters.split(',')) {
  const [topK, topP] = f.split(':').map(Number);
  const logits = be.upload(randomFloats(V, 91 + V, -4, 4));
  const tokens = be.alloc('int32', 1), logp = be.alloc('float32', 1), entropy = be.alloc('float32', 1);
  const t0 = process.hrtime.bigint();
  be.sample({ B: 1, V, logits, temperature: 1, topK, topP, seed: 7, offset: 0, offsetAdd: null, tokens, logp, entropy });
  be.synchronize();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ device, addon: process.env.LSTM_CUDA_EMU_ADDON ?? 'build/Release', V, topK, topP, ms: +ms.toFixed(1), token: be.download(tokens)[0], node: process.version }));
}
