// bench/compare: joins our benchmark JSON lines (bench/run.ts --json: lines with `backend`) with
// torch_reference.py's (lines with impl = "torch" and a `tf32` flag) on (bench, config) and prints a
// Markdown table: per config ours, PyTorch fp32, PyTorch TF32, the ratio ours / PyTorch fp32 (throughputs,
// so > 1 means we are faster), and issue 6's goal where there is one. The gate kernels have no PyTorch
// counterpart; their row shows the fraction of the copy bandwidth measured in the same run instead.
// Usage: node build/bench/compare.js FILE... (each FILE holds JSON lines of either kind; other lines are
// skipped with a count on stderr)
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../src/cli/usage_error.js';

export interface ResultLine {
  bench: string;
  config: Record<string, unknown>;
  throughput: number;
  unit: string;
  device?: string;
  backend?: string;
  impl?: string;
  tf32?: boolean;
  median_ms?: number;
}

/** Keys of `config` that describe how we measured, not what: left out of the join. */
const NOT_JOINED = new Set(['sets']);

/** The join key: the bench name and the config's identifying entries in sorted key order. */
export function joinKey(line: Pick<ResultLine, 'bench' | 'config'>): string {
  const entries = Object.entries(line.config).filter(([k]) => !NOT_JOINED.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${line.bench} ${entries.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`;
}

function isResultLine(x: unknown): x is ResultLine {
  const r = x as ResultLine;
  return typeof x === 'object' && x !== null && typeof r.bench === 'string' && typeof r.config === 'object' && r.config !== null &&
    typeof r.throughput === 'number' && typeof r.unit === 'string';
}

/** Parses JSON lines; returns the result lines and how many other lines there were. */
export function parseLines(text: string): { lines: ResultLine[]; skipped: number } {
  const lines: ResultLine[] = [];
  let skipped = 0;
  for (const raw of text.split('\n')) {
    const s = raw.trim();
    if (!s) continue;
    let x: unknown;
    try { x = JSON.parse(s); } catch { skipped++; continue; }
    if (isResultLine(x)) lines.push(x); else skipped++;
  }
  return { lines, skipped };
}

interface Goal { ratio: number; applies: (l: ResultLine) => boolean }

/** Issue 6's goals against PyTorch fp32 (the gate kernels' goal is against the copy bandwidth). */
const GOALS: Record<string, Goal> = {
  train_step: { ratio: 1.0, applies: (l) => Number(l.config.B) >= 64 },
  generate: { ratio: 3.0, applies: () => true },
  gemm: { ratio: 0.7, applies: () => true },
  lstm_gates: { ratio: 0.7, applies: () => true },
};

function fmt(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const s = Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(4);
  return unit ? `${s} ${unit}` : s;
}

function configText(l: ResultLine): string {
  return Object.entries(l.config).map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

/** The Markdown report for our lines and torch's. */
export function compareTable(ours: ResultLine[], torch: ResultLine[]): string {
  const fp32 = new Map<string, ResultLine>(), tf32 = new Map<string, ResultLine>();
  for (const l of torch) (l.tf32 ? tf32 : fp32).set(joinKey(l), l);
  const copy = ours.find((l) => l.bench === 'bandwidth');
  const rows: string[] = [];
  const seen = new Set<string>();
  for (const l of ours) {
    const key = joinKey(l);
    seen.add(key);
    const a = fp32.get(key), b = tf32.get(key);
    let ratio: number | undefined, ratioText = '—';
    if (a) { ratio = l.throughput / a.throughput; ratioText = `${fmt(ratio)}×`; }
    if (l.bench === 'lstm_gates' && copy) { ratio = l.throughput / copy.throughput; ratioText = `${fmt(100 * ratio)}% of copy`; }
    const goal = GOALS[l.bench];
    let goalText = '';
    if (goal && goal.applies(l)) {
      const target = l.bench === 'lstm_gates' ? `≥ ${100 * goal.ratio}% of copy` : `≥ ${goal.ratio.toFixed(1)}×`;
      goalText = ratio === undefined ? target : `${target}: ${ratio >= goal.ratio ? 'met' : 'NOT met'}`;
    }
    rows.push(`| ${l.bench} | ${configText(l)} | ${fmt(l.throughput, l.unit)} | ${fmt(a?.throughput, a?.unit)} | ${fmt(b?.throughput, b?.unit)} | ${ratioText} | ${goalText} |`);
  }
  for (const l of torch) {
    const key = joinKey(l);
    if (seen.has(key)) continue;
    seen.add(key);
    const a = fp32.get(key), b = tf32.get(key);
    rows.push(`| ${l.bench} | ${configText(l)} | — | ${fmt(a?.throughput, a?.unit)} | ${fmt(b?.throughput, b?.unit)} | — | |`);
  }
  const devices = (ls: ResultLine[]): string => [...new Set(ls.map((l) => l.device ?? '?'))].join('; ') || '—';
  return [
    `ours: ${devices(ours)}${ours[0]?.backend ? ` (backend ${ours[0].backend})` : ''}  `,
    `PyTorch: ${devices(torch)}`,
    '',
    '| bench | config | ours | PyTorch fp32 | PyTorch TF32 | ours / PyTorch fp32 | goal (issue 6) |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function main(argv: string[]): number {
  if (argv.length === 0 || argv.includes('--help')) {
    const usage = 'usage: node build/bench/compare.js OURS.jsonl TORCH.jsonl  (JSON lines of bench/run.ts --json and bench/torch_reference.py)';
    if (argv.length === 0) throw new UsageError(usage);
    console.log(usage);
    return 0;
  }
  const ours: ResultLine[] = [], torch: ResultLine[] = [];
  for (const file of argv) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`compare: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const { lines, skipped } = parseLines(text);
    if (skipped) console.error(`compare: ${file}: skipped ${skipped} line(s) that are not benchmark JSON`);
    for (const l of lines) (l.impl === 'torch' ? torch : ours).push(l);
  }
  if (ours.length === 0 && torch.length === 0) throw new UsageError(`compare: no benchmark lines in ${argv.join(', ')}`, 1);
  console.log(compareTable(ours, torch));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    process.exitCode = e.exitCode;
  }
}
