// WhatsApp "Export chat" text files, both styles:
//   Android  `12/31/23, 21:04 - Name: text`        (also `31.12.23, 9:04 PM - Name: text`)
//   iOS      `[31/12/2023, 21:04:05] Name: text`   (lines often start with U+200E; U+202F before AM/PM)
// A line without a leading timestamp continues the previous message. Lines with no `Name:` part are
// system lines (as is a "sender" that is a system phrase with a quoted subject containing ': ', such as
// `Ann changed the subject to "a: b"`); "<Media omitted>", "image omitted", "<attached: …>", "… (file attached)" are attachments.
// Day/month order is decided once per file: a first field > 12 anywhere means day-first, a second field
// > 12 means month-first; otherwise the order under which the file's timestamps run forward wins; when
// both do, the one whose consecutive messages are closer in time (a chat of Jan 5–9 read day-first would
// jump a month per message); when that ties too, a 12-hour clock (AM/PM) is read as the US month-first
// hint, else day-first (the order of most locales). `dateOrder` forces one. The reason is reported.
import { ChatMessage, Conversation, ExportError, MessageKind, sortChronologically } from './conversation.js';

export type DateOrder = 'auto' | 'dmy' | 'mdy';

// date: a{sep}b{sep}c with sep one of / . - ; then optional comma, the time, optional AM/PM.
const STAMP = String.raw`(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})\.?,?\s+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:[\s\u202f\u00a0]*([AaPp])\.?\s?[Mm]\.?)?`;
const ANDROID = new RegExp(`^${STAMP}\\s+[-–]\\s(.*)$`);
const IOS = new RegExp(`^\\[${STAMP}\\]\\s(.*)$`);
const BIDI_MARKS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

interface Stamp { a: number; b: number; c: number; h: number; mi: number; s: number; ampm: string | undefined }

function parseStampLine(line: string): { stamp: Stamp; rest: string } | null {
  const m = IOS.exec(line) ?? ANDROID.exec(line);
  if (!m) return null;
  return {
    stamp: { a: +m[1], b: +m[3], c: +m[4], h: +m[5], mi: +m[6], s: m[7] ? +m[7] : 0, ampm: m[8]?.toLowerCase() },
    rest: m[9],
  };
}

function stampTime(st: Stamp, order: 'dmy' | 'mdy' | 'ymd'): number {
  let y: number, mo: number, d: number;
  if (order === 'ymd') { y = st.a; mo = st.b; d = st.c; }
  else if (order === 'dmy') { d = st.a; mo = st.b; y = st.c; }
  else { mo = st.a; d = st.b; y = st.c; }
  if (y < 100) y += 2000;
  let h = st.h;
  if (st.ampm) h = (h % 12) + (st.ampm === 'p' ? 12 : 0);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || st.mi > 59) return NaN;
  return new Date(y, mo - 1, d, h, st.mi, st.s).getTime();
}

function countBackwards(stamps: Stamp[], order: 'dmy' | 'mdy'): number {
  let back = 0;
  let prev = -Infinity;
  for (const st of stamps) {
    const t = stampTime(st, order);
    if (Number.isNaN(t)) return Infinity;
    if (t < prev) back++;
    prev = t;
  }
  return back;
}

/** Sum of the absolute gaps between consecutive timestamps read in `order` (ms). */
function totalGap(stamps: Stamp[], order: 'dmy' | 'mdy'): number {
  let sum = 0;
  for (let i = 1; i < stamps.length; i++) sum += Math.abs(stampTime(stamps[i]!, order) - stampTime(stamps[i - 1]!, order));
  return sum;
}

/** Picks the day/month order for a whole file (see the header) and says why. */
export function decideDateOrder(stamps: Stamp[], forced: DateOrder = 'auto'): { order: 'dmy' | 'mdy' | 'ymd'; why: string } {
  if (stamps.length > 0 && stamps.every((s) => s.a > 31)) return { order: 'ymd', why: 'the year comes first' };
  if (forced !== 'auto') return { order: forced, why: `--date-order ${forced}` };
  if (stamps.some((s) => s.a > 12)) return { order: 'dmy', why: 'a first field is above 12' };
  if (stamps.some((s) => s.b > 12)) return { order: 'mdy', why: 'a second field is above 12' };
  const back = { mdy: countBackwards(stamps, 'mdy'), dmy: countBackwards(stamps, 'dmy') };
  if (back.mdy !== back.dmy) {
    const order = back.mdy < back.dmy ? 'mdy' : 'dmy';
    return { order, why: `the timestamps run forward only that way (${back[order]} vs ${back[order === 'mdy' ? 'dmy' : 'mdy']} steps back)` };
  }
  const gap = { mdy: totalGap(stamps, 'mdy'), dmy: totalGap(stamps, 'dmy') };
  const days = (ms: number) => (ms / 86400000).toFixed(1);
  if (gap.mdy !== gap.dmy) {
    const order = gap.mdy < gap.dmy ? 'mdy' : 'dmy';
    return { order, why: `consecutive messages are closer in time that way (${days(gap[order])} vs ${days(gap[order === 'mdy' ? 'dmy' : 'mdy'])} days in all)` };
  }
  if (stamps.some((s) => s.ampm !== undefined)) return { order: 'mdy', why: 'both orders fit; the 12-hour clock (AM/PM) suggests a US export' };
  return { order: 'dmy', why: 'both orders fit; day-first is the order of most locales (force one with --date-order)' };
}

const ATTACHMENT = /^(<media omitted>|<attached: [^>]*>|(image|video|audio|gif|document|contact card|sticker|media) omitted|null|.+ \(file attached\)|location: https?:\/\/\S+|live location shared|poll:)$/i;
const STICKER = /^sticker omitted$/i;
const DELETED = /^(this message was deleted\.?|you deleted this message\.?|waiting for this message\. .*)$/i;
const CALL = /^(missed (voice|video|group voice|group video) call|(voice|video) call, .*)$/i;
const EDITED = /\s*<this message was edited>\s*$/i;
const SYSTEM_SENDER = /\b(added|removed|left|joined using|created group|changed the subject|changed this group|changed the group|changed their phone number|changed to|security code|is a contact|turned (on|off) disappearing|pinned a message|deleted this group)\b/i;

function textKind(text: string, marked: boolean): MessageKind {
  const t = text.trim();
  if (STICKER.test(t)) return 'sticker';
  if (ATTACHMENT.test(t) || /^<attached: /i.test(t)) return 'attachment';
  if (DELETED.test(t)) return 'unsent';
  if (CALL.test(t)) return 'call';
  // iOS marks text that WhatsApp wrote (not the sender) with a leading U+200E
  if (marked) return 'system';
  return 'text';
}

/**
 * Reads one exported chat. `text` is the file's content (UTF-8, BOM allowed), `source` names it in
 * messages. Throws ExportError when no line has a WhatsApp timestamp.
 */
export function readWhatsApp(text: string, source: string, dateOrder: DateOrder = 'auto'): Conversation {
  const lines = text.replace(/^\ufeff/, '').split(/\r\n|\r|\n/);
  const entries: { stamp: Stamp; rest: string; extra: string[] }[] = [];
  for (const raw of lines) {
    const line = raw.replace(/^[\u200e\u200f\ufeff]+/, '');
    const p = parseStampLine(line);
    if (p) entries.push({ ...p, extra: [] });
    else if (entries.length > 0) entries[entries.length - 1].extra.push(raw);
    // lines before the first timestamp are not part of any message
  }
  if (entries.length === 0) {
    throw new ExportError(`${source}: not a WhatsApp chat export (no line starts with a timestamp like '12/31/23, 21:04 - Name: text' or '[31/12/2023, 21:04:05] Name: text')`);
  }
  const decided = decideDateOrder(entries.map((e) => e.stamp), dateOrder);
  const order = decided.order;
  const messages: ChatMessage[] = [];
  for (const e of entries) {
    const time = stampTime(e.stamp, order);
    const colon = e.rest.indexOf(': ');
    const senderPart = colon > 0 ? e.rest.slice(0, colon).replace(BIDI_MARKS, '').trim() : '';
    if (colon <= 0 || !senderPart || (/["“”«»]/.test(senderPart) && SYSTEM_SENDER.test(senderPart))) {
      messages.push({ sender: null, time, text: [e.rest, ...e.extra].join('\n'), kind: 'system' });
      continue;
    }
    const first = e.rest.slice(colon + 2);
    const marked = /^[\u200e\u200f]/.test(first);
    const body = [first, ...e.extra].join('\n').replace(BIDI_MARKS, '').replace(EDITED, '');
    messages.push({ sender: senderPart, time, text: body, kind: textKind(body, marked) });
  }
  const title = (/WhatsApp Chat (?:with|-) (.+?)\.txt$/i.exec(source)?.[1]) ?? '';
  const name = { dmy: 'day/month/year', mdy: 'month/day/year', ymd: 'year/month/day' }[order];
  return { source, title, messages: sortChronologically(messages), dateOrder: `dates read as ${name}: ${decided.why}` };
}
