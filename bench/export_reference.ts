// Exports what `python3 bench/torch_reference.py --check-model DIR` compares against torch.nn.LSTM: a small
// CharRNN (odd sizes: V = 67, D = 24, H = 48, 2 layers) run on one backend over one batch from a zero state,
//   DIR/model.safetensors  the weights under PyTorch's names, config in the metadata key lstm_cuda.config
//   DIR/reference.json     tokens [T][B], targets [T][B] (some = ignore_index), ignore_index, the mean
//                          cross-entropy, logits [T·B·V] and d(loss)/d(param) for every parameter
// Usage: node build/bench/export_reference.js DIR [--device ref|emu|cuda] [--seed N]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeviceName } from '../src/backend.js';
import { defaultDevice, getBackend } from '../src/device.js';
import { parseFlags, type FlagSpec } from '../src/cli/flags.js';
import { UsageError } from '../src/cli/usage_error.js';
import { toHost } from '../src/checkpoint/checkpoint.js';
import { writeFileAtomic, writeSafetensors, type HostTensor } from '../src/checkpoint/safetensors.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { Tensor } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...
import { randomInts } from './timing.js';

export const REFERENCE_MODEL = { vocabSize: 67, embedDim: 24, hiddenSize: 48, numLayers: 2, T: 9, B: 3 };
const IGNORE = -100;

/** Writes DIR/model.safetensors and DIR/reference.json computed on `device`; returns the loss. */
export function exportReference(dir: string, device: DeviceName, seed: number): number {
  // shapes: tokens, targets [T,B] -> logits [T,B,V] -> loss []; grads of every parameter
  const { vocabSize: V, embedDim, hiddenSize, numLayers, T, B } = REFERENCE_MODEL;
  const model = new CharRNN({ vocabSize: V, embedDim, hiddenSize, numLayers, device, seed });
  const ids = randomInts(T * B, V, seed + 1);
  const targets = randomInts(T * B, V, seed + 2);
  for (let n = 4; n < T * B; n += 7) targets[n] = IGNORE;
  const x = Tensor.from(ids, [T, B], { dtype: 'int32', device });
  try {
    const { logits, state } = model.forward(x);
    const loss = crossEntropy(logits.reshape([T * B, V]), targets, { ignoreIndex: IGNORE });
    loss.backward();
    const lossValue = loss.item();
    const grads: Record<string, number[]> = {};
    const tensors: Record<string, HostTensor> = {};
    for (const [name, p] of model.namedParameters()) {
      tensors[name] = toHost(p);
      if (!p.grad) throw new Error(`export_reference: parameter ${name} got no gradient`);
      grads[name] = Array.from(p.grad.toArray());
    }
    const rows = (a: Int32Array): number[][] => Array.from({ length: T }, (_, t) => Array.from(a.subarray(t * B, (t + 1) * B)));
    const reference = {
      device, tokens: rows(ids), targets: rows(targets), ignore_index: IGNORE, loss: lossValue,
      logits: Array.from(logits.toArray()), grads,
    };
    mkdirSync(dir, { recursive: true });
    writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', 'lstm_cuda.config': JSON.stringify(model.config) });
    writeFileAtomic(join(dir, 'reference.json'), JSON.stringify(reference) + '\n');
    for (const t of [logits, loss, state.h, state.c]) t.dispose();
    return lossValue;
  } finally {
    x.dispose();
    model.dispose();
  }
}

const FLAGS: Record<string, FlagSpec> = {
  device: { type: 'string', help: 'backend (default: the default device)', choices: ['cpu', 'ref', 'emu', 'cuda'] },
  seed: { type: 'integer', help: 'weights and batch seed', min: 0, max: 2 ** 32 - 1, default: 5 },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const parsed = parseFlags(process.argv.slice(2), FLAGS, 'usage: node build/bench/export_reference.js DIR [--device ref|emu|cuda] [--seed N]');
    if (parsed) {
      if (parsed.positionals.length !== 1) throw new UsageError('export_reference: give exactly one output directory');
      const device = (parsed.values.device as DeviceName | undefined) ?? defaultDevice();
      try {
        getBackend(device);
      } catch (e) {
        throw new UsageError(`export_reference: --device ${device}: ${(e as Error).message}`, 1);
      }
      const loss = exportReference(parsed.positionals[0], device, parsed.values.seed as number);
      console.log(`export_reference: wrote ${parsed.positionals[0]}/model.safetensors and reference.json on ${device} (loss ${loss})`);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    process.exitCode = e.exitCode;
  }
}
