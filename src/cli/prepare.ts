// `lstm-cuda prepare`: turns a Messenger / WhatsApp / Telegram export (file, directory or .zip) into
// training text of only your own messages, one per line, in time order, with a summary on stderr; with
// --turns, whole conversations with speaker markers (src/chat/turns.ts).
// Without --me it lists the senders (most messages first) so you can pick your name.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { writeFileAtomic } from '../atomic_write.js';
import { nearestName, parseFlags, type FlagSpec } from './flags.js';
import { UsageError } from './usage_error.js';
import { ExportError, FORMAT_CHOICES, FormatChoice, readExport, selectMessages, senderCounts } from '../prepare/index.js';
import type { Selection } from '../prepare/index.js';
import { selectTurns } from '../prepare/turns.js';
import { formatTurns } from '../chat/turns.js';

/** What a user may type for a format: the names, in any case, and facebook / fb for Messenger (Facebook's export). */
const FORMAT_NAMES: Record<string, FormatChoice> = {
  ...Object.fromEntries(FORMAT_CHOICES.map((f) => [f, f])), facebook: 'messenger', fb: 'messenger',
};
const FORMATS_LINE = 'auto | messenger (or facebook, fb) | whatsapp | telegram';

/** The format a typed name means, or undefined. */
export function formatNamed(name: string): FormatChoice | undefined {
  return Object.hasOwn(FORMAT_NAMES, name.toLowerCase()) ? FORMAT_NAMES[name.toLowerCase()] : undefined;
}

const USAGE = 'usage: lstm-cuda prepare [<format>] <export>... [--me "Your Name"]... [--turns] [--out FILE]\n' +
  `  <format>: ${FORMATS_LINE}; <export>: a file, a directory or a .zip`;

const SPEC: Record<string, FlagSpec> = {
  me: { type: 'string', metavar: 'NAME', multiple: true, help: 'your sender name; repeat for old names (exact after NFC+trim, else case-insensitive); omit to list the senders' },
  out: { type: 'string', metavar: 'FILE', short: 'o', help: 'output text file, written atomically (default: stdout)' },
  format: { type: 'string', metavar: 'FORMAT', help: `export format: ${FORMATS_LINE} (default auto, or the positional <format>)` },
  'min-chars': { type: 'integer', min: 1, default: 1, help: 'drop messages shorter than N characters' },
  'drop-links': { type: 'boolean', help: 'drop messages that contain a URL (http://, https://, www.)' },
  since: { type: 'string', metavar: 'DATE', help: 'keep messages from this date on (YYYY-MM-DD local, inclusive, or an ISO date-time)' },
  until: { type: 'string', metavar: 'DATE', help: 'keep messages up to this date (YYYY-MM-DD local, inclusive, or an ISO date-time)' },
  newline: { type: 'string', help: "what replaces line breaks inside a message (default a space; e.g. ' / ' or ' ⏎ ')" },
  turns: { type: 'boolean', help: "whole conversations: every message on its own line after 'me: ' or 'them: ', conversations separated by an empty line (train then counts the loss on your lines only)" },
  'keep-names': { type: 'boolean', help: "with --turns: the others' names as their markers instead of 'them'" },
  gap: { type: 'number', metavar: 'HOURS', min: 0, default: 6, help: 'with --turns: hours of silence that start a new conversation (0 = threads only)' },
  'date-order': { type: 'string', choices: ['auto', 'dmy', 'mdy'], default: 'auto', help: 'WhatsApp day/month order' },
  force: { type: 'boolean', help: 'replace an existing --out file' },
};

/** Parses a --since/--until value to epoch ms (a bare date: start of that local day, or its end for --until). */
export function parseDateFlag(value: string, flag: 'since' | 'until'): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  let t: number;
  if (d) {
    const [y, m, day] = [+d[1], +d[2], +d[3]];
    const start = new Date(y, m - 1, day);
    t = start.getFullYear() === y && start.getMonth() === m - 1 && start.getDate() === day
      ? (flag === 'since' ? start.getTime() : new Date(y, m - 1, day + 1).getTime() - 1) : NaN;
  } else {
    t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  }
  if (Number.isNaN(t)) throw new UsageError(`--${flag} expects an ISO date like 2023-12-31 (or 2023-12-31T21:04), got '${value}'`);
  return t;
}

const localDate = (t: number) => {
  const d = new Date(t);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

/**
 * Checks --out before any reading: its directory exists, it is not a directory, it is none of the inputs
 * (nor a file inside an input directory), and an existing file is only replaced with --force.
 */
function checkOutput(path: string, inputs: string[], force: boolean): void {
  const dir = dirname(path) || '.';
  if (!existsSync(dir)) throw new UsageError(`--out ${path}: directory '${dir}' does not exist`, 1);
  const exists = existsSync(path);
  if (exists && statSync(path).isDirectory()) throw new UsageError(`--out ${path}: is a directory, expected a file name`, 1);
  const real = (p: string) => { try { return realpathSync(p); } catch { return resolve(p); } };
  const target = exists ? real(path) : resolve(real(dir), path.slice(path.lastIndexOf('/') + 1));
  for (const input of inputs) {
    const r = real(input);
    const rel = relative(r, target);
    if (rel === '' || (existsSync(r) && statSync(r).isDirectory() && exists && !rel.startsWith('..') && !isAbsolute(rel))) {
      throw new UsageError(`--out ${path} is ${rel === '' ? 'the input' : 'a file inside the input directory'} '${input}'; writing it would destroy the export. Choose another --out`, 1);
    }
  }
  if (exists && !force) throw new UsageError(`--out ${path} already exists; replace it with --force, or choose another name`, 1);
}

/** Writes the output through the shared atomic writer (temp file in the same directory + rename). */
function writeOutput(path: string, text: string): void {
  try {
    writeFileAtomic(path, text);
  } catch (e) {
    throw new UsageError(`--out ${path}: cannot write (${(e as Error).message})`, 1);
  }
}

function summary(sel: Selection, out: string | undefined): string[] {
  const lines: string[] = [];
  const who = sel.matched.map((n) => `'${n}'`).join(', ');
  lines.push(`kept ${sel.lines.length} message${sel.lines.length === 1 ? '' : 's'} of ${who}, ${sel.characters} characters` +
    (sel.lines.length ? `, ${localDate(sel.first)} to ${localDate(sel.last)}` : ''));
  const skipped = Object.entries(sel.skipped).sort((a, b) => b[1] - a[1]);
  const total = skipped.reduce((s, [, n]) => s + n, 0);
  lines.push(`skipped ${total}${total ? `: ${skipped.map(([r, n]) => `${r} ${n}`).join(', ')}` : ''}`);
  if (out !== undefined) lines.push(`wrote ${out}`);
  return lines;
}

/** Writes to stdout; a reader that went away (`| head`) is not an error. */
let stdoutGuarded = false;
function writeStdout(text: string): void {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') console.error(`lstm-cuda: stdout: ${e.message}`);
    });
  }
  process.stdout.write(text);
}

export async function run(argv: string[]): Promise<number> {
  // argv: the arguments after `prepare`
  const parsed = parseFlags(argv, SPEC, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const flagFormat = values.format as string | undefined;
  let format = flagFormat !== undefined ? formatNamed(flagFormat) : undefined;
  if (flagFormat !== undefined && format === undefined) {
    const near = nearestName(flagFormat.toLowerCase(), Object.keys(FORMAT_NAMES));
    throw new UsageError(`--format must be one of ${FORMATS_LINE}, got '${flagFormat}'${near ? ` (did you mean ${near}?)` : ''}`);
  }
  let paths = positionals;
  const first = positionals[0];
  if (first !== undefined && formatNamed(first) !== undefined) {
    if (format !== undefined && format !== formatNamed(first)) {
      throw new UsageError(`format given twice: '${first}' and --format ${flagFormat}`);
    }
    format = formatNamed(first);
    paths = positionals.slice(1);
  } else if (first !== undefined && !existsSync(first)) {
    // neither a format nor a path: say which formats exist (exit 2 when more arguments follow: it was meant as one)
    const near = nearestName(first.toLowerCase(), Object.keys(FORMAT_NAMES));
    throw new UsageError(`${first}: no such file or directory, and not a format name (formats: ${FORMATS_LINE})` +
      `${near ? `; did you mean ${near}?` : ''}`, positionals.length > 1 ? 2 : 1);
  }
  if (paths.length === 0) throw new UsageError(`missing <export> path\n${USAGE}`);
  const newline = (values.newline as string | undefined) ?? ' ';
  if (/[\r\n]/.test(newline)) throw new UsageError('--newline must not contain a line break: the output has one message per line');
  const since = values.since !== undefined ? parseDateFlag(values.since as string, 'since') : undefined;
  const until = values.until !== undefined ? parseDateFlag(values.until as string, 'until') : undefined;
  if (since !== undefined && until !== undefined && since > until) {
    throw new UsageError(`--since ${values.since} is after --until ${values.until}`);
  }
  const out = values.out as string | undefined;
  const me = (values.me as string[] | undefined) ?? [];
  if (out !== undefined && me.length > 0) checkOutput(out, paths, values.force === true);
  if (me.some((m) => !m.trim())) throw new UsageError('--me expects a name, got an empty string');

  try {
    const read = readExport(paths, format ?? 'auto', values['date-order'] as 'auto' | 'dmy' | 'mdy');
    const formats = Object.entries(read.filesRead).filter(([, n]) => n > 0).map(([f, n]) => `${f} ${n}`).join(', ');
    const n = read.conversations.length;
    console.error(`prepare: read ${n} conversation${n === 1 ? '' : 's'} (files: ${formats}${read.filesIgnored ? `; ${read.filesIgnored} other files ignored` : ''})`);
    for (const c of read.conversations) if (c.dateOrder) console.error(`prepare: ${c.source}: ${c.dateOrder}`);

    if (me.length === 0) {
      const counts = senderCounts(read.conversations);
      const width = String(counts[0]?.count ?? 0).length;
      writeStdout(counts.map((s) => `${String(s.count).padStart(width)}  ${s.name}\n`).join(''));
      console.error(`prepare: ${counts.length} sender${counts.length === 1 ? '' : 's'}; pick yours with --me "NAME" (repeat --me for old names)`);
      return 0;
    }

    if (values.turns) {
      const t = selectTurns(read.conversations, {
        me, since, until, newline, keepNames: values['keep-names'] === true, gapHours: values.gap as number,
      });
      for (const c of t.caseMatched) console.error(`prepare: --me '${c.me}' matched ${c.names.map((x) => `'${x}'`).join(', ')} ignoring case`);
      if (t.unmatched.length) console.error(`prepare: warning: --me ${t.unmatched.map((x) => `'${x}'`).join(', ')} matched nobody`);
      if (t.conversations.length === 0) throw new ExportError('no conversation with a message of yours left to write; nothing written');
      const text = formatTurns(t.conversations);
      if (out !== undefined) writeOutput(out, text);
      else writeStdout(text);
      const skippedList = Object.entries(t.skipped).sort((a, b) => b[1] - a[1]);
      console.error(`prepare: kept ${t.conversations.length} conversation${t.conversations.length === 1 ? '' : 's'}: ${t.mine} messages of ${t.matched.map((n) => `'${n}'`).join(', ')} (${t.myCharacters} characters, what training learns) and ${t.others} of the others (context)`);
      console.error(`prepare: skipped ${skippedList.reduce((a, [, n]) => a + n, 0)}${skippedList.length ? `: ${skippedList.map(([r, n]) => `${r} ${n}`).join(', ')}` : ''}`);
      if (out !== undefined) console.error(`prepare: wrote ${out}`);
      return 0;
    }

    const sel = selectMessages(read.conversations, {
      me, minChars: values['min-chars'] as number, dropLinks: values['drop-links'] === true, since, until, newline,
    });
    for (const c of sel.caseMatched) console.error(`prepare: --me '${c.me}' matched ${c.names.map((x) => `'${x}'`).join(', ')} ignoring case`);
    if (sel.unmatched.length) console.error(`prepare: warning: --me ${sel.unmatched.map((x) => `'${x}'`).join(', ')} matched nobody`);
    if (sel.lines.length === 0) {
      throw new ExportError(`no messages left to write (${summary(sel, undefined).join('; ')}); nothing written`);
    }
    const text = sel.lines.join('\n') + '\n';
    if (out !== undefined) writeOutput(out, text);
    else writeStdout(text);
    for (const line of summary(sel, out)) console.error(`prepare: ${line}`);
    return 0;
  } catch (e) {
    if (e instanceof ExportError) throw new UsageError(e.message, 1);
    throw e;
  }
}
