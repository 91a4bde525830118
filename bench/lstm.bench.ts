// Benchmarks of the LSTM kernels: the fused gate kernels alone (forward and backward, one step) in GB/s of
// memory traffic, one whole layer (lstmForward / lstmBackward over T steps) in GFLOP/s, and the device copy
// bandwidth those GB/s are to be read against (the memory ceiling, measured the same way).
//
// Bytes counted per gate call (float32, each input read once, each output written once):
//   forward   reads gates [B,4H] (pre-activations), bih, bhh [4H], cPrev [B,H];
//             writes gates [B,4H] (activations), c, h, tanhC [B,H]          = 4·(12·B·H + 8·H)
//   backward  reads gates [B,4H], cPrev, tanhC, dh, dc [B,H]; writes dc [B,H], dgates [B,4H] = 4·13·B·H
// Input sets are rotated (ctx.flushBytes) so that repeated calls read DRAM, not L2.
// FLOPs counted per layer call (the GEMMs only; the gate work is O(T·B·H)):
//   forward 2·T·B·4H·(I + H); backward twice that (dx and dW_ih, dh and dW_hh).
// Each kernel is checked against the ref backend on the same inputs before it is timed (the whole layer
// only at sizes where the ref reference takes a moment; the kernel suite covers it at every size).
import type { Backend, Storage } from '../src/backend.js';
import { refBackend } from '../src/cpu/index.js';
import { benchLine, checkClose, measure, randomFloats, rotationSets, trainConfigs, type BenchContext } from './timing.js';

type HostSet = Record<string, Float32Array>;
type DeviceSet = Record<string, Storage>;

function uploadSet(be: Backend, host: HostSet): DeviceSet {
  const s: DeviceSet = {};
  for (const k in host) s[k] = be.upload(host[k]);
  return s;
}

function freeSet(be: Backend, s: DeviceSet): void {
  for (const k in s) be.free(s[k]);
}

/** Runs `fn` on `host` uploaded to `be` and to the ref backend; throws unless the `outs` agree. */
function checkAgainstCpu(what: string, be: Backend, host: HostSet, fn: (b: Backend, s: DeviceSet) => void, outs: string[]): void {
  if (be.name === 'ref') return;
  const got = uploadSet(be, host), ref = uploadSet(refBackend, host);
  try {
    fn(be, got);
    fn(refBackend, ref);
    for (const k of outs) checkClose(`${what} ${k} on ${be.name}`, be.download(got[k]), refBackend.download(ref[k]));
  } finally {
    freeSet(be, got);
    freeSet(refBackend, ref);
  }
}

// ------------------------------------------------------------------------------------- device copy

function bandwidthBench(ctx: BenchContext): void {
  // shapes: src, dst [n]; bytes = 2·4·n (read + write)
  const be = ctx.be;
  const n = ctx.quick ? 1 << 16 : 1 << 26; // 256 KiB or 256 MiB per buffer
  const src = be.upload(randomFloats(n, 21)), dst = be.alloc('float32', n);
  try {
    be.copy(src, dst);
    const a = be.download(src), b = be.download(dst);
    for (const i of [0, n >> 1, n - 1]) if (a[i] !== b[i]) throw new Error(`copy on ${be.name}: element ${i} is ${b[i]}, expected ${a[i]}`);
    const t = measure(ctx, () => be.copy(src, dst));
    ctx.emit(benchLine(ctx, 'bandwidth', { op: 'copy', bytes: 8 * n }, t, (8 * n) / 1e9, 'GB/s'));
  } finally {
    be.free(src); be.free(dst);
  }
}

// ------------------------------------------------------------------------------------- gate kernels

function gatesForwardHost(B: number, H: number, seed: number): HostSet {
  return {
    gates: randomFloats(B * 4 * H, seed, -3, 3), bih: randomFloats(4 * H, seed + 1), bhh: randomFloats(4 * H, seed + 2),
    cPrev: randomFloats(B * H, seed + 3, -2, 2), c: new Float32Array(B * H).fill(NaN),
    h: new Float32Array(B * H).fill(NaN), tanhC: new Float32Array(B * H).fill(NaN),
  };
}

function gatesBackwardHost(B: number, H: number, seed: number): HostSet {
  const gates = randomFloats(B * 4 * H, seed, 0.01, 0.99); // activations: σ in (0,1); g = tanh in (-1,1)
  for (let b = 0; b < B; b++) for (let j = 2 * H; j < 3 * H; j++) gates[b * 4 * H + j] = 2 * gates[b * 4 * H + j] - 1;
  return {
    gates, cPrev: randomFloats(B * H, seed + 1, -2, 2), tanhC: randomFloats(B * H, seed + 2, -0.96, 0.96),
    dh: randomFloats(B * H, seed + 3), dc: randomFloats(B * H, seed + 4), dgates: new Float32Array(B * 4 * H).fill(NaN),
  };
}

const gatesForward = (B: number, H: number) => (be: Backend, s: DeviceSet): void =>
  be.lstmGatesForward({ B, H, gates: s.gates, bih: s.bih, bhh: s.bhh, cPrev: s.cPrev, c: s.c, h: s.h, tanhC: s.tanhC });

const gatesBackward = (B: number, H: number) => (be: Backend, s: DeviceSet): void =>
  be.lstmGatesBackward({ B, H, gates: s.gates, cPrev: s.cPrev, tanhC: s.tanhC, dh: s.dh, dc: s.dc, dgates: s.dgates });

/**
 * Times one gate pass over rotated input sets. The forward pass overwrites gates with activations and the
 * backward pass overwrites dc, both with bounded values: repeated calls stay finite.
 */
function gatesBench(ctx: BenchContext, pass: 'forward' | 'backward', B: number, H: number): void {
  const be = ctx.be;
  const make = pass === 'forward' ? gatesForwardHost : gatesBackwardHost;
  const fn = pass === 'forward' ? gatesForward(B, H) : gatesBackward(B, H);
  const bytes = pass === 'forward' ? 4 * (12 * B * H + 8 * H) : 4 * 13 * B * H;
  checkAgainstCpu(`lstmGates${pass === 'forward' ? 'Forward' : 'Backward'} B=${B} H=${H}`, be, make(B, H, 31), fn,
    pass === 'forward' ? ['gates', 'c', 'h', 'tanhC'] : ['dgates', 'dc']);
  const sets: DeviceSet[] = [];
  try {
    const n = rotationSets(ctx, bytes);
    for (let i = 0; i < n; i++) sets.push(uploadSet(be, make(B, H, 40 + 10 * i)));
    const t = measure(ctx, (i) => fn(be, sets[i % sets.length]));
    ctx.emit(benchLine(ctx, 'lstm_gates', { pass, B, H, sets: sets.length }, t, bytes / 1e9, 'GB/s'));
  } finally {
    for (const s of sets) freeSet(be, s);
  }
}

// ------------------------------------------------------------------------------------- one layer

function layerHost(T: number, B: number, I: number, H: number, seed: number): HostSet {
  const k = 1 / Math.sqrt(H); // PyTorch's init range keeps the activations out of saturation
  const nan = (n: number): Float32Array => new Float32Array(n).fill(NaN);
  return {
    x: randomFloats(T * B * I, seed), wih: randomFloats(4 * H * I, seed + 1, -k, k), whh: randomFloats(4 * H * H, seed + 2, -k, k),
    bih: randomFloats(4 * H, seed + 3, -k, k), bhh: randomFloats(4 * H, seed + 4, -k, k),
    h0: randomFloats(B * H, seed + 5), c0: randomFloats(B * H, seed + 6),
    h: nan(T * B * H), c: nan(T * B * H), gates: nan(T * B * 4 * H), tanhC: nan(T * B * H),
    dh: randomFloats(T * B * H, seed + 7), dx: nan(T * B * I), dh0: nan(B * H), dc0: nan(B * H),
    dwih: randomFloats(4 * H * I, seed + 8), dwhh: randomFloats(4 * H * H, seed + 9),
    dbih: randomFloats(4 * H, seed + 10), dbhh: randomFloats(4 * H, seed + 11),
  };
}

const layerForward = (T: number, B: number, I: number, H: number) => (be: Backend, s: DeviceSet): void =>
  be.lstmForward({ T, B, I, H, x: s.x, wih: s.wih, whh: s.whh, bih: s.bih, bhh: s.bhh, h0: s.h0, c0: s.c0, h: s.h, c: s.c, gates: s.gates, tanhC: s.tanhC });

const layerBackward = (T: number, B: number, I: number, H: number) => (be: Backend, s: DeviceSet): void =>
  be.lstmBackward({
    T, B, I, H, x: s.x, wih: s.wih, whh: s.whh, h0: s.h0, c0: s.c0, h: s.h, c: s.c, gates: s.gates, tanhC: s.tanhC,
    dh: s.dh, dhT: null, dcT: null, dx: s.dx, dh0: s.dh0, dc0: s.dc0, dwih: s.dwih, dwhh: s.dwhh, dbih: s.dbih, dbhh: s.dbhh,
  });

/** Largest forward GEMM work (FLOPs) at which the layer is also checked against the ref backend. */
const LAYER_CHECK_FLOPS = 5e7;

function layerBench(ctx: BenchContext, T: number, B: number, I: number, H: number): void {
  const be = ctx.be;
  const fwd = layerForward(T, B, I, H), bwd = layerBackward(T, B, I, H);
  const flops = 2 * T * B * 4 * H * (I + H);
  const what = `LSTM layer T=${T} B=${B} I=${I} H=${H}`;
  if (flops <= LAYER_CHECK_FLOPS) {
    checkAgainstCpu(`lstmForward ${what}`, be, layerHost(T, B, I, H, 51), fwd, ['h', 'c', 'gates', 'tanhC']);
    checkAgainstCpu(`lstmForward+Backward ${what}`, be, layerHost(T, B, I, H, 52), (b, s) => { fwd(b, s); bwd(b, s); },
      ['dx', 'dh0', 'dc0', 'dwih', 'dwhh', 'dbih', 'dbhh']);
  } else {
    ctx.note(`${what}: too large for the ref reference here; correctness is the op tests' (test/lstm.test.ts)`);
  }
  const s = uploadSet(be, layerHost(T, B, I, H, 53));
  try {
    const tf = measure(ctx, () => fwd(be, s));
    ctx.emit(benchLine(ctx, 'lstm_layer', { pass: 'forward', T, B, I, H }, tf, flops / 1e9, 'GFLOP/s'));
    // the parameter gradients accumulate (+=) call after call: bounded growth, the timing is unaffected
    const tb = measure(ctx, () => bwd(be, s));
    ctx.emit(benchLine(ctx, 'lstm_layer', { pass: 'backward', T, B, I, H }, tb, (2 * flops) / 1e9, 'GFLOP/s'));
  } finally {
    freeSet(be, s);
  }
}

export function lstmBench(ctx: BenchContext): void {
  bandwidthBench(ctx);
  for (const { H, B } of trainConfigs(ctx)) {
    gatesBench(ctx, 'forward', B, H);
    gatesBench(ctx, 'backward', B, H);
  }
  for (const { H, B, T } of trainConfigs(ctx)) layerBench(ctx, T, B, H, H);
}
