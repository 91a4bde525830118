// Side-by-side benchmark: the native `cpu` backend against PyTorch on this CPU, in one run.
//   A  train: Embedding(V=96, D=96) → 2×LSTM H=128 → Linear → cross-entropy → Adam, B=32, T=64 (2,048 chars/step)
//   B  A with H=512
//   C  generate 500 chars at batch 1 with the A model, every token read on the host (as `lstm-cuda sample`)
// Workers, each its own process answering one timed unit per command (bench/cpu_vs_torch.py for PyTorch):
// ours with 1 and 2 threads (LSTM_CUDA_CPU_THREADS); PyTorch (Debian's python3-torch) with each OpenBLAS
// build (libopenblas0-pthread, libopenblas0-openmp, selected by LD_LIBRARY_PATH) × 1 and 2 threads. Repeats
// are interleaved (repeat r runs every worker once, in an order rotated per repeat) so that the load of
// other processes on the machine hits both sides alike; the load average is recorded at start and end.
// Then our GEMM's GFLOP/s at the LSTM's shapes against the machine's peak (cores × SIMD floats × 2 FMA
// units × 2 flops × the nominal clock of /proc/cpuinfo), with 1 and 2 threads.
// Prints JSON lines: one per (worker, config) with the median, one summary per config (ours' best vs
// PyTorch's best, ratio, goal), the thread scaling, and the GEMM lines. Installs PyTorch and both OpenBLAS
// builds with apt-get when they are missing (needs root; without them it measures ours alone).
// Usage: node build/bench/cpu_vs_torch.js [--repeats 7] [--configs A,B,C] [--no-gemm] [--no-install]
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { getBackend } from '../src/device.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { generateTokens } from './generate.bench.js';
import { trainStepSetup } from './train_step.bench.js';
import { randomFloats } from './timing.js';

const V = 96, D = 96, BATCH = 32, T = 64, GEN_CHARS = 500;
const HIDDEN: Record<string, number> = { A: 128, B: 512, C: 128 };
const GOAL: Record<string, number> = { A: 1.5, B: 1.5, C: 5 };
const CHARS: Record<string, number> = { A: BATCH * T, B: BATCH * T, C: GEN_CHARS };
const here = dirname(fileURLToPath(import.meta.url));
const PY = '/usr/bin/python3';
const OPENBLAS: Record<string, string> = {
  'openblas-pthread': '/usr/lib/x86_64-linux-gnu/openblas-pthread',
  'openblas-openmp': '/usr/lib/x86_64-linux-gnu/openblas-openmp',
};

// ------------------------------------------------------------------------------------ our worker

/** Our GEMM at the LSTM's shapes (forward, backward, decoder) for H: GFLOP/s of the median call. */
function gemmRates(): object[] {
  const be = getBackend('cpu');
  const out: object[] = [];
  for (const H of [128, 512]) {
    const TB = T * BATCH, G = 4 * H;
    const shapes: [string, boolean, boolean, number, number, number][] = [
      ['input x·W_ihᵀ (layer 2)', false, true, TB, G, H],
      ['recurrent h·W_hhᵀ', false, true, BATCH, G, H],
      ['backward dh = dgates·W_hh', false, false, BATCH, H, G],
      ['backward dW_hh += dgatesᵀ·h', true, false, G, H, TB],
      ['backward dx = dgates·W_ih', false, false, TB, H, G],
      ['decoder logits = h·Wᵀ', false, true, TB, V, H],
    ];
    for (const [kind, transA, transB, M, N, K] of shapes) {
      const A = be.upload(randomFloats(M * K, 1)), B = be.upload(randomFloats(K * N, 2)), C = be.alloc('float32', M * N);
      const call = () => be.gemm({ transA, transB, M, N, K, alpha: 1, A, B, beta: 1, C });
      call();
      let inner = 1;
      for (;;) {  // calls per sample: at least 20 ms
        const t0 = performance.now();
        for (let i = 0; i < inner; i++) call();
        if (performance.now() - t0 >= 20 || inner >= 1 << 16) break;
        inner *= 2;
      }
      const samples: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        for (let i = 0; i < inner; i++) call();
        samples.push((performance.now() - t0) / inner);
      }
      samples.sort((a, b) => a - b);
      const ms = samples[2];
      out.push({ kind, H, M, N, K, transA, transB, median_ms: ms, gflops: (2 * M * N * K) / (ms * 1e6) });
      for (const s of [A, B, C]) be.free(s);
    }
  }
  return out;
}

function runWorker(): void {
  const be = getBackend('cpu');
  const trainers = new Map<string, () => number>();
  let model: CharRNN | undefined;
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    let reply: object;
    try {
      if (cmd === 'info') reply = { device: be.deviceName };
      else if (cmd === 'gemm') reply = { gemm: gemmRates() };
      else if (cmd === 'A' || cmd === 'B') {
        let step = trainers.get(cmd);
        if (!step) {
          const s = trainStepSetup({ device: 'cpu', dtype: 'float32', V, D, H: HIDDEN[cmd], B: BATCH, T, layers: 2 });
          step = () => s.step();
          trainers.set(cmd, step);
          step();  // warm-up
        }
        const t0 = performance.now();
        step();
        reply = { s: (performance.now() - t0) / 1e3 };
      } else if (cmd === 'C') {
        if (!model) {
          model = new CharRNN({ vocabSize: V, embedDim: D, hiddenSize: HIDDEN.C, numLayers: 2, device: 'cpu', seed: 7 });
          model.eval();
          generateTokens(model, 'cpu', GEN_CHARS, true, 8);  // warm-up
        }
        const t0 = performance.now();
        const toks = generateTokens(model, 'cpu', GEN_CHARS, true, 8);
        if (toks.length !== GEN_CHARS) throw new Error(`generated ${toks.length} of ${GEN_CHARS} tokens`);
        reply = { s: (performance.now() - t0) / 1e3 };
      } else reply = { error: `unknown command ${JSON.stringify(cmd)}` };
    } catch (e) {
      reply = { error: (e as Error).message };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  });
}

// ------------------------------------------------------------------------------------ coordinator

interface Worker {
  impl: 'lstm-cuda cpu' | 'torch';
  threads: number;
  blas?: string;
  info?: Record<string, unknown>;
  proc: ChildProcessWithoutNullStreams;
  ask(cmd: string): Promise<Record<string, unknown>>;
}

function startWorker(impl: Worker['impl'], threads: number, cmd: string, args: string[], env: NodeJS.ProcessEnv, blas?: string): Worker {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += String(d); });
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(JSON.parse(line) as Record<string, unknown>);
  });
  proc.on('exit', (code) => {
    for (const w of waiting.splice(0)) w({ error: `worker exited (${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
  });
  return {
    impl, threads, blas, proc,
    ask: (c) => new Promise((resolve) => { waiting.push(resolve); proc.stdin.write(c + '\n'); }),
  };
}

function torchAvailable(): boolean {
  return spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0 &&
    Object.values(OPENBLAS).every((d) => existsSync(join(d, 'libblas.so.3')));
}

/** apt-get installs python3-torch and both OpenBLAS builds when missing; returns whether torch is usable. */
function ensureTorch(install: boolean): boolean {
  if (torchAvailable() || !install) return torchAvailable();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.error('cpu_vs_torch: installing python3-torch, libopenblas0-pthread, libopenblas0-openmp with apt-get');
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', 'python3-torch', 'libopenblas0-pthread', 'libopenblas0-openmp'], { stdio: 'inherit', env });
  return torchAvailable();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function emit(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function cpuLine(): { model: string; mhz: number; simdFloats: number } {
  const model = cpus()[0]?.model ?? 'unknown';
  let mhz = cpus()[0]?.speed ?? 0;
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) mhz = Number(m[1]);
  } catch { /* not Linux: os.cpus()'s speed */ }
  const dev = getBackend('cpu').deviceName;
  const simdFloats = dev.includes('AVX-512') ? 16 : dev.includes('AVX2') ? 8 : 4;
  return { model, mhz, simdFloats };
}

async function coordinate(argv: string[]): Promise<void> {
  const opt = (name: string, dflt: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
  };
  const repeats = Number(opt('repeats', '7'));
  const configs = opt('configs', 'A,B,C').split(',').filter((c) => c in HIDDEN);
  const cores = cpus().length;
  const threadCounts = [...new Set([1, Math.min(2, cores)])];
  const withTorch = ensureTorch(!argv.includes('--no-install'));
  const { model, mhz, simdFloats } = cpuLine();
  emit({ bench: 'cpu_vs_torch_env', cpu: model, cores, mhz, ours: getBackend('cpu').deviceName, node: process.version,
    torch: withTorch, loadavg_start: loadavg().map((x) => Number(x.toFixed(2))), repeats, configs, date: new Date().toISOString() });

  const self = fileURLToPath(import.meta.url);
  const workers: Worker[] = threadCounts.map((n) =>
    startWorker('lstm-cuda cpu', n, process.execPath, [self, '--worker'], { LSTM_CUDA_CPU_THREADS: String(n) }));
  if (withTorch) {
    for (const [blas, dir] of Object.entries(OPENBLAS)) {
      for (const n of threadCounts) {
        workers.push(startWorker('torch', n, PY, [join(here, '..', '..', 'bench', 'cpu_vs_torch.py'), String(n)], {
          LD_LIBRARY_PATH: dir, OPENBLAS_NUM_THREADS: String(n), OMP_NUM_THREADS: String(n), MKL_NUM_THREADS: String(n),
        }, blas));
      }
    }
  }
  for (const w of workers) w.info = await w.ask('info');

  for (const config of configs) {
    const times = workers.map(() => [] as number[]);
    for (let r = 0; r < repeats; r++) {
      for (let j = 0; j < workers.length; j++) {
        const i = (j + r) % workers.length;  // rotate who goes first
        const rep = await workers[i].ask(config);
        if (typeof rep.s === 'number') times[i].push(rep.s);
        else emit({ bench: 'cpu_vs_torch', config, impl: workers[i].impl, threads: workers[i].threads, error: rep.error });
      }
    }
    const rates: { w: Worker; cps: number }[] = [];
    workers.forEach((w, i) => {
      if (times[i].length === 0) return;
      const m = median(times[i]);
      rates.push({ w, cps: CHARS[config] / m });
      emit({ bench: 'cpu_vs_torch', config, H: HIDDEN[config], impl: w.impl, threads: w.threads, blas: w.blas,
        device: w.info?.device ?? `torch ${String(w.info?.torch)} (${String(w.info?.blas)})`,
        median_s: Number(m.toFixed(6)), chars_per_s: Math.round(CHARS[config] / m), repeats: times[i].length,
        samples_s: times[i].map((t) => Number(t.toFixed(5))) });
    });
    const best = (impl: Worker['impl']) => rates.filter((x) => x.w.impl === impl).sort((a, b) => b.cps - a.cps)[0];
    const ours = best('lstm-cuda cpu'), torch = best('torch');
    const byThreads = (n: number) => rates.find((x) => x.w.impl === 'lstm-cuda cpu' && x.w.threads === n)?.cps;
    emit({ bench: 'cpu_vs_torch_summary', config, H: HIDDEN[config],
      ours_chars_per_s: ours ? Math.round(ours.cps) : null, ours_threads: ours?.w.threads,
      torch_chars_per_s: torch ? Math.round(torch.cps) : null, torch_best: torch ? `${torch.w.blas}, ${torch.w.threads} thread(s)` : null,
      ratio: ours && torch ? Number((ours.cps / torch.cps).toFixed(2)) : null, goal: GOAL[config],
      met: ours && torch ? ours.cps / torch.cps >= GOAL[config] : null,
      ours_scaling_2_vs_1: byThreads(1) && byThreads(2) ? Number((byThreads(2)! / byThreads(1)!).toFixed(2)) : null,
      loadavg: loadavg().map((x) => Number(x.toFixed(2))) });
  }

  if (!argv.includes('--no-gemm')) {
    const peak1 = simdFloats * 2 * 2 * mhz / 1e3;  // GFLOP/s of one core: SIMD floats × 2 FMA units × 2 flops × GHz
    const perThreads = new Map<number, { kind: string; H: number; gflops: number }[]>();
    for (const w of workers.filter((x) => x.impl === 'lstm-cuda cpu')) {
      const rep = await w.ask('gemm');
      const lines = (rep.gemm ?? []) as { kind: string; H: number; gflops: number }[];
      perThreads.set(w.threads, lines);
      for (const g of lines) {
        emit({ bench: 'cpu_gemm', threads: w.threads, ...g, gflops: Number(g.gflops.toFixed(2)),
          peak_gflops: Number((peak1 * w.threads).toFixed(1)), of_peak: Number((g.gflops / (peak1 * w.threads)).toFixed(3)) });
      }
    }
    const one = perThreads.get(1), two = perThreads.get(2);
    if (one && two) {
      emit({ bench: 'cpu_gemm_scaling', scaling_2_vs_1: one.map((g, i) => ({ kind: g.kind, H: g.H, ratio: Number((two[i].gflops / g.gflops).toFixed(2)) })) });
    }
  }
  emit({ bench: 'cpu_vs_torch_env', loadavg_end: loadavg().map((x) => Number(x.toFixed(2))) });
  for (const w of workers) w.proc.stdin.end();
}

if (process.argv.includes('--worker')) runWorker();
else await coordinate(process.argv.slice(2));
