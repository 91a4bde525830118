// Benchmark: one full training step — Embedding → L-layer Stack → Linear → crossEntropy → Adam
// (zeroGrad, forward, backward, step, reading the loss) — on one device, in characters (B·T) per second.
//   trainStepBench(ctx)  bench/run.ts's `train_step`: DESIGN.md's configs at V = 256, D = H, 2 layers (the
//                        config keys of torch_reference.py's bench_train_step); with --quick on emu/cuda the
//                        first two losses are checked against the ref backend's before timing
//   this file as a script: one configurable run, ONE JSON line
//                        {bench, config, backend, device, median_s, chars_per_s, repeats}
// Timing is bench/timing.ts's: warm-up, then the median of the timed repeats, synchronized around each.
// Usage: node build/bench/train_step.bench.js [--device ref|emu|cuda] [--V 96] [--D 96] [--H 128]
//        [--B 32] [--T 64] [--layers 2] [--repeats 5] [--warmup 1] [--dtype float32|float64]
import { pathToFileURL } from 'node:url';
import type { DType, DeviceName } from '../src/backend.js';
import { getBackend } from '../src/device.js';
import { parseFlags, type FlagSpec } from '../src/cli/flags.js';
import { Tensor, tidy } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { Module } from '../src/nn/module.js';
import { Embedding } from '../src/nn/embedding.js';
import { Stack } from '../src/nn/stack.js';
import { Linear } from '../src/nn/linear.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { Adam } from '../src/optim/adam.js';
import { RngStream } from '../src/rng.js';
import { VOCAB, benchLine, measure, trainConfigs, type BenchContext } from './timing.js';

export interface TrainStepConfig {
  device: DeviceName; dtype: DType;
  V: number; D: number; H: number; B: number; T: number; layers: number;
  repeats: number; warmup: number;
}

export interface TrainStepResult {
  bench: 'train_step';
  config: Omit<TrainStepConfig, 'device' | 'repeats' | 'warmup'>;
  backend: DeviceName;
  device: string;
  median_s: number;
  chars_per_s: number;
  repeats: number;
}

export type ModelConfig = Omit<TrainStepConfig, 'repeats' | 'warmup'>;

/**
 * The model, Adam and one fixed batch on c.device (weights from fixed seeds: the same on every backend);
 * step() runs one training step and returns its loss (throws if it is not finite).
 */
export function trainStepSetup(c: ModelConfig): { step(): number; dispose(): void } {
  // shapes: tokens [T,B] -> embeddings [T,B,D] -> Stack output [T,B,H] -> logits [T·B,V]
  const opts = { device: c.device, dtype: c.dtype };
  class Model extends Module {
    readonly embedding = this.registerModule('embedding', new Embedding({ numEmbeddings: c.V, embeddingDim: c.D, ...opts, seed: 1 }));
    readonly lstm = this.registerModule('lstm', new Stack({ inputSize: c.D, hiddenSize: c.H, numLayers: c.layers, ...opts, seed: 2 }));
    readonly decoder = this.registerModule('decoder', new Linear({ inFeatures: c.H, outFeatures: c.V, ...opts, seed: 3 }));
  }
  const model = new Model();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new RngStream(4);
  const ids = Array.from({ length: c.T * c.B + 1 }, () => rng.nextU32() % c.V);
  const x = Tensor.from(ids.slice(0, c.T * c.B), [c.T, c.B], { device: c.device, dtype: 'int32' });
  const y = Tensor.from(ids.slice(1), [c.T * c.B], { device: c.device, dtype: 'int32' });
  let steps = 0;
  return {
    step: (): number => {
      const loss = tidy(() => {
        opt.zeroGrad();
        const out = model.lstm.forward(model.embedding.forward(x)).output;
        const l = crossEntropy(model.decoder.forward(out).reshape([c.T * c.B, c.V]), y);
        l.backward();
        opt.step();
        return l.item();
      });
      if (!Number.isFinite(loss)) throw new Error(`train_step on ${c.device}: the loss is ${loss} at step ${steps}`);
      steps++;
      return loss;
    },
    dispose: (): void => {
      model.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

export function runTrainStepBench(c: TrainStepConfig): TrainStepResult {
  const be = getBackend(c.device);
  const s = trainStepSetup(c);
  try {
    const ctx: BenchContext = {
      be, quick: false, repeats: c.repeats, warmup: c.warmup, minSampleMs: 0, flushBytes: 0, emit: () => {}, note: () => {},
    };
    const median = measure(ctx, () => s.step()).median_ms / 1e3;
    return {
      bench: 'train_step',
      config: { dtype: c.dtype, V: c.V, D: c.D, H: c.H, B: c.B, T: c.T, layers: c.layers },
      backend: be.name,
      device: be.deviceName,
      median_s: median,
      chars_per_s: (c.B * c.T) / median,
      repeats: c.repeats,
    };
  } finally {
    s.dispose();
  }
}

/** The first two losses on c.device and on cpu must agree (forward, backward and one Adam update). */
function checkAgainstCpu(c: ModelConfig): void {
  const ours = trainStepSetup(c), ref = trainStepSetup({ ...c, device: 'ref' });
  try {
    for (let i = 0; i < 2; i++) {
      const a = ours.step(), b = ref.step();
      if (!(Math.abs(a - b) <= 1e-4 * Math.abs(b))) throw new Error(`train_step on ${c.device}: loss ${a} at step ${i}, cpu gives ${b}`);
    }
  } finally {
    ours.dispose();
    ref.dispose();
  }
}

export function trainStepBench(ctx: BenchContext): void {
  for (const { H, B, T } of trainConfigs(ctx)) {
    const c: ModelConfig = { device: ctx.be.name, dtype: 'float32', V: VOCAB, D: H, H, B, T, layers: 2 };
    if (ctx.quick && ctx.be.name !== 'ref') checkAgainstCpu(c);
    const s = trainStepSetup(c);
    try {
      const t = measure(ctx, () => s.step());
      ctx.emit(benchLine(ctx, 'train_step', { V: VOCAB, D: H, H, B, T, layers: 2, optimizer: 'adam' }, t, B * T, 'chars/s'));
    } finally {
      s.dispose();
    }
  }
}

const FLAGS: Record<string, FlagSpec> = {
  device: { type: 'string', help: 'backend', choices: ['cpu', 'ref', 'emu', 'cuda'], default: 'ref' },
  dtype: { type: 'string', help: 'float dtype', choices: ['float32', 'float64'], default: 'float32' },
  V: { type: 'integer', help: 'vocabulary size', min: 1, default: 96 },
  D: { type: 'integer', help: 'embedding size', min: 1, default: 96 },
  H: { type: 'integer', help: 'hidden size', min: 1, default: 128 },
  B: { type: 'integer', help: 'batch size', min: 1, default: 32 },
  T: { type: 'integer', help: 'time steps', min: 1, default: 64 },
  layers: { type: 'integer', help: 'LSTM layers', min: 1, default: 2 },
  repeats: { type: 'integer', help: 'timed repeats (median reported)', min: 1, default: 5 },
  warmup: { type: 'integer', help: 'untimed warm-up steps', min: 0, default: 1 },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const parsed = parseFlags(process.argv.slice(2), FLAGS, 'usage: node build/bench/train_step.bench.js [options]');
  if (parsed) {
    const v = parsed.values;
    console.log(JSON.stringify(runTrainStepBench({
      device: v.device as DeviceName, dtype: v.dtype as DType,
      V: v.V as number, D: v.D as number, H: v.H as number, B: v.B as number, T: v.T as number,
      layers: v.layers as number, repeats: v.repeats as number, warmup: v.warmup as number,
    })));
  }
}
