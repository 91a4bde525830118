// Benchmark: backend.gemm alone at the LSTM's shapes, in GFLOP/s (2·M·N·K per call). Per training config:
//   input      x·W_ihᵀ over all steps: [B·T, I] × [I, 4H] with W_ih stored [4H, I] (transB), I = D = H
//   recurrent  h·W_hhᵀ of one step:    [B, H]   × [H, 4H] with W_hh stored [4H, H] (transB)
// exactly as torch_reference.py's bench_gemm times torch.matmul(a, w.t()). Before timing, sampled entries of
// C are checked against float64 dot products on the host (cheap at any size).
import type { Storage } from '../src/backend.js';
import { benchLine, measure, randomFloats, trainConfigs, type BenchContext } from './timing.js';

export interface GemmShape { kind: 'input' | 'recurrent'; M: number; N: number; K: number; H: number; B: number; T: number }

export function gemmShapes(ctx: BenchContext): GemmShape[] {
  // shapes: input [B·T, H] × [H, 4H]; recurrent [B, H] × [H, 4H]
  return trainConfigs(ctx).flatMap(({ H, B, T }) => [
    { kind: 'input' as const, M: B * T, N: 4 * H, K: H, H, B, T },
    { kind: 'recurrent' as const, M: B, N: 4 * H, K: H, H, B, T },
  ]);
}

/** Checks up to 256 entries of C = A·Wᵀ (A [M,K], W [N,K]) against float64 host dot products. */
function checkSampled(what: string, A: Float32Array, W: Float32Array, C: Float32Array, s: GemmShape): void {
  const { M, N, K } = s;
  const picks = Math.min(256, M * N);
  for (let p = 0; p < picks; p++) {
    const idx = Math.floor((p * (M * N - 1)) / Math.max(1, picks - 1));
    const m = Math.floor(idx / N), n = idx % N;
    let ref = 0, mag = 0;
    for (let k = 0; k < K; k++) {
      ref += A[m * K + k] * W[n * K + k];
      mag += Math.abs(A[m * K + k] * W[n * K + k]);
    }
    // float32 accumulation over K terms: error ≤ ~K·eps·Σ|a·b|; 1e-5·Σ|a·b| covers K ≤ ~80 exactly and
    // sqrt-growth beyond, while a wrong index or a skipped tile is off by O(|ref|) or O(mag)
    const tol = 1e-5 * mag + 1e-6;
    if (!(Math.abs(C[idx] - ref) <= tol)) {
      throw new Error(`${what}: C[${m},${n}] is ${C[idx]}, the float64 reference is ${ref} (tolerance ${tol.toPrecision(3)})`);
    }
  }
}

export function gemmBench(ctx: BenchContext): void {
  const be = ctx.be;
  for (const s of gemmShapes(ctx)) {
    const { M, N, K } = s;
    const hostA = randomFloats(M * K, 11 + M + K), hostW = randomFloats(N * K, 12 + N + K);
    const A: Storage = be.upload(hostA), W: Storage = be.upload(hostW);
    const C: Storage = be.upload(new Float32Array(M * N).fill(NaN)); // poisoned: every element must be written
    try {
      const run = (): void => be.gemm({ transA: false, transB: true, M, N, K, alpha: 1, beta: 0, A, B: W, C });
      run();
      checkSampled(`gemm ${s.kind} [${M},${K}]x[${K},${N}] on ${be.name}`, hostA, hostW, be.download(C) as Float32Array, s);
      const t = measure(ctx, run);
      ctx.emit(benchLine(ctx, 'gemm', { kind: s.kind, M, N, K, H: s.H, B: s.B, T: s.T }, t, (2 * M * N * K) / 1e9, 'GFLOP/s'));
    } finally {
      be.free(A); be.free(W); be.free(C);
    }
  }
}
