// Errors and memory of the native backends (emu always; cuda where a GPU is present, else a SKIP line):
// a failed allocation, mismatched sizes, a CUDA launch error raised in C++, use after free — each a clear
// JS Error after which the backend still computes a gemm that matches ref — and the caching allocator's
// counters: back to baseline after alloc/free cycles, flat over 2,000 LSTM forward+backward steps,
// and buffers dropped without free() are returned by the finalizer after a GC.
import test from 'tape';
import { forEachNativeBackend } from './native_backends.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Backend } from '../src/backend.js';
import { refBackend as refBe } from '../src/cpu/index.js';
import { collectInfo, formatInfo } from '../src/cli/info.js';
import { NativeBackend, type NativeKind } from '../src/native.js';
import { RngStream } from '../src/rng.js';
import { collectGarbage } from './gc.js';


function uniform(n: number, rng: RngStream): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() * 2 - 1;
  return a;
}

/** A 5×7·7×3 gemm on `be` matches ref: the backend is still usable after an error. */
function gemmStillWorks(t: test.Test, be: Backend, after: string): void {
  const rng = new RngStream(3);
  const A = uniform(35, rng), B = uniform(21, rng);
  const run = (b: Backend) => {
    const sA = b.upload(A), sB = b.upload(B), sC = b.alloc('float32', 15);
    b.gemm({ transA: false, transB: false, M: 5, N: 3, K: 7, alpha: 1, beta: 0, A: sA, B: sB, C: sC });
    const r = b.download(sC);
    for (const s of [sA, sB, sC]) b.free(s);
    return r;
  };
  const got = run(be), ref = run(refBe);
  let worst = 0;
  for (let i = 0; i < 15; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / (1e-5 + 1e-4 * Math.abs(ref[i])));
  t.ok(worst <= 1, `after ${after}: a gemm still matches ref (worst error ratio ${worst.toPrecision(3)})`);
}

function live(be: Backend): [number, number] {
  const m = be.memory();
  return [m.liveCount, m.liveBytes];
}

function suite(kind: NativeKind, be: NativeBackend): void {
  test(`${kind}: a failed allocation is a clear Error naming the allocation`, (t) => {
    const before = live(be);
    const huge = 2 ** 48; // 1 PiB of float32
    t.throws(() => be.alloc('float32', huge), (e: Error) => {
      t.comment(e.message);
      // host-memory devices refuse it before allocating (src/device_memory.ts); cuda names the CUDA error
      return /1125899906842624 bytes/.test(e.message) && (/alloc/.test(e.message) && /cudaError\w+/.test(e.message) || (e instanceof RangeError && /needs [\d.e+]+ bytes but device '\w+' has [\d.]+ GiB available/.test(e.message)));
    }, 'alloc of 2^48 floats throws with the size (and the CUDA error name, or what the host has)');
    t.deepEqual(live(be), before, 'live counters unchanged');
    gemmStillWorks(t, be, 'a failed allocation');
    t.end();
  });

  test(`${kind}: mismatched sizes and wrong storages are rejected in TypeScript with the shapes`, (t) => {
    const a = be.alloc('float32', 6), b = be.alloc('float32', 6), c = be.alloc('float32', 8);
    t.throws(() => be.gemm({ transA: false, transB: false, M: 3, N: 3, K: 2, alpha: 1, beta: 0, A: a, B: b, C: c }),
      (e: Error) => e instanceof RangeError && /gemm: 'C' has 8 elements but its shape \[M=3, N=3\] needs 9/.test(e.message),
      'gemm with C too short names C and [M=3, N=3]');
    t.throws(() => be.gemm({ transA: true, transB: false, M: 4, N: 3, K: 2, alpha: 1, beta: 0, A: a, B: b, C: c }),
      (e: Error) => /'A' has 6 elements but its shape \[K=2, M=4\] needs 8/.test(e.message),
      'gemm with transA names A stored [K,M]');
    const idx = be.alloc('int32', 4);
    t.throws(() => be.fill({ n: idx.length, x: idx, value: 1 }), (e: Error) => e instanceof TypeError && /'x' must be a float storage, got int32/.test(e.message), 'int32 where float32 is needed');
    const foreign = refBe.alloc('float32', 9);
    t.throws(() => be.gemm({ transA: false, transB: false, M: 3, N: 3, K: 2, alpha: 1, beta: 0, A: a, B: b, C: foreign }),
      (e: Error) => e instanceof TypeError && /'C' is not a storage of the/.test(e.message), 'a ref storage is rejected');
    refBe.free(foreign);
    t.throws(() => be.upload(new Float64Array(3)), (e: Error) => /dtype float64 is not supported on \w+; use ref for float64/.test(e.message), 'float64 upload');
    t.throws(() => be.alloc('float64', 3), (e: Error) => /dtype float64 is not supported/.test(e.message), 'float64 alloc');
    t.throws(() => be.lstmForward({
      T: 0, B: 1, I: 1, H: 1, x: a, wih: a, whh: a, bih: null, bhh: null, h0: a, c0: a, h: a, c: a, gates: a, tanhC: a,
    }), (e: Error) => e instanceof RangeError && /T must be an integer in \[1, 2\^31\), got 0/.test(e.message), 'lstmForward with T = 0');
    for (const s of [a, b, c, idx]) be.free(s);
    gemmStillWorks(t, be, 'rejected arguments');
    t.end();
  });

  test(`${kind}: a CUDA error raised in C++ reaches JS with the CUDA error name`, (t) => {
    t.throws(() => be._testInvalidLaunch(), (e: Error) => {
      t.comment(e.message);
      return /_testInvalidLaunch: cudaErrorInvalidConfiguration \(/.test(e.message);
    }, 'a launch of 4096 threads per block gives cudaErrorInvalidConfiguration');
    gemmStillWorks(t, be, 'a CUDA launch error');
    t.end();
  });

  test(`${kind}: use after free is an Error; free is idempotent`, (t) => {
    const s = be.upload(new Float32Array([1, 2, 3]));
    be.free(s);
    t.throws(() => be.download(s), /download: 's' was freed \(use after dispose\/free\)/, 'download after free');
    t.throws(() => be.fill({ n: s.length, x: s, value: 0 }), /fill: 'x' was freed/, 'a kernel on a freed storage');
    be.free(s);
    t.pass('second free is a no-op');
    gemmStillWorks(t, be, 'use after free');
    t.end();
  });

  test(`${kind}: allocator counters return to baseline; cached buffers are reused`, (t) => {
    const base = live(be);
    const sizes = [1, 5, 33, 1000, 4096, 1000];
    const round = () => {
      const ss = sizes.map((n) => be.alloc('float32', n));
      const during = be.memory();
      for (const s of ss) be.free(s);
      return during;
    };
    const first = round();
    t.equal(first.liveCount, base[0] + sizes.length, `liveCount rises by ${sizes.length} while they live`);
    t.deepEqual(live(be), base, 'liveCount/liveBytes back to baseline after free');
    const calls = be.memory().mallocCalls;
    for (let i = 0; i < 50; i++) round();
    t.equal(be.memory().mallocCalls, calls, '50 more rounds of the same sizes call cudaMalloc 0 more times');
    t.ok(be.memory().cachedBytes >= 4 * (1 + 5 + 33 + 1000 + 4096 + 1000), 'the freed buffers are cached');
    be.emptyCache();
    t.equal(be.memory().cachedBytes, 0, 'emptyCache returns every cached buffer');
    t.deepEqual(live(be), base, 'live counters untouched by emptyCache');
    t.end();
  });

  test(`${kind}: 2,000 LSTM forward+backward steps keep memory flat`, (t) => {
    const T = 2, B = 1, I = 3, H = 5, steps = 2000;
    const rng = new RngStream(9);
    const x = be.upload(uniform(T * B * I, rng)), wih = be.upload(uniform(4 * H * I, rng)), whh = be.upload(uniform(4 * H * H, rng));
    const bih = be.upload(uniform(4 * H, rng)), bhh = be.upload(uniform(4 * H, rng));
    const h0 = be.alloc('float32', B * H), c0 = be.alloc('float32', B * H);
    const dwih = be.alloc('float32', 4 * H * I), dwhh = be.alloc('float32', 4 * H * H);
    const dbih = be.alloc('float32', 4 * H), dbhh = be.alloc('float32', 4 * H);
    const step = () => {
      const h = be.alloc('float32', T * B * H), c = be.alloc('float32', T * B * H), tanhC = be.alloc('float32', T * B * H);
      const gates = be.alloc('float32', T * B * 4 * H), dh = be.alloc('float32', T * B * H), dx = be.alloc('float32', T * B * I);
      be.fill({ n: dh.length, x: dh, value: 0.1 });
      be.lstmForward({ T, B, I, H, x, wih, whh, bih, bhh, h0, c0, h, c, gates, tanhC });
      be.lstmBackward({
        T, B, I, H, x, wih, whh, h0, c0, h, c, gates, tanhC, dh, dhT: null, dcT: null, dx, dh0: null, dc0: null,
        dwih, dwhh, dbih, dbhh,
      });
      for (const s of [h, c, tanhC, gates, dh, dx]) be.free(s);
    };
    step();
    be.synchronize();
    collectGarbage(); // storages earlier tests dropped are freed now, not at some GC during the loop
    const after1 = be.memory();
    const t0 = Date.now();
    let maxLive = after1.liveBytes;
    for (let i = 1; i < steps; i++) {
      step();
      if (i % 100 === 0) maxLive = Math.max(maxLive, be.memory().liveBytes);
    }
    be.synchronize();
    collectGarbage();
    const end = be.memory();
    t.comment(`${steps} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s: after step 1 live ${after1.liveCount} / ${after1.liveBytes} B, ` +
      `cached ${after1.cachedBytes} B, cudaMalloc calls ${after1.mallocCalls}; after step ${steps} live ${end.liveCount} / ${end.liveBytes} B, ` +
      `cached ${end.cachedBytes} B, cudaMalloc calls ${end.mallocCalls}; peak sampled live ${maxLive} B`);
    t.deepEqual([end.liveCount, end.liveBytes], [after1.liveCount, after1.liveBytes], 'liveCount and liveBytes flat');
    t.equal(maxLive, after1.liveBytes, 'live bytes never grew between samples');
    t.equal(end.mallocCalls, after1.mallocCalls, 'no cudaMalloc after the first step (the workspace comes from the cache)');
    t.equal(end.cachedBytes, after1.cachedBytes, 'the cache does not grow');
    const grads = be.download(dwih);
    t.ok(grads.every((v) => Number.isFinite(v)) && grads.some((v) => v !== 0), 'accumulated gradients are finite and non-zero');
    for (const s of [x, wih, whh, bih, bhh, h0, c0, dwih, dwhh, dbih, dbhh]) be.free(s);
    t.end();
  });

  test(`${kind}: storages dropped without free() are returned by the finalizer after GC`, async (t) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const base = live(be);
    (() => {
      const held = Array.from({ length: 100 }, () => be.alloc('float32', 64));
      t.ok(live(be)[0] >= base[0] + held.length, '100 storages allocated (then dropped without free())');
    })();
    // Other tests in this process may have dropped storages too, which this GC also collects: the count may
    // end below the baseline, but never above it (without finalizers it would stay at baseline + 100).
    for (let i = 0; i < 10 && live(be)[0] > base[0]; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    const [count, bytes] = live(be);
    t.ok(count <= base[0] && bytes <= base[1], `100 unreachable storages are released by their finalizers (live ${count} / ${bytes} B, baseline ${base[0]} / ${base[1]} B)`);
    t.end();
  });
}

test('lstm-cuda info: every backend with its device line or reason, the default device and why', (t) => {
  const report = collectInfo();
  t.deepEqual(report.backends.map((b) => b.name), ['ref', 'cpu', 'emu', 'cuda'], 'ref, cpu, emu, cuda listed');
  for (const b of report.backends) {
    t.ok(b.available ? typeof b.deviceName === 'string' && b.memory !== undefined : typeof b.reason === 'string' && !b.reason.includes('\n'),
      `${b.name}: ${b.available ? `available on ${b.deviceName}` : `unavailable, one-line reason: ${b.reason}`}`);
  }
  t.ok(report.backends[1].available && report.backends[2].available, 'cpu and emu are available');
  const cudaUp = report.backends[3].available;
  const env = process.env.LSTM_CUDA_DEVICE;
  if (env === undefined || env === '') t.equal(report.default.name, cudaUp ? 'cuda' : 'cpu', `default ${report.default.name}: ${report.default.why}`);
  const text = formatInfo(report);
  t.ok(/^emu +available +CUDA emulator/m.test(text) && /^default device: /m.test(text), 'the text report has a line per backend and the default');
  t.ok(/^cpu +available +CPU \((AVX-512|AVX2\+FMA|NEON|portable[^,]*), \d+ threads?\)/m.test(text), 'the cpu line names its SIMD path and thread count');
  t.end();
});

forEachNativeBackend('native error tests', (kind, backend) => {
  if (!(backend instanceof NativeBackend)) throw new Error(`${kind}: expected the native backend`);
  suite(kind, backend);
});

// ---- the same kernel on every native backend present, against ref (test/compare.ts)
forEachNativeBackend('native_errors', (kind, be) => {
  const name = (x: string) => `${kind}: ${x}`;
  test(name('memory: alloc zero-fills, upload/download round-trips bits, copy, free is idempotent'), (t) => {
    const z = be.alloc('float32', 1000), zi = be.alloc('int32', 33);
    t.ok((be.download(z) as Float32Array).every((v) => v === 0), 'alloc float32 is zero-filled');
    t.ok((be.download(zi) as Int32Array).every((v) => v === 0), 'alloc int32 is zero-filled');
    const bits = new Uint32Array([0x7fc00001, 0x80000000, 0x00000001, 0x7f7fffff, 0xff800000, 0x3f800000]);
    const f = new Float32Array(bits.buffer);
    const sf = be.upload(f);
    const back = be.download(sf) as Float32Array;
    t.ok(back instanceof Float32Array, 'download of float32 is a Float32Array');
    t.deepEqual(Array.from(new Uint32Array(back.buffer, back.byteOffset, back.length)), Array.from(bits), 'float32 bits round-trip (NaN payload, -0, denormal, max, -inf)');
    const ints = new Int32Array([-2147483648, -1, 0, 7, 2147483647]);
    const si = be.upload(ints);
    const bi = be.download(si);
    t.ok(bi instanceof Int32Array, 'download of int32 is an Int32Array');
    t.deepEqual(Array.from(bi), Array.from(ints), 'int32 round-trips');
    const dst = be.alloc('int32', ints.length);
    be.copy(si, dst);
    t.deepEqual(Array.from(be.download(dst)), Array.from(ints), 'copy');
    const empty = be.upload(new Float32Array(0));
    t.equal(be.download(empty).length, 0, 'a zero-length storage round-trips');
    for (const s of [z, zi, sf, si, dst, empty]) be.free(s);
    be.free(z);
    t.pass('free twice is a no-op');
    t.end();
  });
});
