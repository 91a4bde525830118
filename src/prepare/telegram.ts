// Telegram Desktop "Export chat history" / "Export Telegram data" in JSON ("Machine-readable JSON"):
// a full export `{chats: {list: [chat]}, left_chats?: {list: [chat]}}` or a single chat
// `{name, type, id, messages}`. Each message has `type` "message" | "service", `from`, `date` (ISO local)
// and `date_unixtime`, and `text` that is a string or an array of strings and entity objects
// `{type, text}` whose texts are concatenated. Media without a caption, stickers, polls, locations and
// contacts are attachments; a caption is kept as text. Forwarded messages are someone else's words.
import { ChatMessage, Conversation, ExportError, MessageKind, sortChronologically } from './conversation.js';

type Json = Record<string, unknown>;

/** Concatenates a Telegram `text` field: a string, or an array of strings and `{type, text}` entities. */
export function telegramText(text: unknown): string {
  if (typeof text === 'string') return text;
  if (!Array.isArray(text)) return '';
  return text.map((part) => (typeof part === 'string' ? part : part && typeof part === 'object' && typeof (part as Json).text === 'string' ? (part as Json).text as string : '')).join('');
}

function isChat(v: unknown): v is Json {
  return !!v && typeof v === 'object' && Array.isArray((v as Json).messages);
}

/** True when a parsed JSON value has the shape of a Telegram export (full or one chat). */
export function isTelegramJson(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Json;
  if (o.chats && typeof o.chats === 'object' && Array.isArray((o.chats as Json).list)) return true;
  if (!isChat(o) || 'participants' in o) return false;
  const m = (o.messages as unknown[])[0] as Json | undefined;
  return m === undefined || (typeof m === 'object' && m !== null && (m.type === 'message' || m.type === 'service') && 'date' in m);
}

function messageTime(m: Json): number {
  if (m.date_unixtime !== undefined && /^\d+$/.test(String(m.date_unixtime))) return Number(m.date_unixtime) * 1000;
  const d = typeof m.date === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(m.date) : null;
  return d ? new Date(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]).getTime() : NaN;
}

const MEDIA_KEYS = ['photo', 'file', 'media_type', 'poll', 'location_information', 'contact_information', 'place_name', 'game_title', 'invoice_information'];

function messageKind(m: Json, text: string): MessageKind {
  if (m.type !== 'message') return 'system';
  if (m.forwarded_from !== undefined) return 'forwarded';
  if (text.trim()) return 'text';
  if (m.media_type === 'sticker' || m.sticker_emoji !== undefined) return 'sticker';
  if (MEDIA_KEYS.some((k) => m[k] !== undefined)) return 'attachment';
  return 'text'; // empty: dropped later as empty
}

function readChat(chat: Json, source: string): Conversation {
  const messages: ChatMessage[] = [];
  for (const m of chat.messages as Json[]) {
    if (!m || typeof m !== 'object') continue;
    const text = telegramText(m.text);
    const from = typeof m.from === 'string' ? m.from : typeof m.actor === 'string' && m.type === 'service' ? m.actor : null;
    messages.push({ sender: from, time: messageTime(m), text, kind: messageKind(m, text) });
  }
  const title = typeof chat.name === 'string' ? chat.name : '';
  return { source: title ? `${source} (chat '${title}')` : source, title, messages: sortChronologically(messages) };
}

/** Reads a parsed result.json into one conversation per chat (left chats included). */
export function readTelegram(value: unknown, source: string): Conversation[] {
  if (!isTelegramJson(value)) {
    throw new ExportError(`${source}: not a Telegram export (expected {chats: {list: [...]}} or {name, type, messages: [{type, date, from, text}]})`);
  }
  const o = value as Json;
  if (isChat(o)) return [readChat(o, source)];
  const chats: Json[] = [];
  for (const key of ['chats', 'left_chats']) {
    const list = (o[key] as Json | undefined)?.list;
    if (Array.isArray(list)) chats.push(...list.filter(isChat));
  }
  return chats.map((c) => readChat(c, source));
}
