// Benchmark: one full training step — Embedding → L-layer Stack → Linear → crossEntropy → Adam
// (zeroGrad, forward, backward, step, reading the loss) — on one device. Warm-up, then the median of
// the timed repeats; prints ONE JSON line {bench, config, backend, device, median_s, chars_per_s, repeats}.
// Usage: node build/bench/train_step.bench.js [--device cpu|emu|cuda] [--V 96] [--D 96] [--H 128]
//        [--B 32] [--T 64] [--layers 2] [--repeats 5] [--warmup 1] [--dtype float32|float64]
import { pathToFileURL } from 'node:url';
import type { DType, DeviceName } from '../src/backend.js';
import { getBackend } from '../src/device.js';
import { parseFlags, type FlagSpec } from '../src/cli/flags.js';
import { Tensor, tidy } from '../src/tensor.js';
import { Module } from '../src/nn/module.js';
import { Embedding } from '../src/nn/embedding.js';
import { Stack } from '../src/nn/stack.js';
import { Linear } from '../src/nn/linear.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { Adam } from '../src/optim/adam.js';
import { RngStream } from '../src/rng.js';

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

export function runTrainStepBench(c: TrainStepConfig): TrainStepResult {
  // shapes: tokens [T,B] -> embeddings [T,B,D] -> Stack output [T,B,H] -> logits [T·B,V]
  const be = getBackend(c.device);
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
  const step = (): number => tidy(() => {
    opt.zeroGrad();
    const out = model.lstm.forward(model.embedding.forward(x)).output;
    const loss = crossEntropy(model.decoder.forward(out).reshape([c.T * c.B, c.V]), y);
    loss.backward();
    opt.step();
    return loss.item();
  });
  for (let i = 0; i < c.warmup; i++) step();
  be.synchronize();
  const times: number[] = [];
  for (let i = 0; i < c.repeats; i++) {
    const t0 = process.hrtime.bigint();
    const loss = step();
    be.synchronize();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (!Number.isFinite(loss)) throw new Error(`train_step: the loss is ${loss} at repeat ${i}`);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  model.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
  return {
    bench: 'train_step',
    config: { dtype: c.dtype, V: c.V, D: c.D, H: c.H, B: c.B, T: c.T, layers: c.layers },
    backend: be.name,
    device: be.deviceName,
    median_s: median,
    chars_per_s: (c.B * c.T) / median,
    repeats: c.repeats,
  };
}

const FLAGS: Record<string, FlagSpec> = {
  device: { type: 'string', help: 'backend', choices: ['cpu', 'emu', 'cuda'], default: 'cpu' },
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
