// bench/static.ts, the static report: the emulator's launch trace counts the same with LSTM_CUDA_EMU_DRY_RUN
// (how the full-size counts are taken) as when the kernels really run; ptxas -v output parses; the H100
// occupancy arithmetic gives the known figures; the emulator makes the GPU's GEMM path choices (split-K at the
// per-step LSTM shapes with 132 SMs, none with 1; the tensor-core kernel with LSTM_CUDA_TF32=1, skinny M ≤ 8 stays fp32).
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATE_BATCH, SMALL_COUNT, launchCounts, occupancy, parsePtxas } from '../bench/static.js';

test('static: a dry run traces exactly the launches, memsets, copies and syncs of a real run', (t) => {
  const dry = launchCounts(SMALL_COUNT, true);
  const real = launchCounts(SMALL_COUNT, false);
  for (const k of ['train.step', 'train.forward', 'train.backward', 'train.clip', 'train.optimizer', 'layer', 'lstmop', 'lstmop.steps']) {
    t.ok(dry[k].launches > 0, `${k}: ${dry[k].launches} launches counted`);
    t.deepEqual(dry[k], real[k], `${k}: dry run = real run`);
  }
  // issue 14's target: ≤ 10 launches per layer per training step on the persistent path (kernels/lstm.cu)
  t.match(real.lstmop.path ?? '', /^forward: .* persistent: .*backward: .* persistent: /, `the persistent path ran: ${real.lstmop.path}`);
  t.ok(real.lstmop.launches <= 10, `lstmForward + lstmBackward: ${real.lstmop.launches} launches ≤ 10 (per-step path: ${real['lstmop.steps'].launches})`);
  t.equal(real.lstmop.byKernel.lstm_persistent_forward_kernel, 1, 'one cooperative launch for the forward time loop');
  t.equal(real.lstmop.byKernel.lstm_persistent_backward_kernel, 1, 'one cooperative launch for the backward time loop');
  t.match(real['lstmop.steps'].path ?? '', /^forward: .* steps \(LSTM_CUDA_LSTM_PATH=steps\); backward: .* steps /, 'LSTM_CUDA_LSTM_PATH=steps forces the per-step path');
  const g = real.generate, per = SMALL_COUNT.chars / GENERATE_BATCH;
  t.equal(g.graphLaunches, per, `generation (sample()'s device loop): ${g.graphLaunches} graph launches for ${SMALL_COUNT.chars} characters, one per batch of ${GENERATE_BATCH}`);
  t.equal(g.launches, 0, 'no kernel launch outside the graphs');
  const stepKernels = Object.fromEntries(Object.entries(real['generate.step'].byKernel).filter(([k]) => k !== 'copy_rows_kernel'));
  t.deepEqual(g.byKernel, stepKernels, 'inside them: the kernels of the per-step path, as many of each, less its state copies (copy_rows)');
  t.equal(g.memcpyDtoH, 2 * per, 'the host reads twice per batch (tokens; logp and entropy), never per character');
  t.equal(g.memsets, 0, 'no memset per character');
  t.ok(real['generate.step'].launches >= 13 * SMALL_COUNT.chars, `the per-step path: ${real['generate.step'].launches} plain launches for ${SMALL_COUNT.chars} characters`);
  t.end();
});

test('static: ptxas -v parsing and H100 occupancy', (t) => {
  const text = [
    "ptxas info    : Compiling entry function '_Z1kPf' for 'sm_90'",
    'ptxas info    : Function properties for _Z1kPf',
    '    8 bytes stack frame, 12 bytes spill stores, 16 bytes spill loads',
    'ptxas info    : Used 168 registers, used 1 barriers, 16640 bytes smem, 400 bytes cmem[0]',
    'ptxas info    : Function properties for _Z6helperv',
    '    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads',
  ].join('\n');
  const e = parsePtxas('x.cu', text, (n) => n.map((s) => (s === '_Z1kPf' ? 'k(float*)' : s)));
  t.equal(e.length, 1, 'one kernel entry (a device function without a register line is not one)');
  t.deepEqual(e[0], { file: 'x.cu', kernel: 'k(float*)', base: 'k', registers: 168, spillStores: 12, spillLoads: 16, stackFrame: 8, staticSmem: 16640 });
  t.deepEqual(occupancy(256, 128, 0), { blocksPerSm: 2, occupancy: 0.25, limit: 'registers' }, '256 threads × 128 registers: 2 blocks');
  t.deepEqual(occupancy(1024, 32, 8192), { blocksPerSm: 2, occupancy: 1, limit: 'registers' }, '1024 × 32: full');
  t.equal(occupancy(256, 32, 100 * 1024).blocksPerSm, 2, '100 KiB of shared memory: 2 blocks per 228 KiB');
  t.equal(occupancy(256, 32, 100 * 1024).limit, 'shared memory');
  t.end();
});

test('static: the emulator takes the GPU path choices it reports (split-K at the per-step LSTM shapes)', (t) => {
  // one GEMM per shape on emu with the trace on; the launch lines name the kernel and grid (z = K slices)
  const dir = mkdtempSync(join(tmpdir(), 'lstm-cuda-static-test-'));
  const trace = join(dir, 'trace');
  const device = new URL('../src/device.js', import.meta.url).href;
  const script = `import { getBackend } from ${JSON.stringify(device)};
    const be = getBackend('emu');
    for (const [transB, M, N, K] of [[true, 64, 2048, 512], [false, 64, 512, 2048], [true, 4, 2048, 512]]) {
      const A = be.alloc('float32', M * K), B = be.alloc('float32', K * N), C = be.alloc('float32', M * N);
      be.gemm({ transA: false, transB, M, N, K, alpha: 1, beta: 1, A, B, C });
      for (const s of [A, B, C]) be.free(s);
    }`;
  try {
    for (const [sms, expect] of [
      ['132', ['gemm_mid_kernel<TA, TB, false> grid=1,32,5', 'gemm_mid_kernel<TA, TB, false> grid=1,8,16', 'gemm_skinny_kernel<TA, TB, 4> grid=64,1,1']],
      ['1', ['gemm_mid_kernel<TA, TB, false> grid=1,32,1', 'gemm_mid_kernel<TA, TB, false> grid=1,8,1', 'gemm_skinny_kernel<TA, TB, 4> grid=64,1,1']],
      ['132 tf32', ['gemm_mid_kernel<TA, TB, true> grid=1,32,5', 'gemm_mid_kernel<TA, TB, true> grid=1,8,16', 'gemm_skinny_kernel<TA, TB, 4> grid=64,1,1']],
    ] as const) {
      writeFileSync(trace, '');
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8', env: { ...process.env, LSTM_CUDA_EMU_TRACE: trace, LSTM_CUDA_EMU_DRY_RUN: '1', LSTM_CUDA_EMU_SMS: sms.split(' ')[0], LSTM_CUDA_TF32: sms.endsWith('tf32') ? '1' : '0' }, timeout: 60_000,
      });
      t.equal(r.status, 0, `child ran (${(r.stderr || '').slice(-300)})`);
      const launches = readFileSync(trace, 'utf8').split('\n').filter((l) => l.startsWith('launch gemm'))
        .map((l) => l.replace(/^launch /, '').replace(/ block=.*$/, ''));
      t.deepEqual(launches, expect, `LSTM_CUDA_EMU_SMS=${sms}: ${launches.join('; ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});
