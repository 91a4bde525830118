// The native cpu backend gives the same bits for any thread count: child processes run one workload with
// LSTM_CUDA_CPU_THREADS = 1, 2 and 3 (and on the portable SIMD path too) and print a hash of every result;
// the hashes must be equal per SIMD path. The workload covers the kernels that split work over threads:
// GEMMs (all transposes, packed and small-M paths, K above one k block), the fused LSTM layer forward and
// backward at a batch on the packed path and at B = 2 (H not a multiple of the panel width; work below
// ~2^18 multiply-adds runs on the calling thread, so these sizes are above it), reductions
// over many chunks, and a few Adam steps of a whole model with dropout.
import test from 'tape';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Adam, Embedding, Linear, Stack, Tensor, crossEntropy, getBackend, tidy } from '../src/index.js';
import { RngStream } from '../src/rng.js';
import type { Storage } from '../src/backend.js';

function workload(): string {
  const be = getBackend('cpu');
  const rng = new RngStream(5);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
  const hash = createHash('sha256');
  const take = (s: Storage) => {
    const a = be.download(s) as Float32Array;
    hash.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    be.free(s);
  };
  for (const [M, N, K] of [[300, 200, 300], [3, 1000, 300], [70, 3, 513]]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const A = be.upload(rand(M * K)), B = be.upload(rand(K * N)), C = be.upload(rand(M * N));
        be.gemm({ transA, transB, M, N, K, alpha: 0.7, A, B, beta: 0.3, C });
        be.free(A); be.free(B); take(C);
      }
    }
  }
  const x = be.upload(rand(300_001)), out = be.alloc('float32', 2);
  be.sum({ n: 300_001, x, out });
  be.sumSquares({ n: 300_001, x, out, outIndex: 1 });
  take(out);
  const rows = be.alloc('float32', 1000);
  be.sumRows({ M: 300, N: 1000, x, out: rows, accumulate: false });
  take(rows);
  be.free(x);
  // B = 2: the small-batch path, large enough (H = 300) to run in parallel; B = 13: the packed path
  for (const [B, I, H] of [[2, 200, 300], [13, 11, 37]]) {
    const T = 4;
    const up = (n: number) => be.upload(rand(n));
    const [xs, wih, whh, bih, bhh, h0, c0] = [up(T * B * I), up(4 * H * I), up(4 * H * H), up(4 * H), up(4 * H), up(B * H), up(B * H)];
    const [h, c, gates, tanhC] = [be.alloc('float32', T * B * H), be.alloc('float32', T * B * H), be.alloc('float32', T * B * 4 * H), be.alloc('float32', T * B * H)];
    be.lstmForward({ T, B, I, H, x: xs, wih, whh, bih, bhh, h0, c0, h, c, gates, tanhC });
    const [dh, dx, dh0, dc0] = [up(T * B * H), be.alloc('float32', T * B * I), be.alloc('float32', B * H), be.alloc('float32', B * H)];
    const [dwih, dwhh, dbih, dbhh] = [be.alloc('float32', 4 * H * I), be.alloc('float32', 4 * H * H), be.alloc('float32', 4 * H), be.alloc('float32', 4 * H)];
    be.lstmBackward({ T, B, I, H, x: xs, wih, whh, h0, c0, h, c, gates, tanhC, dh, dhT: null, dcT: null, dx, dh0, dc0, dwih, dwhh, dbih, dbhh });
    for (const s of [h, c, gates, tanhC, dx, dh0, dc0, dwih, dwhh, dbih, dbhh]) take(s);
    for (const s of [xs, wih, whh, bih, bhh, h0, c0, dh]) be.free(s);
  }
  const V = 29, T = 9, B = 7;
  const embed = new Embedding({ numEmbeddings: V, embeddingDim: 19, device: 'cpu', seed: 1 });
  const lstm = new Stack({ inputSize: 19, hiddenSize: 37, numLayers: 2, dropout: 0.3, device: 'cpu', seed: 2 });
  const head = new Linear({ inFeatures: 37, outFeatures: V, device: 'cpu', seed: 3 });
  const params = [...embed.parameters(), ...lstm.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr: 1e-2 });
  const xi = Tensor.from(Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % V), [T, B], { dtype: 'int32', device: 'cpu' });
  const yi = Tensor.from(Int32Array.from({ length: T * B }, (_, i) => (i * 5 + 1) % V), [T * B], { dtype: 'int32', device: 'cpu' });
  for (let s = 0; s < 3; s++) {
    tidy(() => {
      const { output } = lstm.forward(embed.forward(xi));
      crossEntropy(head.forward(output).reshape([T * B, V]), yi).backward();
    });
    opt.step();
    opt.zeroGrad();
  }
  for (const p of params) {
    const a = p.toArray() as Float32Array;
    hash.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  return hash.digest('hex');
}

if (process.argv.includes('--child')) {
  process.stdout.write(`${getBackend('cpu').deviceName}\n${workload()}\n`);
} else {
  for (const simd of ['', 'portable']) {
    test(`cpu${simd ? ` (${simd} SIMD path)` : ''}: the same bits with 1, 2 and 3 threads`, (t) => {
      const runs = [1, 2, 3].map((threads) => {
        const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], {
          encoding: 'utf8', env: { ...process.env, LSTM_CUDA_CPU_THREADS: String(threads), LSTM_CUDA_CPU_SIMD: simd },
        });
        t.equal(r.status, 0, `child with ${threads} thread(s) exits 0${r.status === 0 ? '' : `: ${r.stderr}`}`);
        const [device, digest] = r.stdout.trim().split('\n');
        t.ok(device.includes(`${threads} thread`), `child runs on ${device}`);
        return digest;
      });
      t.ok(/^[0-9a-f]{64}$/.test(runs[0]), `hash ${runs[0]}`);
      t.deepEqual(runs, [runs[0], runs[0], runs[0]], 'identical results for 1, 2 and 3 threads');
      t.end();
    });
  }
}
