// `lstm-cuda sample DIR`: load a run directory's checkpoint (any device) and generate text from a prime,
// streaming each character to stdout as it is drawn; the log-probability and mean entropy go to stderr,
// or everything (per token too) to stdout as JSON with --json.
import { parseFlags, type FlagSpec } from './flags.js';
import { UsageError } from './usage_error.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/checkpoint.js';
import { sample, type SampleTextResult } from '../sample/sample.js';
import { beamSearch } from '../sample/beam.js';
import { isDeviceName } from '../device.js';
import type { DataMode } from '../text/corpus.js';

const USAGE = 'usage: lstm-cuda sample DIR [--prime TEXT] [--length N] [--temperature T] [--top-k K] [--top-p P] [--count N] [--seed N] [--beam K] [--raw-bytes] [--json] [--device D]';

/** the draw's flags, shared with `chat` */
export const DRAW_FLAGS: Record<string, FlagSpec> = {
  temperature: { type: 'number', metavar: 'T', help: 'softmax temperature; 0 = greedy', default: 0.8, min: 0 },
  'top-k': { type: 'integer', metavar: 'K', help: 'sample among the K most probable tokens (0 = all)', default: 0, min: 0 },
  'top-p': { type: 'number', metavar: 'P', help: 'nucleus sampling: smallest set with this much probability (1 = all)', default: 1, min: 0.000001, max: 1 },
  seed: { type: 'integer', help: 'random seed (default: random)', min: 0, max: 4294967295 },
  'raw-bytes': { type: 'boolean', help: 'byte models: draw any byte, even one that makes invalid UTF-8 (default: valid text only)' },
  device: { type: 'string', help: 'device (default: cuda when present, else cpu)', choices: ['cpu', 'cuda', 'ref', 'emu'] },
};

const SPEC: Record<string, FlagSpec> = {
  prime: { type: 'string', help: 'text to start from (characters not in the vocabulary are skipped with a warning)', default: '' },
  length: { type: 'integer', help: 'characters (tokens) to generate at most', default: 300, min: 0 },
  count: { type: 'integer', help: 'number of samples', default: 1, min: 1 },
  beam: { type: 'integer', help: 'beam search: the K most probable continuations (length-normalised), with log-probabilities; 1 = greedy', min: 1, max: 64 },
  json: { type: 'boolean', help: 'print JSON (per-token token, char, logp, entropy and totals) instead of text' },
  ...DRAW_FLAGS,
};

/** Loads the one run directory named by the positionals for generation on --device (checked), stdout closing quietly on EPIPE. */
export function loadForGeneration(positionals: string[], device: string | undefined, usage: string): LoadedCheckpoint {
  if (positionals.length !== 1) throw new UsageError(`expected one run directory, got ${positionals.length ? positionals.map((p) => `'${p}'`).join(' ') : 'none'}\n${usage}`);
  const dir = positionals[0]!;
  if (device !== undefined && !isDeviceName(device)) throw new UsageError(`--device: unknown device '${device}'`);
  const ckpt = loadCheckpoint(dir, { device });
  // `lstm-cuda sample … | head`: a closed pipe ends the command quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
  return ckpt;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, SPEC, USAGE);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const ckpt = loadForGeneration(positionals, f.device as string | undefined, USAGE);
  const json = !!f.json;
  const count = f.count as number;
  const baseSeed = f.seed !== undefined ? (f.seed as number) : Math.floor(Math.random() * 2 ** 32);
  const mode: DataMode = ckpt.config.mode;
  const prime = f.prime as string;
  const rawBytes = !!f['raw-bytes'];
  // the prime as the model reads it (characters it never saw are skipped), echoed after sample() has
  // warned about them, so the warning never lands inside the streamed line
  const primeRead = ckpt.vocab.decode(ckpt.vocab.encode(prime).ids);
  if (f.beam !== undefined) {
    const { beams } = beamSearch(ckpt.model, ckpt.vocab, {
      prime, beam: f.beam as number, maxLength: f.length as number, mode, rawBytes, onWarning: (m) => console.error(m),
    });
    if (json) {
      process.stdout.write(JSON.stringify(beams.map((b) => ({ prime, text: b.text, stopped: b.stopped, logProb: b.logProb, score: b.score, tokens: b.tokens.map((token, i) => ({ token, logp: b.logps[i] })) }))) + '\n');
    } else {
      beams.forEach((b, i) => {
        process.stdout.write(`${i ? '\n' : ''}${primeRead}${b.text}\n`);
        console.error(`[beam ${i + 1}/${beams.length}] ${b.tokens.length} tokens${b.stopped ? ' (ended at STOP)' : ''}, log-probability ${b.logProb.toFixed(3)} nats, ${b.score.toFixed(4)} per token`);
      });
    }
    ckpt.model.dispose();
    return 0;
  }
  const results: (SampleTextResult & { seed: number })[] = [];
  for (let i = 0; i < count; i++) {
    const seed = (baseSeed + i) >>> 0;
    let streamed = '';
    let echoed = json;
    const echoPrime = () => {
      if (echoed) return;
      echoed = true;
      process.stdout.write((count > 1 && i > 0 ? '\n' : '') + primeRead);
    };
    const r = sample(ckpt.model, ckpt.vocab, {
      prime, maxLength: f.length as number, temperature: f.temperature as number,
      topK: f['top-k'] as number, topP: f['top-p'] as number, seed, mode, rawBytes,
      onWarning: (m) => { if (i === 0) console.error(m); },
      onToken: json ? undefined : (t) => { echoPrime(); if (t.char) { process.stdout.write(t.char); streamed += t.char; } },
    });
    if (!json) {
      echoPrime();
      process.stdout.write(r.text.slice(streamed.length) + '\n');
      console.error(`[sample ${i + 1}/${count}] seed ${seed}, ${r.tokens.length} tokens${r.stopped ? ' (ended at STOP)' : ''}, log-probability ${r.logProb.toFixed(3)} nats, mean entropy ${r.entropy.toFixed(3)} nats`);
    }
    results.push({ ...r, seed });
  }
  if (json) {
    const out = results.map((r) => ({
      seed: r.seed, prime, text: r.text, stopped: r.stopped, skipped: r.skipped,
      logProb: r.logProb, entropy: r.entropy,
      tokens: r.perToken.map((t) => ({ token: t.token, char: t.char, logp: t.logp, entropy: t.entropy })),
    }));
    process.stdout.write(JSON.stringify(count === 1 ? out[0] : out) + '\n');
  }
  ckpt.model.dispose();
  return 0;
}
