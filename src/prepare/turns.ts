// `prepare --turns`: whole conversations instead of only your lines. Every text message of every sender is
// kept (cleaned to one line like selectMessages does), tagged 'me' when one of your --me names sent it and
// 'them' otherwise (or the sender's name with keepNames); a thread is cut into separate conversations where
// nobody wrote for `gapHours`; conversations without a message of yours are dropped (nothing to learn).
// src/chat/turns.ts formats the result and defines how training reads it.
import type { Turn } from '../chat/turns.js';
import type { Conversation } from './conversation.js';
import { cleanMessage, matchSendersOf, type SelectOptions } from './index.js';

export interface TurnsOptions extends Omit<SelectOptions, 'minChars' | 'dropLinks'> {
  /** keep the others' display names as their markers instead of one anonymous role */
  keepNames: boolean;
  /** a silence longer than this starts a new conversation (0 = never) */
  gapHours: number;
}

export interface TurnsSelection {
  conversations: Turn[][];
  /** messages kept: yours and the others' */
  mine: number;
  others: number;
  /** code points of your messages (what the loss counts) */
  myCharacters: number;
  /** messages skipped by reason */
  skipped: Record<string, number>;
  matched: string[];
  unmatched: string[];
  caseMatched: { me: string; names: string[] }[];
}

const normName = (s: string) => s.normalize('NFC').trim();

export function selectTurns(conversations: Conversation[], opts: TurnsOptions): TurnsSelection {
  const match = matchSendersOf(conversations, opts.me);
  const mineNames = new Set(match.matched);
  const skipped: Record<string, number> = {};
  const skip = (r: string) => { skipped[r] = (skipped[r] ?? 0) + 1; };
  const out: { start: number; turns: Turn[] }[] = [];
  let mine = 0, others = 0, myCharacters = 0;
  const gapMs = opts.gapHours > 0 ? opts.gapHours * 3600_000 : Infinity;
  for (const c of conversations) {
    let cur: Turn[] = [];
    let curStart = NaN, last = NaN, cm = 0, co = 0, cc = 0;
    const close = () => {
      if (cur.length && cm > 0) { out.push({ start: curStart, turns: cur }); mine += cm; others += co; myCharacters += cc; }
      else if (cur.length) skip('conversations without a message of yours');
      cur = []; cm = co = cc = 0; curStart = NaN;
    };
    for (const m of c.messages) {
      if (m.kind === 'system' || m.sender === null) { skip('system'); continue; }
      if (m.kind !== 'text') { skip(m.kind); continue; }
      if (opts.since !== undefined && !(m.time >= opts.since)) { skip('before --since'); continue; }
      if (opts.until !== undefined && !(m.time <= opts.until)) { skip('after --until'); continue; }
      const text = cleanMessage(m.text, opts.newline);
      if (!text) { skip('empty'); continue; }
      if (!Number.isNaN(last) && !Number.isNaN(m.time) && m.time - last > gapMs) close();
      if (!Number.isNaN(m.time)) last = m.time;
      if (Number.isNaN(curStart)) curStart = m.time;
      const isMine = mineNames.has(normName(m.sender));
      cur.push({ role: isMine ? 'me' : opts.keepNames ? normName(m.sender) : 'them', text });
      if (isMine) { cm++; cc += [...text].length; } else co++;
    }
    close();
  }
  // conversations in time order (undated ones keep their place at the end)
  out.sort((a, b) => (Number.isNaN(a.start) ? 1 : Number.isNaN(b.start) ? -1 : a.start - b.start));
  return { conversations: out.map((o) => o.turns), mine, others, myCharacters, skipped, ...match };
}
