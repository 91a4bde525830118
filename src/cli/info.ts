// `lstm-cuda info [--json]`: every backend (ref, cpu, emu, cuda) with its device line or the one-line reason it
// is unavailable, the default device and why, each available backend's allocator counters, and (emu, cuda)
// which LSTM time-loop path (persistent recurrent kernel or per-step) the standard layer sizes take.
import { defaultDevice, devices, getBackend } from '../device.js';
import type { DeviceName, MathMode, MemoryStats } from '../backend.js';
import { NativeBackend, addonPath, type NativeKind } from '../native.js';
import { parseFlags, type FlagSpec } from './flags.js';
import { UsageError } from './usage_error.js';
import { formatRunInfo, runInfo } from '../train/run_info.js';

const USAGE = 'usage: lstm-cuda info [RUN] [--json]   (no RUN: the backends; RUN: what the run directory holds)';
const FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print one JSON object instead of text' },
};

interface BackendReport {
  name: DeviceName;
  available: boolean;
  deviceName?: string;
  reason?: string;
  /** what the backend is, in a few words */
  kind: string;
  /** the addon file (cpu, emu, cuda) */
  addon?: string;
  memory?: MemoryStats & Record<string, number>;
  /** which GEMMs run on TF32 tensor cores (Backend.getMathMode) */
  mathMode?: MathMode;
  /** emu, cuda: the LSTM time loop's path (kernels/lstm.cu) at DESIGN.md's standard layer sizes */
  lstmPath?: Record<string, string>;
}

/** The standard layer sizes (DESIGN.md) whose LSTM time-loop path `info` reports. */
const LSTM_PATH_SIZES: readonly { B: number; H: number }[] = [{ B: 64, H: 512 }, { B: 128, H: 1024 }, { B: 4, H: 512 }];

const KINDS: Record<DeviceName, string> = {
  ref: 'TypeScript reference (float32/float64)',
  cpu: 'native CPU backend (C++, SIMD, threads)',
  emu: 'the CUDA kernels on the CUDA emulator',
  cuda: 'the CUDA kernels on an NVIDIA GPU',
};

interface InfoReport {
  backends: BackendReport[];
  default: { name?: DeviceName; why: string };
}

/** Why the default device is what it is (LSTM_CUDA_DEVICE, a CUDA device, or none). */
function defaultReason(backends: BackendReport[]): { name?: DeviceName; why: string } {
  const env = process.env.LSTM_CUDA_DEVICE;
  let name: DeviceName;
  try {
    name = defaultDevice();
  } catch (e) {
    return { why: `LSTM_CUDA_DEVICE=${env} cannot be used: ${(e as Error).message}` };
  }
  if (env !== undefined && env !== '') return { name, why: `set by LSTM_CUDA_DEVICE=${env}` };
  if (name === 'cuda') return { name, why: 'a CUDA device is present' };
  const cuda = backends.find((b) => b.name === 'cuda');
  const noCuda = `cuda is unavailable: ${cuda?.reason ?? 'unknown reason'}`;
  if (name === 'cpu') return { name, why: `${noCuda}; cpu is the native CPU backend` };
  const cpu = backends.find((b) => b.name === 'cpu');
  return { name, why: `${noCuda}; cpu is unavailable: ${cpu?.reason ?? 'unknown reason'}` };
}

export function collectInfo(): InfoReport {
  const backends: BackendReport[] = devices().map((d) => {
    const r: BackendReport = { ...d, kind: KINDS[d.name] };
    if (d.name !== 'ref') r.addon = addonPath(d.name as NativeKind);
    if (d.available) {
      const be = getBackend(d.name);
      r.memory = be.memory() as MemoryStats & Record<string, number>;
      r.mathMode = be.getMathMode();
      if (be instanceof NativeBackend && (d.name === 'emu' || d.name === 'cuda')) {
        r.lstmPath = Object.fromEntries(LSTM_PATH_SIZES.map(({ B, H }) => [`H=${H} B=${B}`, be.lstmPathPlan(B, H)]));
      }
    }
    return r;
  });
  return { backends, default: defaultReason(backends) };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatInfo(r: InfoReport): string {
  const lines: string[] = [];
  for (const b of r.backends) {
    lines.push(`${b.name.padEnd(5)} ${b.available ? 'available  ' : 'unavailable'}  ${b.available ? b.deviceName : b.reason}`);
    lines.push(`      ${b.kind}`);
    if (b.addon) lines.push(`      addon: ${b.addon}`);
    if (b.mathMode) lines.push(`      math: ${b.mathMode}${b.mathMode === 'fp32' ? ' (exact fp32 GEMMs)' : b.mathMode === 'lstm' ? ' (TF32 tensor cores for the LSTM layer\'s GEMMs)' : ' (TF32 tensor cores for every GEMM)'}`);
    if (b.memory) {
      const m = b.memory;
      const extra = Object.entries(m)
        .filter(([k]) => !['liveCount', 'liveBytes', 'cachedBytes'].includes(k))
        .map(([k, v]) => `${k} ${k.endsWith('Bytes') ? formatBytes(v) : v}`);
      lines.push(`      memory: live ${m.liveCount} (${formatBytes(m.liveBytes)}), cached ${formatBytes(m.cachedBytes)}${extra.length ? ', ' + extra.join(', ') : ''}`);
    }
    for (const [size, path] of Object.entries(b.lstmPath ?? {})) lines.push(`      lstm time loop at ${size}: ${path}`);
  }
  lines.push(`default device: ${r.default.name ?? '(none)'} — ${r.default.why}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, USAGE);
  if (parsed === null) return 0;
  if (parsed.positionals.length > 1) throw new UsageError(`info takes at most one run directory, got '${parsed.positionals.join(' ')}'\n${USAGE}`);
  if (parsed.positionals.length === 1) {
    const r = runInfo(parsed.positionals[0]!);
    console.log(parsed.values.json ? JSON.stringify(r, null, 2) : formatRunInfo(r));
    return 0;
  }
  const report = collectInfo();
  console.log(parsed.values.json ? JSON.stringify(report, null, 2) : formatInfo(report));
  return 0;
}
