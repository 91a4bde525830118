// The benchmark runner: `npm run bench -- --device cuda --json` runs every benchmark of bench/*.bench.ts
// on one backend and prints one line per measurement (JSON lines with --json, for bench/compare.ts; else
// a readable line each). Remarks and the device line go to stderr, so that stdout stays JSON lines only.
// A benchmark whose correctness check fails is reported and the others still run; the exit code is then 1.
//   --device ref|emu|cuda   backend (default: the default device)
//   --quick                 tiny sizes, few repeats (ref, emu, CI): checks the plumbing, measures nothing
//   --only NAME[,NAME]      gemm, lstm, softmax_xent, sample, train_step, generate
//   --repeats N, --warmup N timed samples (default 25 on cuda, 5 elsewhere, 3 with --quick) and untimed calls
import { pathToFileURL } from 'node:url';
import type { DeviceName } from '../src/backend.js';
import { defaultDevice, getBackend } from '../src/device.js';
import { parseFlags, type FlagSpec } from '../src/cli/flags.js';
import { UsageError } from '../src/cli/usage_error.js';
import type { BenchContext, BenchLine } from './timing.js';
import { gemmBench } from './gemm.bench.js';
import { lstmBench } from './lstm.bench.js';
import { softmaxXentBench } from './softmax_xent.bench.js';
import { sampleBench } from './sample.bench.js';
import { trainStepBench } from './train_step.bench.js';
import { generateBench } from './generate.bench.js';

/** Every benchmark, in the order they run (cheapest first, so that a cut-off run keeps the most). */
export const BENCHES: Record<string, (ctx: BenchContext) => void> = {
  gemm: gemmBench,
  lstm: lstmBench,
  softmax_xent: softmaxXentBench,
  sample: sampleBench,
  train_step: trainStepBench,
  generate: generateBench,
};

const FLAGS: Record<string, FlagSpec> = {
  device: { type: 'string', help: 'backend (default: the default device)', choices: ['cpu', 'ref', 'emu', 'cuda'] },
  json: { type: 'boolean', help: 'print JSON lines only (one per measurement)' },
  quick: { type: 'boolean', help: 'tiny sizes and few repeats (ref, emu, CI)' },
  only: { type: 'string', help: `comma-separated benchmarks: ${Object.keys(BENCHES).join(', ')}` },
  repeats: { type: 'integer', help: 'timed samples per measurement (default 25 on cuda, 5 elsewhere, 3 with --quick)', min: 1 },
  warmup: { type: 'integer', help: 'untimed calls before timing (default 5 on cuda, 2 elsewhere, 1 with --quick)', min: 0 },
};

const USAGE = 'usage: npm run bench -- [--device ref|emu|cuda] [--json] [--quick] [--only NAME[,NAME]] [--repeats N]';

function describe(line: BenchLine): string {
  const cfg = Object.entries(line.config).map(([k, v]) => `${k}=${v}`).join(' ');
  const t = (x: number): string => x.toPrecision(4);
  return `${line.bench.padEnd(13)} ${cfg.padEnd(48)} median ${t(line.median_ms)} ms (p10 ${t(line.p10_ms)}, p90 ${t(line.p90_ms)}; ` +
    `${line.repeats}×${line.inner})  ${t(line.throughput)} ${line.unit}`;
}

/** Runs the benchmarks argv asks for; returns the process exit code. */
export function main(argv: string[]): number {
  const parsed = parseFlags(argv, FLAGS, USAGE);
  if (!parsed) return 0;
  const v = parsed.values;
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n${USAGE}`);
  const names = v.only === undefined ? Object.keys(BENCHES) : String(v.only).split(',').map((s) => s.trim()).filter((s) => s);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length || names.length === 0) {
    throw new UsageError(`--only: unknown benchmark '${unknown[0] ?? ''}'; expected a comma-separated list of ${Object.keys(BENCHES).join(', ')}`);
  }
  const device = (v.device as DeviceName | undefined) ?? defaultDevice();
  let be;
  try {
    be = getBackend(device);
  } catch (e) {
    throw new UsageError(`--device ${device}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
  const quick = v.quick === true;
  const onGpu = device === 'cuda';
  const json = v.json === true;
  const ctx: BenchContext = {
    be,
    quick,
    repeats: (v.repeats as number | undefined) ?? (quick ? 3 : onGpu ? 25 : 5),
    warmup: (v.warmup as number | undefined) ?? (quick ? 1 : onGpu ? 5 : 2),
    minSampleMs: quick ? 0 : 2,
    flushBytes: onGpu && !quick ? 128 * 2 ** 20 : 0,
    emit: (line) => console.log(json ? JSON.stringify(line) : describe(line)),
    note: (msg) => console.error(`note: ${msg}`),
  };
  console.error(`bench: ${be.name} on ${be.deviceName}${quick ? ' (--quick: tiny sizes, not a measurement)' : ''}`);
  if (!onGpu && !quick) ctx.note(`the standard sizes on ${be.name} take a long time; --quick runs tiny ones`);
  const failed: string[] = [];
  for (const name of names) {
    try {
      BENCHES[name](ctx);
    } catch (e) {
      failed.push(name);
      console.error(`bench ${name} FAILED: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const leaked = be.memory();
  if (failed.length) console.error(`bench: ${failed.length} benchmark(s) failed: ${failed.join(', ')}`);
  console.error(`bench: done; ${leaked.liveCount} storages (${leaked.liveBytes} B) still live on ${be.name}`);
  return failed.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      process.exitCode = e.exitCode;
    } else {
      throw e;
    }
  }
}
