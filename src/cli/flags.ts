// Flag parsing shared by every subcommand: node:util parseArgs (strict: unknown flags are errors, with a
// "did you mean" for a near miss), negative numbers taken as values, numbers checked by name, --help
// printed from the same spec that parses.
import { parseArgs } from 'node:util';
import { UsageError } from './usage_error.js';

export interface FlagSpec {
  type: 'string' | 'boolean' | 'number' | 'integer';
  help: string;
  short?: string;
  default?: string | number | boolean;
  /** the value's name in --help (`--out DIR`); default N for integers, X for numbers, TEXT for strings */
  metavar?: string;
  /** may be given more than once (values collected into an array of strings) */
  multiple?: boolean;
  /** for numbers: inclusive bounds */
  min?: number;
  max?: number;
  /** for strings: the allowed values */
  choices?: readonly string[];
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

function metavar(s: FlagSpec): string {
  if (s.type === 'boolean') return '';
  if (s.choices) return ` ${s.choices.join('|')}`;
  return ` ${s.metavar ?? (s.type === 'integer' ? 'N' : s.type === 'number' ? 'X' : 'TEXT')}`;
}

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const def = s.default !== undefined && s.default !== '' && s.default !== false ? ` (default ${s.default})` : '';
    return `  --${name}${metavar(s)}`.padEnd(30) + ` ${s.help}${def}`;
  });
  return `${usage}\n\noptions:\n${rows.join('\n')}\n  --help                       show this help`;
}

/** Edit distance with adjacent transpositions (optimal string alignment): `--hiden` → `--hidden` is 1. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The name a mistyped one most likely meant (a flag, a choice, a command; leading dashes ignored): the only
 * name it is a prefix of (`--temp`), else the nearest by edit distance if that is at most 2 and under half
 * its length (`--hiden`, `--temprature`, `trian`).
 */
export function nearestName(unknown: string, names: readonly string[]): string | undefined {
  const u = unknown.replace(/^-+/, '').split('=')[0]!.toLowerCase();
  if (u.length === 0) return undefined;
  const prefixed = names.filter((n) => n.startsWith(u));
  if (u.length >= 2 && prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const dist = editDistance(u, n);
    if (dist < bestD) { best = n; bestD = dist; }
  }
  return bestD <= 2 && bestD < u.length / 2 ? best : undefined;
}

/** A number as a command-line value: -1, -0.5, -.5, -1e-3 (what `--lr -1` passes). */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/**
 * argv with `--flag -1` (and `-f -1`) rewritten to `--flag=-1` for flags that take a value: parseArgs calls a
 * value that starts with '-' ambiguous, but a negative number is a value (the range check then speaks).
 * Stops at `--`.
 */
function joinNegativeValues(argv: readonly string[], spec: Record<string, FlagSpec>): string[] {
  const takesValue = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) {
    if (s.type === 'boolean') continue;
    takesValue.set(`--${name}`, name);
    if (s.short) takesValue.set(`-${s.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { out.push(...argv.slice(i)); break; }
    const name = takesValue.get(a);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Parses argv against spec. Returns { values, positionals } or null when --help was asked for
 * (the help text has then been printed). Bad flags throw UsageError naming the flag.
 */
export function parseFlags(
  argv: string[],
  spec: Record<string, FlagSpec>,
  usage: string,
): { values: FlagValues; positionals: string[] } | null {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, s] of Object.entries(spec)) {
    options[name] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, spec), options, allowPositionals: true, strict: true });
  } catch (e) {
    let message = (e as Error).message.replace(/\. To specify a positional.*$/s, '');
    const unknown = /^Unknown option '(--[^']+)'/.exec(message)?.[1];
    const near = unknown !== undefined ? nearestName(unknown, Object.keys(options)) : undefined;
    if (near !== undefined) message += ` (did you mean --${near}?)`;
    throw new UsageError(`${message}\n${usage}\nRun with --help for the options.`);
  }
  if (parsed.values.help) {
    console.log(helpText(usage, spec));
    return null;
  }
  const values: FlagValues = {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = (parsed.values as Record<string, unknown>)[name];
    if (raw === undefined) { values[name] = s.default; continue; }
    if (s.multiple) { values[name] = raw as string[]; continue; }
    if (s.type === 'boolean') { values[name] = raw as boolean; continue; }
    const str = raw as string;
    if (s.type === 'number' || s.type === 'integer') {
      const v = Number(str);
      if (str.trim() === '' || !Number.isFinite(v) || (s.type === 'integer' && !Number.isInteger(v))) {
        throw new UsageError(`--${name} expects ${s.type === 'integer' ? 'an integer' : 'a number'}, got '${str}'`);
      }
      if (s.min !== undefined && v < s.min) throw new UsageError(`--${name} must be ≥ ${s.min}, got ${v}`);
      if (s.max !== undefined && v > s.max) throw new UsageError(`--${name} must be ≤ ${s.max}, got ${v}`);
      values[name] = v;
    } else {
      if (s.choices && !s.choices.includes(str)) {
        const near = nearestName(str, s.choices);
        throw new UsageError(`--${name} must be one of ${s.choices.join(', ')}, got '${str}'${near !== undefined ? ` (did you mean ${near}?)` : ''}`);
      }
      values[name] = str;
    }
  }
  return { values, positionals: parsed.positionals };
}
