// The benchmark harness shared by every bench/*.bench.ts: the JSON line every benchmark prints, the run
// context (backend, repeats, quick sizes), the standard configs (mirrored by bench/torch_reference.py), the
// checks that run BEFORE timing, and the timing itself.
//
// Timing: a sample is the device time (Backend.recordEvent / elapsedMs: cudaEvents on cuda, the emulator's
// clock on emu, a steady clock on cpu and ref) from an event recorded before `inner` back-to-back calls to
// one recorded after them, with backend.synchronize() first so that earlier work is not inside it. Short
// work (a kernel of microseconds) runs `inner` times per sample, chosen after warm-up so that one sample
// lasts ≥ minSampleMs, which keeps the event overhead out of the per-call time. Every line reports the
// median, p10/p90 and min/max over the samples.
import type { Backend, DType, DeviceName } from '../src/backend.js';
import { RngStream } from '../src/rng.js';
import { randomValues } from '../src/tensor.js';
import { NativeBackend } from '../src/native.js';

/** One measurement: one JSON line of `npm run bench -- --json`. */
export interface BenchLine {
  bench: string;
  /** what was measured; joined with torch_reference.py's `config` by bench/compare (same keys, same values) */
  config: Record<string, number | string | boolean>;
  backend: DeviceName;
  /** the backend's device line (GPU name, emulator threads, CPU) */
  device: string;
  dtype: DType;
  /** per call of the measured work (a kernel, a training step, a whole generation) */
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  min_ms: number;
  max_ms: number;
  /** timed samples */
  repeats: number;
  /** calls per sample (the sample's time is divided by it) */
  inner: number;
  /** work per second at the median time, in `unit` */
  throughput: number;
  unit: string;
  /** emu, cuda, benches that run LSTM layers: the time loop's path the last layer took (lstmPath()) */
  lstm_path?: string;
}

export interface BenchContext {
  be: Backend;
  /** tiny sizes and few repeats (ref, emu, CI): checks the structure, measures nothing worth keeping */
  quick: boolean;
  repeats: number;
  warmup: number;
  /** a sample shorter than this runs the work `inner` times (0: always once) */
  minSampleMs: number;
  /** input sets of a memory-bound kernel are rotated until together they exceed this many bytes, so
   *  that repeated calls do not measure the GPU's L2 cache (0: one set) */
  flushBytes: number;
  emit(line: BenchLine): void;
  /** a remark for the human reader (stderr), never part of the JSON output */
  note(msg: string): void;
}

// ------------------------------------------------------------------------------------- standard configs

export const VOCAB = 256;

export interface TrainConfig { H: number; B: number; T: number }

/** DESIGN.md's training configs (the embedding size D is H), as in torch_reference.py's TRAIN_CONFIGS. */
export const STANDARD_TRAIN_CONFIGS: readonly TrainConfig[] = [
  { H: 512, B: 64, T: 128 },
  { H: 1024, B: 128, T: 128 },
  { H: 512, B: 4, T: 128 },
];

/** --quick: tiny sizes that the emulator runs in a moment (odd ones, so that tails are exercised). */
export const QUICK_TRAIN_CONFIGS: readonly TrainConfig[] = [
  { H: 32, B: 4, T: 8 },
  { H: 20, B: 3, T: 5 },
];

export function trainConfigs(ctx: BenchContext): readonly TrainConfig[] {
  return ctx.quick ? QUICK_TRAIN_CONFIGS : STANDARD_TRAIN_CONFIGS;
}

// ------------------------------------------------------------------------------------- inputs and checks

/** n uniform float32 values in [lo, hi) from a seeded stream (never zeros: they hide unwritten outputs). */
export function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from(randomValues(new RngStream(seed), n, { low: lo, high: hi }));
}

/** n int32 values in [0, V). */
export function randomInts(n: number, V: number, seed: number): Int32Array {
  const rng = new RngStream(seed);
  return Int32Array.from({ length: n }, () => rng.nextU32() % V);
}

/**
 * Throws unless every |got - ref| ≤ atol + rtol·|ref| with the kernel suite's tolerances (rtol = 1e-4,
 * atol = 1e-5 · max(1, max |ref|)); NaN fails. Run before timing: a fast wrong kernel is not a result.
 */
export function checkClose(what: string, got: ArrayLike<number>, ref: ArrayLike<number>): void {
  if (got.length !== ref.length) throw new Error(`${what}: ${got.length} values, the reference has ${ref.length}`);
  let scale = 1;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  const atol = 1e-5 * scale;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    if (!(err <= atol + 1e-4 * Math.abs(ref[i]))) {
      throw new Error(`${what}: element ${i} is ${got[i]}, the reference is ${ref[i]} (|diff| ${err.toPrecision(3)})`);
    }
  }
}

/** How many input sets of `bytesPerSet` to rotate through so that together they exceed ctx.flushBytes. */
export function rotationSets(ctx: BenchContext, bytesPerSet: number): number {
  if (ctx.flushBytes <= 0) return 1;
  return Math.max(1, Math.min(64, Math.ceil(ctx.flushBytes / bytesPerSet)));
}

// ------------------------------------------------------------------------------------- timing

export interface Timing {
  median_ms: number; p10_ms: number; p90_ms: number; min_ms: number; max_ms: number;
  repeats: number; inner: number;
}

const MAX_INNER = 10000;

/** The q-quantile (0..1) of sorted values, interpolated linearly between neighbours. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Device milliseconds per call of `inner` calls of fn, between two events (after a synchronize). */
function sample(be: Backend, fn: (i: number) => void, first: number, inner: number): number {
  be.synchronize();
  const start = be.recordEvent();
  for (let k = 0; k < inner; k++) fn(first + k);
  const end = be.recordEvent();
  return be.elapsedMs(start, end) / inner;
}

/**
 * Times fn: ctx.warmup untimed calls, then ctx.repeats samples of `inner` calls each. fn receives a call
 * counter (use it to rotate input sets).
 */
export function measure(ctx: BenchContext, fn: (i: number) => void): Timing {
  let calls = 0;
  for (let w = 0; w < ctx.warmup; w++) fn(calls++);
  let inner = 1;
  if (ctx.minSampleMs > 0) {
    // the fastest of three single calls (one of them may meet a GC pause or another process)
    let once = Infinity;
    for (let k = 0; k < 3; k++) once = Math.min(once, sample(ctx.be, fn, calls++, 1));
    inner = Math.max(1, Math.min(MAX_INNER, Math.ceil(ctx.minSampleMs / Math.max(once, 1e-6))));
  }
  const times: number[] = [];
  for (let r = 0; r < ctx.repeats; r++) {
    times.push(sample(ctx.be, fn, calls, inner));
    calls += inner;
  }
  times.sort((a, b) => a - b);
  return {
    median_ms: quantile(times, 0.5), p10_ms: quantile(times, 0.1), p90_ms: quantile(times, 0.9),
    min_ms: times[0], max_ms: times[times.length - 1], repeats: times.length, inner,
  };
}

/** Rounds a time to 6 significant digits (nanoseconds are noise already). */
function round(x: number): number {
  return Number(x.toPrecision(6));
}

/**
 * The JSON line of one measurement; `work` is the amount done per call in `unit`'s numerator
 * (GFLOP, GB, chars, rows), so throughput = work / median seconds.
 */
export function benchLine(
  ctx: BenchContext, bench: string, config: BenchLine['config'], t: Timing, work: number, unit: string,
  dtype: DType = 'float32',
): BenchLine {
  return {
    bench, config, backend: ctx.be.name, device: ctx.be.deviceName, dtype,
    median_ms: round(t.median_ms), p10_ms: round(t.p10_ms), p90_ms: round(t.p90_ms),
    min_ms: round(t.min_ms), max_ms: round(t.max_ms), repeats: t.repeats, inner: t.inner,
    throughput: round(work / (t.median_ms / 1e3)), unit,
    ...(LSTM_BENCHES.has(bench) && ctx.be instanceof NativeBackend && ctx.be.name !== 'cpu' ? { lstm_path: ctx.be.lstmPath() } : {}),
  };
}

/** The benches whose measured work runs LSTM layers (their lines say which time-loop path ran). */
const LSTM_BENCHES = new Set(['lstm_layer', 'train_step', 'generate']);
