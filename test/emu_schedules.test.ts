// The shipped kernels under more than one thread order: every op's test file (test/<op>.test.ts: its
// reference test, its cases on emu against ref, its gradient check) runs again in child processes, on emu
// alone, with the emulator scheduling each block's threads in reverse and in a seeded shuffle. A kernel
// missing a __syncthreads gives different answers under another order (the emulator's
// fixtures prove that it does: test/emu.test.ts), so it fails here even if the forward order happens to work.
// The shuffled run also emulates a GPU of 1 SM (LSTM_CUDA_EMU_SMS=1): kernels that size their grids by the SM
// count (GEMM tiles, split-K) then take their other paths.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
/** The op test files (one per kernel file, kernels/<op>.cu: "one op, one name") and the TF32 tensor-core
 *  GEMM's tests (warp-wide mma_sync under every order). */
const OPS = ['elementwise', 'gemm', 'lstm', 'softmax_xent', 'embedding', 'rows', 'dropout', 'adam', 'sample', 'gemm_tf32'];
const suites = OPS.map((op) => join(root, 'build', 'test', `${op}.test.js`));
const tape = join(root, 'node_modules', 'tape', 'bin', 'tape');

for (const [schedule, sms] of [['reverse', '132'], ['shuffle:7', '1']]) {
  test(`kernel suite on emu with LSTM_CUDA_EMU_SCHEDULE=${schedule}, LSTM_CUDA_EMU_SMS=${sms}`, (t) => {
    t.ok(suites.every((f) => existsSync(f)), `the op tests are built: ${OPS.join(', ')}`);
    const r = spawnSync(process.execPath, [tape, ...suites], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, LSTM_CUDA_EMU_SCHEDULE: schedule, LSTM_CUDA_EMU_THREADS: '2', LSTM_CUDA_EMU_SMS: sms, LSTM_CUDA_TEST_NATIVE: 'emu' },
      timeout: 300_000,
    });
    const pass = Number(/^# pass +(\d+)/m.exec(r.stdout)?.[1] ?? 0);
    const fail = Number(/^# fail +(\d+)/m.exec(r.stdout)?.[1] ?? 0);
    const failures = r.stdout.split('\n').filter((l) => l.startsWith('not ok')).slice(0, 5).join('\n');
    t.equal(r.status, 0, `exit 0 (${pass} passed, ${fail} failed)${failures ? `\n${failures}` : ''}${r.stderr ? `\n${r.stderr.slice(-500)}` : ''}`);
    t.ok(pass >= 20 && fail === 0, `the whole suite ran and passed under ${schedule}`);
    t.end();
  });
}
