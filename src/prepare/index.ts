// From conversations to training text: picks your own messages (by sender name), drops what is not text
// you wrote (attachments, system lines, calls, ... each counted by reason), applies the date / length /
// link filters, and cleans each message to one line (the `lines` data mode of the char-rnn), all merged
// in chronological order. Also the sender listing used when no name is given.
import { normaliseNewlines } from '../text/vocab.js';
import { ChatMessage, Conversation, ExportError, MessageKind } from './conversation.js';

export { readExport, FORMAT_CHOICES } from './detect.js';
export type { FormatChoice, ReadExport } from './detect.js';
export { ExportError } from './conversation.js';
export type { ChatMessage, Conversation, MessageKind } from './conversation.js';

export interface SelectOptions {
  /** your name(s) as given with --me (matched after NFC + trim; case-insensitively when nothing matches exactly) */
  me: string[];
  /** drop messages with fewer code points than this (after cleaning) */
  minChars: number;
  /** drop messages containing a URL */
  dropLinks: boolean;
  /** inclusive bounds in epoch ms */
  since?: number;
  until?: number;
  /** what replaces the line breaks inside a message (default one space) */
  newline: string;
}

export type SkipReason = Exclude<MessageKind, 'text'> | 'other senders' | 'no date' | 'before --since' | 'after --until' | 'link' | 'empty' | 'short';

export interface Selection {
  /** one cleaned message per entry, chronological */
  lines: string[];
  /** code points in `lines` (line breaks not counted) */
  characters: number;
  /** epoch ms of the first and last kept message (NaN when none) */
  first: number;
  last: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** the sender names your --me values matched */
  matched: string[];
  /** --me values that matched nobody (warned about when another one matched) */
  unmatched: string[];
  /** --me values that matched only case-insensitively, with what they matched */
  caseMatched: { me: string; names: string[] }[];
}

const normName = (s: string) => s.normalize('NFC').trim();
const URL_RE = /\b(?:https?:\/\/|www\.)\S+/i;
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Cleans one message to a single line: NFC, CRLF → LF, direction marks and control characters removed,
 * no-break spaces and tabs as spaces, each line trimmed, blank lines dropped, the remaining lines joined
 * with `newline`, runs of spaces collapsed.
 */
export function cleanMessage(text: string, newline = ' '): string {
  const lines = normaliseNewlines(text.normalize('NFC'))
    .replace(INVISIBLE, '')
    .replace(/[\t\u00a0\u202f\u2007]/g, ' ')
    .split('\n')
    .map((l) => l.replace(/ {2,}/g, ' ').trim())
    .filter(Boolean);
  return lines.join(newline);
}

/** Senders with their number of messages (system lines excluded), most first, ties by name. */
export function senderCounts(conversations: Conversation[]): { name: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const c of conversations) {
    for (const m of c.messages) {
      if (m.kind === 'system' || m.sender === null) continue;
      const n = normName(m.sender);
      if (n) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  }
  return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Which sender names the --me values pick (see SelectOptions.me). */
export function matchSenders(me: string[], senders: string[]): Pick<Selection, 'matched' | 'unmatched' | 'caseMatched'> {
  const matched = new Set<string>();
  const unmatched: string[] = [];
  const caseMatched: { me: string; names: string[] }[] = [];
  for (const raw of me) {
    const want = normName(raw);
    if (senders.includes(want)) { matched.add(want); continue; }
    const lower = want.toLowerCase();
    const names = senders.filter((s) => s.toLowerCase() === lower);
    if (names.length > 0) { names.forEach((n) => matched.add(n)); caseMatched.push({ me: raw, names }); }
    else unmatched.push(raw);
  }
  return { matched: [...matched], unmatched, caseMatched };
}

/** Lists senders for an error message: the most active first, at most `limit`. */
export function describeSenders(conversations: Conversation[], limit = 10): string {
  const counts = senderCounts(conversations);
  if (counts.length === 0) return 'nobody (no messages with a sender)';
  const shown = counts.slice(0, limit).map((s) => `'${s.name}' (${s.count})`).join(', ');
  return counts.length > limit ? `${shown} and ${counts.length - limit} more (run without --me to list them all)` : shown;
}

/** matchSenders over the conversations' senders; ExportError (listing who is there) when nothing matches. */
export function matchSendersOf(conversations: Conversation[], me: string[]): Pick<Selection, 'matched' | 'unmatched' | 'caseMatched'> {
  const match = matchSenders(me, senderCounts(conversations).map((s) => s.name));
  if (match.matched.length === 0) {
    throw new ExportError(`--me ${me.map((m) => `'${m}'`).join(', ')} matches no sender; senders are: ${describeSenders(conversations)}`);
  }
  return match;
}

/**
 * Picks your messages from all conversations, merged in time order, and cleans them to lines.
 * Throws ExportError (listing who is there) when no --me value matches any sender.
 */
export function selectMessages(conversations: Conversation[], opts: SelectOptions): Selection {
  const match = matchSendersOf(conversations, opts.me);
  const mine = new Set(match.matched);
  const skipped: Partial<Record<SkipReason, number>> = {};
  const skip = (r: SkipReason) => { skipped[r] = (skipped[r] ?? 0) + 1; };
  const all: ChatMessage[] = [];
  for (const c of conversations) {
    for (const m of c.messages) {
      if (m.kind === 'system') skip('system');
      else if (m.sender === null || !mine.has(normName(m.sender))) skip('other senders');
      else if (m.kind !== 'text') skip(m.kind);
      else if (Number.isNaN(m.time)) skip('no date');
      else all.push(m);
    }
  }
  all.sort((a, b) => a.time - b.time); // stable: equal times keep conversation order
  const lines: string[] = [];
  let characters = 0;
  let first = NaN;
  let last = NaN;
  for (const m of all) {
    if (opts.since !== undefined && m.time < opts.since) { skip('before --since'); continue; }
    if (opts.until !== undefined && m.time > opts.until) { skip('after --until'); continue; }
    const line = cleanMessage(m.text, opts.newline);
    if (!line) { skip('empty'); continue; }
    if (opts.dropLinks && URL_RE.test(line)) { skip('link'); continue; }
    const length = codePoints(line); // not [...line]: a 200 MB message would be an array of 2·10^8 strings
    if (length < opts.minChars) { skip('short'); continue; }
    lines.push(line);
    characters += length;
    if (Number.isNaN(first)) first = m.time;
    last = m.time;
  }
  return { lines, characters, first, last, skipped, ...match };
}

/** Number of Unicode code points in s (a surrogate pair counts once), without allocating. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n--; i++; }
    }
  }
  return n;
}
