// The static report (issue 14): what the kernels cost a GPU before one is lent, measured without one.
//   ptxas      every kernels/*.cu compiled by nvcc for sm_90 with -Xptxas -v: per kernel (template
//              instance) registers, spill stores/loads, static shared memory, and its theoretical occupancy
//              on an H100 (132 SMs, 64 warps, 64K registers and 228 KiB shared memory per SM) at the block
//              size and dynamic shared memory the emulator saw it launched with. No nvcc: one visible SKIP line.
//   launches   counted by the emulator (LSTM_CUDA_EMU_TRACE, kernels/emu/cuda_emu.h) in child processes:
//              one training step (Embedding → 2-layer Stack → Linear → cross-entropy → clipGradNorm → Adam) at
//              DESIGN.md's V=256, H=512, B=64, T=128, run with LSTM_CUDA_EMU_DRY_RUN=1 (launches are checked
//              and traced but not run, so full size costs nothing); one LSTM layer's forward + backward alone;
//              and per generated character at batch 1 with the 3-layer H=512 model (run for real), both
//              the way sample() generates (src/sample/device_loop.ts: the token fed back on the device,
//              batches of 16 steps, each batch one CUDA graph launch: "graph launches" and the kernels
//              inside them, "graph nodes") and the per-step path (a host-side loop of model.forward +
//              sampleTokens, the token tensor fed back, as generate.bench.ts's stream=false). The
//              children run in the cuda build's default math mode (LSTM_CUDA_TF32=lstm) and with the
//              emulator's 132 SMs, so they take the kernels an H100 would.
// Targets (issue 14): ≤ 10 launches per layer per training step in the persistent path, ≤ 1 graph launch
// per generated character, 0 spills in hot kernels.
// Usage: node build/bench/static.js [--json] [--out bench/results/static] [--skip-ptxas] [--small]
//   --out P   writes P.md (the report) and P.json (the raw figures); --small: tiny sizes (tests)
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpec } from '../src/cli/flags.js';
import { Tensor, noGrad, tidy } from '../src/tensor.js';
import { Module } from '../src/nn/module.js';
import { Embedding } from '../src/nn/embedding.js';
import { Stack } from '../src/nn/stack.js';
import { Linear } from '../src/nn/linear.js';
import { CharRNN, disposeLstmState } from '../src/nn/char_rnn.js';
import { DeviceLoop } from '../src/sample/device_loop.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { clipGradNorm } from '../src/optim/clip.js';
import { Adam } from '../src/optim/adam.js';
import { RngStream } from '../src/rng.js';
import { generateTokens } from './generate.bench.js';
import { getBackend } from '../src/device.js';
import type { NativeBackend } from '../src/native.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

// ------------------------------------------------------------------------------------------- ptxas

/** One kernel entry of ptxas -v. */
export interface PtxasEntry {
  file: string;
  kernel: string;       // demangled, anonymous namespace dropped
  base: string;         // the name without template arguments and parameters
  registers: number;
  spillStores: number;
  spillLoads: number;
  stackFrame: number;
  staticSmem: number;
}

/** Parses nvcc -Xptxas -v output (one .cu file) into entries. */
export function parsePtxas(file: string, text: string, demangle: (names: string[]) => string[]): PtxasEntry[] {
  const byName = new Map<string, Partial<PtxasEntry> & { mangled: string }>();
  let current: (Partial<PtxasEntry> & { mangled: string }) | undefined;
  for (const line of text.split('\n')) {
    let m = /Compiling entry function '([^']+)'/.exec(line) ?? /Function properties for (\S+)/.exec(line);
    if (m) {
      current = byName.get(m[1]) ?? { mangled: m[1] };
      byName.set(m[1], current);
      continue;
    }
    if (!current) continue;
    m = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (m) {
      current.stackFrame = Number(m[1]);
      current.spillStores = Number(m[2]);
      current.spillLoads = Number(m[3]);
      continue;
    }
    m = /Used (\d+) registers/.exec(line);
    if (m) {
      current.registers = Number(m[1]);
      current.staticSmem = Number(/(\d+) bytes smem/.exec(line)?.[1] ?? 0);
    }
  }
  // device functions have "Function properties" but no "Used N registers" line of their own
  const entries = [...byName.values()].filter((e) => e.registers !== undefined);
  const names = demangle(entries.map((e) => e.mangled));
  return entries.map((e, i) => {
    const kernel = names[i].replace(/\(anonymous namespace\)::/g, '').replace(/^void /, '');
    return {
      file, kernel, base: kernel.replace(/[<(].*$/, '').trim(),
      registers: e.registers ?? 0, spillStores: e.spillStores ?? 0, spillLoads: e.spillLoads ?? 0,
      stackFrame: e.stackFrame ?? 0, staticSmem: e.staticSmem ?? 0,
    };
  });
}

function demangle(names: string[]): string[] {
  if (names.length === 0) return [];
  const r = spawnSync('c++filt', [], { input: names.join('\n'), encoding: 'utf8' });
  if (r.status !== 0) return names;
  const out = r.stdout.trimEnd().split('\n');
  return out.length === names.length ? out : names;
}

/** ptxas figures of every kernels/*.cu for `arch`, or the reason they could not be had. */
export function ptxasReport(arch = 'sm_90'): { entries: PtxasEntry[] } | { skip: string } {
  const which = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) return { skip: 'nvcc is not on the PATH: no register/spill/shared-memory figures' };
  const files = readdirSync(join(ROOT, 'kernels')).filter((f) => f.endsWith('.cu')).sort();
  const entries: PtxasEntry[] = [];
  for (const f of files) {
    const r = spawnSync('nvcc', ['-std=c++17', '-O3', `-arch=${arch}`, '-Xptxas', '-v', '-I', join(ROOT, 'kernels'), '-I', join(ROOT, 'native', 'gen'), '-c',
      join(ROOT, 'kernels', f), '-o', '/dev/null'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) return { skip: `nvcc failed on kernels/${f}: ${(r.stderr || '').split('\n').find((l) => /error/.test(l)) ?? `exit ${r.status}`}` };
    entries.push(...parsePtxas(f, `${r.stdout}\n${r.stderr}`, demangle));
  }
  return { entries };
}

/** H100 SXM (sm_90) limits for the occupancy calculation. */
const H100 = { sms: 132, warps: 64, blocks: 32, regs: 65536, regUnit: 256, smem: 233472, smemPerBlockReserved: 1024, smemUnit: 128 };

/** Theoretical occupancy (active warps / 64) of a kernel on one H100 SM, and what limits it. */
export function occupancy(threads: number, registers: number, smemBytes: number): { blocksPerSm: number; occupancy: number; limit: string } {
  const warps = Math.ceil(threads / 32);
  const regsPerWarp = Math.ceil(Math.max(registers, 1) * 32 / H100.regUnit) * H100.regUnit;
  const byRegs = Math.floor(Math.floor(H100.regs / regsPerWarp) / warps);
  const smemPerBlock = Math.ceil((smemBytes + H100.smemPerBlockReserved) / H100.smemUnit) * H100.smemUnit;
  const bySmem = Math.floor(H100.smem / smemPerBlock);
  const byWarps = Math.min(H100.blocks, Math.floor(H100.warps / warps));
  const blocksPerSm = Math.min(byRegs, bySmem, byWarps);
  const limit = blocksPerSm === byRegs ? 'registers' : blocksPerSm === bySmem ? 'shared memory' : 'warps';
  return { blocksPerSm, occupancy: (blocksPerSm * warps) / H100.warps, limit };
}

// ------------------------------------------------------------------------------------ launch counts

/** What the emulator was asked to do between two marks. */
export interface Counts {
  launches: number;
  memsets: number;
  memcpyHtoD: number;
  memcpyDtoH: number;
  memcpyDtoD: number;
  syncs: number;
  /** cudaGraphLaunch calls (each replays a captured graph) */
  graphLaunches: number;
  /** kernel launches that ran as nodes of a replayed graph (not counted in `launches`) */
  nodeLaunches: number;
  /** copies and memsets that ran as nodes of a replayed graph */
  nodeCopies: number;
  /** launches by kernel (the text of the launch() call's first argument) */
  byKernel: Record<string, number>;
  /** per kernel: the largest block size (threads) and dynamic shared memory seen */
  shapes: Record<string, { threads: number; smem: number }>;
  /** the LSTM time loop's path the run took (lstmPath(), kernels/lstm.cu), where recorded */
  path?: string;
}

/** Counts the trace lines between `mark <name> begin` and `mark <name> end`. */
export function countBetween(trace: string, name: string): Counts {
  const c: Counts = { launches: 0, memsets: 0, memcpyHtoD: 0, memcpyDtoH: 0, memcpyDtoD: 0, syncs: 0, graphLaunches: 0, nodeLaunches: 0, nodeCopies: 0, byKernel: {}, shapes: {} };
  let inside = false;
  for (const line of trace.split('\n')) {
    if (line === `mark ${name} begin`) { inside = true; continue; }
    if (line === `mark ${name} end`) break;
    if (!inside) continue;
    let [kind, ...rest] = line.split(' ');
    if (kind === 'graph') { c.graphLaunches++; continue; }
    const inGraph = kind === 'node';
    if (inGraph) {
      [kind, ...rest] = rest;
      if (kind !== 'launch') { c.nodeCopies++; continue; }
    }
    if (kind === 'launch') {
      const m = /^(?:node )?launch (.*) grid=\S+ block=(\d+),(\d+),(\d+) smem=(\d+)$/.exec(line);
      if (!m) continue;
      const k = m[1].replace(/\s+/g, ' ');
      if (inGraph) c.nodeLaunches++;
      else c.launches++;
      c.byKernel[k] = (c.byKernel[k] ?? 0) + 1;
      const threads = Number(m[2]) * Number(m[3]) * Number(m[4]), smem = Number(m[5]);
      const s = c.shapes[k] ?? { threads: 0, smem: 0 };
      c.shapes[k] = { threads: Math.max(s.threads, threads), smem: Math.max(s.smem, smem) };
    } else if (kind === 'memset') c.memsets++;
    else if (kind === 'memcpy') {
      if (rest[0] === 'HtoD') c.memcpyHtoD++;
      else if (rest[0] === 'DtoH') c.memcpyDtoH++;
      else c.memcpyDtoD++;
    } else if (kind === 'sync') c.syncs++;
  }
  return c;
}

export interface CountConfig { V: number; H: number; B: number; T: number; layers: number; chars: number }
export const STANDARD_COUNT: CountConfig = { V: 256, H: 512, B: 64, T: 128, layers: 2, chars: 32 };
export const SMALL_COUNT: CountConfig = { V: 65, H: 33, B: 3, T: 5, layers: 2, chars: 32 };
/** steps per device batch (one graph launch) in the generation counts: sample()'s default */
export const GENERATE_BATCH = 16;

/** Child: runs `what` on emu with marks around the measured part, appending them to the trace file. */
function child(what: string, c: CountConfig, trace: string): void {
  const mark = (s: string): void => appendFileSync(trace, `mark ${s}\n`);
  const device = 'emu' as const;
  if (what === 'train') {
    // shapes: tokens [T,B] -> embeddings [T,B,H] -> Stack [T,B,H] -> logits [T·B,V]
    class Model extends Module {
      readonly embedding = this.registerModule('embedding', new Embedding({ numEmbeddings: c.V, embeddingDim: c.H, device, seed: 1 }));
      readonly lstm = this.registerModule('lstm', new Stack({ inputSize: c.H, hiddenSize: c.H, numLayers: c.layers, device, seed: 2 }));
      readonly decoder = this.registerModule('decoder', new Linear({ inFeatures: c.H, outFeatures: c.V, device, seed: 3 }));
    }
    const model = new Model();
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const rng = new RngStream(4);
    const ids = Array.from({ length: c.T * c.B + 1 }, () => rng.nextU32() % c.V);
    const x = Tensor.from(ids.slice(0, c.T * c.B), [c.T, c.B], { device, dtype: 'int32' });
    const y = Tensor.from(ids.slice(1), [c.T * c.B], { device, dtype: 'int32' });
    const step = (): void => {
      tidy(() => {
        opt.zeroGrad();
        mark('forward begin');
        const out = model.lstm.forward(model.embedding.forward(x)).output;
        const l = crossEntropy(model.decoder.forward(out).reshape([c.T * c.B, c.V]), y);
        mark('forward end');
        mark('backward begin');
        l.backward();
        mark('backward end');
        mark('clip begin');
        clipGradNorm(model.parameters(), 1);
        mark('clip end');
        mark('optimizer begin');
        opt.step();
        mark('optimizer end');
        l.item();
      });
    };
    step();  // warm-up: the caching allocator and Adam's moments are set up here
    mark('step begin');
    step();
    mark('step end');
    model.dispose();
    opt.dispose();
    x.dispose();
    y.dispose();
  } else if (what === 'layer') {
    const stack = new Stack({ inputSize: c.H, hiddenSize: c.H, numLayers: 1, device, seed: 2 });
    const x = Tensor.from(new Float32Array(c.T * c.B * c.H).fill(0.5), [c.T, c.B, c.H], { device });
    const run = (): void => tidy(() => { stack.forward(x).output.sum().backward(); });
    run();
    mark('layer begin');
    run();
    mark('layer end');
    // which time-loop path ran (kernels/lstm.cu; LSTM_CUDA_LSTM_PATH of this child)
    appendFileSync(trace, `path ${(getBackend(device) as NativeBackend).lstmPath()}\n`);
    stack.dispose();
    x.dispose();
  } else if (what === 'lstmop') {
    // the kernel pair alone, as one layer of a training step uses it: lstmForward, then lstmBackward with
    // every gradient (dx too: a layer above the first, or the embedding's input, needs it)
    const be = getBackend(device);
    const { T, B, H } = c, I = H;
    const f = (n: number) => be.alloc('float32', n);
    const s = { x: f(T * B * I), wih: f(4 * H * I), whh: f(4 * H * H), bih: f(4 * H), bhh: f(4 * H), h0: f(B * H), c0: f(B * H),
      h: f(T * B * H), c: f(T * B * H), gates: f(T * B * 4 * H), tanhC: f(T * B * H) };
    const g = { dh: f(T * B * H), dhT: f(B * H), dcT: f(B * H), dx: f(T * B * I), dh0: f(B * H), dc0: f(B * H),
      dwih: f(4 * H * I), dwhh: f(4 * H * H), dbih: f(4 * H), dbhh: f(4 * H) };
    const run = (): void => {
      be.lstmForward({ T, B, I, H, ...s });
      be.lstmBackward({ T, B, I, H, x: s.x, wih: s.wih, whh: s.whh, h0: s.h0, c0: s.c0, h: s.h, c: s.c, gates: s.gates, tanhC: s.tanhC, ...g });
    };
    run();
    mark('lstmop begin');
    run();
    mark('lstmop end');
    appendFileSync(trace, `path ${(be as NativeBackend).lstmPath()}\n`);
    for (const x of [...Object.values(s), ...Object.values(g)]) be.free(x);
  } else if (what === 'generate') {
    const model = new CharRNN({ vocabSize: c.V, embedDim: c.H, hiddenSize: c.H, numLayers: 3, device, seed: 7 });
    model.eval();
    generateTokens(model, device, 2, false, 8);  // warm-up
    mark('genstep begin');
    generateTokens(model, device, c.chars, false, 8);
    mark('genstep end');
    // sample()'s path: the device loop after one token of prime, batches of GENERATE_BATCH steps
    const first = noGrad(() => model.forward(Tensor.from(Int32Array.of(0), [1, 1], { dtype: 'int32', device })));
    const logits = first.logits.reshape([1, c.V]);
    const loop = new DeviceLoop(model, first.state, logits, { temperature: 1, topK: 0, topP: 1, seed: 8, batch: GENERATE_BATCH });
    if (!loop.graphed) throw new Error('static: the device loop did not capture a graph on emu');
    loop.next();  // warm-up
    mark('generate begin');
    for (let done = 0; done < c.chars; done += GENERATE_BATCH) loop.next();
    mark('generate end');
    loop.dispose();
    disposeLstmState(first.state);
    first.logits.dispose();
    logits.dispose();
    model.dispose();
  }
}

/**
 * Runs the children and returns the counts: train (per phase and the step), layer, generate. dry: the
 * training step and the layer as a dry run (the default; test/static.test.ts checks it counts the same
 * as running them).
 */
export function launchCounts(c: CountConfig, dry = true): Record<string, Counts> {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-cuda-static-'));
  try {
    const script = join(ROOT, 'build', 'bench', 'static.js');
    const runChild = (what: string, dry: boolean, path = process.env.LSTM_CUDA_LSTM_PATH ?? 'auto'): string => {
      const trace = join(dir, `${what}-${path}.trace`);
      writeFileSync(trace, '');
      const r = spawnSync(process.execPath, [script, '--child', what, '--config', JSON.stringify(c), '--trace', trace], {
        encoding: 'utf8',
        // the cuda build's math mode (TF32 for the LSTM layer's GEMMs), so the kernels counted are the GPU's;
        // the LSTM time loop's path (kernels/lstm.cu): auto, or forced for the per-path layer counts
        env: { ...process.env, LSTM_CUDA_EMU_TRACE: trace, LSTM_CUDA_EMU_DRY_RUN: dry ? '1' : '0', LSTM_CUDA_TF32: process.env.LSTM_CUDA_TF32 ?? 'lstm', LSTM_CUDA_LSTM_PATH: path },
        timeout: 600_000,
      });
      if (r.status !== 0) throw new Error(`static: the ${what} child failed (exit ${r.status}): ${(r.stderr || '').slice(-800)}`);
      return readFileSync(trace, 'utf8');
    };
    const train = runChild('train', dry);
    const layer = runChild('layer', dry);
    const op = runChild('lstmop', dry);
    const opSteps = runChild('lstmop', dry, 'steps');
    const gen = runChild('generate', false);
    const out: Record<string, Counts> = {};
    for (const phase of ['step', 'forward', 'backward', 'clip', 'optimizer']) out[`train.${phase}`] = countBetween(train, phase);
    out.layer = countBetween(layer, 'layer');
    out.layer.path = /^path (.*)$/m.exec(layer)?.[1];
    out.lstmop = countBetween(op, 'lstmop');
    out.lstmop.path = /^path (.*)$/m.exec(op)?.[1];
    out['lstmop.steps'] = countBetween(opSteps, 'lstmop');
    out['lstmop.steps'].path = /^path (.*)$/m.exec(opSteps)?.[1];
    out.generate = countBetween(gen, 'generate');
    out['generate.step'] = countBetween(gen, 'genstep');
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------ report

export interface StaticReport {
  date: string;
  command: string;
  config: CountConfig;
  ptxas: { arch: string; entries: (PtxasEntry & { threads?: number; dynSmem?: number; blocksPerSm?: number; occupancy?: number; limit?: string })[] } | { skip: string };
  counts: Record<string, Counts>;
}

export function buildReport(c: CountConfig, skipPtxas: boolean, command: string): StaticReport {
  const counts = launchCounts(c);
  const shapes: Record<string, { threads: number; smem: number }> = {};
  for (const k of Object.values(counts)) {
    for (const [name, s] of Object.entries(k.shapes)) {
      const base = name.replace(/[<(].*$/, '').trim();
      const o = shapes[base] ?? { threads: 0, smem: 0 };
      shapes[base] = { threads: Math.max(o.threads, s.threads), smem: Math.max(o.smem, s.smem) };
    }
  }
  let ptxas: StaticReport['ptxas'] = { skip: '--skip-ptxas' };
  if (!skipPtxas) {
    const p = ptxasReport('sm_90');
    ptxas = 'skip' in p ? p : {
      arch: 'sm_90',
      entries: p.entries.map((e) => {
        const s = shapes[e.base];
        return s ? { ...e, threads: s.threads, dynSmem: s.smem, ...occupancy(s.threads, e.registers, e.staticSmem + s.smem) } : e;
      }),
    };
  }
  return { date: new Date().toISOString(), command, config: c, ptxas, counts };
}

function table(rows: (string | number)[][]): string {
  return rows.map((r, i) => `| ${r.join(' | ')} |${i === 0 ? `\n|${r.map(() => '---').join('|')}|` : ''}`).join('\n');
}

export function renderReport(r: StaticReport): string {
  const c = r.config;
  const L: string[] = [];
  L.push(`# Static report (${r.date.slice(0, 10)})`, '', `Command: \`${r.command}\``, '');
  L.push(`Launch counts from the emulator's trace (kernels/emu/cuda_emu.h, LSTM_CUDA_EMU_TRACE). Training step: Embedding → ${c.layers}-layer Stack → Linear → cross-entropy → clipGradNorm → Adam at V=${c.V}, H=${c.H}, B=${c.B}, T=${c.T} (dry run: launches checked and counted, not executed). Generation: batch 1, 3 layers, H=${c.H}, ${c.chars} characters, token fed back on the device: as sample() does it (src/sample/device_loop.ts: batches of ${GENERATE_BATCH} steps, each batch one CUDA graph launch, the host reading each batch's tokens, log-probabilities and entropies at once), and the per-step path (one host-issued model.forward + sampleTokens per character). Graph launches and the kernels and copies that ran inside them are counted apart from the plain launches and copies.`, '');
  const rows: (string | number)[][] = [['what', 'kernel launches', 'graph launches', 'kernels in graphs', 'copies in graphs', 'memsets', 'H→D copies', 'D→H copies', 'D→D copies', 'host syncs']];
  const per = (k: string, div: number, label: string): void => {
    const x = r.counts[k];
    const f = (v: number): string => (div === 1 ? String(v) : (v / div).toFixed(2));
    rows.push([label, f(x.launches), f(x.graphLaunches), f(x.nodeLaunches), f(x.nodeCopies), f(x.memsets), f(x.memcpyHtoD), f(x.memcpyDtoH), f(x.memcpyDtoD), f(x.syncs)]);
  };
  per('train.step', 1, 'training step (total)');
  for (const p of ['forward', 'backward', 'clip', 'optimizer']) per(`train.${p}`, 1, `  of which ${p}`);
  per('layer', 1, `one LSTM layer module, forward + backward of sum(output) (T=${c.T})`);
  per('lstmop', 1, `lstmForward + lstmBackward (every gradient), T=${c.T}: persistent path (auto)`);
  per('lstmop.steps', 1, `lstmForward + lstmBackward, the same, per-step path (LSTM_CUDA_LSTM_PATH=steps)`);
  per('generate', c.chars, 'per generated character (sample(): device loop + graphs)');
  per('generate.step', c.chars, 'per generated character (per-step path)');
  L.push(table(rows), '');
  const g = r.counts.generate;
  L.push(`Targets (issue 14): ≤ 10 launches per layer per training step in the persistent path (now: ${r.counts.lstmop.launches} for one layer's lstmForward + lstmBackward, against ${r.counts['lstmop.steps'].launches} on the per-step path; the layer module adds its state copies and the loss's kernels), ≤ 1 graph launch per generated character (now: ${(g.graphLaunches / c.chars).toFixed(3)} graph launches and ${(g.launches / c.chars).toFixed(2)} other kernel launches per character; ${(g.nodeLaunches / c.chars).toFixed(2)} kernels per character run inside the graphs; the per-step path launches ${(r.counts['generate.step'].launches / c.chars).toFixed(2)}).`, '');
  L.push(`LSTM time-loop path (lstmPath(), kernels/lstm.cu): auto — ${r.counts.lstmop.path ?? '?'}; forced — ${r.counts['lstmop.steps'].path ?? '?'}. The persistent kernels (kernels/lstm_persistent.cuh) compute the recurrent product in exact fp32 FFMA (no TF32 there yet); the per-step path's recurrent GEMMs and both paths' input and weight GEMMs use TF32 in this math mode.`, '');
  L.push('Launches by kernel, lstmForward + lstmBackward of one layer, persistent path:', '');
  L.push(table([['kernel', 'launches'], ...Object.entries(r.counts.lstmop.byKernel).sort((a, b) => b[1] - a[1])]), '');
  L.push('Launches by kernel, one training step:', '');
  L.push(table([['kernel', 'launches'], ...Object.entries(r.counts['train.step'].byKernel).sort((a, b) => b[1] - a[1])]), '');
  L.push('Launches by kernel (inside the graphs), per generated character:', '');
  L.push(table([['kernel', 'launches'], ...Object.entries(r.counts.generate.byKernel).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, (v / c.chars).toFixed(2)])]), '');
  if ('skip' in r.ptxas) {
    L.push(`ptxas: SKIP (${r.ptxas.skip})`);
  } else {
    L.push(`ptxas -v for ${r.ptxas.arch} (nvcc -O3), occupancy on an H100 SXM at the block size and dynamic shared memory the emulator saw (— : not launched in the runs above):`, '');
    const spills = r.ptxas.entries.filter((e) => e.spillStores + e.spillLoads > 0);
    L.push(table([['file', 'kernel', 'registers', 'spill st/ld (B)', 'stack (B)', 'static smem (B)', 'threads', 'dyn smem (B)', 'blocks/SM', 'occupancy', 'limited by'],
      ...r.ptxas.entries.map((e) => [e.file, `\`${e.kernel.replace(/\|/g, '\\|')}\``, e.registers, `${e.spillStores}/${e.spillLoads}`, e.stackFrame, e.staticSmem,
        e.threads ?? '—', e.dynSmem ?? '—', e.blocksPerSm ?? '—', e.occupancy === undefined ? '—' : `${Math.round(e.occupancy * 100)}%`, e.limit ?? '—'])]), '');
    L.push(`Kernels that spill: ${spills.length === 0 ? 'none' : spills.map((e) => `\`${e.kernel}\` (${e.spillStores}/${e.spillLoads} B)`).join(', ')}.`);
  }
  return `${L.join('\n')}\n`;
}

const FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print the raw figures as one JSON object instead of the report' },
  out: { type: 'string', help: 'write the report to OUT.md and the raw figures to OUT.json' },
  'skip-ptxas': { type: 'boolean', help: 'launch counts only (no nvcc)' },
  small: { type: 'boolean', help: 'tiny model sizes (tests)' },
  child: { type: 'string', help: '(internal) run one counted workload' },
  config: { type: 'string', help: '(internal) the workload config, JSON' },
  trace: { type: 'string', help: '(internal) the trace file' },
};
const USAGE = 'usage: node build/bench/static.js [--json] [--out bench/results/static] [--skip-ptxas] [--small]';

export function main(argv: string[]): number {
  const parsed = parseFlags(argv, FLAGS, USAGE);
  if (!parsed) return 0;
  const v = parsed.values;
  if (typeof v.child === 'string') {
    child(v.child, JSON.parse(String(v.config)) as CountConfig, String(v.trace));
    return 0;
  }
  const cfg = v.small === true ? SMALL_COUNT : STANDARD_COUNT;
  const command = `node build/bench/static.js ${argv.join(' ')}`.trim();
  const report = buildReport(cfg, v['skip-ptxas'] === true, command);
  if (typeof v.out === 'string') {
    writeFileSync(`${v.out}.json`, `${JSON.stringify(report, null, 1)}\n`);
    writeFileSync(`${v.out}.md`, renderReport(report));
  }
  console.log(v.json === true ? JSON.stringify(report) : renderReport(report));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
