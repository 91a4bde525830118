// Sizes refused before allocation (src/device_memory.ts): a tensor, a module or a training run too big for
// the device is a RangeError saying how much it needs and how much the device has, never an OOM kill or
// V8's bare "Invalid typed array length". Sizes are derived from what this machine has available, so the
// cases are too big everywhere and nothing large is ever allocated.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/tensor.js';
import { LSTMCell } from '../src/nn/lstm_cell.js';
import { Stack } from '../src/nn/stack.js';
import { availableBytes, MAX_TYPED_ARRAY_LENGTH } from '../src/device_memory.js';
import { devices } from '../src/device.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const NEEDS = /needs [\d.]+ (GiB|MiB|KiB|bytes).* but device '(ref|emu|cpu)' has [\d.]+ (GiB|MiB|KiB) available/;

/** elements of `bytesPer` bytes that are over what `device` has, or undefined when that is past the typed-array limit */
function tooMany(device: string, bytesPer: number): number {
  return Math.ceil((availableBytes(device)! + 2 ** 30) / bytesPer);
}

test('Tensor.ones / zeros / full too big for the device: RangeError with needed and available bytes', (t) => {
  const hosts = ['ref', ...devices().filter((d) => d.available && d.name !== 'ref' && d.name !== 'cuda').map((d) => d.name)];
  t.ok(hosts.includes('emu'), 'emu is among the host-memory devices checked');
  for (const device of hosts) {
    const n = tooMany(device, 4);
    const shape = n <= MAX_TYPED_ARRAY_LENGTH ? [n] : [4, Math.ceil(n / 4)];
    for (const [what, f] of [
      ['ones', () => Tensor.ones(shape, { device: device as 'ref' })],
      ['zeros', () => Tensor.zeros(shape, { device: device as 'ref' })],
      ['full int32', () => Tensor.full(shape, 3, { device: device as 'ref', dtype: 'int32' })],
    ] as const) {
      t.throws(f, (e: unknown) => e instanceof RangeError && (NEEDS.test(e.message) || /larger than the 4294967296 elements one host buffer can hold/.test(e.message)), `${device} ${what}([${shape}])`);
    }
  }
  t.throws(() => Tensor.zeros([2 ** 32 + 1], { device: 'ref' }), /a tensor of 4294967297 float32 elements is larger than the 4294967296 elements one host buffer can hold/, 'past V8\'s limit: named, not "Invalid typed array length"');
  const small = Tensor.ones([3]);
  t.deepEqual([...small.toArray()], [1, 1, 1], 'and small tensors are still made');
  small.dispose();
  t.end();
});

test('modules too big are refused before any parameter exists', (t) => {
  const H = Math.ceil(Math.sqrt(availableBytes('ref')! / 16)) + 1024; // 8H² floats > available
  t.throws(() => new LSTMCell({ inputSize: H, hiddenSize: H, device: 'ref' }), (e: unknown) => e instanceof RangeError && /^LSTMCell\(inputSize \d+, hiddenSize \d+\) with \d+ parameters needs/.test(e.message) && NEEDS.test(e.message), `LSTMCell ${H}×${H}`);
  t.throws(() => new Stack({ inputSize: 64, hiddenSize: 128, numLayers: 1e6, device: 'ref' }), (e: unknown) => e instanceof RangeError && /^Stack\(inputSize 64, hiddenSize 128, numLayers 1000000\) with 132095967232 parameters needs/.test(e.message), 'Stack of 10^6 layers');
  t.end();
});

test('train --hidden / --layers too big: one clear line, exit 1, no run directory', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-mem-'));
  try {
    const text = join(dir, 't.txt');
    writeFileSync(text, 'the cat sat on the mat\n'.repeat(40));
    const H = Math.ceil(Math.sqrt(availableBytes('ref')! / 32)) + 1024;
    for (const flags of [['--hidden', String(H)], ['--layers', '1000000']]) {
      const out = join(dir, 'run');
      const r = spawnSync(process.execPath, [MAIN, 'train', text, '--out', out, '--device', 'ref', '--steps', '1', '--batch', '4', '--seq', '16', '--quiet', ...flags], { encoding: 'utf8' });
      t.equal(r.status, 1, `${flags.join(' ')}: exit 1 (${r.signal ?? 'no signal'})`);
      t.match(r.stderr, /^lstm-cuda: training this model \(\d+ parameters; batch \d+ × seq \d+\) needs [\d.]+ GiB but device 'ref' has [\d.]+ GiB available; use a smaller --hidden/m, `${flags.join(' ')}: says what it needs and what there is`);
      t.notOk(existsSync(out), `${flags.join(' ')}: nothing created`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});
