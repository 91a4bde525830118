// The TF32 tensor-core GEMM (kernels/gemm.cu, GemmMath::tf32; Backend.setMathMode('all')) on emu and cuda
// (the .cu kernels; the native cpu backend computes fp32 only):
//   - it computes what TF32 defines: against a float64 GEMM of the operands rounded to TF32 here
//     (round to nearest, ties away, 10-bit mantissa: cvt.rna.tf32.f32) the error is within fp32
//     accumulation, (K + 4)·2⁻²⁴·(|alpha|·Σ|a||b| + |beta·c|) per element — so the emulator rounds as the
//     tensor cores do, and a wrong fragment layout or rounding fails;
//   - against the exact reference the error is that of TF32 inputs, ≤ 2⁻¹⁰·|alpha|·Σ|a||b| + the fp32 bound,
//     and it is really TF32: over 10× the error of the same GEMM in mode 'fp32';
//   - an LSTM layer forward + backward in TF32 against the exact reference: the tolerance this needs;
//   - the math mode as a setting: 'lstm' (the cuda default) keeps plain GEMMs exact and the LSTM's in TF32,
//     the setting is what deviceInfo reports, LSTM_CUDA_TF32 is its initial value, ref and cpu refuse TF32.
// The op tests (test/<op>.test.ts) check exact fp32 (mode 'fp32', the emu default).
import test from 'tape';
import { forEachNativeBackend } from './native_backends.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend, MathMode, Storage, TypedArray } from '../src/backend.js';
import { refBackend as refBe } from '../src/cpu/index.js';
import { RngStream } from '../src/rng.js';

function uniform(n: number, rng: RngStream, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.next();
  return a;
}

/** x rounded to TF32 as cvt.rna.tf32.f32 does. */
function tf32(x: Float32Array): Float32Array {
  const out = new Float32Array(x);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < u.length; i++) if ((u[i] & 0x7f800000) !== 0x7f800000) u[i] = ((u[i] + 0x1000) & 0xffffe000) >>> 0;
  return out;
}

/** Runs fn with be's math mode set to mode (restored afterwards). */
function withMode<T>(be: Backend, mode: MathMode, fn: () => T): T {
  const old = be.getMathMode();
  be.setMathMode(mode);
  try {
    return fn();
  } finally {
    be.setMathMode(old);
  }
}

interface GemmCase { transA: boolean; transB: boolean; M: number; N: number; K: number; alpha: number; beta: number }

/** float64 C = alpha·op(A)·op(B) + beta·C, and Σ |alpha·a·b| + |beta·c| per element. */
function gemm64(g: GemmCase, A: Float32Array, B: Float32Array, C: Float32Array): { c: Float64Array; mag: Float64Array } {
  const { transA, transB, M, N, K, alpha, beta } = g;
  const c = new Float64Array(M * N), mag = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = 0, a = 0;
    for (let k = 0; k < K; k++) {
      const p = (transA ? A[k * M + m] : A[m * K + k]) * (transB ? B[n * K + k] : B[k * N + n]);
      s += p;
      a += Math.abs(p);
    }
    c[m * N + n] = alpha * s + beta * C[m * N + n];
    mag[m * N + n] = Math.abs(alpha) * a + Math.abs(beta * C[m * N + n]);
  }
  return { c, mag };
}

function runGemm(be: Backend, g: GemmCase, A: Float32Array, B: Float32Array, C: Float32Array): TypedArray {
  const s: Storage[] = [be.upload(A), be.upload(B), be.upload(C)];
  try {
    be.gemm({ ...g, A: s[0], B: s[1], C: s[2] });
    return be.download(s[2]);
  } finally {
    for (const x of s) be.free(x);
  }
}

forEachNativeBackend('TF32 GEMM', (kind, be) => {
  if (kind === 'cpu') return;  // the native CPU backend has no TF32 mode: the .cu kernels only (emu, cuda)
  test(`${kind}: TF32 GEMM equals a float64 GEMM of TF32-rounded operands; its error against exact fp32`, (t) => {
    const rng = new RngStream(91);
    const cases: GemmCase[] = [];
    for (const transA of [false, true]) for (const transB of [false, true]) {
      cases.push({ transA, transB, M: 40, N: 100, K: 600, alpha: 1.5, beta: -0.75 }); // split over K
      cases.push({ transA, transB, M: 33, N: 70, K: 70, alpha: 1, beta: 0 });        // one slice, edges
    }
    cases.push({ transA: false, transB: true, M: 64, N: 2048, K: 512, alpha: 1, beta: 1 });  // LSTM forward step
    cases.push({ transA: false, transB: false, M: 64, N: 512, K: 2048, alpha: 1, beta: 0 }); // LSTM backward step
    let worstTf32 = 0, worstExact = 0, minGap = Infinity;
    for (const g of cases) {
      const A = uniform(g.M * g.K, rng), B = uniform(g.K * g.N, rng), C = uniform(g.M * g.N, rng);
      const got = withMode(be, 'all', () => runGemm(be, g, A, B, C)), got32 = withMode(be, 'fp32', () => runGemm(be, g, A, B, C));
      const want = gemm64(g, tf32(A), tf32(B), C), exact = gemm64(g, A, B, C);
      const fp32Bound = (g.K + 4) * 2 ** -24;
      let tf32Ratio = 0, exactRatio = 0, errTf32 = 0, errFp32 = 0;
      for (let i = 0; i < got.length; i++) {
        tf32Ratio = Math.max(tf32Ratio, Math.abs(got[i] - want.c[i]) / (fp32Bound * want.mag[i] + 1e-30));
        exactRatio = Math.max(exactRatio, Math.abs(got[i] - exact.c[i]) / ((2 ** -10 + fp32Bound) * exact.mag[i] + 1e-30));
        errTf32 = Math.max(errTf32, Math.abs(got[i] - exact.c[i]));
        errFp32 = Math.max(errFp32, Math.abs(got32[i] - exact.c[i]));
      }
      const label = `tA=${g.transA} tB=${g.transB} M=${g.M} N=${g.N} K=${g.K}`;
      if (!(tf32Ratio <= 1)) t.fail(`${label}: ${tf32Ratio.toPrecision(3)}× the fp32-accumulation bound from the TF32-rounded float64 GEMM`);
      if (!(exactRatio <= 1)) t.fail(`${label}: ${exactRatio.toPrecision(3)}× the TF32 bound from the exact GEMM`);
      worstTf32 = Math.max(worstTf32, tf32Ratio);
      worstExact = Math.max(worstExact, exactRatio);
      minGap = Math.min(minGap, errTf32 / errFp32);
    }
    t.ok(worstTf32 <= 1, `${cases.length} GEMMs within the fp32 bound of the TF32-rounded product (worst ${worstTf32.toPrecision(3)} of it)`);
    t.ok(worstExact <= 1, `within 2⁻¹⁰·Σ|a||b| of the exact product (worst ${worstExact.toPrecision(3)} of that bound)`);
    t.ok(minGap > 10, `really TF32: in every case its largest error from the exact product is ≥ ${minGap.toPrecision(3)}× that of mode 'fp32'`);
    const g = cases[0];
    const A = uniform(g.M * g.K, rng), B = uniform(g.K * g.N, rng), C = uniform(g.M * g.N, rng);
    const exact32 = withMode(be, 'fp32', () => runGemm(be, g, A, B, C)), ref32 = runGemm(refBe, g, A, B, C);
    let worst = 0;
    for (let i = 0; i < ref32.length; i++) worst = Math.max(worst, Math.abs(exact32[i] - ref32[i]) / (1e-5 + 1e-4 * Math.abs(ref32[i])));
    t.ok(worst <= 1, 'mode fp32 in the same process: exact fp32 again (within the suite\'s tolerance of ref)');
    const lstmMode = withMode(be, 'lstm', () => runGemm(be, g, A, B, C));
    t.ok(lstmMode.every((v, i) => Object.is(v, exact32[i])), "mode 'lstm': a plain GEMM is exact fp32 (the same bits as mode 'fp32')");
    t.end();
  });

  test(`${kind}: LSTM layer forward + backward in TF32 against the exact reference`, (t) => {
    const rng = new RngStream(92);
    const [T, B, I, H] = [4, 9, 65, 33];
    const k = 1 / Math.sqrt(H);
    const host: Record<string, Float32Array> = {
      x: uniform(T * B * I, rng), wih: uniform(4 * H * I, rng, -k, k), whh: uniform(4 * H * H, rng, -k, k),
      bih: uniform(4 * H, rng, -k, k), bhh: uniform(4 * H, rng, -k, k), h0: uniform(B * H, rng), c0: uniform(B * H, rng),
      h: new Float32Array(T * B * H), c: new Float32Array(T * B * H), gates: new Float32Array(T * B * 4 * H), tanhC: new Float32Array(T * B * H),
      dh: uniform(T * B * H, rng), dx: new Float32Array(T * B * I), dh0: new Float32Array(B * H), dc0: new Float32Array(B * H),
      dwih: new Float32Array(4 * H * I), dwhh: new Float32Array(4 * H * H), dbih: new Float32Array(4 * H), dbhh: new Float32Array(4 * H),
    };
    const outs = ['h', 'c', 'dx', 'dh0', 'dc0', 'dwih', 'dwhh', 'dbih', 'dbhh'];
    const run = (b: Backend): Record<string, TypedArray> => {
      const s: Record<string, Storage> = {};
      for (const key in host) s[key] = b.upload(host[key]);
      try {
        b.lstmForward({ T, B, I, H, x: s.x, wih: s.wih, whh: s.whh, bih: s.bih, bhh: s.bhh, h0: s.h0, c0: s.c0, h: s.h, c: s.c, gates: s.gates, tanhC: s.tanhC });
        b.lstmBackward({ T, B, I, H, x: s.x, wih: s.wih, whh: s.whh, h0: s.h0, c0: s.c0, h: s.h, c: s.c, gates: s.gates, tanhC: s.tanhC,
          dh: s.dh, dhT: null, dcT: null, dx: s.dx, dh0: s.dh0, dc0: s.dc0, dwih: s.dwih, dwhh: s.dwhh, dbih: s.dbih, dbhh: s.dbhh });
        const r: Record<string, TypedArray> = {};
        for (const key of outs) r[key] = b.download(s[key]);
        return r;
      } finally {
        for (const key in s) b.free(s[key]);
      }
    };
    const ref = run(refBe);
    // TF32 rounds every GEMM input by up to 2⁻¹¹ relative; over T = 4 steps and the backward GEMMs this was
    // measured at ~4·10⁻⁴ of each output's scale: the tolerance is 10⁻³ of it
    const RTOL = 1e-3;
    const worstOf = (got: Record<string, TypedArray>): { worst: number; at: string } => {
      let worst = 0, at = '';
      for (const key of outs) {
        let scale = 1;
        for (const v of ref[key]) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < ref[key].length; i++) {
          const e = Math.abs(got[key][i] - ref[key][i]) / (RTOL * scale);
          if (!(e <= worst)) { worst = Number.isNaN(e) ? Infinity : e; at = `${key}[${i}]`; }
        }
      }
      return { worst, at };
    };
    const tf = worstOf(withMode(be, 'all', () => run(be))), exact = worstOf(withMode(be, 'fp32', () => run(be)));
    const lstmMode = worstOf(withMode(be, 'lstm', () => run(be)));
    t.ok(tf.worst <= 1, `T=${T} B=${B} I=${I} H=${H}: every output within ${RTOL}·(its largest |ref|, at least 1) (worst ${tf.worst.toPrecision(3)} of that, at ${tf.at})`);
    t.ok(tf.worst > 10 * exact.worst, `the LSTM's GEMMs really ran in TF32: ${(tf.worst / exact.worst).toPrecision(3)}× the error of mode 'fp32'`);
    t.ok(lstmMode.worst > 10 * exact.worst && lstmMode.worst <= 1, `mode 'lstm' (the cuda default): the LSTM layer's GEMMs run in TF32 too (${(lstmMode.worst / exact.worst).toPrecision(3)}× the error of 'fp32')`);
    t.end();
  });

  test(`${kind}: the math mode is a backend setting; deviceInfo reports it; LSTM_CUDA_TF32 is its initial value`, (t) => {
    const old = be.getMathMode();
    for (const m of ['all', 'lstm', 'fp32'] as const) {
      be.setMathMode(m);
      t.equal(be.getMathMode(), m, `setMathMode('${m}') then getMathMode() = '${m}'`);
    }
    be.setMathMode(old);
    t.throws(() => be.setMathMode('tf32' as MathMode), /setMathMode: expected one of fp32, lstm, all, got "tf32"/, 'an unknown mode is refused, naming the choices');
    t.equal(be.getMathMode(), old, 'and leaves the mode as it was');
    const native = fileURLToPath(new URL('../src/device.js', import.meta.url));
    const script = `import('${native}').then((d) => { const b = d.getBackend('${kind}'); console.log(JSON.stringify([b.getMathMode(), b.info.mathMode])); })`;
    for (const [env, want] of [['all', 'all'], ['lstm', 'lstm'], ['0', 'fp32']] as const) {
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LSTM_CUDA_TF32: env }, timeout: 60_000 });
      t.equal(r.stdout.trim(), JSON.stringify([want, want]), `LSTM_CUDA_TF32=${env}: the mode starts as '${want}' (getMathMode and deviceInfo)`);
    }
    t.end();
  });
});

test('ref and cpu compute fp32 only: setMathMode refuses TF32 clearly', (t) => {
  t.equal(refBe.getMathMode(), 'fp32', 'ref: fp32');
  t.throws(() => refBe.setMathMode('lstm'), /ref\.setMathMode: the TypeScript reference computes fp32 only \(no TF32\), got 'lstm'/, 'ref refuses lstm');
  refBe.setMathMode('fp32');
  t.end();
});

forEachNativeBackend('math mode (cpu)', (kind, be) => {
  if (kind !== 'cpu') return;
  test('cpu: fp32 only; setMathMode refuses TF32 clearly', (t) => {
    t.equal(be.getMathMode(), 'fp32', 'cpu: fp32');
    t.throws(() => be.setMathMode('all'), /cpu\.setMathMode: the native CPU backend computes fp32 only \(no TF32\), got 'all'/, 'cpu refuses all');
    t.end();
  });
});
