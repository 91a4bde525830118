// The benchmark runner's plumbing: `node build/bench/run.js --quick --json` on ref and on emu (tiny sizes)
// prints only JSON lines, one per measurement of every benchmark, each with the fields bench/compare.ts
// and the results files rely on and positive, ordered times — structure only, never speed. Also: bad
// flags are clear errors, bench/compare joins our lines with torch_reference.py's by config, and
// bench/export_reference writes what torch_reference.py --check-model reads.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNativeBackend } from '../src/native.js';
import { refBackend } from '../src/cpu/index.js';
import { compareTable, joinKey, parseLines, type ResultLine } from '../bench/compare.js';
import { REFERENCE_MODEL, exportReference } from '../bench/export_reference.js';
import { readSafetensors } from '../src/checkpoint/safetensors.js';

const RUN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'run.js');
const EXPECTED_BENCHES = ['gemm', 'bandwidth', 'lstm_gates', 'lstm_layer', 'softmax_xent', 'sample', 'train_step', 'generate'];

function runBench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** Every problem with one JSON line of the runner (an empty list when it is well formed). */
function lineProblems(x: Record<string, unknown>, device: string): string[] {
  const bad: string[] = [];
  if (typeof x.bench !== 'string' || !x.bench) bad.push('bench');
  if (typeof x.config !== 'object' || x.config === null || Array.isArray(x.config) || Object.keys(x.config).length === 0) bad.push('config');
  if (x.backend !== device) bad.push(`backend ${String(x.backend)}`);
  if (typeof x.device !== 'string' || !x.device) bad.push('device');
  if (x.dtype !== 'float32') bad.push('dtype');
  for (const k of ['median_ms', 'p10_ms', 'p90_ms', 'min_ms', 'max_ms', 'throughput']) if (!positive(x[k])) bad.push(`${k} ${String(x[k])}`);
  for (const k of ['repeats', 'inner']) if (!(Number.isInteger(x[k]) && (x[k] as number) >= 1)) bad.push(`${k} ${String(x[k])}`);
  const [lo, p10, med, p90, hi] = ['min_ms', 'p10_ms', 'median_ms', 'p90_ms', 'max_ms'].map((k) => x[k] as number);
  if (!(lo <= p10 && p10 <= med && med <= p90 && p90 <= hi)) bad.push(`times out of order: ${lo} ${p10} ${med} ${p90} ${hi}`);
  if (typeof x.unit !== 'string' || !x.unit) bad.push('unit');
  return bad;
}

for (const device of ['ref', 'emu'] as const) {
  test(`bench runner --quick --json on ${device}: every line is a well-formed measurement`, (t) => {
    if (device === 'emu') {
      const r = loadNativeBackend('emu');
      if (!r.backend) {
        t.fail(`the emu addon must always be built and load: ${r.reason}`);
        t.end();
        return;
      }
    }
    const t0 = Date.now();
    const r = runBench(['--device', device, '--quick', '--json']);
    t.equal(r.status, 0, `exit status 0 (stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')})`);
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    const parsed: Record<string, unknown>[] = [];
    const notJson = lines.filter((l) => {
      try { parsed.push(JSON.parse(l) as Record<string, unknown>); return false; } catch { return true; }
    });
    t.deepEqual(notJson, [], 'stdout holds JSON lines only');
    const problems = parsed.map((x) => ({ line: `${String(x.bench)} ${JSON.stringify(x.config)}`, bad: lineProblems(x, device) })).filter((p) => p.bad.length);
    t.deepEqual(problems, [], `all ${parsed.length} lines have bench, config, backend, device, dtype, positive ordered times, repeats, throughput, unit`);
    const benches = new Set(parsed.map((x) => x.bench));
    t.deepEqual(EXPECTED_BENCHES.filter((b) => !benches.has(b)), [], `every benchmark reported (${[...benches].join(', ')})`);
    const keys = parsed.map((x) => joinKey(x as unknown as ResultLine));
    t.equal(new Set(keys).size, keys.length, 'no two lines share a (bench, config) key');
    t.comment(`${device}: ${parsed.length} lines in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    t.end();
  });
}

test('bench runner: --only selects benchmarks; bad flags are clear errors', (t) => {
  const only = runBench(['--device', 'ref', '--quick', '--json', '--only', 'softmax_xent,gemm']);
  t.equal(only.status, 0, '--only softmax_xent,gemm exits 0');
  const benches = new Set(only.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { bench: string }).bench));
  t.deepEqual([...benches].sort(), ['gemm', 'softmax_xent'], 'only those two benchmarks ran');
  const unknown = runBench(['--device', 'ref', '--only', 'gemm,nope']);
  t.equal(unknown.status, 2, '--only with an unknown name exits 2');
  t.match(unknown.stderr, /unknown benchmark 'nope'/, 'and names it');
  t.equal(unknown.stdout, '', 'and prints no measurement');
  const badDevice = runBench(['--device', 'gpu']);
  t.equal(badDevice.status, 2, '--device gpu exits 2');
  t.match(badDevice.stderr, /--device must be one of cpu, ref, emu, cuda/, 'and lists the devices');
  const badRepeats = runBench(['--repeats', '0']);
  t.match(badRepeats.stderr, /--repeats must be ≥ 1/, '--repeats 0 is refused');
  t.end();
});

test('bench/compare joins our lines with torch_reference.py lines by (bench, config)', (t) => {
  const ours: ResultLine[] = [
    { bench: 'train_step', config: { V: 256, D: 512, H: 512, B: 64, T: 128, layers: 2, optimizer: 'adam' }, throughput: 300000, unit: 'chars/s', backend: 'cuda', device: 'GPU' },
    { bench: 'gemm', config: { kind: 'recurrent', M: 4, N: 2048, K: 512, H: 512, B: 4, T: 128 }, throughput: 500, unit: 'GFLOP/s', backend: 'cuda', device: 'GPU' },
    { bench: 'bandwidth', config: { op: 'copy', bytes: 8 }, throughput: 3000, unit: 'GB/s', backend: 'cuda', device: 'GPU' },
    { bench: 'lstm_gates', config: { pass: 'forward', B: 64, H: 512, sets: 40 }, throughput: 1500, unit: 'GB/s', backend: 'cuda', device: 'GPU' },
  ];
  // torch prints its config keys in another order: the join must not depend on it
  const torchText = [
    JSON.stringify({ bench: 'train_step', config: { T: 128, B: 64, H: 512, D: 512, V: 256, layers: 2, optimizer: 'adam' }, impl: 'torch', tf32: false, median_ms: 1, throughput: 150000, unit: 'chars/s', device: 'GPU' }),
    JSON.stringify({ bench: 'train_step', config: { V: 256, D: 512, H: 512, B: 64, T: 128, layers: 2, optimizer: 'adam' }, impl: 'torch', tf32: true, median_ms: 1, throughput: 400000, unit: 'chars/s', device: 'GPU' }),
    JSON.stringify({ bench: 'generate', config: { V: 256, chars: 1000 }, impl: 'torch', tf32: false, median_ms: 1, throughput: 900, unit: 'chars/s', device: 'GPU' }),
    'not json',
  ].join('\n');
  const { lines: torch, skipped } = parseLines(torchText);
  t.equal(torch.length, 3, 'three torch lines parsed');
  t.equal(skipped, 1, 'the other line is counted as skipped');
  const table = compareTable(ours, torch);
  const row = (bench: string): string => table.split('\n').find((l) => l.startsWith(`| ${bench} |`)) ?? '';
  t.match(row('train_step'), /\| 300,000 chars\/s \| 150,000 chars\/s \| 400,000 chars\/s \| 2\.000× \| ≥ 1\.0×: met \|/, 'train_step: ours, fp32, TF32, ratio 2×, goal met');
  t.match(row('gemm'), /\| 500\.0 GFLOP\/s \| — \| — \| — \|/, 'gemm without a torch line shows dashes');
  t.match(row('lstm_gates'), /50\.00% of copy \| ≥ 70% of copy: NOT met/, 'gate kernels read against the copy bandwidth');
  t.match(row('generate'), /\| — \| 900\.0 chars\/s \|/, 'a torch-only config still gets a row');
  t.end();
});

test('bench/export_reference writes the files torch_reference.py --check-model reads', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-cuda-ref-'));
  try {
    const loss = exportReference(dir, 'ref', 5);
    const { vocabSize: V, embedDim: D, hiddenSize: H, numLayers: L, T, B } = REFERENCE_MODEL;
    const { tensors, metadata } = readSafetensors(join(dir, 'model.safetensors'));
    const config = JSON.parse(metadata['lstm_cuda.config'] ?? '{}') as Record<string, number>;
    t.deepEqual([config.vocabSize, config.embedDim, config.hiddenSize, config.numLayers], [V, D, H, L], 'config in the metadata');
    const names = Object.keys(tensors).sort();
    const expected = ['decoder.bias', 'decoder.weight', 'embedding.weight'];
    for (let l = 0; l < L; l++) expected.push(`lstm.bias_hh_l${l}`, `lstm.bias_ih_l${l}`, `lstm.weight_hh_l${l}`, `lstm.weight_ih_l${l}`);
    t.deepEqual(names, expected.sort(), 'PyTorch parameter names');
    t.deepEqual(tensors['lstm.weight_ih_l0']!.shape, [4 * H, D], 'weight_ih_l0 is [4H, D]');
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
      tokens: number[][]; targets: number[][]; ignore_index: number; loss: number; logits: number[]; grads: Record<string, number[]>;
    };
    t.deepEqual([ref.tokens.length, ref.tokens[0]!.length, ref.targets.length, ref.targets[0]!.length], [T, B, T, B], 'tokens and targets are [T][B]');
    t.ok(ref.targets.flat().includes(ref.ignore_index), 'some targets are the ignore index');
    t.equal(ref.logits.length, T * B * V, 'logits hold T·B·V values');
    t.equal(ref.loss, loss, 'the loss written is the one computed');
    t.ok(Number.isFinite(loss) && loss > 0, `the loss is positive and finite (${loss})`);
    t.deepEqual(Object.keys(ref.grads).sort(), names, 'a gradient for every parameter');
    t.ok(names.every((n) => ref.grads[n]!.length === tensors[n]!.data.length && ref.grads[n]!.some((g) => g !== 0)), 'each of the parameter\'s size, not all zero');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

// Event timing (Backend.recordEvent / elapsedMs, what bench/timing.ts times with): on every backend the
// time between two events brackets the work queued between them, never negative, never more than the
// host's wall clock around it; an event of another backend is refused.
for (const kind of ['ref', 'cpu', 'emu', 'cuda'] as const) {
  test(`${kind}: recordEvent/elapsedMs time the work between two events`, (t) => {
    const loaded = kind === 'ref' ? { backend: refBackend, reason: undefined } : loadNativeBackend(kind);
    const be = loaded.backend;
    if (!be) {
      if (kind === 'cuda') { t.comment(`SKIP cuda: ${loaded.reason}`); t.skip(`SKIP cuda: ${loaded.reason}`); t.end(); return; }
      t.fail(`the ${kind} addon must always be built and load: ${loaded.reason}`);
      t.end();
      return;
    }
    const n = 96;
    const a = be.upload(new Float32Array(n * n).fill(0.5)), c = be.alloc('float32', n * n);
    try {
      be.synchronize();
      const h0 = performance.now();
      const e0 = be.recordEvent();
      for (let r = 0; r < 20; r++) be.gemm({ transA: false, transB: false, M: n, N: n, K: n, alpha: 1, A: a, B: a, beta: 0, C: c });
      const e1 = be.recordEvent();
      const ms = be.elapsedMs(e0, e1);
      const wall = performance.now() - h0;
      t.ok(Number.isFinite(ms) && ms > 0, `20 GEMMs of ${n}³ take a positive device time (${ms.toFixed(3)} ms)`);
      t.ok(ms <= wall + 0.5, `no more than the host's wall clock around them (${wall.toFixed(3)} ms)`);
      t.equal(be.elapsedMs(e1, e1), 0, 'an event to itself: 0 ms');
      const other = kind === 'ref' ? loadNativeBackend('emu').backend : refBackend;
      if (other) t.throws(() => be.elapsedMs(other.recordEvent(), e1), /elapsedMs: .*(not an event|must be events)/, 'an event of another backend is refused');
    } finally {
      be.free(a);
      be.free(c);
    }
    t.end();
  });
}
