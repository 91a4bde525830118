// Tests of the CUDA emulator (kernels/emu/cuda_emu.h) through the fixtures in test/fixtures/emu/: each
// .cu is compiled with g++ exactly like a kernel file of the emu addon (plus -Werror) into a temp dir,
// run under different thread schedules and settings, and its JSON result lines checked:
//   correct_reduction      the control: the right sums under every schedule, on both context switches
//   missing_syncthreads    a missing barrier gives different sums under two schedules
//   divergent_syncthreads  a barrier (or warp shuffle) reached by part of a block is cudaErrorLaunchFailure
//                          naming it
//   out_of_bounds_write    a write one past an allocation is cudaErrorIllegalAddress naming it
//   features               warp shuffles/votes, dynamic shared memory, atomics on several OS threads,
//                          events, math, assert, launch-configuration and API errors, no device, speed
//   grid_barrier           cooperative launches: co-resident blocks exchange data across grid.sync(); a block
//                          that ends without reaching a grid barrier is cudaErrorLaunchFailure naming it
// (test/asan.sh runs the same fixtures under AddressSanitizer.)
import test from 'tape';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // build/test/ -> repository root
const FIXTURES = join(ROOT, 'test', 'fixtures', 'emu');
const FIXTURE_NAMES = ['correct_reduction', 'missing_syncthreads', 'divergent_syncthreads', 'out_of_bounds_write', 'features', 'grid_barrier'] as const;
type FixtureName = (typeof FIXTURE_NAMES)[number];

/** One result line printed by a fixture (test/fixtures/emu/fixture.h). */
interface Result {
  case: string;
  error: string;
  message: string;
  values?: number[];
}

const outDir = mkdtempSync(join(tmpdir(), 'lstm-cuda-emu-test-'));
let compiled: Promise<Map<FixtureName, string>> | undefined;

/** Compiles every fixture (two g++ at a time); resolves to the binaries' paths. */
function compileAll(): Promise<Map<FixtureName, string>> {
  compiled ??= (async () => {
    const bins = new Map<FixtureName, string>();
    const queue = [...FIXTURE_NAMES];
    const worker = async (): Promise<void> => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const bin = join(outDir, name);
        await run('g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', '-Wno-unknown-pragmas', '-x', 'c++',
          '-DLSTM_CUDA_EMU', '-I', join(ROOT, 'kernels'), '-I', join(ROOT, 'native/gen'), join(FIXTURES, `${name}.cu`), '-o', bin, '-pthread'],
        { maxBuffer: 1 << 24 });
        bins.set(name, bin);
      }
    };
    await Promise.all([worker(), worker()]);
    return bins;
  })();
  return compiled;
}

/** Runs a fixture binary with extra environment variables; returns its result lines by case name. */
async function runFixture(name: FixtureName, env: Record<string, string> = {}, args: string[] = []): Promise<Map<string, Result>> {
  const bin = (await compileAll()).get(name);
  if (bin === undefined) throw new Error(`fixture ${name} was not compiled`);
  const { stdout } = await run(bin, args, {
    env: { ...process.env, LSTM_CUDA_EMU_SCHEDULE: 'forward', ...env },
    timeout: 60_000,
    maxBuffer: 1 << 24,
  });
  const results = new Map<string, Result>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as Result;
    results.set(r.case, r);
  }
  return results;
}

/** The result of one case, or an exception naming what is missing. */
function get(results: Map<string, Result>, name: string): Result {
  const r = results.get(name);
  if (r === undefined) throw new Error(`no result line for case ${name}; got ${[...results.keys()].join(', ')}`);
  return r;
}

let haveGxx = true;
test('emu: the fixtures compile with g++ -Wall -Wextra -Werror', async (t) => {
  try {
    await run('g++', ['--version']);
  } catch {
    haveGxx = false;
    // the emu addon needs g++ too, and every install builds it: no g++ here is a broken setup, not a SKIP
    t.fail('g++ not found: the emulator (and the emu addon every npm install builds) cannot be tested here');
    return;
  }
  const bins = await compileAll();
  t.equal(bins.size, FIXTURE_NAMES.length, `compiled ${[...bins.keys()].join(', ')}`);
});

const SCHEDULES = ['forward', 'reverse', 'shuffle:1', 'shuffle:2'];

test('emu: the control reduction gives the right sums under every schedule', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  for (const schedule of SCHEDULES) {
    const r = await runFixture('correct_reduction', { LSTM_CUDA_EMU_SCHEDULE: schedule });
    const got = get(r, 'correct_reduction');
    t.equal(got.error, 'cudaSuccess', `${schedule}: no error`);
    t.deepEqual(got.values, get(r, 'expected').values, `${schedule}: exact block sums`);
    t.equal(get(r, 'free').error, 'cudaSuccess', `${schedule}: guard zones intact at cudaFree`);
  }
  const uc = await runFixture('correct_reduction', { LSTM_CUDA_EMU_UCONTEXT: '1', LSTM_CUDA_EMU_SCHEDULE: 'shuffle:3' });
  t.deepEqual(get(uc, 'correct_reduction').values, get(uc, 'expected').values, 'ucontext fallback: same sums');
  // blocks running at once on different OS threads must not share their __shared__ arrays
  const mt = await runFixture('correct_reduction', { LSTM_CUDA_EMU_THREADS: '4', LSTM_CUDA_EMU_SCHEDULE: 'reverse' });
  t.deepEqual(get(mt, 'correct_reduction').values, get(mt, 'expected').values, '4 OS threads: same sums');
});

test('emu: a missing __syncthreads gives different answers under two schedules', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const fwd = await runFixture('missing_syncthreads', { LSTM_CUDA_EMU_SCHEDULE: 'forward', LSTM_CUDA_EMU_THREADS: '1' });
  const rev = await runFixture('missing_syncthreads', { LSTM_CUDA_EMU_SCHEDULE: 'reverse', LSTM_CUDA_EMU_THREADS: '1' });
  const a = get(fwd, 'missing_syncthreads');
  const b = get(rev, 'missing_syncthreads');
  t.equal(a.error, 'cudaSuccess', 'the race itself is not an error');
  t.notDeepEqual(a.values, b.values, `forward ${JSON.stringify(a.values)} vs reverse ${JSON.stringify(b.values)}`);
  t.notDeepEqual(a.values, get(fwd, 'expected').values, 'forward order exposes the wrong sum');
});

test('emu: a __syncthreads reached by part of the block is reported, not a hang', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  for (const schedule of ['forward', 'shuffle:7']) {
    const r = await runFixture('divergent_syncthreads', { LSTM_CUDA_EMU_SCHEDULE: schedule });
    const half = get(r, 'half');
    t.equal(half.error, 'cudaErrorLaunchFailure', `${schedule}: half-block barrier fails the launch`);
    t.match(half.message, /divergent __syncthreads\(\)/, 'the message says what went wrong');
    t.match(half.message, /divergent_syncthreads\.cu:\d+ in half_barrier_kernel\(\)/, 'it names the barrier site');
    t.match(half.message, /16 of 64 threads/, 'it counts the threads that arrived');
    const sites = get(r, 'sites');
    t.equal(sites.error, 'cudaErrorLaunchFailure', `${schedule}: two barrier sites fail the launch`);
    t.match(sites.message, /two different barriers/, 'the message says the barriers differ');
    const warp = get(r, 'warp');
    t.equal(warp.error, 'cudaErrorLaunchFailure', `${schedule}: a shuffle whose mask names exited lanes fails`);
    t.match(warp.message, /warp operation at divergent_syncthreads\.cu:\d+ in half_warp_shuffle_kernel\(\).*lanes 0xffff0000 never arrive/,
      'the message names the shuffle and the missing lanes');
    const after = get(r, 'after');
    t.equal(after.error, 'cudaSuccess', 'a later launch works');
    t.deepEqual(after.values, [7, 7], 'and computes');
  }
});

test('emu: cooperative launch: co-resident blocks and the grid barrier; a block that misses it is reported, not a hang', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  for (const schedule of ['forward', 'reverse', 'shuffle:7']) {
    const r = await runFixture('grid_barrier', { LSTM_CUDA_EMU_SCHEDULE: schedule });
    const ex = get(r, 'exchange');
    t.equal(ex.error, 'cudaSuccess', `${schedule}: 6 blocks exchange slots over 6 grid barriers`);
    t.deepEqual(ex.values, get(r, 'expected').values, `${schedule}: every thread read the next block's slots of each round`);
    const early = get(r, 'early_exit');
    t.equal(early.error, 'cudaErrorLaunchFailure', `${schedule}: a block that returns before grid.sync() fails the launch`);
    t.match(early.message, /grid barrier #1 at grid_barrier\.cu:\d+ in early_exit_kernel\(\) can never complete: block \(1,0,0\) ended without reaching it \(3 of 4 blocks arrived\)/,
      'the message names the barrier, the block that missed it and how many arrived');
    t.equal(get(r, 'not_cooperative').error, 'cudaErrorLaunchFailure', 'grid.sync() in a plain launch fails the launch');
    t.match(get(r, 'not_cooperative').message, /not launched cooperatively/, 'and says why');
    t.equal(get(r, 'too_large').error, 'cudaErrorCooperativeLaunchTooLarge', 'more blocks than can be co-resident: cudaErrorCooperativeLaunchTooLarge');
    t.deepEqual(get(r, 'after').values, [7, 7], 'a later launch works');
  }
});

test('emu: a write one past an allocation is cudaErrorIllegalAddress', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('out_of_bounds_write', { LSTM_CUDA_EMU_THREADS: '2' });
  const oob = get(r, 'out_of_bounds_write');
  t.equal(oob.error, 'cudaErrorIllegalAddress', 'the launch reports the illegal address');
  t.match(oob.message, /scale_kernel/, 'the message names the kernel');
  t.match(oob.message, /1024-byte allocation/, 'and the allocation');
  t.match(oob.message, /offsets \[1024, 1027\]/, 'and the offsets written');
  t.match(oob.message, /0 bytes past the end/, 'and where they are');
  t.equal(get(r, 'after').error, 'cudaSuccess', 'the guard was repaired: the next launch is clean');
  t.equal(get(r, 'free').error, 'cudaSuccess', 'cudaFree succeeds');
});

test('emu: warp shuffles, votes and reductions are exact', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  for (const schedule of ['forward', 'reverse', 'shuffle:5']) {
    const r = await runFixture('features', { LSTM_CUDA_EMU_SCHEDULE: schedule }, ['warp']);
    const got = get(r, 'warp');
    t.equal(got.error, 'cudaSuccess', `${schedule}: no error`);
    t.deepEqual(got.values, get(r, 'warp_expected').values, `${schedule}: sums, scan, idx, ballot, any, all, reduce_add`);
  }
});

test('emu: dynamic shared memory, its limit and its overflow', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('features', {}, ['dynamic']);
  const dyn = get(r, 'dynamic');
  t.equal(dyn.error, 'cudaSuccess', 'extern __shared__ sized by the launch');
  t.deepEqual(dyn.values, [0], 'every element reversed through shared memory');
  const big = get(r, 'dynamic_too_big');
  t.equal(big.error, 'cudaErrorInvalidValue', '64 KiB without opting in is refused');
  t.match(big.message, /65536 bytes of dynamic shared memory exceed the limit of 49152/, 'with the sizes');
  t.equal(get(r, 'dynamic_opt_in').error, 'cudaSuccess', 'cudaFuncSetAttribute raises the limit');
  const over = get(r, 'dynamic_overflow');
  t.equal(over.error, 'cudaErrorIllegalAddress', 'a write past the dynamic shared memory is caught');
  t.match(over.message, /smem_overflow_kernel.*byte 256 of a 256-byte extern __shared__ array/, 'and described');
});

test('emu: atomics from blocks on several OS threads count exactly', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('features', { LSTM_CUDA_EMU_THREADS: '4' }, ['atomics']);
  const got = get(r, 'atomics');
  t.equal(got.error, 'cudaSuccess', 'no error');
  const values = got.values ?? [];
  t.deepEqual(values.slice(0, 6), get(r, 'atomics_expected').values, 'add (int, float), max, min, CAS loop, exch');
  t.equal(values[6], 4, 'blocks ran on 4 OS threads');
});

test('emu: events time a launch', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('features', {}, ['events']);
  const ev = get(r, 'events');
  t.equal(ev.error, 'cudaSuccess', 'no error');
  const [ms, hostMs] = ev.values ?? [NaN, NaN];
  t.ok(ms > 0 && ms >= hostMs * (1 - 1e-6), `events bracket the launch: ${ms} ms ≥ host ${hostMs} ms`);
  t.ok(ms < hostMs + 1000, 'and not by much');
  t.equal(get(r, 'events_unrecorded').error, 'cudaErrorInvalidResourceHandle', 'an unrecorded event is an error');
});

test('emu: the math functions and intrinsics agree with libm', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('features', {}, ['math']);
  t.equal(get(r, 'math').error, 'cudaSuccess', 'no error');
  t.deepEqual(get(r, 'math').values, get(r, 'math_expected').values, 'expf … __ldg, min/max of ints, floats and mixed');
});

test('emu: a failing assert() in a kernel is cudaErrorAssert, not an abort', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('features', {}, ['assert']);
  t.equal(get(r, 'assert_holds').error, 'cudaSuccess', 'a holding assert is silent');
  const fails = get(r, 'assert_fails');
  t.equal(fails.error, 'cudaErrorAssert', 'a failing one fails the launch');
  t.match(fails.message, /assert\(x\[i\] >= 0\.f\) failed at features\.cu:\d+ in check_nonnegative_kernel\(\) in thread \(5,0,0\)/,
    'naming the expression, the site and the thread');
});

test('emu: launch-configuration and API errors are returned, never fatal', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('features', {}, ['config']);
  const expect: Record<string, string> = {
    block_1025: 'cudaErrorInvalidConfiguration',
    after_error_last_error_is_cleared: 'cudaSuccess',
    block_zero: 'cudaErrorInvalidConfiguration',
    block_z_65: 'cudaErrorInvalidConfiguration',
    grid_zero: 'cudaErrorInvalidConfiguration',
    grid_y_65536: 'cudaErrorInvalidConfiguration',
    shared_49k: 'cudaErrorInvalidValue',
    ok_1024: 'cudaSuccess',
    memcpy_past_end: 'cudaErrorInvalidValue',
    last_error: 'cudaErrorInvalidValue',
    last_error_cleared: 'cudaSuccess',
    memset_host_pointer: 'cudaErrorInvalidValue',
    malloc_huge: 'cudaErrorMemoryAllocation',
    free_twice_first: 'cudaSuccess',
    free_twice_second: 'cudaErrorInvalidValue',
    props: 'cudaSuccess',
    meminfo: 'cudaSuccess',
    device: 'cudaSuccess',
    set_device_1: 'cudaErrorInvalidDevice',
    stream: 'cudaSuccess',
  };
  for (const [name, error] of Object.entries(expect)) t.equal(get(r, name).error, error, `${name}: ${error}`);
  t.match(get(r, 'block_1025').message, /noop_kernel: block \(1025,1,1\)/, 'the message names kernel and block');
  t.match(get(r, 'memcpy_past_end').message, /past the end of its 4-byte allocation/, 'memcpy range checked');
  t.deepEqual(get(r, 'props').values?.slice(0, 3), [32, 1024, 49152], 'warpSize, maxThreadsPerBlock, sharedMemPerBlock');
  t.deepEqual(get(r, 'meminfo').values, [1], 'free ≤ total');
  t.deepEqual(get(r, 'device').values, [1, 0], 'one device, device 0 current');
  t.deepEqual(get(r, 'stream').values, [5, 6, 0, 1], 'memset, copies and a launch on a stream, in order');
  const none = await runFixture('features', { LSTM_CUDA_EMU_DEVICES: '0' }, ['nodevice']);
  t.equal(get(none, 'nodevice_count').error, 'cudaErrorNoDevice', 'LSTM_CUDA_EMU_DEVICES=0: no device');
  t.deepEqual(get(none, 'nodevice_count').values, [0], 'count 0');
  t.equal(get(none, 'nodevice_launch').error, 'cudaErrorNoDevice', 'and launches fail with the same error');
});

test('emu: speed of barriers and of a tiled matmul', async (t) => {
  if (!haveGxx) return void t.skip('SKIP: no g++');
  const r = await runFixture('features', { LSTM_CUDA_EMU_THREADS: '1' }, ['bench']);
  const sw = get(r, 'switch_ns_per_thread_barrier_32_256_1024');
  const mm = get(r, 'matmul64_gflops_ms_wrong');
  t.equal(mm.error, 'cudaSuccess', 'the matmul runs');
  t.equal(mm.values?.[2], 0, 'the 64x64x64 tiled matmul is exact');
  t.comment(`ns per thread per barrier (32/256/1024 threads): ${sw.values?.map((v) => v.toFixed(1)).join(' / ')}`);
  t.comment(`64x64x64 tiled matmul: ${mm.values?.[0].toFixed(3)} GFLOP/s (${mm.values?.[1].toFixed(2)} ms CPU)`);
});

test('emu: clean up', (t) => {
  if (haveGxx) {
    const left = readdirSync(outDir);
    t.ok(FIXTURE_NAMES.every((n) => left.includes(n)), `the compiled fixtures were in ${outDir}: ${left.join(', ')}`);
  }
  rmSync(outDir, { recursive: true, force: true });
  t.notOk(existsSync(outDir), `removed ${outDir}`);
  t.end();
});
