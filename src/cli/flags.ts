// Flag parsing shared by every subcommand: node:util parseArgs (strict: unknown flags are errors),
// numbers checked by name, --help printed from the same spec that parses.
import { parseArgs } from 'node:util';
import { UsageError } from './usage_error.js';

export interface FlagSpec {
  type: 'string' | 'boolean' | 'number' | 'integer';
  help: string;
  short?: string;
  default?: string | number | boolean;
  /** may be given more than once (values collected into an array of strings) */
  multiple?: boolean;
  /** for numbers: inclusive bounds */
  min?: number;
  max?: number;
  /** for strings: the allowed values */
  choices?: readonly string[];
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const arg = s.type === 'boolean' ? '' : s.choices ? ` ${s.choices.join('|')}` : ` ${s.type === 'string' ? 'S' : 'N'}`;
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    return `  --${name}${arg}`.padEnd(30) + ` ${s.help}${def}`;
  });
  return `${usage}\n\noptions:\n${rows.join('\n')}\n  --help                       show this help`;
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
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n${usage}\nRun with --help for the options.`);
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
        throw new UsageError(`--${name} must be one of ${s.choices.join(', ')}, got '${str}'`);
      }
      values[name] = str;
    }
  }
  return { values, positionals: parsed.positionals };
}
