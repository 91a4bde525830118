// Facebook / Messenger "Download your information" exports, both variants of one thread:
// - JSON `messages/inbox/<thread>/message_N.json` ({participants, messages:[{sender_name, timestamp_ms,
//   content, photos?, sticker?, share?, call_duration?, is_unsent?, type}]}, newest first), whose strings
//   are UTF-8 bytes mis-encoded as Latin-1 escapes (fixed by `fixMojibake`); also the newer end-to-end
//   encrypted chat export ({participants:[string], messages:[{senderName, timestamp, text, media, isUnsent}]}).
// - HTML `message_N.html`: one div per message holding a sender div, a content div and a date div
//   (found by that structure, not by class names, which Facebook changes), UTF-8 proper.
import { ChatMessage, Conversation, ExportError, MessageKind, messengerTextKind, sortChronologically } from './conversation.js';
import { HtmlElement, elementChildren, parseHtml, textContent, walkElements } from './html.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Undoes Facebook's mojibake: a string whose code units are all < 256 and, read as bytes, form valid
 * UTF-8 with at least one multi-byte sequence is decoded as UTF-8 ("Jos\u00c3\u00a9" → "José");
 * anything else is returned unchanged.
 */
export function fixMojibake(s: string): string {
  let high = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return s;
    if (c >= 0x80) high = true;
  }
  if (!high) return s;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return s;
  }
}

function fixAll(v: unknown): unknown {
  if (typeof v === 'string') return fixMojibake(v);
  if (Array.isArray(v)) return v.map(fixAll);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fixAll(x);
    return out;
  }
  return v;
}

type Json = Record<string, unknown>;

/** True when a parsed JSON value has the shape of a Messenger thread file (either variant). */
export function isMessengerJson(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Json;
  if (!Array.isArray(o.messages) || !Array.isArray(o.participants)) return false;
  const m = o.messages[0] as Json | undefined;
  return m === undefined || (typeof m === 'object' && m !== null && ('sender_name' in m || 'senderName' in m));
}

function legacyKind(m: Json, text: string): MessageKind {
  if (m.is_unsent === true) return 'unsent';
  if (m.type === 'Call' || m.call_duration !== undefined) return 'call';
  if (m.type === 'Subscribe' || m.type === 'Unsubscribe') return 'system';
  if (m.sticker !== undefined) return 'sticker';
  const hasMedia = ['photos', 'videos', 'gifs', 'audio_files', 'files'].some((k) => Array.isArray(m[k]) && (m[k] as unknown[]).length > 0);
  if (!text.trim()) return hasMedia || m.share !== undefined ? 'attachment' : 'text';
  return messengerTextKind(text);
}

/**
 * Reads one message_N.json (already JSON-parsed). `source` names the file in messages.
 * Returns its messages in chronological order.
 */
export function readMessengerJson(value: unknown, source: string): Conversation {
  if (!isMessengerJson(value)) {
    throw new ExportError(`${source}: not a Messenger message file (expected {participants: [...], messages: [{sender_name, timestamp_ms, ...}]})`);
  }
  const raw = value as Json;
  const legacy = !(raw.messages as Json[]).some((m) => 'senderName' in m);
  const o = (legacy ? fixAll(raw) : raw) as Json;
  const messages: ChatMessage[] = [];
  for (const m of o.messages as Json[]) {
    if (legacy) {
      const text = typeof m.content === 'string' ? m.content : '';
      const sender = typeof m.sender_name === 'string' ? m.sender_name : null;
      messages.push({ sender, time: Number(m.timestamp_ms), text, kind: legacyKind(m, text) });
    } else {
      const text = typeof m.text === 'string' ? m.text : '';
      const sender = typeof m.senderName === 'string' ? m.senderName : null;
      let kind: MessageKind = 'text';
      if (m.isUnsent === true) kind = 'unsent';
      else if (!text.trim() && Array.isArray(m.media) && m.media.length > 0) kind = 'attachment';
      else if (text.trim()) kind = messengerTextKind(text);
      messages.push({ sender, time: Number(m.timestamp), text, kind });
    }
  }
  messages.reverse(); // the export is newest first
  const title = typeof o.title === 'string' ? o.title : typeof o.threadName === 'string' ? o.threadName : '';
  return { source, title, messages: sortChronologically(messages) };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Parses the date line of the HTML export as local time: "Jan 05, 2023 9:04:05 pm", "Dec 31, 2023,
 * 9:04 PM", "31 Dec 2023, 21:04", "2023-12-31 21:04:05". Returns NaN when the text is not such a date.
 */
export function parseMessengerHtmlDate(text: string): number {
  const t = text.trim().replace(/[\u00a0\u202f]/g, ' ');
  if (t.length > 40) return NaN;
  const time = /(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap])?\.?\s*m?\.?$/i.exec(t);
  if (!time) return NaN;
  const datePart = t.slice(0, time.index).replace(/[,\s]+$/, '').replace(/\s+at$/i, '');
  let y: number, mo: number, d: number;
  let m = /^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})$/.exec(datePart);
  if (m) { mo = MONTHS.indexOf(m[1].slice(0, 3).toLowerCase()); d = +m[2]; y = +m[3]; }
  else if ((m = /^(\d{1,2}) ([A-Za-z]{3,9})\.?,? (\d{4})$/.exec(datePart))) { mo = MONTHS.indexOf(m[2].slice(0, 3).toLowerCase()); d = +m[1]; y = +m[3]; }
  else if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(datePart))) { y = +m[1]; mo = +m[2] - 1; d = +m[3]; }
  else return NaN;
  if (mo < 0 || d < 1 || d > 31) return NaN;
  let h = +time[1];
  const ampm = time[4]?.toLowerCase();
  if (ampm) { if (h < 1 || h > 12) return NaN; h = (h % 12) + (ampm === 'p' ? 12 : 0); }
  if (h > 23 || +time[2] > 59) return NaN;
  return new Date(y, mo, d, h, +time[2], time[3] ? +time[3] : 0).getTime();
}

const MEDIA_TAGS = new Set(['img', 'video', 'audio']);
const SKIP_IN_TEXT = new Set(['ul', 'ol', 'img', 'video', 'audio', 'script', 'style']);

/** Tidies the text of an HTML node: lines trimmed, empty lines dropped. */
function htmlText(el: HtmlElement, skip: ReadonlySet<string>): string {
  return textContent(el, skip).split('\n').map((l) => l.replace(/[ \t\r]+/g, ' ').trim()).filter(Boolean).join('\n');
}

/**
 * Reads one Messenger message_N.html. A message is a div whose element children are: a short
 * one-line sender name, one or more content divs, and a last div holding only a date.
 */
export function readMessengerHtml(html: string, source: string): Conversation {
  const root = parseHtml(html);
  const messages: ChatMessage[] = [];
  let title = '';
  for (const el of walkElements(root)) {
    if (el.tag === 'title' && !title) title = htmlText(el, new Set()).trim();
    if (el.tag !== 'div') continue;
    const kids = elementChildren(el);
    if (kids.length < 3) continue;
    const dateEl = kids[kids.length - 1];
    const time = parseMessengerHtmlDate(htmlText(dateEl, new Set()));
    if (Number.isNaN(time)) continue;
    const sender = htmlText(kids[0], new Set());
    if (!sender || sender.includes('\n') || sender.length > 100) continue;
    const body = kids.slice(1, -1);
    const text = body.map((b) => htmlText(b, SKIP_IN_TEXT)).filter(Boolean).join('\n');
    let hasMedia = false;
    for (const b of body) {
      for (const e of walkElements(b)) {
        if (MEDIA_TAGS.has(e.tag) || (e.tag === 'a' && e.attrs.href !== undefined && !/^(https?:|mailto:)/i.test(e.attrs.href))) hasMedia = true;
      }
    }
    const kind: MessageKind = !text ? (hasMedia ? 'attachment' : 'text') : messengerTextKind(text);
    messages.push({ sender, time, text, kind });
  }
  if (messages.length === 0) {
    throw new ExportError(`${source}: no messages found in this Messenger HTML file (expected divs of sender, text and an English date like "Jan 05, 2023 9:04:05 pm"; JSON exports are read more reliably)`);
  }
  // the HTML export is newest first, like the JSON one
  if (messages.length > 1 && messages[0].time > messages[messages.length - 1].time) messages.reverse();
  return { source, title, messages: sortChronologically(messages) };
}
